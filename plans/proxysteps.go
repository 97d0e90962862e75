package plans

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/golive/golive/docker"
)

// Maintenance is a step that puts a deploy group in maintenance: the proxy
// answers its requests with 503 and Message until an end_maintenance step.
type Maintenance struct {
	Group   string `yaml:"group"`
	Message string `yaml:"message"`
}

// MaxMaintenanceMessage bounds the text of a maintenance page.
const MaxMaintenanceMessage = 1000

// ProxyGroup is the deploy group a proxy step holds or lets through; ""
// for other steps.
func (s Step) ProxyGroup() string {
	switch s.Kind() {
	case StepPause:
		return s.Pause
	case StepResume:
		return s.Resume
	case StepMaintenance:
		return s.Maintenance.Group
	case StepEndMaintenance:
		return s.EndMaintenance
	}
	return ""
}

func (s Step) proxyTitle() string {
	switch s.Kind() {
	case StepPause:
		return "Pause " + s.Pause
	case StepResume:
		return "Resume " + s.Resume
	case StepMaintenance:
		return "Maintenance " + s.Maintenance.Group
	}
	return "End maintenance " + s.EndMaintenance
}

func (s Step) proxyCommand() string {
	switch s.Kind() {
	case StepPause:
		return fmt.Sprintf("pause %s (each request held at most %s)", s.Pause, pauseTimeout(s))
	case StepResume:
		return "resume " + s.Resume
	case StepMaintenance:
		if s.Maintenance.Message == "" {
			return "maintenance " + s.Maintenance.Group + " (503)"
		}
		return fmt.Sprintf("maintenance %s (503 %q)", s.Maintenance.Group, s.Maintenance.Message)
	}
	return "end maintenance " + s.EndMaintenance
}

// pauseTimeout is how long kamal-proxy holds each request of a pause step
// before it answers 504.
func pauseTimeout(s Step) time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return docker.ProxyPauseTimeout
}

// proxied are the services of a group that take traffic through the proxy.
func (p *Plan) proxied(group string) []*Service {
	var out []*Service
	for _, svc := range p.GroupServices(group) {
		if svc.Proxy != nil {
			out = append(out, svc)
		}
	}
	return out
}

// hold is a group held by a step: paused or in maintenance.
type hold struct {
	kind string // StepPause or StepMaintenance
	step int    // 1-based
}

// holding says what a step of kind does to group: "pauses group web".
func holding(kind, group string) string {
	if kind == StepPause {
		return "pauses group " + group
	}
	return "puts group " + group + " in maintenance"
}

// proxySteps checks the pause, resume, maintenance and end_maintenance
// steps: each names a group whose services go through the plan's proxy,
// every hold is let through by a later step, and a group is let through
// the way it was held. Steps that are not exactly one thing are left to
// steps().
func (v *validator) proxySteps() {
	p := v.plan
	held := map[string]hold{}
	var order []string
	for i, s := range p.Steps {
		if stepKinds(s) != 1 {
			continue
		}
		kind, group := s.Kind(), s.ProxyGroup()
		if kind == StepMaintenance && group == "" {
			v.at(fmt.Sprintf("$.steps[%d].maintenance", i), "step %d: maintenance needs the group to put in maintenance, e.g. `maintenance: {group: frontend, message: \"Back in 5 minutes\"}`", i+1)
		}
		if group == "" {
			continue
		}
		at := fmt.Sprintf("$.steps[%d].%s", i, kind)
		if kind == StepMaintenance {
			at += ".group"
			v.maintenanceMessage(s.Maintenance.Message, i)
		}
		if s.Timeout != 0 && kind != StepPause {
			v.at(fmt.Sprintf("$.steps[%d].timeout", i), "step %d: timeout goes with a command step, or with pause (how long each request is held); remove it from %s", i+1, kind)
		}
		if kind == StepPause && s.Timeout < 0 {
			v.at(fmt.Sprintf("$.steps[%d].timeout", i), "step %d: timeout must not be negative", i+1)
		}
		if !v.proxyGroup(group, kind, i, at) {
			continue
		}
		h, isHeld := held[group]
		switch kind {
		case StepPause, StepMaintenance:
			if isHeld {
				v.at(at, "step %d %s, but step %d already %s: let it through first with `- %s`", i+1, holding(kind, group), h.step, holding(h.kind, group), release(h.kind, group))
				continue
			}
			held[group] = hold{kind: kind, step: i + 1}
			order = append(order, group)
		case StepResume, StepEndMaintenance:
			want := StepPause
			if kind == StepEndMaintenance {
				want = StepMaintenance
			}
			switch {
			case !isHeld:
				v.at(at, "step %d: %s %s, but no earlier step %s: remove this step, or hold the group first with `- %s`", i+1, kind, group, holding(want, group), holdExample(want, group))
			case h.kind != want:
				v.at(at, "step %d: %s %s, but step %d %s: write `- %s`", i+1, kind, group, h.step, holding(h.kind, group), release(h.kind, group))
			default:
				delete(held, group)
			}
		}
	}
	for _, g := range order {
		if h, ok := held[g]; ok {
			v.at(fmt.Sprintf("$.steps[%d]", h.step-1), "step %d %s, but no later step lets it through: add `- %s` after the steps that need it held (golive lets it through by itself only when the release fails)", h.step, holding(h.kind, g), release(h.kind, g))
		}
	}
}

// proxyGroup checks that a proxy step's group exists and takes traffic
// through the plan's proxy, and reports whether it does.
func (v *validator) proxyGroup(group, kind string, i int, at string) bool {
	p := v.plan
	groups := p.Groups()
	switch {
	case !slices.Contains(groups, group):
		v.at(at, "step %d: %s %s, but no service has `group: %s` (groups: %s)", i+1, kind, group, group, strings.Join(groups, ", "))
	case p.Proxy == nil:
		v.at(at, "step %d: %s %s goes through the proxy, but the plan has no top-level proxy:; add `proxy: {ports: [\"80:80\"]}`, and `proxy: {port: PORT}` to the group's services", i+1, kind, group)
	case len(p.proxied(group)) == 0:
		var withProxy []string
		for _, g := range groups {
			if len(p.proxied(g)) > 0 {
				withProxy = append(withProxy, g)
			}
		}
		v.at(at, "step %d: %s %s, but no service of group %s has proxy:, so the proxy carries none of its traffic; give them `proxy: {port: PORT}` (groups behind the proxy: %s)", i+1, kind, group, group, orNone(strings.Join(withProxy, ", ")))
	default:
		return true
	}
	return false
}

func (v *validator) maintenanceMessage(msg string, i int) {
	at := fmt.Sprintf("$.steps[%d].maintenance.message", i)
	if len(msg) > MaxMaintenanceMessage {
		v.at(at, "step %d: the maintenance message is %d bytes; keep it under %d (it is shown on the maintenance page)", i+1, len(msg), MaxMaintenanceMessage)
	}
	if strings.ContainsFunc(msg, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) {
		v.at(at, "step %d: the maintenance message contains control characters; write plain text", i+1)
	}
}

func release(kind, group string) string {
	if kind == StepPause {
		return "resume: " + group
	}
	return "end_maintenance: " + group
}

func holdExample(kind, group string) string {
	if kind == StepPause {
		return "pause: " + group
	}
	return "maintenance: {group: " + group + "}"
}

// ProxyStepNotes say, for `golive check`, what each proxy step does to
// traffic and for how long.
func (p *Plan) ProxyStepNotes() []string {
	var notes []string
	steps := p.ReleaseSteps()
	for i, s := range steps {
		kind, group := s.Kind(), s.ProxyGroup()
		if kind != StepPause && kind != StepMaintenance {
			continue
		}
		var names []string
		for _, svc := range p.proxied(group) {
			names = append(names, svc.Name)
		}
		until := "the end of the plan"
		for j := i + 1; j < len(steps); j++ {
			if k := steps[j].Kind(); steps[j].ProxyGroup() == group && (k == StepResume || k == StepEndMaintenance) {
				until = fmt.Sprintf("step %d", j+1)
				break
			}
		}
		what := fmt.Sprintf("each new request waits (kamal-proxy holds it at most %s, the step's timeout, then answers 504)", pauseTimeout(s))
		if kind == StepMaintenance {
			what = "requests get 503 and the maintenance page"
			if m := s.Maintenance.Message; m != "" {
				what += fmt.Sprintf(" %q", m)
			}
		}
		notes = append(notes, fmt.Sprintf("step %d %s (%s): %s until %s; if the release fails first, golive lets the traffic through before on_failure", i+1, holding(kind, group), strings.Join(names, ", "), what, until))
	}
	return notes
}

// proxy is the plan's kamal-proxy container.
func (e *Engine) proxy() (*docker.Proxy, error) {
	if e.plan.Proxy == nil {
		return nil, errors.New("the plan has no proxy:")
	}
	return e.opts.Docker.Proxy(e.plan.Proxy.Container), nil
}

// proxyStep carries out a pause, resume, maintenance or end_maintenance
// step on every proxied service of its group. A hold stops at the first
// service that fails (the failure path lets through those already held);
// letting through goes on past a failure, so that as few as possible stay held.
func (e *Engine) proxyStep(ctx context.Context, base Event, step Step) error {
	proxy, err := e.proxy()
	if err != nil {
		return err
	}
	var errs []error
	for _, svc := range e.plan.proxied(step.ProxyGroup()) {
		route := svc.ProxyService(e.plan.Project)
		var err error
		var action, message string
		switch step.Kind() {
		case StepPause:
			timeout := pauseTimeout(step)
			action, message = ActionPaused, fmt.Sprintf("paused: new requests wait, each at most %s, then get 504", timeout)
			err = proxy.Pause(ctx, route, svc.Proxy.Drain, timeout)
		case StepMaintenance:
			action, message = ActionMaintenance, "in maintenance: requests get 503"
			if m := step.Maintenance.Message; m != "" {
				message += fmt.Sprintf(" %q", m)
			}
			err = proxy.Stop(ctx, route, step.Maintenance.Message, svc.Proxy.Drain)
		default:
			action, message = ActionResumed, "serving again: held requests go through"
			err = proxy.Resume(ctx, route)
		}
		e.emitRoute(base, svc, action, message, err)
		if err != nil {
			errs = append(errs, fmt.Errorf("service %s: %w", svc.Name, err))
			if action != ActionResumed {
				break
			}
		}
	}
	return errors.Join(errs...)
}

func (e *Engine) emitRoute(base Event, svc *Service, action, message string, err error) {
	ev := base
	ev.Kind, ev.Service, ev.Group, ev.Action, ev.Message, ev.Result = EvRoute, svc.Name, svc.Group, action, message, ResultOK
	ev.Command = "kamal-proxy " + proxyVerb(action) + " " + svc.ProxyService(e.plan.Project)
	if err != nil {
		ev.Result, ev.Error = ResultFailed, err.Error()
	}
	e.Emit(ev)
}

func proxyVerb(action string) string {
	switch action {
	case ActionPaused:
		return "pause"
	case ActionMaintenance:
		return "stop"
	}
	return "resume"
}

// heldAfter lists the holds that the first n steps leave in place, in the
// order they were made. Step n failed: its group counts as held
// whatever it is, since it may have held part of the group or failed to
// let all of it through.
func heldAfter(steps []Step, n int) []hold {
	var held []hold
	groups := []string{}
	for i, s := range steps[:n] {
		g := s.ProxyGroup()
		if g == "" {
			continue
		}
		k := slices.Index(groups, g)
		switch s.Kind() {
		case StepPause, StepMaintenance:
			if k < 0 {
				groups, held = append(groups, g), append(held, hold{kind: s.Kind(), step: i + 1})
			}
		case StepResume, StepEndMaintenance:
			if k >= 0 && i < n-1 {
				groups, held = slices.Delete(groups, k, k+1), slices.Delete(held, k, k+1)
			}
		}
	}
	return held
}

// letThrough resumes, after step n failed, every proxied service the
// release's steps paused or put in maintenance and had not let through
// yet: on the failure path golive never leaves traffic held. It runs
// before on_failure. A release that lost its lock changes nothing more:
// it only says what may still be held and how to let it through.
func (e *Engine) letThrough(ctx context.Context, run string, n int, cause error) error {
	steps := e.plan.ReleaseSteps()
	held := heldAfter(steps, n)
	if len(held) == 0 {
		return nil
	}
	proxy, err := e.proxy()
	if err != nil {
		return err
	}
	var lost *LockLostError
	var errs []error
	for _, h := range held {
		group := steps[h.step-1].ProxyGroup()
		state := "paused"
		if h.kind == StepMaintenance {
			state = "in maintenance"
		}
		for _, svc := range e.plan.proxied(group) {
			route := svc.ProxyService(e.plan.Project)
			finish := fmt.Sprintf("`docker exec %s kamal-proxy resume %s`", proxy.Container(), route)
			if errors.As(cause, &lost) {
				errs = append(errs, fmt.Errorf("service %s may still be %s (step %d): this release lost its lock, so it leaves the proxy to whoever holds it now; %s lets its traffic through", svc.Name, state, h.step, finish))
				continue
			}
			rctx, cancel := context.WithTimeout(ctx, docker.DefaultExecTimeout) // one stuck exec must not keep the others held
			err := proxy.Resume(rctx, route)
			cancel()
			message := fmt.Sprintf("serving again: the release failed while step %d had it %s, and golive never leaves traffic held", h.step, state)
			if errors.Is(err, docker.ErrProxyServiceNotFound) {
				err, message = nil, "nothing held: the proxy does not route it"
			}
			e.emitRoute(Event{Run: run, Step: n}, svc, ActionResumed, message, err)
			if err != nil {
				errs = append(errs, fmt.Errorf("service %s is still %s (step %d): %w; %s lets its traffic through", svc.Name, state, h.step, err, finish))
			}
		}
	}
	return errors.Join(errs...)
}

// heldRoute is a proxied service of the plan whose route the proxy holds
// now, as `kamal-proxy list` shows it: paused or stopped (in maintenance).
type heldRoute struct {
	svc   *Service
	route string
	hold  string // ActionPaused or ActionMaintenance
}

func (h heldRoute) state() string {
	if h.hold == ActionMaintenance {
		return "in maintenance"
	}
	return "paused"
}

// heldRoutes asks the proxy which of the plan's proxied services it holds:
// a golive killed between a pause (or maintenance) step and its resume
// leaves them so, and nothing in the journal says it. None when the plan
// has no proxy or its container does not run (it routes nothing then).
func (e *Engine) heldRoutes(ctx context.Context) ([]heldRoute, error) {
	list, _, err := e.proxyRoutes(ctx)
	if err != nil {
		return nil, err
	}
	return e.heldIn(list), nil
}

// proxyRoutes is what the plan's proxy routes now, and whether its
// container runs: none when the plan has no proxy or it does not run.
func (e *Engine) proxyRoutes(ctx context.Context) ([]docker.ProxyService, bool, error) {
	if e.plan.Proxy == nil {
		return nil, false, nil
	}
	ct, err := e.opts.Docker.Inspect(ctx, e.plan.Proxy.Container)
	if err != nil || ct == nil || !ct.Running {
		return nil, false, err
	}
	proxy, err := e.proxy()
	if err != nil {
		return nil, true, err
	}
	list, err := proxy.List(ctx)
	if err != nil {
		return nil, true, fmt.Errorf("read the proxy's routes: %w", err)
	}
	return list, true, nil
}

// heldIn are the plan's proxied services that the routes list holds.
func (e *Engine) heldIn(list []docker.ProxyService) []heldRoute {
	var held []heldRoute
	for _, svc := range e.plan.Services {
		if svc.Proxy == nil {
			continue
		}
		route := svc.ProxyService(e.plan.Project)
		for _, r := range list {
			switch {
			case r.Name != route:
			case r.State == "paused":
				held = append(held, heldRoute{svc: svc, route: route, hold: ActionPaused})
			case r.State == "stopped":
				held = append(held, heldRoute{svc: svc, route: route, hold: ActionMaintenance})
			}
		}
	}
	return held
}

// refuseHeld stops an apply before it changes anything while the proxy
// (of any of its hosts) holds one of its routes. (A plan cannot begin by
// letting a route through: its steps resume only what they held, so the
// way out is a revert or kamal-proxy's own resume.)
func (e *Engine) refuseHeld(ctx context.Context) error {
	if e.hosts != nil {
		return e.eachHost(func(h *Engine) error { return h.refuseHeld(ctx) })
	}
	held, err := e.heldRoutes(ctx)
	if err != nil || len(held) == 0 {
		return err
	}
	var errs []error
	for _, h := range held {
		errs = append(errs, fmt.Errorf("service %s: the proxy still holds its route %s (%s), left so by a golive that was interrupted; apply changes nothing while it is held: let its traffic through with `golive revert %s` or `docker exec %s kamal-proxy resume %s`, then apply again",
			h.svc.Name, h.route, h.state(), e.plan.Path, e.plan.Proxy.Container, h.route))
	}
	return errors.Join(errs...)
}

// resumeHeld lets through every route of the plan the proxy (of each of
// its hosts) still holds:
// a revert puts the traffic back, whatever left it held. Journaled as
// route events.
func (e *Engine) resumeHeld(ctx context.Context) error {
	if e.hosts != nil {
		return e.eachHost(func(h *Engine) error { return h.resumeHeld(ctx) })
	}
	held, err := e.heldRoutes(ctx)
	if err != nil || len(held) == 0 {
		return err
	}
	proxy, err := e.proxy()
	if err != nil {
		return err
	}
	var errs []error
	for _, h := range held {
		err := proxy.Resume(ctx, h.route)
		e.emitRoute(Event{}, h.svc, ActionResumed, fmt.Sprintf("serving again: the proxy still held it (%s, left by a golive that was interrupted); a revert lets the traffic through", h.state()), err)
		if err != nil {
			errs = append(errs, fmt.Errorf("service %s is still %s: %w; `docker exec %s kamal-proxy resume %s` lets its traffic through", h.svc.Name, h.state(), err, proxy.Container(), h.route))
		}
	}
	return errors.Join(errs...)
}
