package plans

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/distribution/reference"

	"github.com/golive/golive/docker"
)

// SwarmUpdate is how Swarm replaces a service's tasks (its update_config).
// What a failure means is the plan's on_failure, not Swarm's.
type SwarmUpdate struct {
	Parallelism   uint64        `yaml:"parallelism"` // tasks at a time; default 1
	Delay         time.Duration `yaml:"delay"`       // between batches
	Order         string        `yaml:"order"`       // stop-first (default) or start-first
	Monitor       time.Duration `yaml:"monitor"`     // how long a new task must stay up; default 5s
	FailureAction string        `yaml:"failure_action"`
}

// Defaults of Swarm services.
const (
	DefaultReplicas     = 1
	DefaultSwarmMonitor = 5 * time.Second
	orderStartFirst     = "start-first"
	orderStopFirst      = "stop-first"
)

// containerOnly are the service settings that make sense for one
// container only, with what to do instead in a Swarm plan.
var containerOnly = []struct{ key, why string }{
	{"container", "a Swarm service is named PROJECT-SERVICE on the manager"},
	{"command", "golive runs the image's own command in Swarm tasks"},
	{"entrypoint", "golive runs the image's own entrypoint in Swarm tasks"},
	{"volumes", "tasks run on any node, where a host path may not exist"},
	{"network", "Swarm services publish host-mode ports instead"},
	{"aliases", "Swarm services publish host-mode ports instead"},
	{"restart", "Swarm itself restarts a service's tasks"},
	{"proxy", "Swarm services publish host-mode ports instead"},
}

// swarmOnly are the service settings of Swarm services only.
var swarmOnly = []string{"replicas", "update"}

// swarmPlan checks the plan-level settings that a Swarm plan cannot have.
func (v *validator) swarmPlan() {
	p := v.plan
	if !p.Docker.Swarm {
		return
	}
	if p.Compose != "" {
		v.at("$.compose", "compose cannot be used with docker.swarm: write the services in the plan, with replicas and update")
	}
	if len(p.Preload.Load) > 0 {
		v.at("$.preload.load", "preload.load cannot be used with docker.swarm: a tarball would reach the manager only; load it on every node (docker load) or push the image to a registry")
	}
	if p.Proxy != nil {
		v.at("$.proxy", "proxy cannot be used with docker.swarm: Swarm services publish host-mode ports (ports: [\"mode=host,published=8080,target=8080\"])")
	}
}

// notSwarm refuses Swarm-only settings on a container service.
func (v *validator) notSwarm(s *Service) {
	for _, k := range swarmOnly {
		if _, set := v.shape.set["services."+s.Name+"."+k]; set {
			v.at("$.services."+s.Name+"."+k, "service %s: %s is for Swarm services; add `docker: {swarm: true}` to deploy the plan's services to a Swarm manager, or remove it (a container service runs one container)", s.Name, k)
		}
	}
}

// swarmService checks one service of a Swarm plan and fills in its defaults.
func (v *validator) swarmService(s *Service, hostPorts map[string]string) {
	at := "$.services." + s.Name
	key := "services." + s.Name
	if !namePattern.MatchString(s.Name) || len(s.Name) > maxNameLen {
		v.at(at, "service name %q may contain only letters, digits, '_', '.' and '-', at most %d of them (the Swarm service name derives from it)", s.Name, maxNameLen)
	}
	for _, c := range containerOnly {
		if _, set := v.shape.set[key+"."+c.key]; set {
			v.at(at+"."+c.key, "service %s: %s is for container services and cannot be used with docker.swarm (%s); remove it", s.Name, c.key, c.why)
		}
	}
	if s.Group == "" {
		s.Group = DefaultGroup
	} else if !plainWord(s.Group) || len(s.Group) > maxNameLen {
		v.at(at+".group", "service %s: group %q may not contain spaces or control characters, and at most %d characters", s.Name, s.Group, maxNameLen)
	}
	if s.Image == "" {
		if !v.shape.dropped[key+".image"] {
			v.at(at, "service %s has no image: add `image: NAME:TAG`", s.Name)
		}
	} else if _, err := reference.ParseNormalizedNamed(s.Image); err != nil {
		v.at(at+".image", "service %s: image %q is not a valid image reference (%v)", s.Name, s.Image, err)
	}
	if _, set := v.shape.set[key+".replicas"]; set && s.Replicas == 0 {
		v.at(at+".replicas", "service %s: replicas must be at least 1 (to stop a service, remove it with `docker service rm`)", s.Name)
	}
	if s.Replicas > MaxReplicas {
		v.at(at+".replicas", "service %s: replicas %d is more than golive handles (at most %d): ask for the tasks the cluster really runs", s.Name, s.Replicas, MaxReplicas)
	}
	if s.Replicas == 0 {
		s.Replicas = DefaultReplicas
	}
	v.swarmUpdate(s, at+".update")
	for i, spec := range s.Ports {
		where := fmt.Sprintf("%s.ports[%d]", at, i)
		port, err := ParseSwarmPort(spec)
		if err != nil {
			v.at(where, "service %s: %v", s.Name, err)
			continue
		}
		if port.Published == 0 {
			continue
		}
		k := fmt.Sprintf("%d/%s", port.Published, port.Protocol)
		if other, dup := hostPorts[k]; dup {
			v.at(where, "services %s and %s both publish port %d on the nodes", other, s.Name, port.Published)
		}
		hostPorts[k] = s.Name
	}
	for k := range s.Env {
		if !envVarPattern.MatchString(k) {
			v.at(at+".env", "service %s: env key %q is not a valid variable name", s.Name, k)
		}
	}
	if s.EnvFile != "" {
		if _, err := readEnvFile(v.plan.Resolve(s.EnvFile)); err != nil {
			v.at(at+".env_file", "service %s: %v", s.Name, err)
		}
	}
	if s.StopTimeout < 0 {
		v.at(at+".stop_timeout", "service %s: stop_timeout must not be negative", s.Name)
	}
	if s.StopTimeout == 0 {
		s.StopTimeout = DefaultStopTimeout
	}
	h := s.Health
	switch {
	case h.HTTP != "" || h.TCP != "" || len(h.Cmd) > 0:
		v.at(at+".health", "service %s: a Swarm service's gate is its tasks' HEALTHCHECK (health: {docker: true}); http, tcp and cmd probes are for container services", s.Name)
	case h.Errors != nil:
		v.at(at+".health.errors", "service %s: the error gate (health.errors) is for container services; a Swarm service is judged by its tasks' state and HEALTHCHECK", s.Name)
	}
	v.health(s, at+".health", key+".health")
	v.healthcheck(s, at+".healthcheck")
}

// swarmUpdate checks a service's update settings and fills in defaults.
func (v *validator) swarmUpdate(s *Service, at string) {
	if s.Update == nil {
		s.Update = &SwarmUpdate{}
	}
	u := s.Update
	if u.FailureAction != "" {
		v.at(at+".failure_action", "service %s: update.failure_action is golive's on_failure (revert or stop): golive pauses Swarm's update on a failure and decides; remove it", s.Name)
	}
	if u.Parallelism == 0 {
		u.Parallelism = 1
	}
	if u.Parallelism > MaxReplicas {
		v.at(at+".parallelism", "service %s: update.parallelism %d is more than golive handles (at most %d, as replicas)", s.Name, u.Parallelism, MaxReplicas)
	}
	switch u.Order {
	case "":
		u.Order = orderStopFirst
	case orderStopFirst, orderStartFirst:
	default:
		v.at(at+".order", "service %s: update.order is %q; expected stop-first (the default) or start-first", s.Name, u.Order)
	}
	if u.Delay < 0 || u.Monitor < 0 {
		v.at(at, "service %s: update durations must not be negative", s.Name)
	}
	if u.Monitor == 0 {
		u.Monitor = DefaultSwarmMonitor
	}
}

// ParseSwarmPort reads a port in the long form of `docker service create
// --publish`: mode=host,published=8080,target=8080[,protocol=tcp].
func ParseSwarmPort(spec string) (docker.ServicePort, error) {
	p := docker.ServicePort{Protocol: "tcp"}
	if !strings.Contains(spec, "=") {
		return p, fmt.Errorf("port %q: a Swarm service's ports are written in long form, such as \"mode=host,published=8080,target=8080\"", spec)
	}
	for field := range strings.SplitSeq(spec, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(field), "=")
		switch k {
		case "mode":
			if val != "host" {
				return p, fmt.Errorf("port %q: mode is %q; golive publishes every task's port on its own node: write mode=host", spec, val)
			}
		case "published", "target":
			n, err := strconv.ParseUint(val, 10, 16)
			if err != nil || n == 0 {
				return p, fmt.Errorf("port %q: %s is %q; expected a port number from 1 to 65535", spec, k, val)
			}
			if k == "published" {
				p.Published = uint16(n)
			} else {
				p.Target = uint16(n)
			}
		case "protocol":
			if val != "tcp" && val != "udp" && val != "sctp" {
				return p, fmt.Errorf("port %q: protocol is %q; expected tcp, udp or sctp", spec, val)
			}
			p.Protocol = val
		default:
			return p, fmt.Errorf("port %q: unknown field %q; expected mode, published, target and protocol", spec, k)
		}
	}
	if p.Target == 0 {
		return p, fmt.Errorf("port %q has no target: add target=PORT, the port the task listens on", spec)
	}
	return p, nil
}
