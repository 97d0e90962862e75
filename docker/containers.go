package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// Spec describes a container to create.
type Spec struct {
	Name        string
	Image       string // a reference or an image ID
	Env         []string
	Cmd         []string
	Entrypoint  []string `json:",omitempty"` // empty: the image's; omitted so older config hashes stay valid
	Ports       []Port
	Binds       []string
	Network     string
	Aliases     []string
	Labels      map[string]string
	StopTimeout int    // seconds
	Restart     string // no, on-failure, always, unless-stopped
	Healthcheck *container.HealthConfig
	TTY         bool
}

// Port publishes a container port on the Docker host.
type Port struct {
	HostIP        string `json:"host_ip,omitempty"`
	HostPort      string `json:"host_port,omitempty"`
	ContainerPort string `json:"container_port"`
	Proto         string `json:"proto"`
}

// ParsePort reads Docker's short syntax: [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTO].
func ParsePort(s string) (Port, error) {
	rest, proto, _ := strings.Cut(s, "/")
	if proto == "" {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return Port{}, fmt.Errorf("port %q: protocol must be tcp, udp or sctp", s)
	}
	p := Port{Proto: proto}
	var parts []string
	if strings.HasPrefix(rest, "[") { // [::1]:8080:80
		end := strings.Index(rest, "]")
		if end < 0 {
			return Port{}, fmt.Errorf("port %q: unclosed [ in IPv6 address", s)
		}
		p.HostIP = rest[1:end]
		parts = strings.Split(strings.TrimPrefix(rest[end+1:], ":"), ":")
	} else {
		parts = strings.Split(rest, ":")
		if len(parts) == 3 {
			p.HostIP, parts = parts[0], parts[1:]
		}
	}
	switch len(parts) {
	case 1:
		p.ContainerPort = parts[0]
	case 2:
		p.HostPort, p.ContainerPort = parts[0], parts[1]
	default:
		return Port{}, fmt.Errorf("port %q: expected [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTO]", s)
	}
	if p.HostIP != "" {
		if _, err := netip.ParseAddr(p.HostIP); err != nil {
			return Port{}, fmt.Errorf("port %q: %q is not an IP address", s, p.HostIP)
		}
	}
	numbers := []string{p.ContainerPort}
	if p.HostPort != "" {
		numbers = append(numbers, p.HostPort)
	}
	for _, n := range numbers {
		if v, err := strconv.Atoi(n); err != nil || v < 1 || v > 65535 {
			return Port{}, fmt.Errorf("port %q: %q is not a port number (1-65535)", s, n)
		}
	}
	return p, nil
}

// Container is what golive needs to know about an existing container.
type Container struct {
	ID           string
	Name         string
	Image        string // the reference it was created from
	ImageID      string
	State        string // created, running, exited, …
	Running      bool
	ExitCode     int
	Health       string // "", starting, healthy, unhealthy
	RestartCount int
	StartedAt    time.Time
	FinishedAt   time.Time // when it last stopped; zero when it never did
	TTY          bool
	Labels       map[string]string
	Networks     []string          // the networks it is attached to
	IPs          map[string]string // its address on each network it is attached to
	// Spec recreates this container: its configuration with the image ID.
	Spec Spec
}

// Inspect returns the container with this name or ID, or nil when there is none.
func (c *Client) Inspect(ctx context.Context, nameOrID string) (*Container, error) {
	ctx, end := c.call(ctx, c.timeouts.Query, "inspect container "+nameOrID)
	res, err := c.api.ContainerInspect(ctx, nameOrID, client.ContainerInspectOptions{})
	err = end(err)
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inspect container %s: %w", nameOrID, err)
	}
	r := res.Container
	ct := &Container{ID: r.ID, Name: strings.TrimPrefix(r.Name, "/"), ImageID: r.Image, RestartCount: r.RestartCount}
	ct.Spec = Spec{Name: ct.Name, Image: r.Image}
	if r.Config != nil {
		ct.Image, ct.Labels, ct.TTY = r.Config.Image, r.Config.Labels, r.Config.Tty
		ct.Spec.Env, ct.Spec.Cmd, ct.Spec.Labels, ct.Spec.Healthcheck, ct.Spec.TTY = r.Config.Env, r.Config.Cmd, r.Config.Labels, r.Config.Healthcheck, r.Config.Tty
		ct.Spec.Entrypoint = r.Config.Entrypoint
		if r.Config.StopTimeout != nil {
			ct.Spec.StopTimeout = *r.Config.StopTimeout
		}
	}
	if h := r.HostConfig; h != nil {
		ct.Spec.Binds, ct.Spec.Restart = h.Binds, string(h.RestartPolicy.Name)
		if mode := string(h.NetworkMode); mode != "" && mode != "default" && mode != "bridge" {
			ct.Spec.Network = mode
		}
		if ns := r.NetworkSettings; ns != nil && ct.Spec.Network != "" {
			if ep := ns.Networks[ct.Spec.Network]; ep != nil {
				for _, a := range ep.Aliases {
					if a != ShortID(r.ID) { // the engine adds the short ID itself
						ct.Spec.Aliases = append(ct.Spec.Aliases, a)
					}
				}
			}
		}
		for port, bindings := range h.PortBindings {
			for _, b := range bindings {
				p := Port{HostPort: b.HostPort, ContainerPort: strconv.Itoa(int(port.Num())), Proto: string(port.Proto())}
				if b.HostIP.IsValid() {
					p.HostIP = b.HostIP.String()
				}
				ct.Spec.Ports = append(ct.Spec.Ports, p)
			}
		}
	}
	if s := r.State; s != nil {
		ct.State, ct.Running, ct.ExitCode = string(s.Status), s.Running, s.ExitCode
		if s.Health != nil {
			ct.Health = string(s.Health.Status)
		}
		ct.StartedAt, _ = time.Parse(time.RFC3339Nano, s.StartedAt)
		ct.FinishedAt, _ = time.Parse(time.RFC3339Nano, s.FinishedAt)
	}
	if r.NetworkSettings != nil {
		ct.IPs = map[string]string{}
		for name, ep := range r.NetworkSettings.Networks {
			ct.Networks = append(ct.Networks, name)
			if ep != nil && ep.IPAddress.IsValid() {
				ct.IPs[name] = ep.IPAddress.String()
			}
		}
		sort.Strings(ct.Networks)
	}
	return ct, nil
}

// List returns every container (running or not) that carries all these
// labels, inspected side by side.
func (c *Client) List(ctx context.Context, labels map[string]string) ([]Container, error) {
	f := client.Filters{}
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	lctx, end := c.call(ctx, c.timeouts.Query, "list containers")
	res, err := c.api.ContainerList(lctx, client.ContainerListOptions{All: true, Filters: f})
	if err := end(err); err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	found := make([]*Container, len(res.Items))
	errs := make([]error, len(res.Items))
	var wg sync.WaitGroup
	slots := make(chan struct{}, 8) // the engine serves inspections in parallel; be kind to it
	for i, s := range res.Items {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			found[i], errs[i] = c.Inspect(ctx, s.ID)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []Container
	for _, ct := range found {
		if ct != nil {
			out = append(out, *ct)
		}
	}
	return out, nil
}

// Create makes a container from spec without starting it and returns its ID.
func (c *Client) Create(ctx context.Context, spec Spec) (string, error) {
	cfg := &container.Config{
		Image:       spec.Image,
		Env:         spec.Env,
		Cmd:         spec.Cmd,
		Entrypoint:  spec.Entrypoint,
		Labels:      spec.Labels,
		Healthcheck: spec.Healthcheck,
		Tty:         spec.TTY,
	}
	if spec.StopTimeout > 0 {
		cfg.StopTimeout = &spec.StopTimeout
	}
	host := &container.HostConfig{Binds: spec.Binds}
	if spec.Restart != "" {
		host.RestartPolicy = container.RestartPolicy{Name: container.RestartPolicyMode(spec.Restart)}
	}
	if len(spec.Ports) > 0 {
		cfg.ExposedPorts = network.PortSet{}
		host.PortBindings = network.PortMap{}
		for _, p := range spec.Ports {
			port, err := network.ParsePort(p.ContainerPort + "/" + p.Proto)
			if err != nil {
				return "", fmt.Errorf("create %s: %w", spec.Name, err)
			}
			cfg.ExposedPorts[port] = struct{}{}
			b := network.PortBinding{HostPort: p.HostPort}
			if p.HostIP != "" {
				b.HostIP, _ = netip.ParseAddr(p.HostIP)
			}
			host.PortBindings[port] = append(host.PortBindings[port], b)
		}
	}
	var netcfg *network.NetworkingConfig
	if spec.Network != "" {
		host.NetworkMode = container.NetworkMode(spec.Network)
		netcfg = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			spec.Network: {Aliases: spec.Aliases},
		}}
	}
	ctx, end := c.call(ctx, c.timeouts.Change, "create container "+spec.Name)
	res, err := c.api.ContainerCreate(ctx, client.ContainerCreateOptions{Name: spec.Name, Config: cfg, HostConfig: host, NetworkingConfig: netcfg})
	if err := end(err); err != nil {
		return "", fmt.Errorf("create container %s: %w", spec.Name, err)
	}
	return res.ID, nil
}

// Start starts a created or stopped container.
func (c *Client) Start(ctx context.Context, id string) error {
	ctx, end := c.call(ctx, c.timeouts.Change, "start container "+ShortID(id))
	_, err := c.api.ContainerStart(ctx, id, client.ContainerStartOptions{})
	if err = end(err); err != nil {
		msg := err.Error()
		if strings.Contains(msg, "port is already allocated") || strings.Contains(msg, "address already in use") {
			return fmt.Errorf("start container %s: a published port is already in use on the Docker host (%s); stop what holds it or change `ports` in the plan", ShortID(id), msg)
		}
		return fmt.Errorf("start container %s: %w", ShortID(id), err)
	}
	return nil
}

// Stop stops a running container, killing it after timeout seconds.
func (c *Client) Stop(ctx context.Context, id string, timeout int) error {
	ctx, end := c.call(ctx, time.Duration(timeout)*time.Second+c.timeouts.StopMargin, "stop container "+ShortID(id))
	_, err := c.api.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &timeout})
	if err = end(err); err != nil && !IsNotFound(err) {
		return fmt.Errorf("stop container %s: %w", ShortID(id), err)
	}
	return nil
}

// Rename gives a container a new name.
func (c *Client) Rename(ctx context.Context, id, name string) error {
	ctx, end := c.call(ctx, c.timeouts.Change, "rename container "+ShortID(id))
	_, err := c.api.ContainerRename(ctx, id, client.ContainerRenameOptions{NewName: name})
	if err = end(err); err != nil {
		return fmt.Errorf("rename container %s to %s: %w", ShortID(id), name, err)
	}
	return nil
}

// Remove deletes a container, stopping it first if it runs.
func (c *Client) Remove(ctx context.Context, id string) error {
	if err := c.remove(ctx, id); err != nil {
		return fmt.Errorf("remove container %s: %w", ShortID(id), err)
	}
	return nil
}

// remove force-removes a container; one that is not there is not an error.
func (c *Client) remove(ctx context.Context, id string) error {
	ctx, end := c.call(ctx, c.timeouts.Change, "remove container "+ShortID(id))
	_, err := c.api.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true})
	if err = end(err); err != nil && !IsNotFound(err) {
		return err
	}
	return nil
}

// Connect attaches a container to one more network; one already attached is left alone.
func (c *Client) Connect(ctx context.Context, network, id string) error {
	cctx, end := c.call(ctx, c.timeouts.Change, "connect "+ShortID(id)+" to network "+network)
	_, err := c.api.NetworkConnect(cctx, network, client.NetworkConnectOptions{Container: id})
	if err = end(err); err != nil && !strings.Contains(err.Error(), "already exists") {
		return fmt.Errorf("connect container %s to network %s: %w", ShortID(id), network, err)
	}
	return nil
}

// RemoveNetwork deletes a network; one that is not there is not an error.
func (c *Client) RemoveNetwork(ctx context.Context, name string) error {
	ctx, end := c.call(ctx, c.timeouts.Change, "remove network "+name)
	_, err := c.api.NetworkRemove(ctx, name, client.NetworkRemoveOptions{})
	if err = end(err); err != nil && !IsNotFound(err) {
		return fmt.Errorf("remove network %s: %w", name, err)
	}
	return nil
}

// EnsureNetwork creates a bridge network with this name unless it exists.
func (c *Client) EnsureNetwork(ctx context.Context, name string, labels map[string]string) error {
	c.netMu.Lock()
	defer c.netMu.Unlock()
	ictx, end := c.call(ctx, c.timeouts.Query, "inspect network "+name)
	_, err := c.api.NetworkInspect(ictx, name, client.NetworkInspectOptions{})
	if err = end(err); err == nil {
		return nil
	} else if !IsNotFound(err) {
		if dup := c.duplicateNetworks(ctx, name); dup != nil {
			return dup
		}
		return fmt.Errorf("inspect network %s: %w", name, err)
	}
	cctx, end := c.call(ctx, c.timeouts.Change, "create network "+name)
	_, err = c.api.NetworkCreate(cctx, name, client.NetworkCreateOptions{Labels: labels})
	if err = end(err); err != nil && !IsConflict(err) {
		return fmt.Errorf("create network %s: %w", name, err)
	}
	return nil
}

// duplicateNetworks says how to clean up when several networks share name
// (engine 20.10 allows it), or returns nil when they do not.
func (c *Client) duplicateNetworks(ctx context.Context, name string) error {
	ctx, end := c.call(ctx, c.timeouts.Query, "list networks")
	res, err := c.api.NetworkList(ctx, client.NetworkListOptions{Filters: client.Filters{}.Add("name", name)})
	if err = end(err); err != nil {
		return nil
	}
	var ids []string
	for _, n := range res.Items {
		if n.Name == name {
			ids = append(ids, ShortID(n.ID))
		}
	}
	if len(ids) < 2 {
		return nil
	}
	return fmt.Errorf("network %s exists %d times (IDs %s), so Docker cannot tell which one is meant; keep one and remove the others: docker network rm %s",
		name, len(ids), strings.Join(ids, ", "), strings.Join(ids[1:], " "))
}

// ShortID abbreviates a container or image ID to the 12 characters Docker shows.
func ShortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// IsConnectionLost reports whether err says the Docker engine could not be
// reached or the connection broke, rather than that the engine refused.
func IsConnectionLost(err error) bool {
	if err == nil {
		return false
	}
	var unreachable *UnreachableError
	if client.IsErrConnectionFailed(err) || errors.As(err, &unreachable) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "Cannot connect to the Docker daemon") || strings.Contains(msg, "connection reset") ||
		strings.Contains(msg, "connection refused") || strings.Contains(msg, "broken pipe") || strings.Contains(msg, "EOF")
}
