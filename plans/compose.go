package plans

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/sirupsen/logrus"
)

// Compose is a compose file read as golive services.
type Compose struct {
	Project  string     // the compose project name
	File     string     // the compose file, absolute
	Services []*Service // in depends_on order; each group is one layer
	Warnings []ComposeWarning

	ast *ast.File // the compose file's text, for positions
}

// ComposeWarning is something in a compose file that golive does not honour.
type ComposeWarning struct {
	File         string
	Line, Column int
	Message      string
}

func (w ComposeWarning) String() string {
	if w.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", w.File, w.Line, w.Column, w.Message)
	}
	return fmt.Sprintf("%s: %s", w.File, w.Message)
}

// ComposeOptions says how to read a compose file.
type ComposeOptions struct {
	// Dir is the folder of the plan that uses the services: env_file and
	// bind mount paths are made relative to it when they lie beneath it.
	Dir string
	// KeepRefs keeps an environment value written with ${VAR} as
	// written, instead of the value it has now, so a plan written from the
	// compose file copies no secret.
	KeepRefs bool
}

// composeKeys are the service keys golive carries over; the others are
// reported as not honoured.
var composeKeys = map[string]bool{
	"image": true, "command": true, "entrypoint": true, "environment": true, "env_file": true,
	"ports": true, "volumes": true, "networks": true, "labels": true, "restart": true,
	"stop_grace_period": true, "healthcheck": true, "depends_on": true, "container_name": true,
	"extends": true, "expose": true, "profiles": true,
}

// composeNotes explain why some keys are not honoured.
var composeNotes = map[string]string{
	"build":   "golive deploys images and does not build them: build and push the image before the release",
	"deploy":  "deploy.* (replicas, resources, update_config) is for Swarm; golive runs one container per service and ignores it",
	"secrets": "golive mounts no compose secrets: pass the value as an environment variable from your shell (`${VAR}`) and list it under the plan's secrets:",
	"configs": "golive mounts no compose configs: bind-mount the file with volumes: instead",
	"scale":   "golive runs one container per service",
}

// logrusMu serialises compose loads, which borrow logrus's global logger
// to collect compose-go's warnings instead of letting it print them.
var logrusMu sync.Mutex

// LoadCompose reads a compose file as `docker compose` does (.env beside
// it, interpolation from the environment, extends, COMPOSE_PROFILES) and converts
// its services; what golive cannot honour becomes a warning with its line.
func LoadCompose(ctx context.Context, path string, opts ComposeOptions) (*Compose, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	data, err := readCapped(abs, "compose file", MaxPlanBytes, true)
	if err != nil {
		return nil, err
	}
	file, problem := parseBounded(data)
	if problem != nil {
		return nil, (&PlanError{File: abs, Problems: []Problem{*problem}})
	}
	c := &Compose{File: abs, ast: file}
	project, err := c.load(ctx)
	if err != nil {
		return nil, err
	}
	c.Project = project.Name
	c.convert(project, opts)
	return c, nil
}

// load runs compose-go. The working directory must come first: given
// after WithDotEnv it would silently leave .env unread.
func (c *Compose) load(ctx context.Context) (*types.Project, error) {
	logrusMu.Lock()
	defer logrusMu.Unlock()
	std := logrus.StandardLogger()
	collect := &logCollector{}
	oldHooks := std.ReplaceHooks(logrus.LevelHooks{})
	std.AddHook(collect)
	oldOut := std.Out
	std.SetOutput(io.Discard)
	defer func() {
		std.SetOutput(oldOut)
		std.ReplaceHooks(oldHooks)
	}()
	o, err := cli.NewProjectOptions([]string{c.File},
		cli.WithWorkingDirectory(filepath.Dir(c.File)),
		cli.WithOsEnv,
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(),
		cli.WithResolvedPaths(true),
		cli.WithoutEnvironmentResolution,
	)
	if err != nil {
		return nil, fmt.Errorf("compose file %s: %w", c.File, err)
	}
	project, err := o.LoadProject(ctx)
	if err != nil {
		return nil, fmt.Errorf("compose file %s: %w", c.File, err)
	}
	for _, msg := range collect.messages {
		c.Warnings = append(c.Warnings, ComposeWarning{File: c.File, Message: msg})
	}
	return project, nil
}

// logCollector keeps the warnings compose-go logs.
type logCollector struct{ messages []string }

func (l *logCollector) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel, logrus.WarnLevel}
}

func (l *logCollector) Fire(e *logrus.Entry) error {
	l.messages = append(l.messages, e.Message)
	return nil
}

// warn records a warning at the compose node for path (or its nearest parent).
func (c *Compose) warn(path, format string, args ...any) {
	line, col := c.position(path)
	c.Warnings = append(c.Warnings, ComposeWarning{File: c.File, Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

// position finds the compose node for path, or its nearest parent; a
// mapping entry is found at its key.
func (c *Compose) position(path string) (int, int) {
	v := validator{file: c.ast}
	for p := path; p != ""; {
		if i := strings.LastIndex(p, "."); i > 0 && !strings.Contains(p[i:], "[") {
			if parent, ok := lookup(c.ast, p[:i]).(*ast.MappingNode); ok {
				for _, kv := range parent.Values {
					if kv.Key.String() == p[i+1:] {
						return kv.Key.GetToken().Position.Line, kv.Key.GetToken().Position.Column
					}
				}
			}
		}
		if line, col, ok := v.position(p); ok {
			return line, col
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			break
		}
		p = p[:i]
	}
	return 0, 0
}

func (c *Compose) convert(project *types.Project, opts ComposeOptions) {
	for _, key := range mappingKeys(c.ast, "$") {
		switch key {
		case "secrets", "configs":
			c.warn("$."+key, "top-level %s: %s", key, composeNotes[key])
		case "jobs", "models":
			c.warn("$."+key, "top-level %s: golive does not run them", key)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(project.DisabledServices)) {
		svc := project.DisabledServices[name]
		c.warn("$.services."+name+".profiles", "service %s is only in profiles %s, none of them active: left out, as `docker compose up` leaves it out (COMPOSE_PROFILES activates profiles)", name, strings.Join(svc.Profiles, ", "))
	}
	order := c.serviceOrder(project)
	layers := layerOf(project)
	byLayer := map[int][]string{}
	maxLayer := 0
	for _, name := range order {
		byLayer[layers[name]] = append(byLayer[layers[name]], name)
		maxLayer = max(maxLayer, layers[name])
	}
	for l := 0; l <= maxLayer; l++ {
		var layer []*Service
		var names []string
		for _, name := range byLayer[l] {
			if svc := c.service(project, project.Services[name], opts); svc != nil {
				layer, names = append(layer, svc), append(names, name)
			}
		}
		for _, svc := range layer {
			svc.Group = strings.Join(names, "+")
		}
		c.Services = append(c.Services, layer...)
	}
	sort.SliceStable(c.Warnings, func(i, j int) bool { return c.Warnings[i].Line < c.Warnings[j].Line })
}

// serviceOrder lists the services in the order the compose file writes
// them; services from included files follow, sorted.
func (c *Compose) serviceOrder(project *types.Project) []string {
	var order []string
	for _, name := range mappingKeys(c.ast, "$.services") {
		if _, ok := project.Services[name]; ok {
			order = append(order, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(project.Services)) {
		if !slices.Contains(order, name) {
			order = append(order, name)
		}
	}
	return order
}

// layerOf numbers each service by its depends_on depth: 0 for a service
// that depends on nothing, one more than its deepest dependency otherwise.
// compose-go has already refused dependency cycles.
func layerOf(project *types.Project) map[string]int {
	layers := map[string]int{}
	var depth func(name string) int
	depth = func(name string) int {
		if l, ok := layers[name]; ok {
			return l
		}
		layers[name] = 0
		l := 0
		for dep := range project.Services[name].DependsOn {
			if _, ok := project.Services[dep]; ok {
				l = max(l, depth(dep)+1)
			}
		}
		layers[name] = l
		return l
	}
	for name := range project.Services {
		depth(name)
	}
	return layers
}

// service converts one compose service, warning about what it drops; a
// service without an image is left out.
func (c *Compose) service(project *types.Project, sc types.ServiceConfig, opts ComposeOptions) *Service {
	at := "$.services." + sc.Name
	if sc.Image == "" {
		c.warn(at+".build", "service %s has no image: left out; golive deploys images and does not build them: add `image: NAME:TAG` and push it before the release", sc.Name)
		return nil
	}
	svc := &Service{Name: sc.Name, Image: sc.Image, Container: sc.ContainerName, Labels: map[string]string(sc.Labels)}
	for _, key := range mappingKeys(c.ast, at) {
		if composeKeys[key] || strings.HasPrefix(key, "x-") {
			continue
		}
		if note, ok := composeNotes[key]; ok {
			c.warn(at+"."+key, "service %s: %s: %s", sc.Name, key, note)
		} else {
			c.warn(at+"."+key, "service %s: %s is not honoured by golive: the container runs without it", sc.Name, key)
		}
	}
	svc.Command = Command(sc.Command)
	svc.Entrypoint = Command(sc.Entrypoint)
	c.environment(svc, sc, opts)
	var envFiles []string
	for _, f := range sc.EnvFiles {
		if _, err := os.Stat(f.Path); err != nil && !bool(f.Required) {
			continue // optional and absent, as compose takes it
		}
		envFiles = append(envFiles, f.Path)
	}
	for i, f := range envFiles {
		if i == 0 {
			svc.EnvFile = relPath(opts.Dir, f)
			continue
		}
		c.warn(at+".env_file", "service %s: golive reads one env_file; %s is not read: merge it into %s", sc.Name, f, envFiles[0])
	}
	for i, p := range sc.Ports {
		spec, ok := portSpec(p)
		if !ok {
			c.warn(fmt.Sprintf("%s.ports[%d]", at, i), "service %s: port %s:%d: golive publishes single ports, not ranges: left out", sc.Name, p.Published, p.Target)
			continue
		}
		svc.Ports = append(svc.Ports, spec)
	}
	for i, vol := range sc.Volumes {
		bind, ok := c.volumeSpec(project, vol, opts.Dir)
		if !ok {
			c.warn(fmt.Sprintf("%s.volumes[%d]", at, i), "service %s: volume %s (%s): golive mounts named volumes and bind mounts with a source only: left out", sc.Name, vol.Target, vol.Type)
			continue
		}
		svc.Volumes = append(svc.Volumes, bind)
	}
	c.network(project, svc, sc)
	svc.Restart = sc.Restart
	if base, _, ok := strings.Cut(sc.Restart, ":"); ok && base == "on-failure" {
		svc.Restart = "on-failure"
		c.warn(at+".restart", "service %s: restart %s: golive sets on-failure without a retry limit", sc.Name, sc.Restart)
	}
	if sc.StopGracePeriod != nil {
		svc.StopTimeout = time.Duration(*sc.StopGracePeriod)
	}
	c.healthcheck(svc, sc)
	for dep, d := range sc.DependsOn {
		if d.Condition == types.ServiceConditionCompletedSuccessfully {
			c.warn(at+".depends_on", "service %s: depends_on %s: service_completed_successfully: golive deploys %s as a long-running service; run one-off jobs as a `run:` step", sc.Name, dep, dep)
		}
	}
	if len(sc.Labels) == 0 {
		svc.Labels = nil
	}
	return svc
}

// environment carries over the service's environment. With KeepRefs, a
// value written with ${VAR} stays so; a variable without a value takes the
// operator's at apply, as compose takes it from the shell.
func (c *Compose) environment(svc *Service, sc types.ServiceConfig, opts ComposeOptions) {
	if len(sc.Environment) == 0 {
		return
	}
	svc.Env = map[string]string{}
	raw := c.rawEnvironment(sc.Name)
	for k, v := range sc.Environment {
		switch text, ok := raw[k]; {
		case v == nil:
			svc.Env[k] = "${" + k + "}"
		case opts.KeepRefs && ok && strings.Contains(text, "$"):
			svc.Env[k] = text
		case opts.KeepRefs && !ok && looksSecret(k):
			svc.Env[k] = "${" + k + "}"
			c.warn("$.services."+sc.Name, "service %s: environment %s looks secret and its text is in another file: written as ${%s}, so export %s before running golive", sc.Name, k, k, k)
		default:
			svc.Env[k] = *v
		}
	}
}

// rawEnvironment is the service's environment as the compose file writes
// it, before interpolation; services from other files have none.
func (c *Compose) rawEnvironment(service string) map[string]string {
	out := map[string]string{}
	switch n := lookup(c.ast, "$.services."+service+".environment").(type) {
	case *ast.MappingNode:
		for _, kv := range n.Values {
			if kv.Value != nil && kv.Value.GetToken() != nil {
				out[kv.Key.String()] = kv.Value.GetToken().Value
			}
		}
	case *ast.SequenceNode:
		for _, item := range n.Values {
			if item.GetToken() == nil {
				continue
			}
			if k, v, ok := strings.Cut(item.GetToken().Value, "="); ok {
				out[k] = v
			}
		}
	}
	return out
}

// portSpec writes a compose port in Docker's short syntax; ranges have none.
func portSpec(p types.ServicePortConfig) (string, bool) {
	if strings.Contains(p.Published, "-") {
		return "", false
	}
	spec := fmt.Sprint(p.Target)
	if p.Published != "" {
		spec = p.Published + ":" + spec
		if p.HostIP != "" {
			spec = p.HostIP + ":" + spec
		}
	}
	if p.Protocol != "" && p.Protocol != "tcp" {
		spec += "/" + p.Protocol
	}
	return spec, true
}

// volumeSpec writes a named volume or bind mount as SOURCE:/target[:ro].
func (c *Compose) volumeSpec(project *types.Project, vol types.ServiceVolumeConfig, dir string) (string, bool) {
	src := vol.Source
	switch {
	case src == "":
		return "", false
	case vol.Type == types.VolumeTypeVolume:
		if v, ok := project.Volumes[src]; ok && v.Name != "" {
			src = v.Name
		}
	case vol.Type == types.VolumeTypeBind:
		src = relPath(dir, src)
		if !strings.HasPrefix(src, "/") && !strings.HasPrefix(src, ".") {
			src = "./" + src
		}
	default:
		return "", false
	}
	spec := src + ":" + vol.Target
	if vol.ReadOnly {
		spec += ":ro"
	}
	return spec, true
}

// network picks the service's network: golive attaches a container to one.
func (c *Compose) network(project *types.Project, svc *Service, sc types.ServiceConfig) {
	at := "$.services." + sc.Name
	if sc.NetworkMode != "" {
		c.warn(at+".network_mode", "service %s: network_mode %s is not honoured: golive attaches the container to a network", sc.Name, sc.NetworkMode)
	}
	names := sc.NetworksByPriority()
	if len(names) == 0 {
		return
	}
	first := names[0]
	svc.Network = first
	if n, ok := project.Networks[first]; ok && n.Name != "" {
		svc.Network = n.Name
	}
	if cfg := sc.Networks[first]; cfg != nil {
		svc.Aliases = cfg.Aliases
	}
	if len(names) > 1 {
		c.warn(at+".networks", "service %s: golive attaches a container to one network: %s; not to %s", sc.Name, first, strings.Join(names[1:], ", "))
	}
}

// healthcheck gives the container the compose healthcheck and makes the
// health gate wait for it.
func (c *Compose) healthcheck(svc *Service, sc types.ServiceConfig) {
	hc := sc.HealthCheck
	if hc == nil {
		return
	}
	if hc.Disable {
		svc.Healthcheck = &Healthcheck{Test: HealthTest{"NONE"}}
		return
	}
	h := &Healthcheck{Test: HealthTest(hc.Test)}
	if len(h.Test) == 0 {
		return
	}
	dur := func(d *types.Duration) time.Duration {
		if d == nil {
			return 0
		}
		return time.Duration(*d)
	}
	h.Interval, h.Timeout, h.StartPeriod = dur(hc.Interval), dur(hc.Timeout), dur(hc.StartPeriod)
	if hc.Retries != nil {
		h.Retries = int(*hc.Retries)
	}
	if hc.StartInterval != nil {
		c.warn("$.services."+sc.Name+".healthcheck.start_interval", "service %s: healthcheck start_interval is not passed on (Docker 25 and later only)", sc.Name)
	}
	svc.Healthcheck = h
	if h.Test[0] == "NONE" {
		return
	}
	svc.Health.Docker = true
	// Docker runs the first check one interval after the start period.
	interval := cmp(h.Interval, 30*time.Second)
	if need := h.StartPeriod + 2*interval + cmp(h.Timeout, 30*time.Second); need > DefaultHealthTimeout {
		svc.Health.Timeout = need
	}
}

// cmp is d, or def when d is zero (Docker's defaults).
func cmp(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// relPath makes path relative to dir when it lies beneath it.
func relPath(dir, path string) string {
	if dir == "" || !filepath.IsAbs(path) {
		return path
	}
	rel, err := filepath.Rel(dir, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return path
	}
	return rel
}

// composeFields maps a plan service field to the compose key it comes from.
var composeFields = map[string]string{
	"env": "environment", "stop_timeout": "stop_grace_period", "network": "networks",
	"aliases": "networks", "container": "container_name", "health": "healthcheck",
}

// locate places a problem about a service taken from the compose file at
// its compose line, unless the plan itself writes the node.
func (c *Compose) locate(planFile *ast.File) func(string) (string, int, int, bool) {
	names := map[string]bool{}
	for _, s := range c.Services {
		names[s.Name] = true
	}
	return func(path string) (string, int, int, bool) {
		rest, ok := strings.CutPrefix(path, "$.services.")
		if !ok || lookup(planFile, path) != nil {
			return "", 0, 0, false
		}
		name, field, _ := strings.Cut(rest, ".")
		if !names[name] {
			return "", 0, 0, false
		}
		key, index, _ := strings.Cut(field, "[")
		if k, ok := composeFields[key]; ok {
			key = k
		}
		cpath := "$.services." + name
		if key != "" {
			cpath += "." + key
			if index != "" {
				cpath += "[" + index
			}
		}
		line, col := c.position(cpath)
		return c.File, line, col, true
	}
}

// planOverrides are the keys a plan that says compose: may set per service.
var planOverrides = []string{"group", "health"}

// mergeCompose replaces the plan's services with the compose file's,
// keeping the plan's group and health where it sets them.
func (v *validator) mergeCompose() {
	p := v.plan
	c, err := LoadCompose(context.Background(), p.Resolve(p.Compose), ComposeOptions{Dir: p.Dir()})
	if err != nil {
		v.at("$.compose", "compose: %v", err)
		return
	}
	p.ComposeWarnings = c.Warnings
	if len(c.Services) == 0 {
		why := []string{"it has none"}
		if len(c.Warnings) > 0 {
			why = why[:0]
		}
		for _, w := range c.Warnings {
			why = append(why, w.String())
		}
		v.at("$.compose", "compose: no service of %s can be deployed: %s", p.Compose, strings.Join(why, "; "))
	}
	if p.Project == "" {
		p.Project = c.Project
	}
	byName := map[string]*Service{}
	var names []string
	for _, s := range c.Services {
		byName[s.Name] = s
		names = append(names, s.Name)
	}
	for _, o := range p.Services {
		at := "$.services." + o.Name
		svc := byName[o.Name]
		if svc == nil {
			v.at(at, "service %s is not in %s (its services: %s)", o.Name, p.Compose, strings.Join(names, ", "))
			continue
		}
		for _, key := range mappingKeys(v.file, at) {
			switch key {
			case "group":
				svc.Group = o.Group
			case "health":
				v.overrideHealth(&svc.Health, o.Health, at+".health")
			default:
				v.at(at+"."+key, "service %s: %s comes from %s; change it there (with compose:, a plan's service sets only %s)", o.Name, key, p.Compose, strings.Join(planOverrides, " and "))
			}
		}
	}
	p.Services = c.Services
	v.elsewhere = c.locate(v.file)
}

// overrideHealth sets what the plan writes under health: a check replaces
// the compose-derived one, durations replace theirs.
func (v *validator) overrideHealth(h *Health, o Health, at string) {
	for _, key := range mappingKeys(v.file, at) {
		switch key {
		case "http", "tcp", "cmd", "docker":
			h.HTTP, h.TCP, h.Cmd, h.Docker = o.HTTP, o.TCP, o.Cmd, o.Docker
		case "timeout":
			h.Timeout = o.Timeout
		case "stable":
			h.Stable = o.Stable
		case "interval":
			h.Interval = o.Interval
		}
	}
}

// composePlan is the plan text `golive import` writes, in reading order.
type composePlan struct {
	Project   string        `yaml:"project"`
	Release   string        `yaml:"release"`
	OnFailure string        `yaml:"on_failure"`
	Secrets   []string      `yaml:"secrets,omitempty,flow"`
	Services  yaml.MapSlice `yaml:"services"`
}

type composePlanService struct {
	Image       string            `yaml:"image"`
	Group       string            `yaml:"group"`
	Container   string            `yaml:"container,omitempty"`
	Entrypoint  []string          `yaml:"entrypoint,omitempty,flow"`
	Command     []string          `yaml:"command,omitempty,flow"`
	Ports       []string          `yaml:"ports,omitempty,flow"`
	Env         map[string]string `yaml:"env,omitempty"`
	EnvFile     string            `yaml:"env_file,omitempty"`
	Volumes     []string          `yaml:"volumes,omitempty,flow"`
	Network     string            `yaml:"network,omitempty"`
	Aliases     []string          `yaml:"aliases,omitempty,flow"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Restart     string            `yaml:"restart,omitempty"`
	StopTimeout string            `yaml:"stop_timeout,omitempty"`
	Healthcheck *composePlanCheck `yaml:"healthcheck,omitempty"`
	Health      map[string]any    `yaml:"health,omitempty"`
}

type composePlanCheck struct {
	Test        []string `yaml:"test,flow"`
	Interval    string   `yaml:"interval,omitempty"`
	Timeout     string   `yaml:"timeout,omitempty"`
	StartPeriod string   `yaml:"start_period,omitempty"`
	Retries     int      `yaml:"retries,omitempty"`
}

// PlanText writes the services as a plan for release, headed by a note of
// where it came from and the warnings, each with its compose line. Secret
// looking variables the environment takes are listed under secrets.
func (c *Compose) PlanText(release, source string) ([]byte, error) {
	out := composePlan{Project: c.Project, Release: release, OnFailure: "revert"}
	for _, s := range c.Services {
		ps := composePlanService{Image: s.Image, Group: s.Group, Container: s.Container, Entrypoint: s.Entrypoint, Command: s.Command,
			Ports: s.Ports, Env: s.Env, EnvFile: s.EnvFile, Volumes: s.Volumes, Network: s.Network, Aliases: s.Aliases,
			Labels: s.Labels, Restart: s.Restart}
		if s.StopTimeout > 0 {
			ps.StopTimeout = s.StopTimeout.String()
		}
		if h := s.Healthcheck; h != nil {
			ps.Healthcheck = &composePlanCheck{Test: h.Test, Interval: durationText(h.Interval), Timeout: durationText(h.Timeout), StartPeriod: durationText(h.StartPeriod), Retries: h.Retries}
		}
		if s.Health.Docker {
			ps.Health = map[string]any{"docker": true}
			if s.Health.Timeout > 0 {
				ps.Health["timeout"] = s.Health.Timeout.String()
			}
		}
		for k, v := range s.Env {
			if looksSecret(k) {
				for _, name := range envRefs(v) {
					if !slices.Contains(out.Secrets, name) {
						out.Secrets = append(out.Secrets, name)
					}
				}
			}
		}
		out.Services = append(out.Services, yaml.MapItem{Key: s.Name, Value: ps})
	}
	slices.Sort(out.Secrets)
	body, err := yaml.MarshalWithOptions(out, yaml.Indent(2), yaml.IndentSequence(true))
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by `golive import %s`; the compose file's services as a plan.\n", source)
	if len(c.Warnings) > 0 {
		b.WriteString("# Not carried over or changed on the way:\n")
		for _, w := range c.Warnings {
			w.File = source
			fmt.Fprintf(&b, "#   %s\n", strings.ReplaceAll(w.String(), "\n", " "))
		}
	}
	b.Write(body)
	if !bytes.HasSuffix(body, []byte("\n")) {
		b.WriteByte('\n')
	}
	return []byte(b.String()), nil
}

func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// envRefs lists the variables a value takes from the environment.
func envRefs(v string) []string {
	var names []string
	os.Expand(v, func(name string) string {
		name, _, _ = strings.Cut(name, ":-")
		names = append(names, name)
		return ""
	})
	return names
}
