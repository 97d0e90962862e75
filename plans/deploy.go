package plans

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golive/golive/docker"
)

// Suffixes of the names a service's container goes by while it is replaced.
const (
	suffixNext = ".next" // created, not yet switched in
	suffixPrev = ".prev" // the previous container, kept stopped for a fast revert
)

// spec is the container the plan asks for, without golive's bookkeeping labels.
func (e *Engine) spec(svc *Service, env []string) (docker.Spec, error) {
	s := docker.Spec{
		Name:        svc.ContainerName(e.plan.Project),
		Image:       svc.Image,
		Env:         env,
		Cmd:         svc.Command,
		Network:     svc.Network,
		Restart:     svc.Restart,
		StopTimeout: int(svc.StopTimeout / time.Second),
		Labels:      map[string]string{},
	}
	if svc.Network != "" {
		s.Aliases = append([]string{svc.Name}, svc.Aliases...)
	}
	s.Entrypoint = svc.Entrypoint
	s.Healthcheck = svc.Healthcheck.config()
	for _, p := range svc.Ports {
		port, err := docker.ParsePort(p)
		if err != nil {
			return s, err
		}
		s.Ports = append(s.Ports, port)
	}
	for _, v := range svc.Volumes {
		src, rest, _ := strings.Cut(v, ":")
		if strings.HasPrefix(src, ".") {
			src = e.plan.Resolve(src)
		}
		s.Binds = append(s.Binds, src+":"+rest)
	}
	for k, v := range svc.Labels {
		s.Labels[k] = v
	}
	s.Labels[LabelProject] = e.plan.Project
	s.Labels[LabelService] = svc.Name
	s.Labels[LabelGroup] = svc.Group
	s.Labels[LabelContainer] = s.Name
	if svc.Proxy != nil {
		s.Labels[LabelProxy] = proxyLabel(svc.Proxy)
	}
	return s, nil
}

// configHash identifies a spec's configuration, so an unchanged service is left alone.
func configHash(s docker.Spec) string {
	b, _ := json.Marshal(struct {
		docker.Spec
		Env []string
	}{s, sortedCopy(s.Env)})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func sortedCopy(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

// deployGroup replaces the services of one group in parallel. Every service
// runs to its end, so the state of each is known, before the group fails.
// Once its containers have started, the next deploy group's containers are
// created ahead (see ahead.go) while this group's health gates run.
// A service that fails stops the apply at once: the other health gates and
// stable windows, of this group and of earlier ones, end (see stepFailed).
// step.passed is told once every service has passed its first check,
// while their stable windows go on.
func (e *Engine) deployGroup(ctx context.Context, run, group string, step *stepRun) error {
	if e.hosts != nil {
		return e.rolloutGroup(ctx, run, group)
	}
	if e.plan.Docker.Swarm { // a Swarm group overlaps nothing: its step ends when it does
		return e.deploySwarmGroup(ctx, run, group)
	}
	services := e.plan.GroupServices(group)
	if err := e.ensureNetworks(ctx, services); err != nil {
		return err
	}
	prepared := e.takeAhead(group)
	errs := make([]error, len(services))
	var wg, started sync.WaitGroup
	started.Add(len(services))
	var left atomic.Int64
	left.Store(int64(len(services)))
	firstPass := func() {
		if left.Add(-1) == 0 {
			step.firstPassed()
		}
	}
	for i, svc := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.deployService(ctx, run, svc, prepared[svc.Name], started.Done, firstPass); err != nil {
				errs[i] = fmt.Errorf("%s: %w", svc.Name, err)
				step.failed(errs[i])
			}
		}()
	}
	next := e.prepareAhead(ctx, run, group, &started)
	wg.Wait()
	err := e.watchErrorGates(ctx, group, errors.Join(errs...))
	if err != nil {
		err = errors.Join(err, next.discard())
	}
	return err
}

// change is one service's replacement, prepared up to its new container
// created under <name>.next; deployService carries it out.
type change struct {
	ev        Event
	spec      docker.Spec
	next      docker.Spec
	cur       *docker.Container // what runs now, or nil
	oldPrev   *docker.Container // the <name>.prev the switch replaces, or nil
	inherit   bool              // cur is a failed deploy: keep its prev labels, drop it
	unchanged bool              // cur already runs the target: nothing to create
	id        string            // the created <name>.next
	canary    *Canary           // a canary step's: the share of traffic the new one takes before the switch
}

// ensureNetworks creates the networks of services that do not exist yet,
// one at a time and once per apply: created in parallel, engine 20.10
// would make several networks of one name.
func (e *Engine) ensureNetworks(ctx context.Context, services []*Service) error {
	for _, svc := range services {
		e.mu.Lock()
		done := svc.Network == "" || e.networks[svc.Network]
		e.mu.Unlock()
		if done {
			continue
		}
		if err := e.guard(ctx); err != nil {
			return err
		}
		if err := e.opts.Docker.EnsureNetwork(ctx, svc.Network, map[string]string{LabelProject: e.plan.Project}); err != nil {
			return fmt.Errorf("%s: %w", svc.Name, err)
		}
		e.mu.Lock()
		if e.networks == nil {
			e.networks = map[string]bool{}
		}
		e.networks[svc.Network] = true
		e.mu.Unlock()
	}
	return nil
}

// deployService replaces one service's container with the plan's target,
// keeping the previous one stopped under <name>.prev. Its order makes every
// crash point revertible: the new container is created (under <name>.next,
// carrying what it replaces in its labels) before the old one is touched.
// c, when not nil, was prepared ahead; started is called once the new
// container has started or the service has failed before that; passed
// once it passed its first check (never when it failed before).
func (e *Engine) deployService(ctx context.Context, run string, svc *Service, c *change, started, passed func()) error {
	var once sync.Once
	defer once.Do(started)
	start := time.Now()
	if c == nil {
		var err error
		if c, err = e.prepareService(ctx, run, svc); err != nil {
			if c.next.Name != "" { // it got as far as creating the new container
				e.Emit(withKind(c.ev, EvServiceStart))
			}
			return e.serviceFailed(c.ev, start, err)
		}
	}
	ev := c.ev
	d := e.opts.Docker
	if c.unchanged {
		// Left alone, but a release is not done while it is unhealthy: one passing check is enough.
		ev.ContainerID = c.cur.ID
		if err := e.waitFirstPass(ctx, e.gateOf(svc, c.cur), c.cur.ID); err != nil {
			return e.serviceFailed(ev, start, fmt.Errorf("unchanged, but %w", err))
		}
		ev.Result, ev.Message = ResultUnchanged, "already runs the target image with the same config"
		e.Emit(withKind(ev, EvServiceEnd))
		passed()
		return nil
	}
	e.Emit(withKind(ev, EvServiceStart))
	id := c.id
	ev.ContainerID = id
	e.Emit(withAction(ev, ActionCreated, "created "+c.next.Name))

	if err := e.mayBegin(ctx); err != nil {
		return e.serviceFailed(ev, start, e.dropNext(ev, c, err))
	}
	if beside(svc, c) {
		return e.deployBeside(ctx, svc, c, ev, start, func() { once.Do(started) }, passed)
	}
	spec, cur := c.spec, c.cur
	if svc.Proxy != nil {
		if err := e.joinProxy(ctx, id); err != nil {
			return e.serviceFailed(ev, start, err)
		}
	}
	if cur != nil {
		// While what runs stops, the names move: the older kept container
		// goes, what runs becomes <name>.prev and the new one <name>.
		// Every point in between is revertible, as each step alone is.
		var renameErr error
		var renamed sync.WaitGroup
		renamed.Go(func() { renameErr = e.moveNames(ctx, c) })
		asked := e.opts.Now().UTC() // it stops serving from here, not once the call returns
		stopErr := d.Stop(ctx, cur.ID, int(svc.StopTimeout/time.Second))
		renamed.Wait()
		if err := errors.Join(stopErr, renameErr); err != nil {
			return e.serviceFailed(ev, start, err)
		}
		stopped := withAction(ev, ActionStopped, "stopped the previous container "+docker.ShortID(cur.ID))
		stopped.Since = asked
		e.Emit(stopped)
	} else if err := d.Rename(ctx, id, spec.Name); err != nil {
		return e.serviceFailed(ev, start, err)
	}
	if err := e.guard(ctx); err != nil {
		return e.serviceFailed(ev, start, err)
	}
	e.startErrorGate(svc, id, time.Now())
	if err := d.Start(ctx, id); err != nil {
		return e.serviceFailed(ev, start, err)
	}
	once.Do(started)
	e.errors.deployedAt(Placement(svc.Name, e.host), time.Now())
	e.Emit(withAction(ev, ActionStarted, "started "+spec.Name))
	gated := svc
	if svc.Proxy != nil {
		ct, err := d.Inspect(ctx, id)
		if err != nil {
			return e.serviceFailed(ev, start, err)
		}
		gated = e.gateOf(svc, ct)
	}
	if err := e.waitHealthy(ctx, gated, id, passed); err != nil {
		e.Emit(Event{Kind: EvHealth, Run: run, Service: svc.Name, ContainerID: id, Result: ResultFailed, Error: err.Error(), DurationMS: ms(time.Since(start))})
		return e.serviceFailed(ev, start, err)
	}
	if svc.Proxy != nil {
		if err := e.routeFirst(ctx, svc, ev); err != nil {
			return e.serviceFailed(ev, start, err)
		}
	}
	ev.Result, ev.DurationMS = ResultDeployed, ms(time.Since(start))
	e.Emit(withKind(ev, EvServiceEnd))
	return nil
}

// moveNames makes way for the new container of c while the old one stops:
// the older kept container is removed, the current one is renamed
// <name>.prev (or removed, when it was a failed deploy) and the new one
// takes the service's name.
func (e *Engine) moveNames(ctx context.Context, c *change) error {
	d := e.opts.Docker
	if c.oldPrev != nil {
		if err := d.Remove(ctx, c.oldPrev.ID); err != nil {
			return err
		}
	}
	if c.inherit {
		if err := d.Remove(ctx, c.cur.ID); err != nil {
			return err
		}
	} else if err := d.Rename(ctx, c.cur.ID, c.spec.Name+suffixPrev); err != nil {
		return err
	}
	return d.Rename(ctx, c.id, c.spec.Name)
}

// prepareService does what a service's replacement needs before it touches
// what runs: it reads the current containers and creates the new one under
// <name>.next. It emits nothing, so it can run ahead of the service's group;
// on error the change says how far it got.
func (e *Engine) prepareService(ctx context.Context, run string, svc *Service) (*change, error) {
	d := e.opts.Docker
	c := &change{ev: Event{Run: run, Service: svc.Name, Group: svc.Group, Image: svc.Image}}
	env, err := e.plan.ServiceEnv(svc, e.opts.Lookup)
	if err != nil {
		return c, err
	}
	spec, err := e.spec(svc, env)
	if err != nil {
		return c, err
	}
	c.spec = spec
	hash := configHash(spec)
	// The three reads are independent: one round-trip instead of three.
	var targetID string
	var cur, oldPrev *docker.Container
	var imageErr, curErr, prevErr error
	var read sync.WaitGroup
	read.Go(func() { targetID, imageErr = d.ImageID(ctx, svc.Image) })
	read.Go(func() { cur, curErr = d.Inspect(ctx, spec.Name) })
	read.Go(func() { oldPrev, prevErr = d.Inspect(ctx, spec.Name+suffixPrev) })
	read.Wait()
	if imageErr == nil && targetID == "" {
		imageErr = fmt.Errorf("image %s is not on the Docker host (preload did not run?)", svc.Image)
	}
	if err := errors.Join(imageErr, curErr); err != nil {
		return c, err
	}
	c.ev.ImageID = targetID
	c.cur = cur
	if cur != nil && cur.Running && cur.ImageID == targetID && cur.Labels[LabelConfig] == hash {
		c.unchanged = true
		return c, nil
	}
	next := spec
	next.Name = spec.Name + suffixNext
	next.Labels = map[string]string{}
	for k, v := range spec.Labels {
		next.Labels[k] = v
	}
	next.Labels[LabelRun] = run
	next.Labels[LabelRelease] = e.plan.Release
	next.Labels[LabelConfig] = hash
	next.Labels[LabelActor] = e.opts.Actor
	// Its own gate goes with it: a later revert to it is judged by this gate.
	gate, _ := json.Marshal(svc.Health)
	next.Labels[LabelHealth] = string(gate)
	// A stopped container that golive deployed never became what runs: what
	// it replaced stays the one to go back to.
	c.inherit = cur != nil && !cur.Running && cur.Labels[LabelRun] != ""
	switch {
	case c.inherit:
		for _, k := range []string{LabelPrevID, LabelPrevImageID, LabelPrevImage, LabelPrevSpec} {
			next.Labels[k] = cur.Labels[k]
		}
	case cur != nil:
		prevSpec := cur.Spec
		prevSpec.Name = spec.Name
		// What the previous container itself replaced is not needed to
		// bring it back, and would nest one more spec per release.
		prevSpec.Labels = maps.Clone(prevSpec.Labels)
		for _, k := range []string{LabelPrevID, LabelPrevImageID, LabelPrevImage, LabelPrevSpec} {
			delete(prevSpec.Labels, k)
		}
		b, _ := json.Marshal(prevSpec)
		next.Labels[LabelPrevID] = cur.ID
		next.Labels[LabelPrevImageID] = cur.ImageID
		next.Labels[LabelPrevImage] = cur.Image
		next.Labels[LabelPrevSpec] = string(b)
	}
	c.next = next
	c.ev.PrevImage, c.ev.PrevImageID, c.ev.PrevContainerID = next.Labels[LabelPrevImage], next.Labels[LabelPrevImageID], next.Labels[LabelPrevID]
	if cur != nil && !c.inherit {
		if prevErr != nil {
			return c, prevErr
		}
		c.oldPrev = oldPrev
	}
	if err := e.guard(ctx); err != nil {
		return c, err
	}
	if c.id, err = d.Create(ctx, next); err != nil {
		return c, err
	}
	return c, nil
}

func withKind(ev Event, kind string, message ...string) Event {
	ev.Kind = kind
	if len(message) > 0 {
		ev.Message = message[0]
	}
	return ev
}

// withAction is a service.container event saying what was done.
func withAction(ev Event, action, message string) Event {
	ev.Action = action
	return withKind(ev, EvServiceChange, message)
}

func (e *Engine) serviceFailed(ev Event, start time.Time, err error) error {
	ev.Kind, ev.Result, ev.Error, ev.DurationMS = EvServiceEnd, ResultFailed, err.Error(), ms(time.Since(start))
	e.Emit(ev)
	return err
}
