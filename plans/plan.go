// Package plans reads release plans and carries them out: preload, steps,
// deploy groups, health gates, revert, the release lock and the journal.
// It never prints; it publishes typed events.
package plans

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Plan is a release described in a plan file.
type Plan struct {
	Path      string        `yaml:"-"`
	Project   string        `yaml:"project"`
	Release   string        `yaml:"release"`
	Docker    DockerConfig  `yaml:"docker"`
	OnFailure string        `yaml:"on_failure"`
	Confirm   bool          `yaml:"confirm"`
	Services  []*Service    `yaml:"-"`
	Secrets   []string      `yaml:"secrets"`
	Preload   PreloadConfig `yaml:"preload"`
	Steps     []Step        `yaml:"steps"`
	Logs      LogsConfig    `yaml:"logs"`
	Revert    RevertConfig  `yaml:"revert"`
	// Compose names a compose file whose services the plan deploys; the
	// plan's services then only override group and health.
	Compose string `yaml:"compose"`
	// Notify lists the webhooks told about the release.
	Notify []Notify `yaml:"notify"`
	// ComposeWarnings is what the compose file says that golive does not honour.
	ComposeWarnings []ComposeWarning `yaml:"-"`
	Proxy           *ProxyConfig     `yaml:"proxy"`
	// Hosts names the Docker engines of a release across several hosts;
	// empty: the one engine of docker.host.
	Hosts map[string]*HostEntry `yaml:"hosts"`
}

// RevertConfig says how a revert brings the previous version back. By
// default every changed service is restored at once and counts as back on
// its first passing health check.
type RevertConfig struct {
	// Order is "parallel" (the default) or "groups": one group at a time,
	// in reverse deploy order.
	Order string `yaml:"order"`
	// Stable, when set, is how long a restored service must stay healthy.
	Stable time.Duration `yaml:"stable"`
}

// Revert orders.
const (
	RevertParallel = "parallel"
	RevertGroups   = "groups"
)

// DockerConfig says which Docker engine the plan targets.
type DockerConfig struct {
	Host string `yaml:"host"`
	// Swarm says the host is a Swarm manager and every service is a Swarm
	// service on it (see swarmplan.go).
	Swarm bool `yaml:"swarm"`
}

// PreloadConfig lists image tarballs (`docker save` output) to load before pulling.
type PreloadConfig struct {
	Load []string `yaml:"load"`
}

// LogsConfig names extra log files and patterns that mark a line's level.
type LogsConfig struct {
	Files    []string `yaml:"files"`
	Errors   []string `yaml:"errors"`
	Warnings []string `yaml:"warnings"`
}

// Service is one container the plan deploys, or one Swarm service
// (docker.swarm).
type Service struct {
	Name        string            `yaml:"-"`
	Image       string            `yaml:"image"`
	Group       string            `yaml:"group"`
	Container   string            `yaml:"container"`
	Command     Command           `yaml:"command"`
	Ports       []string          `yaml:"ports"`
	Env         map[string]string `yaml:"env"`
	EnvFile     string            `yaml:"env_file"`
	Volumes     []string          `yaml:"volumes"`
	Network     string            `yaml:"network"`
	Labels      map[string]string `yaml:"labels"`
	Restart     string            `yaml:"restart"`
	StopTimeout time.Duration     `yaml:"stop_timeout"`
	Health      Health            `yaml:"health"`
	Entrypoint  Command           `yaml:"entrypoint"`
	Aliases     []string          `yaml:"aliases"`     // network aliases besides the service name
	Healthcheck *Healthcheck      `yaml:"healthcheck"` // the HEALTHCHECK the container runs
	Proxy       *ServiceProxy     `yaml:"proxy"`
	Hosts       []string          `yaml:"hosts"`   // the plan's hosts it runs on; default: every one
	Rollout     *Rollout          `yaml:"rollout"` // how many of its hosts change at a time
	// Replicas and Update are for Swarm services only (docker.swarm).
	Replicas uint64       `yaml:"replicas"`
	Update   *SwarmUpdate `yaml:"update"`
}

// Health is the gate a new container must pass before its group counts as deployed.
type Health struct {
	HTTP     string        `yaml:"http"`
	TCP      string        `yaml:"tcp"`
	Cmd      Command       `yaml:"cmd"`
	Docker   bool          `yaml:"docker"`
	Timeout  time.Duration `yaml:"timeout"`
	Stable   time.Duration `yaml:"stable"`
	Interval time.Duration `yaml:"interval"`
	// Errors is the error gate: a budget of error-level lines the new
	// container may log from its start until its group's watch ends.
	Errors *ErrorBudget `yaml:"errors"`
}

// ErrorBudget is how many error-level lines a new container may log per
// window: Max, or MaxRatio times the previous version's rate (at least
// Max when both are set). Watch keeps the gate open that long after the
// group is deployed.
type ErrorBudget struct {
	Max      int           `yaml:"max"`
	Per      time.Duration `yaml:"per"`
	MaxRatio float64       `yaml:"max_ratio"`
	Watch    time.Duration `yaml:"watch"`
}

// Command is an argument list; in YAML either a list or a string split on spaces.
type Command []string

// UnmarshalYAML accepts both `[a, b]` and `"a b"`.
func (c *Command) UnmarshalYAML(unmarshal func(any) error) error {
	var list []string
	if err := unmarshal(&list); err == nil {
		*c = list
		return nil
	}
	var s string
	if err := unmarshal(&s); err != nil {
		return fmt.Errorf("expected a command as a list of strings or a string")
	}
	*c = strings.Fields(s)
	return nil
}

// Step is one entry of the plan's ordered steps. Exactly one of Run, Deploy,
// Verify, Confirm, Mark, Pause, Resume, Maintenance and EndMaintenance is set.
type Step struct {
	Name    string        `yaml:"name"`
	Run     string        `yaml:"run"`
	Before  string        `yaml:"before"`
	After   string        `yaml:"after"`
	Deploy  string        `yaml:"deploy"`
	Verify  string        `yaml:"verify"`
	Confirm string        `yaml:"confirm"`
	Timeout time.Duration `yaml:"timeout"` // a command's limit; for pause, how long each request is held
	Mark    *Mark         `yaml:"mark"`
	// Pause, Resume, Maintenance and EndMaintenance name a deploy group
	// whose proxied services' traffic the proxy holds or lets through.
	Pause          string       `yaml:"pause"`
	Resume         string       `yaml:"resume"`
	Maintenance    *Maintenance `yaml:"maintenance"`
	EndMaintenance string       `yaml:"end_maintenance"`
	Canary         *Canary      `yaml:"canary"` // canary.go
}

// Step kinds.
const (
	StepRun     = "run"
	StepDeploy  = "deploy"
	StepVerify  = "verify"
	StepConfirm = "confirm"
	StepMark    = "mark"
	// StepPause and the three below are the proxy steps (proxysteps.go).
	StepPause          = "pause"
	StepResume         = "resume"
	StepMaintenance    = "maintenance"
	StepEndMaintenance = "end_maintenance"
)

// Kind says what the step does: run, deploy, verify, confirm, mark, or one
// of the proxy steps.
func (s Step) Kind() string {
	switch {
	case s.Mark != nil:
		return StepMark
	case s.Canary != nil:
		return StepCanary
	case s.Maintenance != nil:
		return StepMaintenance
	case s.Pause != "":
		return StepPause
	case s.Resume != "":
		return StepResume
	case s.EndMaintenance != "":
		return StepEndMaintenance
	case s.Deploy != "":
		return StepDeploy
	case s.Verify != "":
		return StepVerify
	case s.Confirm != "":
		return StepConfirm
	}
	return StepRun
}

// Title is the step's name, or a description made from what it does.
func (s Step) Title() string {
	if s.Name != "" {
		return s.Name
	}
	switch s.Kind() {
	case StepDeploy:
		return "Deploy " + s.Deploy
	case StepVerify:
		return "Verify: " + s.Verify
	case StepConfirm:
		return "Confirm: " + s.Confirm
	case StepMark:
		return "Mark: " + s.Mark.URL
	case StepCanary:
		return fmt.Sprintf("Canary %s: %d%% for %s", s.Canary.Service, s.Canary.Percent, shortDuration(s.Canary.For))
	case StepPause, StepResume, StepMaintenance, StepEndMaintenance:
		return s.proxyTitle()
	}
	return "Run: " + s.Run
}

// Command is what the step carries out, as the journal records it.
func (s Step) Command() string {
	switch s.Kind() {
	case StepDeploy:
		return "deploy " + s.Deploy
	case StepVerify:
		return s.Verify
	case StepConfirm:
		return "confirm: " + s.Confirm
	case StepMark:
		return "POST " + s.Mark.URL
	case StepCanary:
		return fmt.Sprintf("canary %s %d%% for %s", s.Canary.Service, s.Canary.Percent, s.Canary.For)
	case StepPause, StepResume, StepMaintenance, StepEndMaintenance:
		return s.proxyCommand()
	}
	cmd := s.Run
	if s.Before != "" {
		cmd = "before: " + s.Before + "; run: " + cmd
	}
	if s.After != "" {
		cmd += "; after: " + s.After
	}
	return cmd
}

// Defaults for values a plan may leave out.
const (
	DefaultGroup         = "default"
	DefaultHealthTimeout = 60 * time.Second
	DefaultStable        = 300 * time.Millisecond
	DefaultInterval      = 500 * time.Millisecond
	DefaultStopTimeout   = 10 * time.Second
	DefaultRestart       = "unless-stopped"
	DefaultErrorsPer     = time.Minute
)

// Service returns the service with this name, or nil.
func (p *Plan) Service(name string) *Service {
	for _, s := range p.Services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Groups lists the deploy groups in order of first appearance.
func (p *Plan) Groups() []string {
	var groups []string
	seen := map[string]bool{}
	for _, s := range p.Services {
		if !seen[s.Group] {
			seen[s.Group] = true
			groups = append(groups, s.Group)
		}
	}
	return groups
}

// GroupServices lists the services of one group in plan order.
func (p *Plan) GroupServices(group string) []*Service {
	var out []*Service
	for _, s := range p.Services {
		if s.Group == group {
			out = append(out, s)
		}
	}
	return out
}

// ReleaseSteps is the steps to carry out: the plan's own, or one deploy per group.
func (p *Plan) ReleaseSteps() []Step {
	if len(p.Steps) > 0 {
		return p.Steps
	}
	var steps []Step
	for _, g := range p.Groups() {
		steps = append(steps, Step{Deploy: g})
	}
	return steps
}

// Dir is the folder the plan file is in; relative paths in the plan start there.
func (p *Plan) Dir() string { return filepath.Dir(p.Path) }

// Resolve makes a path from the plan absolute, relative to the plan's folder.
func (p *Plan) Resolve(path string) string {
	if filepath.IsAbs(path) || path == "" {
		return path
	}
	return filepath.Join(p.Dir(), path)
}

// ContainerName is the name of the service's running container.
func (s *Service) ContainerName(project string) string {
	if s.Container != "" {
		return s.Container
	}
	return project + "-" + s.Name
}
