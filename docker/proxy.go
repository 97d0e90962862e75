package docker

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/client"
)

// Defaults for the proxy container, one per Docker host, shared by projects.
const (
	DefaultProxyName    = "golive-proxy"
	DefaultProxyNetwork = "golive-proxy"
	DefaultProxyImage   = "basecamp/kamal-proxy:v0.9.2"
)

// ProxyLabel marks the proxy container and its network as golive's.
const ProxyLabel = "io.golive.proxy"

// ProxySpec describes the kamal-proxy container of one Docker host.
type ProxySpec struct {
	Name    string // container name; DefaultProxyName when empty
	Image   string // DefaultProxyImage when empty
	Network string // the network proxied services join; DefaultProxyNetwork when empty
	Ports   []Port // published on the Docker host, e.g. 80:80
}

func (s ProxySpec) withDefaults() ProxySpec {
	if s.Name == "" {
		s.Name = DefaultProxyName
	}
	if s.Image == "" {
		s.Image = DefaultProxyImage
	}
	if s.Network == "" {
		s.Network = DefaultProxyNetwork
	}
	return s
}

// Proxy drives a running kamal-proxy container through its command line,
// run inside the container by exec, as Kamal does.
type Proxy struct {
	cli       *Client
	container string
}

// Proxy returns a handle on the kamal-proxy container with this name.
func (c *Client) Proxy(container string) *Proxy { return &Proxy{cli: c, container: container} }

// Container is the name of the proxy container.
func (p *Proxy) Container() string { return p.container }

// EnsureProxy makes the proxy container run on this Docker host: created on
// its network with its ports published when missing, started when stopped,
// and left alone when it runs. A proxy that runs another image or lacks a
// port is an error, never replaced: other projects' traffic may go through it.
// It returns once the proxy answers commands.
func (c *Client) EnsureProxy(ctx context.Context, spec ProxySpec) (*Proxy, error) {
	spec = spec.withDefaults()
	labels := map[string]string{ProxyLabel: "true"}
	if err := c.EnsureNetwork(ctx, spec.Network, labels); err != nil {
		return nil, fmt.Errorf("proxy %s: %w", spec.Name, err)
	}
	ct, err := c.Inspect(ctx, spec.Name)
	if err != nil {
		return nil, fmt.Errorf("proxy %s: %w", spec.Name, err)
	}
	if ct == nil {
		if _, err := c.Create(ctx, Spec{Name: spec.Name, Image: spec.Image, Ports: spec.Ports, Network: spec.Network, Labels: labels, Restart: "unless-stopped", StopTimeout: 10}); err != nil && !IsConflict(err) {
			return nil, fmt.Errorf("proxy %s: %w", spec.Name, err)
		}
		if ct, err = c.Inspect(ctx, spec.Name); err != nil || ct == nil {
			return nil, fmt.Errorf("proxy %s: created but not found: %v", spec.Name, err)
		}
	}
	if err := proxyMatches(ct, spec); err != nil {
		return nil, err
	}
	if !slices.Contains(ct.Networks, spec.Network) {
		cctx, end := c.call(ctx, c.timeouts.Change, "connect "+spec.Name+" to network "+spec.Network)
		_, err := c.api.NetworkConnect(cctx, spec.Network, client.NetworkConnectOptions{Container: ct.ID})
		if err = end(err); err != nil {
			return nil, fmt.Errorf("proxy %s: join network %s: %w", spec.Name, spec.Network, err)
		}
	}
	if !ct.Running {
		if err := c.Start(ctx, ct.ID); err != nil {
			return nil, fmt.Errorf("proxy %s: %w", spec.Name, err)
		}
	}
	p := c.Proxy(spec.Name)
	return p, p.waitReady(ctx)
}

// proxyMatches says what differs between a proxy container and the one asked for.
func proxyMatches(ct *Container, spec ProxySpec) error {
	if ct.Image != spec.Image {
		return fmt.Errorf("proxy %s runs image %s, not %s: set proxy.image to %s, or remove the container (`docker rm -f %s`) when no traffic goes through it", spec.Name, ct.Image, spec.Image, ct.Image, spec.Name)
	}
	for _, want := range spec.Ports {
		if !slices.ContainsFunc(ct.Spec.Ports, func(p Port) bool { return samePort(p, want) }) {
			return fmt.Errorf("proxy %s does not publish port %s:%s/%s: it was created with other ports; remove it (`docker rm -f %s`) when no traffic goes through it, and golive creates it again", spec.Name, want.HostPort, want.ContainerPort, want.Proto, spec.Name)
		}
	}
	return nil
}

func samePort(a, b Port) bool {
	ip := func(s string) string {
		if s == "0.0.0.0" {
			return ""
		}
		return s
	}
	return a.HostPort == b.HostPort && a.ContainerPort == b.ContainerPort && a.Proto == b.Proto && ip(a.HostIP) == ip(b.HostIP)
}

// waitReady waits until kamal-proxy answers on its control socket: it opens
// the socket a moment after the container starts.
func (p *Proxy) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		_, err := p.List(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("proxy %s does not answer: %w (see `docker logs %s`)", p.container, err, p.container)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ProxyDeploy says where a service's traffic goes and how kamal-proxy checks
// the target before it switches. Zero durations take kamal-proxy's defaults.
type ProxyDeploy struct {
	Target         string   // HOST:PORT on the proxy's network
	Hosts          []string // Host headers served; none for any host
	PathPrefixes   []string // paths served; none for all
	HealthPath     string   // kamal-proxy's default is /up
	HealthInterval time.Duration
	HealthTimeout  time.Duration
	DeployTimeout  time.Duration // how long the target may take to become healthy (default 30s)
	DrainTimeout   time.Duration // how long in-flight requests to the old target may take (default 30s)
}

// Defaults of kamal-proxy v0.9.2 for the durations a command leaves out.
const (
	ProxyDeployTimeout = 30 * time.Second
	ProxyDrainTimeout  = 30 * time.Second
	ProxyPauseTimeout  = 30 * time.Second
)

// Deploy sends the service's new requests to d.Target once it answers its
// health check, then drains the old target: the switch is atomic, and
// when the target never becomes healthy traffic stays where it was.
func (p *Proxy) Deploy(ctx context.Context, service string, d ProxyDeploy) error {
	args := []string{"deploy", service, "--target", d.Target}
	for _, h := range d.Hosts {
		args = append(args, "--host", h)
	}
	for _, pp := range d.PathPrefixes {
		args = append(args, "--path-prefix", pp)
	}
	if d.HealthPath != "" {
		args = append(args, "--health-check-path", d.HealthPath)
	}
	args = appendDuration(args, "--health-check-interval", d.HealthInterval)
	args = appendDuration(args, "--health-check-timeout", d.HealthTimeout)
	deploy, drain := orDefault(d.DeployTimeout, ProxyDeployTimeout), orDefault(d.DrainTimeout, ProxyDrainTimeout)
	args = append(args, "--deploy-timeout", deploy.String(), "--drain-timeout", drain.String())
	_, err := p.run(ctx, deploy+drain, args...)
	return err
}

// Remove stops routing the service and forgets it.
func (p *Proxy) Remove(ctx context.Context, service string) error {
	_, err := p.run(ctx, 0, "remove", service)
	return err
}

// Pause holds the service's new requests, after in-flight ones drained
// (within drain), for at most maxPause; kamal-proxy then answers them with
// an error. Zero durations take kamal-proxy's defaults (30s each).
func (p *Proxy) Pause(ctx context.Context, service string, drain, maxPause time.Duration) error {
	drain, maxPause = orDefault(drain, ProxyDrainTimeout), orDefault(maxPause, ProxyPauseTimeout)
	_, err := p.run(ctx, drain, "pause", service, "--drain-timeout", drain.String(), "--max-pause", maxPause.String())
	return err
}

// Stop answers the service's requests with 503 and message (a maintenance
// page) after in-flight ones drained, until Resume.
func (p *Proxy) Stop(ctx context.Context, service, message string, drain time.Duration) error {
	drain = orDefault(drain, ProxyDrainTimeout)
	args := []string{"stop", service, "--drain-timeout", drain.String()}
	if message != "" {
		args = append(args, "--message", message)
	}
	_, err := p.run(ctx, drain, args...)
	return err
}

// Resume serves a paused or stopped service again.
func (p *Proxy) Resume(ctx context.Context, service string) error {
	_, err := p.run(ctx, 0, "resume", service)
	return err
}

// RolloutDeploy sets the service's rollout target beside its active one,
// once healthy; RolloutSet then decides the share of traffic it gets.
func (p *Proxy) RolloutDeploy(ctx context.Context, service, target string, deployTimeout, drainTimeout time.Duration) error {
	deploy, drain := orDefault(deployTimeout, ProxyDeployTimeout), orDefault(drainTimeout, ProxyDrainTimeout)
	_, err := p.run(ctx, deploy+drain, "rollout", "deploy", service, "--target", target, "--deploy-timeout", deploy.String(), "--drain-timeout", drain.String())
	return err
}

// RolloutSet sends percent (0-100) of the service's traffic to its rollout target.
func (p *Proxy) RolloutSet(ctx context.Context, service string, percent int) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("proxy rollout %s: percent %d is not between 0 and 100", service, percent)
	}
	_, err := p.run(ctx, 0, "rollout", "set", service, "--percent", strconv.Itoa(percent))
	return err
}

// RolloutStop sends all of the service's traffic back to its active target.
func (p *Proxy) RolloutStop(ctx context.Context, service string) error {
	_, err := p.run(ctx, 0, "rollout", "stop", service)
	return err
}

// ProxyService is one service kamal-proxy routes, as `kamal-proxy list` shows it.
type ProxyService struct {
	Name   string
	Host   string // "*" for any host
	Path   string
	Target string // HOST:PORT, comma-separated when several
	State  string // running, paused or stopped
	TLS    bool
}

// List returns the services the proxy routes, by name.
func (p *Proxy) List(ctx context.Context) ([]ProxyService, error) {
	out, err := p.run(ctx, 0, "list")
	if err != nil {
		return nil, err
	}
	return parseProxyList(out)
}

// Service returns the routed service with this name, or nil.
func (p *Proxy) Service(ctx context.Context, name string) (*ProxyService, error) {
	list, err := p.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range list {
		if s.Name == name {
			return &s, nil
		}
	}
	return nil, nil
}

// proxyCell is one cell of kamal-proxy's list table: every cell, empty ones
// too, is wrapped in a style escape and a reset.
var proxyCell = regexp.MustCompile("\x1b\\[[0-9;]*m(.*?)\x1b\\[0m")

func parseProxyList(out string) ([]ProxyService, error) {
	var list []ProxyService
	for i, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		var cells []string
		for _, m := range proxyCell.FindAllStringSubmatch(line, -1) {
			cells = append(cells, m[1])
		}
		if len(cells) != 6 {
			return nil, fmt.Errorf("kamal-proxy list: unexpected line %q (expected 6 columns)", line)
		}
		if i == 0 {
			if cells[0] != "Service" {
				return nil, fmt.Errorf("kamal-proxy list: unexpected header %q", line)
			}
			continue
		}
		list = append(list, ProxyService{Name: cells[0], Host: cells[1], Path: cells[2], Target: cells[3], State: cells[4], TLS: cells[5] == "yes"})
	}
	return list, nil
}

// Errors kamal-proxy reports, to test with errors.Is on a *ProxyError.
var (
	ErrProxyUnhealthy       = errors.New("target failed to become healthy")
	ErrProxyServiceNotFound = errors.New("service not found")
	ErrProxyHostInUse       = errors.New("host settings conflict with another service")
	ErrProxyNoRollout       = errors.New("rollout target not set")
)

// ProxyError is a kamal-proxy command that failed: its exit code and message.
type ProxyError struct {
	Container string
	Args      []string
	ExitCode  int
	Message   string // what kamal-proxy printed, without its "Error: " prefix
}

func (e *ProxyError) Error() string {
	words := e.Args
	if i := slices.IndexFunc(words, func(a string) bool { return strings.HasPrefix(a, "--") }); i >= 0 {
		words = words[:i]
	}
	cmd := "kamal-proxy " + strings.Join(words, " ")
	msg := fmt.Sprintf("%s (in %s): %s", cmd, e.Container, e.Message)
	switch {
	case errors.Is(e, ErrProxyUnhealthy):
		msg += "; traffic stayed on the previous target (check the health path and that the target listens on the proxy's network)"
	case errors.Is(e, ErrProxyServiceNotFound):
		msg += "; the proxy does not route this service (deploy it first)"
	case errors.Is(e, ErrProxyHostInUse):
		msg += "; another service already serves this host and path"
	}
	return msg
}

// Is matches the kamal-proxy error the message names.
func (e *ProxyError) Is(target error) bool {
	for _, known := range []error{ErrProxyUnhealthy, ErrProxyServiceNotFound, ErrProxyHostInUse, ErrProxyNoRollout} {
		if target == known {
			return strings.Contains(e.Message, known.Error())
		}
	}
	return false
}

// run runs `kamal-proxy ARGS` in the proxy container; wait is how long the
// command itself may wait (a deploy's health checks and drain), on top of
// the time an exec takes.
func (p *Proxy) run(ctx context.Context, wait time.Duration, args ...string) (string, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wait+DefaultExecTimeout)
		defer cancel()
	}
	res, err := p.cli.Exec(ctx, p.container, append([]string{"kamal-proxy"}, args...))
	if err != nil {
		return "", fmt.Errorf("proxy: %w", err)
	}
	if res.ExitCode != 0 {
		msg := strings.TrimSpace(res.Stderr)
		if msg == "" {
			msg = strings.TrimSpace(res.Stdout)
		}
		if msg == "" {
			msg = "exit code " + strconv.Itoa(res.ExitCode)
		}
		lines := strings.Split(msg, "\n")
		return "", &ProxyError{Container: p.container, Args: args, ExitCode: res.ExitCode, Message: strings.TrimPrefix(lines[0], "Error: ")}
	}
	return res.Stdout, nil
}

func appendDuration(args []string, flag string, d time.Duration) []string {
	if d > 0 {
		args = append(args, flag, d.String())
	}
	return args
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
