package plans

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golive/golive/docker"
)

// Blue/green replacement of the services that set `proxy:`: the new
// container starts beside the one that serves, passes its gate, and the
// proxy switches the traffic; the old one keeps running (warm) for
// keep_warm, so a revert is a switch back. Names say where each stands:
//
//	<name>                       the container that takes the traffic
//	<name>.next                  the new one, started beside it, not switched to yet
//	<name>.warm-until-<UTC time> the old one after a switch, running until that time
//	<name>.prev                  the old one once keep_warm ran out: stopped, kept
//
// A warm container whose time ran out is stopped and renamed .prev by the
// next apply or revert (sweepWarm).

// LabelProxy carries, on a proxied service's container, its `proxy:` as
// JSON: how the proxy reaches and checks it, read back by a revert.
const LabelProxy = "io.golive.proxy"

// suffixWarm and warmLayout name the old version that keeps running after a switch.
const (
	suffixWarm = ".warm-until-"
	warmLayout = "20060102T150405Z"
)

// proxySwitchInterval is how often kamal-proxy checks a target before it
// switches to it: the target already passed golive's gate, so the first
// check passes, and the interval only matters when it does not.
const proxySwitchInterval = 200 * time.Millisecond

// warmName is the name of the old version that keeps running until until.
func warmName(base string, until time.Time) string {
	return base + suffixWarm + until.UTC().Format(warmLayout)
}

// warmUntil reads a warm container's name: until when the old version of
// base keeps running.
func warmUntil(base, name string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(name, base+suffixWarm)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(warmLayout, rest)
	return t, err == nil
}

// kept reports whether c is a service's older version kept for a revert,
// warm or stopped, rather than one an apply made take traffic.
func kept(c docker.Container) bool {
	base := c.Labels[LabelContainer]
	_, warm := warmUntil(base, c.Name)
	return c.Name == base+suffixPrev || warm
}

// proxyHost is what switching traffic needs from Docker beyond the Docker
// interface; *docker.Client provides it.
type proxyHost interface {
	EnsureProxy(ctx context.Context, spec docker.ProxySpec) (*docker.Proxy, error)
	Connect(ctx context.Context, network, id string) error
}

// proxyOnce is the plan's proxy, made sure of once per engine.
type proxyOnce struct {
	mu sync.Mutex
	p  *docker.Proxy
}

func (e *Engine) proxyHost() (proxyHost, error) {
	h, ok := e.opts.Docker.(proxyHost)
	if !ok {
		return nil, errors.New("this Docker connection cannot run the proxy container")
	}
	return h, nil
}

// ensureProxy makes sure the plan's proxy container runs (created on its
// network, with its ports, when missing) and returns it.
func (e *Engine) ensureProxy(ctx context.Context) (*docker.Proxy, error) {
	e.bg.mu.Lock()
	defer e.bg.mu.Unlock()
	if e.bg.p != nil {
		return e.bg.p, nil
	}
	h, err := e.proxyHost()
	if err != nil {
		return nil, err
	}
	spec, err := e.plan.ProxySpec()
	if err != nil {
		return nil, err
	}
	p, err := h.EnsureProxy(ctx, spec)
	if err != nil {
		return nil, err
	}
	e.bg.p = p
	return p, nil
}

// proxyHandle is the plan's proxy, as made sure of by an earlier
// ensureProxy, or else taken to run: a revert that needs no container on
// its network spares the checks, and a proxy that is not there fails the
// switch with the reason.
func (e *Engine) proxyHandle() (*docker.Proxy, error) {
	e.bg.mu.Lock()
	defer e.bg.mu.Unlock()
	if e.bg.p != nil {
		return e.bg.p, nil
	}
	if e.plan.Proxy == nil {
		return nil, errors.New("the plan has no proxy:")
	}
	return e.opts.Docker.Proxy(e.plan.Proxy.Container), nil
}

// joinProxy attaches a container to the proxy's network, where the proxy reaches it.
func (e *Engine) joinProxy(ctx context.Context, id string) error {
	if _, err := e.ensureProxy(ctx); err != nil {
		return err
	}
	h, err := e.proxyHost()
	if err != nil {
		return err
	}
	return h.Connect(ctx, e.plan.Proxy.Network, id)
}

// proxyTarget is how the proxy reaches a container: its short ID, which
// Docker resolves on the proxy's network whatever the container is named.
func proxyTarget(id string, port int) string {
	return docker.ShortID(id) + ":" + strconv.Itoa(port)
}

// switchTraffic makes the proxy send the service's requests to container
// id, once its own health check passes there; in-flight requests to the
// old target drain before it returns. On error, traffic did not move.
func (e *Engine) switchTraffic(ctx context.Context, service string, sp *ServiceProxy, id string) (time.Duration, error) {
	p, err := e.proxyHandle()
	if err != nil {
		return 0, err
	}
	d := docker.ProxyDeploy{Target: proxyTarget(id, sp.Port), HealthPath: sp.Health, HealthInterval: proxySwitchInterval, DrainTimeout: sp.Drain}
	if sp.Host != "" {
		d.Hosts = []string{sp.Host}
	}
	if sp.PathPrefix != "" {
		d.PathPrefixes = []string{sp.PathPrefix}
	}
	start := time.Now()
	err = p.Deploy(ctx, proxyName(e.plan.Project, service), d)
	if err != nil && e.proxyGone(ctx, err) {
		// A revert switches without making sure of the proxy first: one
		// removed or stopped since is started again, and the switch made again.
		if p, err = e.reensureProxy(ctx); err != nil {
			return time.Since(start), err
		}
		err = p.Deploy(ctx, proxyName(e.plan.Project, service), d)
	}
	return time.Since(start), err
}

// proxyGone reports whether a proxy command failed because the proxy
// container is missing or stopped, rather than kamal-proxy refusing it.
func (e *Engine) proxyGone(ctx context.Context, err error) bool {
	var perr *docker.ProxyError
	if errors.As(err, &perr) || ctx.Err() != nil || e.plan.Proxy == nil {
		return false
	}
	ct, ierr := e.opts.Docker.Inspect(ctx, e.plan.Proxy.Container)
	return ierr == nil && (ct == nil || !ct.Running)
}

// reensureProxy makes sure of the plan's proxy again, whatever an earlier
// ensureProxy found.
func (e *Engine) reensureProxy(ctx context.Context) (*docker.Proxy, error) {
	e.bg.mu.Lock()
	e.bg.p = nil
	e.bg.mu.Unlock()
	return e.ensureProxy(ctx)
}

func proxyName(project, service string) string {
	return (&Service{Name: service}).ProxyService(project)
}

// directGate is the service's gate sent straight to the container, never
// through the proxy: an http or tcp check goes to the container's address
// on the proxy's network, at the proxy port (the path of http: is kept).
func (e *Engine) directGate(svc *Service, sp *ServiceProxy, ct *docker.Container) *Service {
	out := *svc
	if ct == nil || sp == nil {
		return &out
	}
	if e.plan.Proxy == nil {
		return &out
	}
	ip := ct.IPs[e.plan.Proxy.Network]
	if ip == "" {
		return &out
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(sp.Port))
	if out.Health.HTTP != "" {
		if u, err := url.Parse(out.Health.HTTP); err == nil {
			u.Host = addr
			out.Health.HTTP = u.String()
		}
	}
	if out.Health.TCP != "" {
		out.Health.TCP = addr
	}
	return &out
}

// gateOf is the gate that judges a service's container ct: sent straight
// to it when the service takes its traffic through the proxy.
func (e *Engine) gateOf(svc *Service, ct *docker.Container) *Service {
	if svc.Proxy == nil {
		return svc
	}
	return e.directGate(svc, svc.Proxy, ct)
}

// proxyLabel is the label that carries a service's `proxy:`.
func proxyLabel(sp *ServiceProxy) string {
	b, _ := json.Marshal(sp)
	return string(b)
}

// recordedProxy reads a container's `proxy:` back from its label; nil when it has none.
func recordedProxy(labels map[string]string) *ServiceProxy {
	if labels[LabelProxy] == "" {
		return nil
	}
	var sp ServiceProxy
	if json.Unmarshal([]byte(labels[LabelProxy]), &sp) != nil || sp.Port == 0 {
		return nil
	}
	return &sp
}

// beside reports whether a service's new version starts beside the one
// that serves: it has proxy: and its current container runs.
func beside(svc *Service, c *change) bool {
	return svc.Proxy != nil && c.cur != nil && c.cur.Running && !c.inherit
}

// deployBeside carries out a blue/green replacement, from the new container
// created as <name>.next: joined to the proxy's network, started beside the
// running one, gated directly, switched to; the old one then stays warm.
// Until the switch, a failure removes the new container: traffic never
// moved. ev is the service's event with the new container's ID; passed is
// told once the new version takes the traffic, so a next group that
// overlaps this one never deploys beside a version not yet switched to.
func (e *Engine) deployBeside(ctx context.Context, svc *Service, c *change, ev Event, start time.Time, started, passed func()) error {
	d := e.opts.Docker
	id, name := c.id, c.spec.Name
	fail := func(err error) error {
		if derr := e.discardNew(ev, c); derr != nil {
			err = fmt.Errorf("%w; removing the new container failed too: %v (it never took traffic; `golive revert` removes it)", err, derr)
		}
		return e.serviceFailed(ev, start, err)
	}
	if err := e.joinProxy(ctx, id); err != nil {
		return fail(err)
	}
	e.startErrorGate(svc, id, time.Now())
	if err := d.Start(ctx, id); err != nil {
		return fail(err)
	}
	started()
	e.errors.deployedAt(svc.Name, time.Now())
	e.Emit(withAction(ev, ActionBeside, fmt.Sprintf("started %s beside %s, which takes the traffic until the switch", c.next.Name, name)))
	ct, err := d.Inspect(ctx, id)
	if err != nil {
		return fail(err)
	}
	if err := e.waitHealthy(ctx, e.gateOf(svc, ct), id, nil); err != nil {
		e.Emit(Event{Kind: EvHealth, Run: ev.Run, Service: svc.Name, ContainerID: id, Result: ResultFailed, Error: err.Error(), DurationMS: ms(time.Since(start))})
		return fail(err)
	}
	if err := e.guard(ctx); err != nil {
		return fail(err)
	}
	if c.canary != nil {
		if err := e.canaryPhase(ctx, svc, ev, c.canary, ct); err != nil {
			return fail(err)
		}
		if err := e.guard(ctx); err != nil {
			return fail(err)
		}
	}
	took, err := e.switchTraffic(ctx, svc.Name, svc.Proxy, id)
	if err != nil {
		return fail(fmt.Errorf("switch: %w", err))
	}
	until := e.opts.Now().Add(svc.Proxy.KeepWarm)
	sw := withAction(ev, ActionSwitched, fmt.Sprintf("switched the traffic to %s in %s; %s stays warm until %s", docker.ShortID(id), took.Round(time.Millisecond), docker.ShortID(c.cur.ID), until.Local().Format("15:04:05")))
	sw.DurationMS, sw.KeepWarmMS = ms(took), ms(svc.Proxy.KeepWarm)
	e.Emit(sw)
	// Traffic has moved: from here, an interruption leaves the new version
	// serving as <name>.next, which a revert switches back from.
	warm, err := e.warmOf(ctx, name)
	if err != nil {
		return e.serviceFailed(ev, start, fmt.Errorf("switched, but %w", err))
	}
	for _, old := range append(warm, c.oldPrev) {
		if old == nil {
			continue
		}
		if err := d.Remove(ctx, old.ID); err != nil {
			return e.serviceFailed(ev, start, fmt.Errorf("switched, but %w", err))
		}
	}
	if err := d.Rename(ctx, c.cur.ID, warmName(name, until)); err != nil {
		return e.serviceFailed(ev, start, fmt.Errorf("switched, but %w", err))
	}
	if err := d.Rename(ctx, id, name); err != nil {
		return e.serviceFailed(ev, start, fmt.Errorf("switched, but %w", err))
	}
	ev.Result, ev.DurationMS = ResultDeployed, ms(time.Since(start))
	e.Emit(withKind(ev, EvServiceEnd))
	passed() // only now does the new version take traffic
	return nil
}

// discardNew removes a new container that never took traffic, even when
// the release was stopped.
func (e *Engine) discardNew(ev Event, c *change) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(context.Background()), time.Minute)
	defer cancel()
	if err := e.opts.Docker.Remove(ctx, c.id); err != nil {
		return err
	}
	e.Emit(withAction(ev, "", fmt.Sprintf("removed the new container %s: traffic never left %s", docker.ShortID(c.id), docker.ShortID(c.cur.ID))))
	return nil
}

// warmOf lists the warm containers of the service named base.
func (e *Engine) warmOf(ctx context.Context, base string) ([]*docker.Container, error) {
	all, err := e.opts.Docker.List(ctx, map[string]string{LabelProject: e.plan.Project, LabelContainer: base})
	if err != nil {
		return nil, err
	}
	var out []*docker.Container
	for i := range all {
		if _, ok := warmUntil(base, all[i].Name); ok {
			out = append(out, &all[i])
		}
	}
	return out, nil
}

// warmStatus fills in the warm previous version of a service, if one runs
// and its keep_warm has not run out (the next apply or revert stops it),
// unless it is the one the proxy sends the traffic to (serving).
func (e *Engine) warmStatus(ctx context.Context, st *ServiceState, serving string) error {
	warm, err := e.warmOf(ctx, st.Container)
	if err != nil {
		return err
	}
	for _, w := range warm {
		if until, _ := warmUntil(st.Container, w.Name); w.Running && w.ID != serving && until.After(e.opts.Now()) && until.After(st.WarmUntil) {
			st.Warm, st.WarmUntil = w.Image, until
		}
	}
	return nil
}

// trafficStatus says, in st.Traffic, where the proxy sends a deployed
// service's traffic when not to its container: to another of its
// containers (an apply or revert killed between its switch and its
// renames), or nowhere (the proxy gone, or its route lost). It returns
// the ID of that other container, if any.
func (e *Engine) trafficStatus(ctx context.Context, svc *Service, st *ServiceState, routes []docker.ProxyService, proxyRuns bool) (string, error) {
	if st.ContainerID == "" {
		return "", nil
	}
	if !proxyRuns {
		st.Traffic = fmt.Sprintf("the proxy container %s does not run: no request reaches the service until `golive apply %s` starts it and routes it again", e.plan.Proxy.Container, e.plan.Path)
		return "", nil
	}
	i := slices.IndexFunc(routes, func(r docker.ProxyService) bool { return r.Name == svc.ProxyService(e.plan.Project) })
	if i < 0 {
		st.Traffic = fmt.Sprintf("the proxy has no route for it: its requests fail until `golive apply %s` routes it again", e.plan.Path)
		return "", nil
	}
	targets := strings.Split(routes[i].Target, ",")
	if slices.Contains(targets, proxyTarget(st.ContainerID, svc.Proxy.Port)) {
		return "", nil
	}
	all, err := e.opts.Docker.List(ctx, map[string]string{LabelProject: e.plan.Project, LabelContainer: st.Container})
	if err != nil {
		return "", err
	}
	for _, c := range all {
		if slices.Contains(targets, proxyTarget(c.ID, svc.Proxy.Port)) {
			st.Traffic = fmt.Sprintf("the proxy sends its traffic to %s (%s, %s), not to %s: an apply or revert was cut short between its switch and its renames; `%s` finishes it",
				c.Name, c.Image, docker.ShortID(c.ID), st.Container, e.finishCommand())
			return c.ID, nil
		}
	}
	st.Traffic = fmt.Sprintf("the proxy sends its traffic to %s, none of the service's containers, not to %s", routes[i].Target, st.Container)
	return "", nil
}

// routeFirst makes the proxy send a service's traffic to its container
// once it passed its gate after a stop-first start (nothing served
// beside it): its first deploy, or one after a failed one.
func (e *Engine) routeFirst(ctx context.Context, svc *Service, ev Event) error {
	took, err := e.switchTraffic(ctx, svc.Name, svc.Proxy, ev.ContainerID)
	if err != nil {
		return fmt.Errorf("route through the proxy: %w", err)
	}
	sw := withAction(ev, ActionSwitched, fmt.Sprintf("the proxy sends the traffic to %s (switched in %s)", docker.ShortID(ev.ContainerID), took.Round(time.Millisecond)))
	sw.DurationMS = ms(took)
	e.Emit(sw)
	return nil
}

// routeUnchanged makes sure the proxy routes a service that an apply
// leaves unchanged: a proxy container removed (and so recreated empty) or
// a lost route would otherwise leave a release "deployed" whose requests
// all fail. With no route, nothing takes the traffic, so routing it to the
// service's container cannot make things worse; a route to another
// container is left to a revert (status names it). It returns cur, read
// again when it had to join the proxy's network.
func (e *Engine) routeUnchanged(ctx context.Context, svc *Service, cur *docker.Container, ev Event) (*docker.Container, error) {
	p, err := e.ensureProxy(ctx)
	if err != nil {
		return cur, err
	}
	r, err := p.Service(ctx, proxyName(e.plan.Project, svc.Name))
	if err != nil || r != nil {
		return cur, err
	}
	if !slices.Contains(cur.Networks, e.plan.Proxy.Network) {
		if err := e.joinProxy(ctx, cur.ID); err != nil {
			return cur, err
		}
		if cur, err = e.opts.Docker.Inspect(ctx, cur.ID); err != nil || cur == nil {
			return cur, fmt.Errorf("joined the proxy's network, but cannot find the container: %v", err)
		}
	}
	took, err := e.switchTraffic(ctx, svc.Name, svc.Proxy, cur.ID)
	if err != nil {
		return cur, fmt.Errorf("the proxy had no route for it, and routing it failed: %w", err)
	}
	sw := withAction(ev, ActionSwitched, fmt.Sprintf("the proxy had no route for it (its container was removed or recreated?): it sends the traffic to %s again (routed in %s)", docker.ShortID(cur.ID), took.Round(time.Millisecond)))
	sw.DurationMS = ms(took)
	e.Emit(sw)
	return cur, nil
}

// sweepWarm stops the warm old versions whose keep_warm ran out and keeps
// them as <name>.prev (replacing an older .prev): a revert then starts
// them again. Run by apply and revert under the lock, on every host.
func (e *Engine) sweepWarm(ctx context.Context) error {
	if e.plan.Proxy == nil {
		return nil
	}
	if e.hosts != nil {
		return e.eachHost(func(h *Engine) error { return h.sweepWarm(ctx) })
	}
	all, err := e.opts.Docker.List(ctx, map[string]string{LabelProject: e.plan.Project})
	if err != nil {
		return err
	}
	d := e.opts.Docker
	now := e.opts.Now()
	var errs []error
	for _, c := range all {
		base := c.Labels[LabelContainer]
		until, ok := warmUntil(base, c.Name)
		if !ok || until.After(now) {
			continue
		}
		timeout := c.Spec.StopTimeout
		if timeout <= 0 {
			timeout = int(DefaultStopTimeout / time.Second)
		}
		if err := d.Stop(ctx, c.ID, timeout); err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, err := d.Inspect(ctx, base+suffixPrev); err != nil {
			errs = append(errs, err)
			continue
		} else if prev != nil {
			if err := d.Remove(ctx, prev.ID); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if err := d.Rename(ctx, c.ID, base+suffixPrev); err != nil {
			errs = append(errs, err)
			continue
		}
		e.Emit(Event{Kind: EvServiceChange, Action: ActionRetired, Service: c.Labels[LabelService], Group: c.Labels[LabelGroup], ContainerID: c.ID, Image: c.Image, ImageID: c.ImageID,
			Message: fmt.Sprintf("stopped the warm previous version %s (keep_warm ran out at %s), kept as %s", docker.ShortID(c.ID), until.Local().Format("15:04:05"), base+suffixPrev)})
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop the warm previous versions whose keep_warm ran out: %w", err)
	}
	return nil
}

// switchBack reverts a proxied service by switching its traffic back to
// the previous version: at once while it is warm; else the kept container
// (or one recreated from its image) starts beside the new one and passes
// its own gate first. Until the switch, traffic stays on the new version
// and a failure leaves everything as it was. Its order keeps every state
// recognisable to a revert resumed after an interruption:
//
//  1. find the previous version (warm, kept, or recreate it as <name>.prev);
//  2. start it beside the new one and gate it, when it is not running;
//  3. switch the traffic to it;
//  4. remove the apply's containers and give it the service's name.
func (e *Engine) switchBack(ctx context.Context, run string, t revertTarget, ev *Event, change func() error) error {
	d := e.opts.Docker
	if e.plan.Proxy == nil {
		return fmt.Errorf("apply %s switched the service's traffic through the proxy, but this plan has no proxy:; the service was left as it is: revert with the plan of that apply", run)
	}
	at, err := d.Inspect(ctx, t.Name)
	if err != nil {
		return err
	}
	next, err := d.Inspect(ctx, t.Name+suffixNext)
	if err != nil {
		return err
	}
	var news []*docker.Container
	for _, c := range []*docker.Container{at, next} {
		if c != nil && c.Labels[LabelRun] == run {
			news = append(news, c)
		}
	}
	if len(news) > 0 {
		ev.ContainerID, ev.Image, ev.ImageID = news[0].ID, news[0].Image, news[0].ImageID
	}

	// 1. The previous version.
	var prev *docker.Container
	switch {
	case at != nil && at.Labels[LabelRun] != run && (at.ID == t.PrevID || at.ImageID == t.PrevImageID):
		prev = at
	case at != nil && at.Labels[LabelRun] != run:
		return fmt.Errorf("container %s (%s, image %s) holds the service's name but is neither what apply %s created nor what ran before it; left as it is: remove or rename it and run revert again",
			t.Name, docker.ShortID(at.ID), at.Image, run)
	default:
		if prev, err = d.Inspect(ctx, t.PrevID); err != nil {
			return err
		}
	}
	created := false
	if prev == nil {
		var spec docker.Spec
		if err := json.Unmarshal([]byte(t.PrevSpec), &spec); err != nil {
			return fmt.Errorf("the previous container is gone and its configuration was not recorded (%v); the service was left as it is", err)
		}
		if have, err := d.ImageID(ctx, t.PrevImageID); err != nil {
			return err
		} else if have == "" {
			return fmt.Errorf("the previous container is gone and its image %s (%s) is no longer on the Docker host; the service was left as it is: pull that image by digest and run revert again", t.PrevImage, docker.ShortID(t.PrevImageID))
		}
		spec.Name, spec.Image = t.Name+suffixPrev, t.PrevImageID
		if err := change(); err != nil {
			return err
		}
		id, err := d.Create(ctx, spec)
		if err != nil {
			return err
		}
		if prev, err = d.Inspect(ctx, id); err != nil || prev == nil {
			return fmt.Errorf("recreated the previous container %s, but cannot find it: %v", docker.ShortID(id), err)
		}
		created = true
	}
	// undo puts the previous version back as it was when this revert started it.
	warm := prev.Running
	undo := func(cause error) error {
		if warm {
			return cause
		}
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		var uerr error
		if created {
			uerr = d.Remove(uctx, prev.ID)
		} else {
			uerr = d.Stop(uctx, prev.ID, 10)
		}
		if uerr != nil {
			return fmt.Errorf("%w; the traffic stayed on the new version, and stopping the previous one again failed: %v", cause, uerr)
		}
		return fmt.Errorf("%w; the traffic stayed on the new version, the previous one was stopped again", cause)
	}

	// 2. Started beside the new version and judged by its own gate. (A
	// version deployed before the service had proxy: joins its network now.)
	if !slices.Contains(prev.Networks, e.plan.Proxy.Network) {
		if err := e.joinProxy(ctx, prev.ID); err != nil {
			return undo(err)
		}
	}
	if !warm {
		if err := change(); err != nil {
			return undo(err)
		}
		if err := d.Start(ctx, prev.ID); err != nil {
			return undo(fmt.Errorf("the previous version could not start: %w", err))
		}
		e.containerEvent(run, t, ActionBeside, prev, "started the previous container "+docker.ShortID(prev.ID)+" beside the new one, which takes the traffic until the switch")
		started, err := d.Inspect(ctx, prev.ID)
		if err != nil {
			return undo(err)
		}
		h := Health{Timeout: DefaultHealthTimeout, Interval: DefaultInterval}
		if t.Gate != nil {
			h = *t.Gate
		}
		gate := e.directGate(&Service{Name: t.Service, Health: h}, t.Proxy, started)
		if err := e.revertGate(ctx, revertTarget{Service: t.Service, Gate: &gate.Health}, prev.ID); err != nil {
			return undo(fmt.Errorf("the previous version did not pass its own health gate: %w", err))
		}
	}

	// 3. The switch back.
	if err := change(); err != nil {
		return undo(err)
	}
	took, err := e.switchBackConfirmed(ctx, t, prev.ID)
	if err != nil {
		return undo(fmt.Errorf("switch back: %w", err))
	}
	sw := Event{Kind: EvServiceChange, Action: ActionSwitched, Run: run, Service: t.Service, Group: t.Group, ContainerID: prev.ID, Image: t.PrevImage, ImageID: t.PrevImageID, DurationMS: ms(took),
		Message: fmt.Sprintf("switched the traffic back to %s in %s", docker.ShortID(prev.ID), took.Round(time.Millisecond))}
	e.Emit(sw)

	// 4. The apply's containers go; the previous one takes the service's name.
	for _, c := range news {
		if err := change(); err != nil {
			return err
		}
		if err := d.Remove(ctx, c.ID); err != nil {
			return err
		}
		e.containerEvent(run, t, "", c, "removed the new container "+docker.ShortID(c.ID)+" (the traffic had left it)")
	}
	if prev.Name != t.Name {
		if err := change(); err != nil {
			return err
		}
		if err := d.Rename(ctx, prev.ID, t.Name); err != nil {
			return err
		}
	}
	ev.Result = ResultReverted
	if warm {
		ev.Message = fmt.Sprintf("switched back to the warm previous version %s in %s", docker.ShortID(prev.ID), took.Round(time.Millisecond))
	} else {
		ev.Message = fmt.Sprintf("started the kept previous version %s beside the new one and switched back in %s", docker.ShortID(prev.ID), took.Round(time.Millisecond))
	}
	e.Emit(*ev)
	return nil
}

// switchAttempts bounds how often a switch back is made again when the
// proxy still sends the traffic elsewhere after it.
const switchAttempts = 3

// switchBackConfirmed switches the service's traffic to container id and
// reads back that the proxy sends it there. A switch started by a process
// killed mid-deploy may still end after this one (kamal-proxy finishes a
// deploy whose caller is gone): the switch is then made again, so the
// apply's containers are never removed while they take the traffic.
func (e *Engine) switchBackConfirmed(ctx context.Context, t revertTarget, id string) (time.Duration, error) {
	p, err := e.proxyHandle()
	if err != nil {
		return 0, err
	}
	want := proxyTarget(id, t.Proxy.Port)
	var took time.Duration
	for range switchAttempts {
		d, err := e.switchTraffic(ctx, t.Service, t.Proxy, id)
		took += d
		if err != nil {
			return took, err
		}
		svc, err := p.Service(ctx, proxyName(e.plan.Project, t.Service))
		if err != nil {
			return took, err
		}
		if svc != nil && svc.Target == want {
			// A canary cut short still shares the rollout traffic with the new version.
			if err := p.RolloutStop(ctx, svc.Name); err != nil && !errors.Is(err, docker.ErrProxyNoRollout) {
				return took, err
			}
			return took, nil
		}
	}
	return took, fmt.Errorf("the proxy still sends the traffic elsewhere after %d switches to %s; the new version was left in place", switchAttempts, want)
}

// unroute makes the proxy forget a service a revert removed (it did not
// exist before the apply); one the proxy does not route is fine.
func (e *Engine) unroute(ctx context.Context, service string) error {
	p, err := e.proxyHandle()
	if err != nil {
		return err
	}
	if err := p.Remove(ctx, proxyName(e.plan.Project, service)); err != nil && !errors.Is(err, docker.ErrProxyServiceNotFound) {
		return err
	}
	return nil
}
