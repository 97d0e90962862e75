package plans

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/logs"
)

// A plan with `hosts:` is carried out by a coordinator: the Engine the
// caller holds, with one engine per host over the part of the plan placed
// on that host (Plan.onHost). Each host's engine locks, deploys, records
// and reverts on its own Docker engine exactly as a single-host release
// does, so a revert resumes per host from that host's labels and records.
// The coordinator runs the steps once, takes the locks in host-name order,
// preloads everywhere in parallel and deploys each group in rollout
// batches; every event a host's engine emits carries its host.

// EvRolloutBatch says a batch of a group's rollout starts: which service,
// which batch of how many, on which hosts.
const EvRolloutBatch = "rollout.batch"

// hostEngines makes the engine of every host the plan places a service
// on, or nil when the plan has no hosts or no clients were given.
func hostEngines(e *Engine) []*Engine {
	if !e.plan.HasHosts() || e.opts.Hosts == nil {
		return nil
	}
	var out []*Engine
	for _, name := range e.plan.HostNames() {
		sub := e.plan.onHost(name)
		if len(sub.Services) == 0 {
			continue
		}
		h := NewEngine(sub, Options{Docker: e.opts.Hosts[name], Actor: e.opts.Actor, StateDir: e.opts.StateDir,
			Lookup: e.opts.Lookup, Asker: e.opts.Asker, Now: e.opts.Now})
		h.parent, h.host = e, name
		// The hosts' error gates read the coordinator's log buffer, whose
		// sources are service@host; the coordinator journals the error lines.
		h.opts.Logs, h.errors = e.opts.Logs, e.errors
		out = append(out, h)
	}
	return out
}

// emitForHost passes a host engine's event to the coordinator with its
// host; a journal that fails stops that host's engine too.
func (e *Engine) emitForHost(ev Event) {
	ev.Host = e.host
	e.parent.Emit(ev)
	if err := e.parent.JournalErr(); err != nil {
		e.mu.Lock()
		if e.journalErr == nil {
			e.journalErr = err
		}
		e.mu.Unlock()
	}
}

// HostError is something that went wrong on one host of the plan.
type HostError struct {
	Host string
	Err  error
}

func (e *HostError) Error() string { return "host " + e.Host + ": " + e.Err.Error() }
func (e *HostError) Unwrap() error { return e.Err }

// ErrHostUnreachable marks what a host of the plan that did not answer
// when golive started returns for everything asked of it: its services
// show as unreachable, its lock cannot be read or taken, so nothing that
// needs every host's lock runs while it is down.
var ErrHostUnreachable = errors.New("the host does not answer")

// eachHost runs f on every host's engine in parallel and joins what failed.
func (e *Engine) eachHost(f func(h *Engine) error) error {
	errs := make([]error, len(e.hosts))
	var wg sync.WaitGroup
	for i, h := range e.hosts {
		wg.Go(func() {
			if err := f(h); err != nil {
				errs[i] = &HostError{Host: h.host, Err: err}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// hostNames lists the hosts the coordinator acts on, in name order.
func (e *Engine) hostNames() []string {
	names := make([]string, len(e.hosts))
	for i, h := range e.hosts {
		names[i] = h.host
	}
	return names
}

// lockHosts takes the lock on every host in name order, so that two
// operators cannot hold one host each and wait for the other. When one
// is refused, the locks taken are released: nothing was changed anywhere.
func (e *Engine) lockHosts(ctx context.Context, operation string) error {
	for i, h := range e.hosts {
		err := h.Lock(ctx, operation)
		if err == nil {
			continue
		}
		for _, taken := range slices.Backward(e.hosts[:i]) {
			taken.Unlock()
		}
		var held *docker.HeldError
		if errors.As(err, &held) {
			e.Emit(Event{Kind: EvLockRefused, Message: fmt.Sprintf("held by %s since %s on host %s", held.Holder, held.Since.UTC().Format(time.RFC3339), h.host)})
		}
		return &HostError{Host: h.host, Err: err}
	}
	e.mu.Lock()
	e.locked = true
	e.mu.Unlock()
	e.Emit(Event{Kind: EvLockAcquired, Message: operation + " on " + strings.Join(e.hostNames(), ", ")})
	return nil
}

// unlockHosts releases the lock on every host, in reverse order.
func (e *Engine) unlockHosts() {
	e.mu.Lock()
	locked := e.locked
	e.locked = false
	e.mu.Unlock()
	if !locked {
		return
	}
	for _, h := range slices.Backward(e.hosts) {
		h.Unlock()
	}
	ev := Event{Kind: EvLockReleased, Result: ResultOK}
	var still []string
	for _, h := range e.hosts {
		h.mu.Lock()
		if h.unreleased != "" {
			still = append(still, h.host)
		}
		h.mu.Unlock()
	}
	if len(still) > 0 {
		ev.Result, ev.Error = ResultFailed, "the lock is still held on "+strings.Join(still, ", ")
	}
	e.Emit(ev)
}

// guardHosts says whether the release may change one thing more: its
// journal is written and it still holds the lock on every host.
func (e *Engine) guardHosts(ctx context.Context) error {
	for _, h := range e.hosts {
		if err := h.guard(ctx); err != nil {
			return &HostError{Host: h.host, Err: err}
		}
	}
	return nil
}

// lockHolderHosts is the holder of the first host's lock that is held,
// among the hosts that answer.
func (e *Engine) lockHolderHosts(ctx context.Context) (*docker.LockInfo, error) {
	for _, h := range e.hosts {
		held, err := h.LockHolder(ctx)
		if errors.Is(err, ErrHostUnreachable) {
			continue
		}
		if err != nil {
			return nil, &HostError{Host: h.host, Err: err}
		}
		if held != nil {
			return held, nil
		}
	}
	return nil, nil
}

// LockedHosts names the hosts that answer on which held's operation holds
// the lock; nil for a plan without hosts.
func (e *Engine) LockedHosts(ctx context.Context, held *docker.LockInfo) []string {
	var names []string
	for _, h := range e.hosts {
		if mine, err := h.LockHolder(ctx); err == nil && sameHolder(mine, held) {
			names = append(names, h.host)
		}
	}
	return names
}

// sameHolder reports whether two locks were taken by one process.
func sameHolder(a, b *docker.LockInfo) bool {
	return a != nil && b != nil && a.Holder == b.Holder && a.PID == b.PID && a.Host == b.Host
}

// breakLockHosts breaks the locks that held's operation holds on every
// host that answers.
func (e *Engine) breakLockHosts(ctx context.Context, held *docker.LockInfo) error {
	return e.eachHost(func(h *Engine) error {
		mine, err := h.LockHolder(ctx)
		if errors.Is(err, ErrHostUnreachable) {
			return nil
		}
		if err != nil || !sameHolder(mine, held) {
			return err
		}
		return h.BreakLock(ctx, mine)
	})
}

// interruptedHosts says whose operation was interrupted, on the first host
// that answers whose lock tells it.
func (e *Engine) interruptedHosts(ctx context.Context) (string, error) {
	for _, h := range e.hosts {
		msg, err := h.Interrupted(ctx)
		if errors.Is(err, ErrHostUnreachable) {
			continue
		}
		if err != nil {
			return "", &HostError{Host: h.host, Err: err}
		}
		if msg != "" {
			return msg, nil
		}
	}
	return "", nil
}

// preloadHosts makes every image present on every host, hosts in parallel.
func (e *Engine) preloadHosts(ctx context.Context) error {
	start := time.Now()
	e.Emit(Event{Kind: EvPreloadStart, Message: fmt.Sprintf("%d images on %d hosts", len(e.plan.Images()), len(e.hosts))})
	err := e.eachHost(func(h *Engine) error { return h.Preload(ctx) })
	if err != nil {
		e.Emit(Event{Kind: EvPreloadEnd, Result: ResultFailed, DurationMS: ms(time.Since(start)), Error: err.Error()})
		return fmt.Errorf("preload failed, no container was touched on any host:\n%w", err)
	}
	e.Emit(Event{Kind: EvPreloadEnd, Result: ResultOK, DurationMS: ms(time.Since(start))})
	return nil
}

// hostEngine is the engine of the named host, or nil.
func (e *Engine) hostEngine(name string) *Engine {
	for _, h := range e.hosts {
		if h.host == name {
			return h
		}
	}
	return nil
}

// wave is one batch of a group's rollout: the services each of its hosts
// replaces at once.
type wave struct {
	service   string // "" for services without rollout, deployed everywhere at once
	batch, of int
	pause     time.Duration // waited before the wave starts
	hosts     []string
	onHost    map[string][]string // host → services
}

// rolloutWaves splits a group into batches: services without `rollout:`
// change on all their hosts at once (consecutive ones together); a service
// with it changes batch by batch over its hosts in name order.
func (p *Plan) rolloutWaves(group string) []wave {
	var waves []wave
	var together *wave
	add := func(w *wave, host, svc string) {
		if _, ok := w.onHost[host]; !ok {
			w.hosts = append(w.hosts, host)
		}
		w.onHost[host] = append(w.onHost[host], svc)
	}
	for _, svc := range p.GroupServices(group) {
		hosts := p.ServiceHosts(svc)
		if svc.Rollout == nil {
			if together == nil {
				together = &wave{batch: 1, of: 1, onHost: map[string][]string{}}
			}
			for _, h := range hosts {
				add(together, h, svc.Name)
			}
			continue
		}
		if together != nil {
			slices.Sort(together.hosts)
			waves, together = append(waves, *together), nil
		}
		size := svc.Rollout.Batch.Of(len(hosts))
		of := (len(hosts) + size - 1) / size
		for i := 0; i < len(hosts); i += size {
			w := wave{service: svc.Name, batch: i/size + 1, of: of, onHost: map[string][]string{}}
			if i > 0 {
				w.pause = svc.Rollout.Pause
			}
			for _, h := range hosts[i:min(i+size, len(hosts))] {
				add(&w, h, svc.Name)
			}
			waves = append(waves, w)
		}
	}
	if together != nil {
		slices.Sort(together.hosts)
		waves = append(waves, *together)
	}
	return waves
}

// rolloutGroup deploys one group across its hosts, wave by wave. A wave
// runs on its hosts in parallel; when it fails, the next waves are never
// started, and on_failure then applies to what the waves changed.
func (e *Engine) rolloutGroup(ctx context.Context, run, group string) error {
	for _, w := range e.plan.rolloutWaves(group) {
		what := "every service of the group"
		if w.service != "" {
			what = w.service
		}
		msg := fmt.Sprintf("%s: batch %d of %d on %s", what, w.batch, w.of, strings.Join(w.hosts, ", "))
		if w.pause > 0 {
			msg += fmt.Sprintf(" (after a pause of %s)", w.pause)
		}
		e.Emit(Event{Kind: EvRolloutBatch, Run: run, Group: group, Service: w.service, Message: msg})
		if w.pause > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(w.pause):
			}
		}
		if err := e.guard(ctx); err != nil {
			return err
		}
		errs := make([]error, len(w.hosts))
		var wg sync.WaitGroup
		for i, name := range w.hosts {
			h := e.hostEngine(name)
			wg.Go(func() {
				if err := h.deployOnHost(ctx, run, group, w.onHost[name]); err != nil {
					e.hostLost(run, name, err)
					errs[i] = &HostError{Host: name, Err: err}
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	return nil
}

// deployOnHost replaces the named services of a group on this host's
// engine in parallel, as a single-host group deploy does.
func (e *Engine) deployOnHost(ctx context.Context, run, group string, names []string) error {
	var services []*Service
	for _, n := range names {
		services = append(services, e.plan.Service(n))
	}
	if err := e.ensureNetworks(ctx, services); err != nil {
		return err
	}
	errs := make([]error, len(services))
	var wg sync.WaitGroup
	for i, svc := range services {
		wg.Go(func() {
			if err := e.deployService(ctx, run, svc, nil, func() {}, func() {}); err != nil {
				errs[i] = fmt.Errorf("%s: %w", svc.Name, err)
			}
		})
	}
	wg.Wait()
	return e.watchErrorGates(ctx, group, errors.Join(errs...))
}

// undoableHosts finds an apply to undo on any host.
func (e *Engine) undoableHosts(ctx context.Context, run string) (*revertJob, error) {
	var last error
	for _, h := range e.hosts {
		job, err := h.undoable(ctx, run)
		if err == nil {
			return job, nil
		}
		if !errors.Is(err, ErrNothingToRevert) {
			return nil, &HostError{Host: h.host, Err: err}
		}
		last = err
	}
	return nil, last
}

// revertHosts undoes the apply run (the latest one not completely
// reverted when run is "") on every host it changed, in reverse batch
// order: the hosts of the rollout's last batch first, the hosts of one
// batch at once (so a plan without rollout: reverts every host at once).
// A host that fails does not stop the others; the revert then ends
// incomplete and `golive revert` resumes it where each host's own record
// says.
func (e *Engine) revertHosts(ctx context.Context, run string, auto bool) error {
	start := time.Now()
	type part struct {
		h   *Engine
		run string
		job *revertJob
	}
	var parts []part
	var errs []error
	var unread []string
	latest := "" // the latest apply on any host, reverted there or not
	for _, h := range e.hosts {
		job, err := h.undoable(ctx, run)
		var none *nothingLeftError
		switch {
		case err == nil:
			parts = append(parts, part{h, job.run, job})
			latest = max(latest, job.run)
		case errors.As(err, &none):
			latest = max(latest, none.run)
		case !errors.Is(err, ErrNothingToRevert):
			e.hostLost(run, h.host, err)
			errs = append(errs, &HostError{Host: h.host, Err: err})
			unread = append(unread, h.host)
		}
	}
	if run == "" {
		// A host the latest apply never reached (a later batch, after
		// one failed) keeps its own latest apply: an older one, which
		// is not this revert's to undo.
		run = latest
		parts = slices.DeleteFunc(parts, func(p part) bool { return p.run != run })
	}
	if len(parts) == 0 && len(errs) == 0 {
		return fmt.Errorf("%w: no host has an apply of project %s left to revert", ErrNothingToRevert, e.plan.Project)
	}
	if !auto && len(parts) > 0 {
		all := &revertJob{run: run, release: parts[0].job.release}
		for _, p := range parts {
			for _, t := range p.job.targets {
				t.Service = Placement(t.Service, p.h.host)
				all.targets = append(all.targets, t)
			}
		}
		if err := e.confirmRemovals(ctx, all); err != nil {
			return err
		}
	}
	rank := e.plan.lastBatch()
	slices.SortStableFunc(parts, func(a, b part) int { return rank[b.h.host] - rank[a.h.host] })
	var order []string
	for i, p := range parts {
		if i > 0 && rank[p.h.host] == rank[parts[i-1].h.host] {
			order[len(order)-1] += " " + p.h.host
			continue
		}
		order = append(order, p.h.host)
	}
	msg := fmt.Sprintf("%d hosts, in order: %s", len(parts), strings.Join(order, ", "))
	if len(parts) == 0 {
		msg = "no host that answers has anything left to revert"
	}
	if len(unread) > 0 {
		msg += "; not read (what they run is unknown): " + strings.Join(unread, ", ")
	}
	e.Emit(Event{Kind: EvRevertStart, Run: run, Message: msg})
	var mu sync.Mutex
	for i := 0; i < len(parts); {
		j := i
		for j < len(parts) && rank[parts[j].h.host] == rank[parts[i].h.host] {
			j++
		}
		var wg sync.WaitGroup
		for _, p := range parts[i:j] {
			wg.Go(func() {
				if err := p.h.revert(ctx, run, auto); err != nil && !errors.Is(err, ErrNothingToRevert) {
					e.hostLost(run, p.h.host, err)
					mu.Lock()
					errs = append(errs, &HostError{Host: p.h.host, Err: err})
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		i = j
	}
	end := Event{Kind: EvRevertEnd, Run: run, Result: ResultReverted, DurationMS: ms(time.Since(start))}
	err := errors.Join(errs...)
	if err != nil {
		end.Result, end.Error = ResultIncomplete, err.Error()
	}
	e.Emit(end)
	if err != nil {
		return &RevertError{Run: run, Err: err, Finish: e.finishCommand()}
	}
	return nil
}

// hostLost tells that host stopped answering while run changed or
// reverted it, when err says so: what it runs is unknown until it answers.
func (e *Engine) hostLost(run, host string, err error) {
	if docker.IsConnectionLost(err) {
		e.Emit(Event{Kind: EvHostLost, Run: run, Host: host, Error: err.Error()})
	}
}

// lastBatch is, per host, the number of the last rollout batch (over
// every deploy group, in order) that changes it.
func (p *Plan) lastBatch() map[string]int {
	rank := map[string]int{}
	n := 0
	for _, step := range p.ReleaseSteps() {
		if step.Kind() != StepDeploy {
			continue
		}
		for _, w := range p.rolloutWaves(step.Deploy) {
			n++
			for _, h := range w.hosts {
				rank[h] = n
			}
		}
	}
	return rank
}

// statusHosts is what each service runs on each of its hosts; a host that
// does not answer shows its services as unreachable.
// The hosts are asked in parallel; the rows come in the plan's order.
func (e *Engine) statusHosts(ctx context.Context) []ServiceState {
	byName := map[string]ServiceState{}
	var mu sync.Mutex
	e.eachHost(func(h *Engine) error {
		states, err := h.Status(ctx)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			for _, svc := range h.plan.Services {
				name := Placement(svc.Name, h.host)
				byName[name] = ServiceState{Service: name, Group: svc.Group, Container: svc.ContainerName(h.plan.Project), Target: svc.Image, State: "unreachable"}
			}
			return nil
		}
		for _, st := range states {
			st.Service = Placement(st.Service, h.host)
			byName[st.Service] = st
		}
		return nil
	})
	var out []ServiceState
	for _, p := range e.plan.Placements() {
		if st, ok := byName[p.Name]; ok {
			out = append(out, st)
		}
	}
	return out
}

// followHosts follows every service on every host into buf, each source
// named service@host, with the one log follower of a single host.
func (e *Engine) followHosts(ctx context.Context, buf *logs.Buffer, since time.Time) error {
	opts, err := e.plan.LogOptions(e.masker)
	if err != nil {
		return err
	}
	opts.Follow, opts.Since, opts.Retry = true, since, true
	clients := map[string]logs.ContainerLogs{}
	for _, h := range e.hosts {
		clients[h.host] = h.opts.Docker
		if cts, err := h.opts.Docker.List(ctx, map[string]string{LabelProject: e.plan.Project}); err == nil {
			for _, ct := range cts {
				e.masker.AddEnv(ct.Spec.Env)
			}
		}
	}
	logs.Follow(ctx, nil, e.plan.HostLogSources(clients), opts, buf)
	return nil
}

// HostLogSources are the log sources of a plan with hosts: each service
// on each of its hosts, named service@host and read from that host's
// engine in clients, then the plan's files. A host without a client (one
// that did not answer) is left out rather than read from another engine.
func (p *Plan) HostLogSources(clients map[string]logs.ContainerLogs) []logs.Source {
	var srcs []logs.Source
	for _, svc := range p.Services {
		for _, h := range p.ServiceHosts(svc) {
			if clients[h] == nil {
				continue
			}
			srcs = append(srcs, logs.Source{Name: Placement(svc.Name, h), Container: svc.ContainerName(p.Project), Engine: clients[h]})
		}
	}
	return append(srcs, p.fileSources()...)
}
