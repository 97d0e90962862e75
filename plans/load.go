package plans

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/distribution/reference"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/logs"
)

// Problem is one thing wrong with a plan, at a line and column of its file.
type Problem struct {
	Line, Column int
	Message      string
	File         string // when the problem is in another file than the plan (its compose file)
}

// PlanError lists everything wrong with a plan file.
type PlanError struct {
	File     string
	Problems []Problem
}

func (e *PlanError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		file := e.File
		if p.File != "" {
			file = p.File
		}
		if p.Line > 0 {
			fmt.Fprintf(&b, "%s:%d:%d: %s", logs.SanitizeString(file), p.Line, p.Column, logs.SanitizeString(p.Message))
		} else {
			fmt.Fprintf(&b, "%s: %s", logs.SanitizeString(file), logs.SanitizeString(p.Message))
		}
	}
	return b.String()
}

type planFile struct {
	Plan     `yaml:",inline"`
	Services map[string]*Service `yaml:"services"`
}

// Load reads and validates a plan file of at most MaxPlanBytes. Every
// problem found is reported with its line and column in one *PlanError.
func Load(path string) (*Plan, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	data, err := readCapped(path, "plan", MaxPlanBytes, false)
	if err != nil {
		return nil, err
	}
	return Parse(abs, data)
}

// maxProblems is how many problems one PlanError lists.
const maxProblems = 100

// Parse validates plan text; path names the file in messages and anchors
// relative paths. It refuses text that would cost more than a plan can
// need (see MaxPlanBytes, MaxPlanDepth and MaxAliasValues) before decoding
// it, and otherwise reports every problem it finds at once.
func Parse(path string, data []byte) (*Plan, error) {
	perr := &PlanError{File: path}
	fail := func(p Problem) (*Plan, error) {
		perr.Problems = append(perr.Problems, p)
		return nil, perr
	}
	file, problem := parseBounded(data)
	if problem != nil {
		return fail(*problem)
	}
	if len(file.Docs) > 1 {
		pos := Problem{Message: fmt.Sprintf("the file holds %d YAML documents; a plan is one: remove the `---` line and what follows, or split it into plan files", len(file.Docs))}
		if tk := file.Docs[1].Start; tk != nil && tk.Position != nil {
			pos.Line, pos.Column = tk.Position.Line, tk.Position.Column
		}
		return fail(pos)
	}
	var body ast.Node
	if len(file.Docs) == 1 {
		body = file.Docs[0].Body
	}
	if body != nil && !isMapping(body) && !isNull(body) {
		tk := body.GetToken()
		return fail(Problem{Line: tk.Position.Line, Column: tk.Position.Column,
			Message: fmt.Sprintf("a plan is a mapping of settings (project:, release:, services:), not %s", nodeKind(body))})
	}
	sh := newShape()
	var raw planFile
	if body != nil {
		sh.walk(reflect.TypeFor[planFile](), body, nil, "")
		perr.Problems = append(perr.Problems, sh.problems...)
		if err := decode(body, &raw); err != nil {
			if len(perr.Problems) > 0 {
				// What the decoder trips over follows from a problem found already.
				return nil, perr.sorted()
			}
			return fail(yamlProblem(err, file))
		}
	}
	p := &raw.Plan
	p.Path = path
	for _, name := range sh.services {
		svc := raw.Services[name]
		if svc == nil {
			svc = &Service{}
		}
		svc.Name = name
		p.Services = append(p.Services, svc)
	}
	v := validator{plan: p, file: file, shape: sh, err: perr}
	if p.Compose != "" {
		v.mergeCompose()
	}
	v.validate()
	if len(perr.Problems) > 0 {
		return nil, perr.sorted()
	}
	return p, nil
}

// sorted orders the problems by file (the plan's own first) and position,
// drops repeats and keeps the first maxProblems.
func (e *PlanError) sorted() *PlanError {
	slices.SortStableFunc(e.Problems, func(a, b Problem) int {
		if a.File != b.File {
			return strings.Compare(a.File, b.File)
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	e.Problems = slices.Compact(e.Problems)
	if n := len(e.Problems); n > maxProblems {
		e.Problems = append(e.Problems[:maxProblems], Problem{Message: fmt.Sprintf("%d more problems not shown; fix these first", n-maxProblems)})
	}
	return e
}

// decode fills raw from the checked YAML. The decoder is a third-party
// library fed with untrusted text: a panic in it becomes an error, not a
// crash. The parser has refused duplicate keys already, so allowing them
// here only lets a key written after a merge (<<: *base) override the
// merged one.
func decode(body ast.Node, raw *planFile) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the YAML decoder failed on this plan (%v); simplify the YAML: anchors, tags and unusual syntax are the likely cause", r)
		}
	}()
	return yaml.NodeToValue(body, raw, yaml.AllowDuplicateMapKey())
}

// yamlProblem turns a YAML decoding error into a Problem. Errors that carry
// no position (a bad duration, say) are placed at the first scalar in file
// whose value the message quotes.
func yamlProblem(err error, file *ast.File) Problem {
	var yerr yaml.Error
	if errors.As(err, &yerr) && yerr.GetToken() != nil {
		pos := yerr.GetToken().Position
		msg := yerr.GetMessage()
		if strings.Contains(msg, "unknown field") {
			msg += " (check the spelling; see the README for the plan format)"
		}
		return Problem{Line: pos.Line, Column: pos.Column, Message: msg}
	}
	msg := strings.TrimPrefix(err.Error(), "time: ")
	if strings.Contains(msg, "invalid duration") {
		msg += " (write a duration such as 500ms, 30s, 2m or 1m30s)"
	}
	pr := Problem{Message: msg}
	if m := quoted.FindStringSubmatch(msg); m != nil && file != nil {
		for _, doc := range file.Docs {
			ast.Walk(scalarFinder{value: m[1], found: &pr}, doc)
		}
	}
	return pr
}

var quoted = regexp.MustCompile(`"([^"]+)"`)

// scalarFinder records the position of the first scalar with a given value.
type scalarFinder struct {
	value string
	found *Problem
}

func (f scalarFinder) Visit(node ast.Node) ast.Visitor {
	if f.found.Line > 0 {
		return nil
	}
	if _, ok := node.(ast.ScalarNode); ok && node.GetToken() != nil && node.GetToken().Value == f.value {
		f.found.Line, f.found.Column = node.GetToken().Position.Line, node.GetToken().Position.Column
		return nil
	}
	return f
}

// mappingKeys returns the keys of the mapping at path, in file order.
func mappingKeys(file *ast.File, path string) []string {
	node := lookup(file, path)
	var keys []string
	if m, ok := node.(*ast.MappingNode); ok {
		for _, kv := range m.Values {
			keys = append(keys, kv.Key.String())
		}
	}
	return keys
}

func lookup(file *ast.File, path string) ast.Node {
	p, err := yaml.PathString(path)
	if err != nil {
		return nil
	}
	node, err := p.FilterFile(file)
	if err != nil {
		return nil
	}
	return node
}

var (
	namePattern   = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
	envVarPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

type validator struct {
	plan  *Plan
	file  *ast.File
	shape *shape
	err   *PlanError
	// elsewhere places a problem whose node is in another file (the
	// plan's compose file); nil or !ok: the plan file.
	elsewhere func(path string) (file string, line, col int, ok bool)
}

// at records a problem at the YAML node for path, or the nearest parent that exists.
func (v *validator) at(path, format string, args ...any) {
	if v.elsewhere != nil {
		if file, line, col, ok := v.elsewhere(path); ok {
			v.err.Problems = append(v.err.Problems, Problem{File: file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
			return
		}
	}
	line, col := 0, 0
	for p := path; p != ""; {
		if l, c, ok := v.position(p); ok {
			line, col = l, c
			break
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			break
		}
		p = p[:i]
	}
	v.err.Problems = append(v.err.Problems, Problem{Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

// position is where a reader should look for the node at path: a scalar
// itself, a named mapping or list at its key, a list element at its first key.
func (v *validator) position(path string) (int, int, bool) {
	if path == "$" {
		return 1, 1, true
	}
	node := lookup(v.file, path)
	if node == nil || node.GetToken() == nil {
		return 0, 0, false
	}
	pos := func(n ast.Node) (int, int, bool) {
		return n.GetToken().Position.Line, n.GetToken().Position.Column, true
	}
	_, null := node.(*ast.NullNode)
	if _, scalar := node.(ast.ScalarNode); scalar && !null {
		return pos(node)
	}
	if i := strings.LastIndex(path, "."); i > 0 && !strings.Contains(path[i:], "[") {
		if parent, ok := lookup(v.file, path[:i]).(*ast.MappingNode); ok {
			for _, kv := range parent.Values {
				if kv.Key.String() == path[i+1:] {
					return pos(kv.Key)
				}
			}
		}
	}
	if m, ok := node.(*ast.MappingNode); ok && len(m.Values) > 0 {
		return pos(m.Values[0].Key)
	}
	return pos(node)
}

func (v *validator) validate() {
	p := v.plan
	switch {
	case p.Project == "" && !v.shape.dropped["project"]:
		v.at("$", "project is missing: add `project: NAME`, the stable name of the system (container names derive from it)")
	case p.Project != "":
		v.name("$.project", "project", p.Project, "container names derive from it")
	}
	switch {
	case p.Release == "" && !v.shape.dropped["release"]:
		v.at("$", "release is missing: add `release: NAME`, for example the version you are shipping")
	case p.Release != "":
		v.name("$.release", "release", p.Release, "it names the journal file")
		v.numberText("$.release", "release", p.Release)
	}
	switch p.OnFailure {
	case "":
		p.OnFailure = "revert"
	case "revert", "stop":
	default:
		v.at("$.on_failure", "on_failure is %q; expected revert (put back what ran before) or stop (leave it to fix forward)", p.OnFailure)
	}
	if len(p.Services) == 0 && !v.shape.dropped["services"] {
		v.at("$", "services is missing or empty: a plan deploys at least one service")
	}
	containers := map[string]string{}
	hostPorts := map[string]string{}
	for _, s := range p.Services {
		if p.Docker.Swarm {
			v.swarmService(s, hostPorts)
		} else {
			v.service(s, containers, hostPorts)
			v.notSwarm(s)
		}
	}
	v.swarmPlan()
	for i, name := range p.Secrets {
		if !envVarPattern.MatchString(name) {
			v.at(fmt.Sprintf("$.secrets[%d]", i), "secret %q is not an environment variable name", name)
		}
	}
	for i, f := range p.Preload.Load {
		if _, err := os.Stat(p.Resolve(f)); err != nil {
			v.at(fmt.Sprintf("$.preload.load[%d]", i), "preload tarball %s: %v (create it with `docker save -o %s IMAGE...`)", f, errors.Unwrap(err), f)
		}
	}
	for i, re := range p.Logs.Errors {
		if _, err := regexp.Compile(re); err != nil {
			v.at(fmt.Sprintf("$.logs.errors[%d]", i), "logs.errors pattern: %v", err)
		}
	}
	for i, re := range p.Logs.Warnings {
		if _, err := regexp.Compile(re); err != nil {
			v.at(fmt.Sprintf("$.logs.warnings[%d]", i), "logs.warnings pattern: %v", err)
		}
	}
	v.proxy()
	v.hosts()
	v.steps()
	v.notify()
	v.revert()
}

func (v *validator) revert() {
	r := &v.plan.Revert
	switch r.Order {
	case "":
		r.Order = RevertParallel
	case RevertParallel, RevertGroups:
	default:
		v.at("$.revert.order", "revert.order is %q; expected parallel (every changed service at once, the default) or groups (one group at a time, in reverse order)", r.Order)
	}
	if r.Stable < 0 {
		v.at("$.revert.stable", "revert.stable must not be negative")
	}
}

// maxNameLen is the longest project, release, service or group name.
const maxNameLen = 128

// name checks a name that golive puts into container, network and file
// names: letters, digits, '_', '.' and '-', as Docker names are.
func (v *validator) name(path, what, name, why string) {
	switch {
	case !namePattern.MatchString(name):
		v.at(path, "%s %q may contain only letters, digits, '_', '.' and '-', starting with a letter or digit (%s)", what, name, why)
	case len(name) > maxNameLen:
		v.at(path, "%s is %d characters long; at most %d are allowed (%s)", what, len(name), maxNameLen, why)
	}
}

// numberText catches a version written as a number that YAML shortens:
// `release: 1.10` would be read as 1.1.
func (v *validator) numberText(path, what, value string) {
	node := lookup(v.file, path)
	if node == nil || node.GetToken() == nil {
		return
	}
	if _, float := node.(*ast.FloatNode); float && node.GetToken().Value != value {
		v.at(path, "%s %s is read by YAML as the number %s; quote it: %s: '%s'", what, node.GetToken().Value, value, what, node.GetToken().Value)
	}
}

// plainWord reports whether s is printable text without spaces, so that
// echoing it cannot move the cursor or reorder a terminal line.
func plainWord(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return utf8.ValidString(s)
}

func (v *validator) service(s *Service, containers, hostPorts map[string]string) {
	at := "$.services." + s.Name
	key := "services." + s.Name
	if !namePattern.MatchString(s.Name) || len(s.Name) > maxNameLen {
		v.at(at, "service name %q may contain only letters, digits, '_', '.' and '-', at most %d of them (container names derive from it)", s.Name, maxNameLen)
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
	name := s.ContainerName(v.plan.Project)
	if other, dup := containers[name]; dup {
		v.at(at, "services %s and %s would both use the container name %s: set a distinct `container:`", other, s.Name, name)
	}
	containers[name] = s.Name
	if s.Container != "" && !namePattern.MatchString(s.Container) {
		v.at(at+".container", "container name %q may contain only letters, digits, '_', '.' and '-'", s.Container)
	}
	for i, spec := range s.Ports {
		port, err := docker.ParsePort(spec)
		if err != nil {
			v.at(fmt.Sprintf("%s.ports[%d]", at, i), "service %s: %v", s.Name, err)
			continue
		}
		if port.HostPort == "" {
			continue
		}
		key := port.HostIP + ":" + port.HostPort + "/" + port.Proto
		if other, dup := hostPorts[key]; dup {
			v.at(fmt.Sprintf("%s.ports[%d]", at, i), "services %s and %s both publish host port %s", other, s.Name, port.HostPort)
		}
		hostPorts[key] = s.Name
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
	for i, vol := range s.Volumes {
		if parts := strings.Split(vol, ":"); len(parts) < 2 || len(parts) > 3 || parts[0] == "" || !strings.HasPrefix(parts[1], "/") {
			v.at(fmt.Sprintf("%s.volumes[%d]", at, i), "service %s: volume %q: expected SOURCE:/container/path[:ro]", s.Name, vol)
		}
	}
	switch s.Restart {
	case "":
		s.Restart = DefaultRestart
	case "no", "on-failure", "always", "unless-stopped":
	default:
		v.at(at+".restart", "service %s: restart is %q; expected no, on-failure, always or unless-stopped", s.Name, s.Restart)
	}
	if s.StopTimeout == 0 {
		s.StopTimeout = DefaultStopTimeout
	}
	v.health(s, at+".health", key+".health")
	v.errorBudget(s, at+".health.errors")
	v.healthcheck(s, at+".healthcheck")
	if len(s.Aliases) > 0 && s.Network == "" {
		v.at(at+".aliases", "service %s: aliases need a network: add `network: NAME`", s.Name)
	}
}

func (v *validator) health(s *Service, at, key string) {
	h := &s.Health
	kinds := 0
	for _, set := range []bool{h.HTTP != "", h.TCP != "", len(h.Cmd) > 0, h.Docker} {
		if set {
			kinds++
		}
	}
	if kinds > 1 {
		v.at(at, "service %s: health has more than one check; choose one of http, tcp, cmd or docker", s.Name)
	}
	if h.HTTP != "" {
		if u, err := url.Parse(strings.ReplaceAll(h.HTTP, HostPlaceholder, "127.0.0.1")); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.at(at+".http", "service %s: health.http %q is not an http:// or https:// URL", s.Name, h.HTTP)
		}
	}
	if h.TCP != "" {
		if _, port, err := net.SplitHostPort(strings.ReplaceAll(h.TCP, HostPlaceholder, "127.0.0.1")); err != nil || !isPortNumber(port) {
			v.at(at+".tcp", "service %s: health.tcp %q: expected HOST:PORT, such as 127.0.0.1:5432", s.Name, h.TCP)
		}
	}
	given := func(setting string) bool { _, ok := v.shape.set[key+"."+setting]; return ok }
	for _, gate := range []struct {
		name, set, what string
	}{
		{"http", h.HTTP, "the URL to probe, such as http://127.0.0.1:8080/health"},
		{"tcp", h.TCP, "HOST:PORT to connect to, such as 127.0.0.1:5432"},
		{"cmd", strings.Join(h.Cmd, " "), "the command to run in the container, such as [pg_isready]"},
	} {
		if gate.set == "" && given(gate.name) && !v.shape.dropped[key+"."+gate.name] {
			v.at(at+"."+gate.name, "service %s: health.%s is empty: write %s, or remove the key", s.Name, gate.name, gate.what)
		}
	}
	if h.Timeout < 0 || h.Stable < 0 || h.Interval < 0 {
		v.at(at, "service %s: health durations must not be negative", s.Name)
	}
	if h.Timeout == 0 {
		h.Timeout = DefaultHealthTimeout
	}
	if h.Stable == 0 && !v.shape.set[key+".stable"] {
		h.Stable = DefaultStable
	}
	if h.Interval == 0 {
		h.Interval = DefaultInterval
	}
	if h.Stable >= h.Timeout && h.Stable > 0 {
		where := at + ".stable"
		if !given("stable") {
			where = at + ".timeout"
		}
		v.at(where, "service %s: health.stable (%s) must be shorter than health.timeout (%s): the gate must pass its first probe and then stay healthy for stable, all within timeout; shorten stable or lengthen timeout", s.Name, h.Stable, h.Timeout)
	}
}

func isPortNumber(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535
}

func (v *validator) steps() {
	p := v.plan
	groups := p.Groups()
	deployed := map[string]bool{}
	for i, s := range p.Steps {
		at := fmt.Sprintf("$.steps[%d]", i)
		if stepKinds(s) != 1 {
			v.at(at, "step %d must have exactly one of run, deploy, verify, confirm, mark, pause, resume, maintenance, end_maintenance or canary", i+1)
			continue
		}
		if s.Mark != nil {
			v.mark(s.Mark, i, at+".mark")
		}
		if (s.Before != "" || s.After != "") && s.Kind() != StepRun {
			v.at(at, "step %d: before and after go with run, not with %s", i+1, s.Kind())
		}
		if s.Kind() == StepDeploy {
			if !slices.Contains(groups, s.Deploy) {
				v.at(at+".deploy", "step %d deploys group %q, but no service has `group: %s` (groups: %s)", i+1, s.Deploy, s.Deploy, strings.Join(groups, ", "))
			} else if deployed[s.Deploy] {
				v.at(at+".deploy", "step %d deploys group %q a second time", i+1, s.Deploy)
			}
			deployed[s.Deploy] = true
		}
	}
	v.proxySteps()
	v.canary()
	if len(p.Steps) == 0 {
		return
	}
	for _, g := range groups {
		if !deployed[g] {
			v.at("$.steps", "group %q is never deployed: add a step `- deploy: %s`", g, g)
		}
	}
}

// stepKinds counts the things a step says to do; a valid step says one.
func stepKinds(s Step) int {
	n := 0
	for _, x := range []string{s.Run, s.Deploy, s.Verify, s.Confirm, s.Pause, s.Resume, s.EndMaintenance} {
		if x != "" {
			n++
		}
	}
	if s.Mark != nil {
		n++
	}
	if s.Maintenance != nil {
		n++
	}
	if s.Canary != nil {
		n++
	}
	return n
}

// errorBudget checks a service's error gate and fills in its window.
func (v *validator) errorBudget(s *Service, at string) {
	b := s.Health.Errors
	if b == nil {
		return
	}
	if b.Max == 0 && b.MaxRatio == 0 {
		v.at(at, "service %s: health.errors needs max (error lines per window) or max_ratio (times the previous version's rate)", s.Name)
	}
	if b.Max < 0 {
		v.at(at+".max", "service %s: health.errors.max is %d; expected a number of lines above 0", s.Name, b.Max)
	}
	if b.MaxRatio < 0 {
		v.at(at+".max_ratio", "service %s: health.errors.max_ratio is %g; expected a factor above 0, like 3", s.Name, b.MaxRatio)
	}
	if b.Per < 0 || b.Watch < 0 {
		v.at(at, "service %s: health.errors durations must not be negative", s.Name)
	}
	if b.Per == 0 {
		b.Per = DefaultErrorsPer
	}
}
