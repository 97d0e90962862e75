package docker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// ServiceSpec is what golive sets on a Swarm service. Two equal
// ServiceSpecs give the same Swarm spec, so a spec golive wrote can be
// told from one changed out of band.
type ServiceSpec struct {
	Name string
	// Image is pinned: an image ID (sha256:…, the same on every node that
	// loaded the same image) or name@sha256:digest. It is never resolved
	// against a registry, so nodes without one run it.
	Image    string
	Replicas uint64
	Env      []string
	// Ports are published in host mode on the node that runs each task
	// (no routing mesh, which needs IPVS).
	Ports  []ServicePort
	Labels map[string]string // labels of the service, not of its containers
	Update UpdatePolicy
	// Healthcheck overrides the image's HEALTHCHECK; nil keeps the image's.
	Healthcheck *container.HealthConfig
	// StopGracePeriod is how long a task has between SIGTERM and SIGKILL;
	// 0 is Swarm's default (10 s).
	StopGracePeriod time.Duration
}

// ServicePort publishes a task's port on its node.
type ServicePort struct {
	Published uint16
	Target    uint16
	Protocol  string // tcp (default), udp or sctp
}

// UpdatePolicy is how Swarm replaces tasks, in an update and in its own
// rollback alike. A task that fails its start or health check pauses
// either: golive decides what a failure means.
type UpdatePolicy struct {
	Parallelism uint64        // tasks at a time; 0 means 1
	Delay       time.Duration // between batches
	Monitor     time.Duration // how long a new task must stay up; 0 is Swarm's default (5 s)
	StartFirst  bool          // start the new task before stopping the old (order start-first)
}

// RecordedSpec is a service's Swarm spec exactly as the manager stores it
// (JSON), to be written down and restored later byte for byte.
type RecordedSpec []byte

// Service is a Swarm service as the manager reports it.
type Service struct {
	ID   string
	Name string
	// Version must be passed to the next update; the update is refused
	// when someone else changed the service in between.
	Version uint64
	// Spec is golive's view of the current spec.
	Spec ServiceSpec
	// Current is the current spec exactly; Previous is Swarm's one-level
	// PreviousSpec (nil before the first update).
	Current, Previous RecordedSpec
	Update            UpdateStatus
}

// UpdateStatus is where Swarm's latest update or rollback of a service is.
type UpdateStatus struct {
	// State is "" (never updated), updating, paused, completed,
	// rollback_started, rollback_paused or rollback_completed.
	State     string
	Message   string
	Started   time.Time
	Completed time.Time
}

// Task is one of a service's tasks: a slot's container on a node.
type Task struct {
	ID   string
	Slot int
	// Node is the node's host name (NodeID when the node is gone).
	Node, NodeID string
	// State is where the task is (new … running, complete, failed,
	// shutdown, rejected…), Desired where Swarm wants it.
	State, Desired string
	Message, Err   string
	ContainerID    string
	Image          string
	Updated        time.Time // when the state last changed
	// UpToDate says the task runs the service's current spec (its task
	// template), as opposed to one from before an update.
	UpToDate bool
	// Health is derived from the state when the spec has a healthcheck:
	// starting (not yet healthy), healthy (running: Swarm holds a task in
	// starting until its first healthy check), unhealthy (killed for it);
	// "" without a healthcheck or when unknown.
	Health string
}

// CreateService creates a service from spec and returns its ID.
func (c *Client) CreateService(ctx context.Context, spec ServiceSpec) (string, error) {
	res, err := c.api.ServiceCreate(ctx, client.ServiceCreateOptions{Spec: spec.swarm()})
	if err != nil {
		return "", fmt.Errorf("create service %s: %w", spec.Name, err)
	}
	return res.ID, nil
}

// UpdateService replaces the spec of service (name or ID) with spec;
// version is the Service.Version it was read at.
func (c *Client) UpdateService(ctx context.Context, service string, version uint64, spec ServiceSpec) error {
	return c.updateService(ctx, service, version, spec.swarm(), "")
}

// RestoreService sets service's spec to recorded exactly, as a revert to a
// spec golive wrote down.
func (c *Client) RestoreService(ctx context.Context, service string, version uint64, recorded RecordedSpec) error {
	var spec swarm.ServiceSpec
	if err := json.Unmarshal(recorded, &spec); err != nil {
		return fmt.Errorf("restore service %s: recorded spec: %w", service, err)
	}
	return c.updateService(ctx, service, version, spec, "")
}

// RollbackService asks Swarm to roll service back to its PreviousSpec, the
// way `docker service rollback` does.
func (c *Client) RollbackService(ctx context.Context, service string, version uint64) error {
	cur, err := c.api.ServiceInspect(ctx, service, client.ServiceInspectOptions{})
	if err != nil {
		return fmt.Errorf("roll back service %s: %w", service, err)
	}
	return c.updateService(ctx, service, version, cur.Service.Spec, "previous")
}

func (c *Client) updateService(ctx context.Context, service string, version uint64, spec swarm.ServiceSpec, rollback string) error {
	_, err := c.api.ServiceUpdate(ctx, service, client.ServiceUpdateOptions{
		Version:  swarm.Version{Index: version},
		Spec:     spec,
		Rollback: rollback,
	})
	if err != nil {
		what := "update"
		if rollback != "" {
			what = "roll back"
		}
		return fmt.Errorf("%s service %s: %w", what, service, err)
	}
	return nil
}

// InspectService reads a service's spec, previous spec and update status.
func (c *Client) InspectService(ctx context.Context, service string) (*Service, error) {
	res, err := c.api.ServiceInspect(ctx, service, client.ServiceInspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("inspect service %s: %w", service, err)
	}
	s := res.Service
	out := &Service{ID: s.ID, Name: s.Spec.Name, Version: s.Version.Index, Spec: fromSwarm(s.Spec)}
	var raw struct{ Spec, PreviousSpec json.RawMessage }
	if err := json.Unmarshal(res.Raw, &raw); err != nil {
		return nil, fmt.Errorf("inspect service %s: %w", service, err)
	}
	out.Current = RecordedSpec(raw.Spec)
	if len(raw.PreviousSpec) > 0 && string(raw.PreviousSpec) != "null" {
		out.Previous = RecordedSpec(raw.PreviousSpec)
	}
	if u := s.UpdateStatus; u != nil {
		out.Update = UpdateStatus{State: string(u.State), Message: u.Message}
		if u.StartedAt != nil {
			out.Update.Started = *u.StartedAt
		}
		if u.CompletedAt != nil {
			out.Update.Completed = *u.CompletedAt
		}
	}
	return out, nil
}

// RemoveService removes a service; its tasks stop on their nodes.
func (c *Client) RemoveService(ctx context.Context, service string) error {
	if _, err := c.api.ServiceRemove(ctx, service, client.ServiceRemoveOptions{}); err != nil {
		return fmt.Errorf("remove service %s: %w", service, err)
	}
	return nil
}

// ServiceTasks lists a service's tasks, current and recent, by slot and
// then newest first, with their nodes' host names.
func (c *Client) ServiceTasks(ctx context.Context, service string) ([]Task, error) {
	s, err := c.api.ServiceInspect(ctx, service, client.ServiceInspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("tasks of service %s: %w", service, err)
	}
	res, err := c.api.TaskList(ctx, client.TaskListOptions{Filters: make(client.Filters).Add("service", s.Service.ID)})
	if err != nil {
		return nil, fmt.Errorf("tasks of service %s: %w", service, err)
	}
	nodes, err := c.NodeNames(ctx)
	if err != nil {
		return nil, fmt.Errorf("tasks of service %s: %w", service, err)
	}
	current, err := taskSpecKey(s.Service.Spec.TaskTemplate)
	if err != nil {
		return nil, fmt.Errorf("tasks of service %s: %w", service, err)
	}
	tasks := make([]Task, 0, len(res.Items))
	for _, t := range res.Items {
		task := Task{
			ID: t.ID, Slot: t.Slot, NodeID: t.NodeID, Node: nodes[t.NodeID],
			State: string(t.Status.State), Desired: string(t.DesiredState),
			Message: t.Status.Message, Err: t.Status.Err, Updated: t.Status.Timestamp,
		}
		if spec, err := taskSpecKey(t.Spec); err == nil {
			task.UpToDate = bytes.Equal(spec, current)
		}
		if task.Node == "" {
			task.Node = t.NodeID
		}
		if cs := t.Status.ContainerStatus; cs != nil {
			task.ContainerID = cs.ContainerID
		}
		if spec := t.Spec.ContainerSpec; spec != nil {
			task.Image = spec.Image
			task.Health = taskHealth(t, spec.Healthcheck)
		}
		tasks = append(tasks, task)
	}
	sort.SliceStable(tasks, func(i, j int) bool {
		if tasks[i].Slot != tasks[j].Slot {
			return tasks[i].Slot < tasks[j].Slot
		}
		return tasks[i].Updated.After(tasks[j].Updated)
	})
	return tasks, nil
}

// taskSpecKey is a task template in a form that compares equal for a task
// made from it: a task's copy leaves out the runtime, which Swarm derives.
func taskSpecKey(spec swarm.TaskSpec) ([]byte, error) {
	spec.Runtime = ""
	return json.Marshal(spec)
}

// taskHealth derives a task's health from its state. The image's own
// HEALTHCHECK is not in the task spec, so a task that relies on it shows
// health only once Swarm has reported on it.
func taskHealth(t swarm.Task, hc *container.HealthConfig) string {
	if strings.Contains(t.Status.Err, "unhealthy container") {
		return "unhealthy"
	}
	if hc == nil || len(hc.Test) == 0 || hc.Test[0] == "NONE" {
		return ""
	}
	switch t.Status.State {
	case swarm.TaskStateStarting:
		return "starting"
	case swarm.TaskStateRunning:
		return "healthy"
	}
	return ""
}

// NodeNames maps the swarm's node IDs to their host names.
func (c *Client) NodeNames(ctx context.Context) (map[string]string, error) {
	res, err := c.api.NodeList(ctx, client.NodeListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list swarm nodes: %w", err)
	}
	names := make(map[string]string, len(res.Items))
	for _, n := range res.Items {
		names[n.ID] = n.Description.Hostname
	}
	return names, nil
}

// ServiceLogLine is one line a service's task wrote.
type ServiceLogLine struct {
	Time   time.Time
	Task   string // service.slot, e.g. api.2 (the task ID when unknown)
	TaskID string
	Node   string // host name (the node ID when unknown)
	Stderr bool
	Text   string
}

// Source names where a line came from, as `docker service logs` does: api.2@node1.
func (l ServiceLogLine) Source() string { return l.Task + "@" + l.Node }

// ServiceLogStream reads a service's log lines from every node.
type ServiceLogStream struct {
	cli     *Client
	service string
	rc      io.ReadCloser
	r       *bufio.Reader
	pending []ServiceLogLine
	partial [3][]byte // unfinished line per stream
	tasks   map[string]string
	nodes   map[string]string
}

// ServiceLogs opens the log stream of every task of service, with time,
// task and node on each line; it ends with ctx or Close. Swarm multiplexes
// stdout and stderr; a service with a TTY is not supported.
func (c *Client) ServiceLogs(ctx context.Context, service string, opts LogOptions) (*ServiceLogStream, error) {
	o := client.ServiceLogsOptions{ShowStdout: true, ShowStderr: true, Since: opts.Since, Follow: opts.Follow, Timestamps: true, Details: true}
	if opts.Tail > 0 {
		o.Tail = strconv.Itoa(opts.Tail)
	}
	rc, err := c.api.ServiceLogs(ctx, service, o)
	if err != nil {
		return nil, fmt.Errorf("logs of service %s: %w", service, err)
	}
	return &ServiceLogStream{cli: c, service: service, rc: rc, r: bufio.NewReader(rc), tasks: map[string]string{}, nodes: map[string]string{}}, nil
}

// Close ends the stream.
func (s *ServiceLogStream) Close() error { return s.rc.Close() }

// Next returns the next line; io.EOF when the stream ended. ctx bounds
// the look-ups of task and node names, not the wait for a line.
func (s *ServiceLogStream) Next(ctx context.Context) (ServiceLogLine, error) {
	for len(s.pending) == 0 {
		if err := s.readFrame(ctx); err != nil {
			return ServiceLogLine{}, err
		}
	}
	l := s.pending[0]
	s.pending = s.pending[1:]
	return l, nil
}

// readFrame reads one multiplexed frame (8-byte header: stream, 0, 0, 0,
// big-endian size) and queues its complete lines.
func (s *ServiceLogStream) readFrame(ctx context.Context) error {
	var hdr [8]byte
	if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF
		}
		return err
	}
	stream := hdr[0]
	if stream > 2 {
		return fmt.Errorf("logs of service %s: not a multiplexed stream (stream byte %d)", s.service, stream)
	}
	payload := make([]byte, binary.BigEndian.Uint32(hdr[4:]))
	if _, err := io.ReadFull(s.r, payload); err != nil {
		return fmt.Errorf("logs of service %s: %w", s.service, err)
	}
	buf := append(s.partial[stream], payload...)
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		line, err := s.parse(ctx, buf[:i], stream == 2)
		if err != nil {
			return err
		}
		s.pending = append(s.pending, line)
		buf = buf[i+1:]
	}
	s.partial[stream] = append(s.partial[stream][:0], buf...)
	return nil
}

// parse reads "TIMESTAMP k=v,k=v TEXT", the form of timestamps=1&details=1.
func (s *ServiceLogStream) parse(ctx context.Context, raw []byte, stderr bool) (ServiceLogLine, error) {
	l := ServiceLogLine{Stderr: stderr}
	ts, rest, _ := strings.Cut(string(raw), " ")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return l, fmt.Errorf("logs of service %s: line without a timestamp: %q", s.service, raw)
	}
	l.Time = t
	details, text, _ := strings.Cut(rest, " ")
	l.Text = text
	for kv := range strings.SplitSeq(details, ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "com.docker.swarm.node.id":
			l.Node = v
		case "com.docker.swarm.task.id":
			l.TaskID = v
		}
	}
	l.Task, l.Node = s.name(ctx, l.TaskID, s.tasks), s.name(ctx, l.Node, s.nodes)
	return l, nil
}

// name looks id up in names (s.tasks or s.nodes), reloading the
// service's tasks and the nodes once per unknown id; the id itself when
// it stays unknown.
func (s *ServiceLogStream) name(ctx context.Context, id string, names map[string]string) string {
	if n, ok := names[id]; ok {
		return n
	}
	s.reloadNames(ctx)
	if n, ok := names[id]; ok {
		return n
	}
	names[id] = id
	return id
}

func (s *ServiceLogStream) reloadNames(ctx context.Context) {
	if nodes, err := s.cli.NodeNames(ctx); err == nil {
		maps.Copy(s.nodes, nodes)
	}
	if tasks, err := s.cli.ServiceTasks(ctx, s.service); err == nil {
		for _, t := range tasks {
			s.tasks[t.ID] = fmt.Sprintf("%s.%d", s.service, t.Slot)
		}
	}
}

// swarm turns golive's spec into Swarm's, the same way every time.
func (spec ServiceSpec) swarm() swarm.ServiceSpec {
	replicas := spec.Replicas
	parallelism := spec.Update.Parallelism
	if parallelism == 0 {
		parallelism = 1
	}
	order := swarm.UpdateOrderStopFirst
	if spec.Update.StartFirst {
		order = swarm.UpdateOrderStartFirst
	}
	cs := &swarm.ContainerSpec{
		Image:       spec.Image,
		Env:         spec.Env,
		Healthcheck: spec.Healthcheck,
	}
	if spec.StopGracePeriod > 0 {
		grace := spec.StopGracePeriod
		cs.StopGracePeriod = &grace
	}
	update := swarm.UpdateConfig{
		Parallelism:   parallelism,
		Delay:         spec.Update.Delay,
		Monitor:       spec.Update.Monitor,
		FailureAction: swarm.UpdateFailureActionPause,
		Order:         order,
	}
	rollback := update
	out := swarm.ServiceSpec{
		Annotations:    swarm.Annotations{Name: spec.Name, Labels: spec.Labels},
		TaskTemplate:   swarm.TaskSpec{ContainerSpec: cs},
		Mode:           swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
		UpdateConfig:   &update,
		RollbackConfig: &rollback,
	}
	if len(spec.Ports) > 0 {
		out.EndpointSpec = &swarm.EndpointSpec{Mode: swarm.ResolutionModeVIP}
		for _, p := range spec.Ports {
			proto := p.Protocol
			if proto == "" {
				proto = "tcp"
			}
			out.EndpointSpec.Ports = append(out.EndpointSpec.Ports, swarm.PortConfig{
				Protocol:      network.IPProtocol(proto),
				TargetPort:    uint32(p.Target),
				PublishedPort: uint32(p.Published),
				PublishMode:   swarm.PortConfigPublishModeHost,
			})
		}
	}
	return out
}

// fromSwarm is golive's view of a Swarm spec; what it cannot say (other
// settings made out of band) stays in the RecordedSpec.
func fromSwarm(s swarm.ServiceSpec) ServiceSpec {
	out := ServiceSpec{Name: s.Name, Labels: s.Labels}
	if cs := s.TaskTemplate.ContainerSpec; cs != nil {
		out.Image, out.Env, out.Healthcheck = cs.Image, cs.Env, cs.Healthcheck
		if cs.StopGracePeriod != nil {
			out.StopGracePeriod = *cs.StopGracePeriod
		}
	}
	if r := s.Mode.Replicated; r != nil && r.Replicas != nil {
		out.Replicas = *r.Replicas
	}
	if u := s.UpdateConfig; u != nil {
		out.Update = UpdatePolicy{Parallelism: u.Parallelism, Delay: u.Delay, Monitor: u.Monitor, StartFirst: u.Order == swarm.UpdateOrderStartFirst}
	}
	if e := s.EndpointSpec; e != nil {
		for _, p := range e.Ports {
			out.Ports = append(out.Ports, ServicePort{Published: uint16(p.PublishedPort), Target: uint16(p.TargetPort), Protocol: string(p.Protocol)})
		}
	}
	return out
}

// NotSwarmManager is why the engine cannot take Swarm services: "" when it
// manages a swarm, else what it is (a worker, or not in a swarm).
func (c *Client) NotSwarmManager(ctx context.Context) (string, error) {
	ctx, end := c.call(ctx, c.timeouts.Query, "info")
	res, err := c.api.Info(ctx, client.InfoOptions{})
	if err = end(err); err != nil {
		return "", fmt.Errorf("docker host %s: info: %w", c.host, err)
	}
	sw := res.Info.Swarm
	switch {
	case sw.ControlAvailable:
		return "", nil
	case sw.LocalNodeState == swarm.LocalNodeStateActive:
		return "it is a worker of its swarm: point docker.host at a manager (`docker node ls` on one lists them)", nil
	}
	return fmt.Sprintf("it is not in a swarm (%s): run `docker swarm init` there, or remove swarm: true from the plan", sw.LocalNodeState), nil
}
