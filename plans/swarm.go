package plans

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golive/golive/docker"
)

// SwarmDocker is what a Swarm plan (docker.swarm) needs from its manager;
// *docker.Client provides it.
type SwarmDocker interface {
	PinImage(ctx context.Context, ref string) (docker.PinnedImage, error)
	CreateService(ctx context.Context, spec docker.ServiceSpec) (string, error)
	UpdateService(ctx context.Context, service string, version uint64, spec docker.ServiceSpec) error
	RestoreService(ctx context.Context, service string, version uint64, recorded docker.RecordedSpec) error
	RollbackService(ctx context.Context, service string, version uint64) error
	InspectService(ctx context.Context, service string) (*docker.Service, error)
	RemoveService(ctx context.Context, service string) error
	ServiceTasks(ctx context.Context, service string) ([]docker.Task, error)
}

// Event kinds of Swarm services.
const (
	// EvSwarmTask is one task changing state: Message names it
	// (api.2@node1), Result is its state, Error Swarm's error.
	EvSwarmTask = "service.task"
	// EvSwarmTasks is a service's tasks counted (Counts: running, desired,
	// updated and node:NAME, the tasks running on each node); Result is
	// the state of Swarm's update.
	EvSwarmTasks = "service.tasks"
)

// swarmPoll is how often a Swarm service is polled while it changes.
const swarmPoll = 200 * time.Millisecond

// swarmCallLimit bounds one call to the manager, so that a connection
// that stops answering is noticed (docker/swarm.go sets no limit of its
// own).
const swarmCallLimit = 5 * time.Second

func (e *Engine) swarmDocker() (SwarmDocker, error) {
	sd, ok := e.opts.Docker.(SwarmDocker)
	if !ok {
		return nil, errors.New("docker.swarm: this Docker client cannot drive Swarm services")
	}
	return sd, nil
}

// SwarmName is the Swarm service a plan's service is deployed as.
func (p *Plan) SwarmName(s *Service) string { return p.Project + "-" + s.Name }

// swarmPreload pins every target image on the manager: to its registry
// digest, or offline to the local image ID that every node must hold.
func (e *Engine) swarmPreload(ctx context.Context) error {
	sd, err := e.swarmDocker()
	if err != nil {
		return err
	}
	start := time.Now()
	images := e.plan.Images()
	e.Emit(Event{Kind: EvPreloadStart, Message: fmt.Sprintf("%d images, pinned on the Swarm manager", len(images))})
	pins := map[string]docker.PinnedImage{}
	var errs []error
	for _, ref := range images {
		pin, err := sd.PinImage(ctx, ref)
		if err != nil {
			e.Emit(Event{Kind: EvPreloadImage, Image: ref, Result: ResultFailed, Error: err.Error()})
			errs = append(errs, err)
			continue
		}
		pins[ref] = pin
		e.Emit(Event{Kind: EvPreloadImage, Image: ref, ImageID: pinnedID(pin.Ref), Result: ResultPresent, Message: PinNote(pin)})
	}
	if err := errors.Join(errs...); err != nil {
		e.Emit(Event{Kind: EvPreloadEnd, Result: ResultFailed, DurationMS: ms(time.Since(start)), Error: err.Error()})
		return fmt.Errorf("preload failed, no service was touched:\n%w", err)
	}
	e.mu.Lock()
	e.pins = pins
	e.mu.Unlock()
	e.Emit(Event{Kind: EvPreloadEnd, Result: ResultOK, DurationMS: ms(time.Since(start))})
	return nil
}

// PinNote says what a Swarm service's image is pinned to, for preload and check.
func PinNote(pin docker.PinnedImage) string {
	if pin.Offline {
		return "pinned to the local image ID " + docker.ShortID(pin.Ref) + " (offline: no registry digest; every node must have this image loaded)"
	}
	return "pinned to " + pin.Ref + " (registry digest: every node runs the same bytes)"
}

// pinnedID is the content ID in a pinned image reference: the digest of
// name@sha256:…, an image ID as it is; "" for a reference by tag.
func pinnedID(ref string) string {
	if i := strings.LastIndexByte(ref, '@'); i >= 0 {
		return ref[i+1:]
	}
	if strings.HasPrefix(ref, "sha256:") {
		return ref
	}
	return ""
}

// pinned is the reference a service's image is pinned to.
func (e *Engine) pinned(ctx context.Context, sd SwarmDocker, ref string) (docker.PinnedImage, error) {
	e.mu.Lock()
	pin, ok := e.pins[ref]
	e.mu.Unlock()
	if ok {
		return pin, nil
	}
	return sd.PinImage(ctx, ref)
}

// swarmSpec is the Swarm service the plan asks for.
func (e *Engine) swarmSpec(svc *Service, image string, env []string) (docker.ServiceSpec, error) {
	spec := docker.ServiceSpec{
		Name:     e.plan.SwarmName(svc),
		Image:    image,
		Replicas: svc.Replicas,
		Env:      sortedCopy(env),
		Labels:   map[string]string{},
		Update: docker.UpdatePolicy{Parallelism: svc.Update.Parallelism, Delay: svc.Update.Delay, Monitor: svc.Update.Monitor,
			StartFirst: svc.Update.Order == orderStartFirst},
		Healthcheck:     svc.Healthcheck.config(),
		StopGracePeriod: svc.StopTimeout,
	}
	for _, p := range svc.Ports {
		port, err := ParseSwarmPort(p)
		if err != nil {
			return spec, err
		}
		spec.Ports = append(spec.Ports, port)
	}
	maps.Copy(spec.Labels, svc.Labels)
	spec.Labels[LabelProject] = e.plan.Project
	spec.Labels[LabelService] = svc.Name
	spec.Labels[LabelGroup] = svc.Group
	b, _ := json.Marshal(spec)
	sum := sha256.Sum256(b)
	spec.Labels[LabelConfig] = hex.EncodeToString(sum[:8])
	return spec, nil
}

// deploySwarmGroup updates the Swarm services of one group in parallel;
// every one runs to its end before the group fails.
func (e *Engine) deploySwarmGroup(ctx context.Context, run, group string) error {
	services := e.plan.GroupServices(group)
	errs := make([]error, len(services))
	var wg sync.WaitGroup
	for i, svc := range services {
		wg.Go(func() {
			if err := e.deploySwarmService(ctx, run, svc); err != nil {
				errs[i] = fmt.Errorf("%s: %w", svc.Name, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Labels of the records a Swarm deploy leaves on the manager.
const (
	recordSwarmPrev    = "swarm-prev" // LabelRecord of a service's spec before an apply
	labelSwarmSpec     = "io.golive.swarm.prev-spec"
	labelSwarmExisted  = "io.golive.swarm.existed"
	labelSwarmPrevName = "io.golive.swarm.service"
)

// deploySwarmService records the service's current spec on the manager,
// then updates (or creates) it with Swarm's update paused on a failure,
// and follows the update until every task of the new spec runs healthy.
func (e *Engine) deploySwarmService(ctx context.Context, run string, svc *Service) error {
	start := time.Now()
	sd, err := e.swarmDocker()
	if err != nil {
		return err
	}
	name := e.plan.SwarmName(svc)
	ev := Event{Kind: EvServiceStart, Run: run, Service: svc.Name, Group: svc.Group, Image: svc.Image}
	end := func(err error) error {
		done := ev
		done.Kind, done.Result, done.DurationMS = EvServiceEnd, ResultDeployed, ms(time.Since(start))
		if err != nil {
			done.Result, done.Error = ResultFailed, err.Error()
		}
		e.Emit(done)
		return err
	}
	pin, err := e.pinned(ctx, sd, svc.Image)
	if err != nil {
		return err
	}
	ev.ImageID = pinnedID(pin.Ref)
	env, err := e.plan.ServiceEnv(svc, e.opts.Lookup)
	if err != nil {
		return err
	}
	spec, err := e.swarmSpec(svc, pin.Ref, env)
	if err != nil {
		return err
	}
	cur, err := e.inspectService(ctx, sd, name)
	if err != nil {
		return err
	}
	if cur != nil {
		ev.PrevImage, ev.PrevImageID = cur.Spec.Image, pinnedID(cur.Spec.Image)
		if cur.Spec.Labels[LabelConfig] == spec.Labels[LabelConfig] && (cur.Update.State == "updating" || cur.Update.State == "rollback_started") {
			return fmt.Errorf("Swarm is still moving service %s to this spec (%s), for an apply or revert that did not finish: "+
				"wait until `docker service inspect %s` shows it done and apply again, or put the recorded spec back with `golive revert`",
				name, strings.ReplaceAll(cur.Update.State, "_", " "), name)
		}
		if cur.Spec.Labels[LabelConfig] == spec.Labels[LabelConfig] && !strings.Contains(cur.Update.State, "paused") {
			e.Emit(ev)
			done := ev
			done.Kind, done.Result, done.Message = EvServiceEnd, ResultUnchanged, "the service already runs this spec"
			e.Emit(done)
			return nil
		}
	}
	if err := e.guard(ctx); err != nil {
		return err
	}
	labels := map[string]string{LabelProject: e.plan.Project, LabelRecord: recordSwarmPrev, LabelRun: run, LabelService: svc.Name,
		LabelGroup: svc.Group, LabelRelease: e.plan.Release, LabelActor: e.opts.Actor, labelSwarmPrevName: name}
	if cur != nil {
		labels[labelSwarmExisted], labels[labelSwarmSpec] = "true", string(cur.Current)
	}
	if err := e.opts.Docker.CreateRecord(ctx, e.plan.swarmRecordName(run, svc.Name), labels); err != nil {
		return fmt.Errorf("record the service's spec on the manager before changing it: %w", err)
	}
	e.Emit(ev)
	cctx, cancel := context.WithTimeout(ctx, swarmCallLimit)
	if cur == nil {
		_, err = sd.CreateService(cctx, spec)
	} else {
		err = sd.UpdateService(cctx, name, cur.Version, spec)
	}
	cancel()
	if err != nil {
		return end(err)
	}
	changed := ev
	changed.Kind, changed.Action, changed.Message = EvServiceChange, ActionCreated, "Swarm updates the service's tasks"
	if cur == nil {
		changed.Message = "Swarm creates the service's tasks"
	}
	e.Emit(changed)
	limit := svc.Health.Timeout + time.Duration((svc.Replicas+svc.Update.Parallelism-1)/svc.Update.Parallelism)*(svc.Update.Delay+svc.Update.Monitor)
	return end(e.awaitSwarm(ctx, sd, run, svc, name, svc.Health.Stable, limit, func(s *docker.Service) error {
		if s.Spec.Labels[LabelConfig] != spec.Labels[LabelConfig] {
			return fmt.Errorf("the service was changed by someone else during the update (its spec is no longer the plan's)")
		}
		return nil
	}))
}

func (p *Plan) swarmRecordName(run, service string) string {
	return "golive-swarm-" + p.Project + "-" + run + "-" + service
}

// inspectService reads a service; nil when it does not exist.
func (e *Engine) inspectService(ctx context.Context, sd SwarmDocker, name string) (*docker.Service, error) {
	ctx, cancel := context.WithTimeout(ctx, swarmCallLimit)
	defer cancel()
	s, err := sd.InspectService(ctx, name)
	if docker.IsNotFound(err) {
		return nil, nil
	}
	return s, err
}

// SwarmTasks is a service's tasks counted.
type SwarmTasks struct {
	Desired int // replicas asked for
	Running int // tasks running, of any spec
	Updated int // tasks running the current spec
	// Update is the state of Swarm's latest update: updating, paused,
	// completed, rollback_started…; "" when never updated.
	Update string
	Nodes  map[string]int // tasks running per node
}

// countTasks counts a service's tasks that Swarm wants running.
func countTasks(s *docker.Service, tasks []docker.Task) SwarmTasks {
	c := SwarmTasks{Desired: int(s.Spec.Replicas), Update: s.Update.State, Nodes: map[string]int{}}
	for _, t := range tasks {
		if t.State != "running" {
			continue
		}
		c.Running++
		c.Nodes[t.Node]++
		if t.UpToDate {
			c.Updated++
		}
	}
	return c
}

// Converged says every desired task runs the current spec (healthy: Swarm
// holds a task with a HEALTHCHECK in starting until it passes) and no
// update or rollback is under way.
func (c SwarmTasks) Converged() bool {
	switch c.Update {
	case "updating", "rollback_started":
		return false
	}
	return c.Updated == c.Desired && c.Running == c.Desired
}

// Text says it briefly: 3/4 running · updated 2 of 4 · updating.
func (c SwarmTasks) Text() string {
	s := fmt.Sprintf("%d/%d running", c.Running, c.Desired)
	if c.Updated != c.Desired || c.Update == "updating" {
		s += fmt.Sprintf(" · updated %d of %d", c.Updated, c.Desired)
	}
	if c.Update != "" && c.Update != "completed" {
		s += " · " + strings.ReplaceAll(c.Update, "_", " ")
	}
	return s
}

// Summary is Text with the tasks running per node: … (node1 2, node2 1).
func (c SwarmTasks) Summary() string {
	nodes := slices.Sorted(maps.Keys(c.Nodes))
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		parts[i] = fmt.Sprintf("%s %d", n, c.Nodes[n])
	}
	if len(parts) == 0 {
		return c.Text()
	}
	return c.Text() + " (" + strings.Join(parts, ", ") + ")"
}

func (c SwarmTasks) counts() map[string]int {
	m := map[string]int{"desired": c.Desired, "running": c.Running, "updated": c.Updated}
	for n, k := range c.Nodes {
		m["node:"+n] = k
	}
	return m
}

// awaitSwarm polls a service until its tasks converge and stay so for
// stable, journaling every task's changes and the counts. It fails when
// Swarm pauses the update or rollback, when check fails, after limit, or
// when the manager stops answering for reconnectFor.
func (e *Engine) awaitSwarm(ctx context.Context, sd SwarmDocker, run string, svc *Service, name string, stable, limit time.Duration, check func(*docker.Service) error) error {
	began := time.Now()
	seen := map[string]string{} // task ID → what was journaled of it
	first := true
	var lastCounts string
	var convergedAt, lostAt time.Time
	var last SwarmTasks
	for {
		s, tasks, err := e.pollService(ctx, sd, name)
		switch {
		case err != nil && (docker.IsConnectionLost(err) || errors.Is(err, context.DeadlineExceeded)) && ctx.Err() == nil:
			if lostAt.IsZero() {
				lostAt = time.Now()
				e.Emit(Event{Kind: EvSwarmTasks, Run: run, Service: svc.Name, Group: svc.Group, Result: last.Update, Counts: last.counts(),
					Error: err.Error(), Message: "the Swarm manager does not answer; still trying"})
			}
			if time.Since(lostAt) > reconnectFor {
				return fmt.Errorf("the Swarm manager stopped answering for %s while it changed the service (last seen: %s): %w", reconnectFor, last.Text(), err)
			}
		case err != nil:
			return err
		case s == nil:
			return fmt.Errorf("the service %s is gone from the manager", name)
		default:
			lostAt = time.Time{}
			last = countTasks(s, tasks)
			e.journalTasks(run, svc, tasks, seen, first)
			first = false
			if c, _ := json.Marshal(last.counts()); string(c)+last.Update != lastCounts {
				lastCounts = string(c) + last.Update
				e.Emit(Event{Kind: EvSwarmTasks, Run: run, Service: svc.Name, Group: svc.Group, Result: last.Update, Counts: last.counts(), Message: last.Text()})
			}
			if err := check(s); err != nil {
				return err
			}
			if failed := failedTasks(tasks); s.Update.State == "" && failed >= max(3, last.Desired) {
				return fmt.Errorf("the service's tasks keep failing (%d failed)%s", failed, taskErrors(tasks))
			}
			if strings.Contains(s.Update.State, "paused") {
				return fmt.Errorf("Swarm paused the %s: %s%s", strings.ReplaceAll(strings.TrimSuffix(s.Update.State, "_paused"), "paused", "update"),
					s.Update.Message, taskErrors(tasks))
			}
			if last.Converged() {
				if convergedAt.IsZero() {
					convergedAt = time.Now()
					e.Emit(Event{Kind: EvHealth, Run: run, Service: svc.Name, Result: ResultOK, DurationMS: ms(time.Since(began)),
						Message: fmt.Sprintf("all %d tasks run the service's current spec", last.Updated)})
				}
				if time.Since(convergedAt) >= stable {
					return nil
				}
			} else {
				convergedAt = time.Time{}
			}
		}
		if time.Since(began) > limit {
			return fmt.Errorf("not converged after %s: %s%s", limit.Round(time.Second), last.Text(), taskErrors(tasks))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(swarmPoll):
		}
	}
}

// pollService reads a service and its tasks within swarmCallLimit.
func (e *Engine) pollService(ctx context.Context, sd SwarmDocker, name string) (*docker.Service, []docker.Task, error) {
	s, err := e.inspectService(ctx, sd, name)
	if err != nil || s == nil {
		return s, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, swarmCallLimit)
	defer cancel()
	tasks, err := sd.ServiceTasks(ctx, name)
	return s, tasks, err
}

// journalTasks emits a service.task event for every task whose state
// changed since the last poll; the first poll only notes the tasks there.
func (e *Engine) journalTasks(run string, svc *Service, tasks []docker.Task, seen map[string]string, first bool) {
	for _, t := range tasks {
		now := t.State + "|" + t.Err
		if seen[t.ID] == now {
			continue
		}
		seen[t.ID] = now
		if first {
			continue
		}
		e.Emit(Event{Kind: EvSwarmTask, Run: run, Service: svc.Name, Group: svc.Group, ContainerID: t.ContainerID, Image: t.Image,
			Message: fmt.Sprintf("%s.%d@%s", svc.Name, t.Slot, t.Node), Result: t.State, Error: t.Err})
	}
}

// failedTasks counts the tasks of the current spec that failed or were
// rejected. A new service has no update for Swarm to pause, so these tell
// that it cannot start.
func failedTasks(tasks []docker.Task) int {
	n := 0
	for _, t := range tasks {
		if t.UpToDate && (t.State == "failed" || t.State == "rejected") {
			n++
		}
	}
	return n
}

// taskErrors lists the distinct errors of a service's failed tasks.
func taskErrors(tasks []docker.Task) string {
	var errs []string
	for _, t := range tasks {
		if t.Err != "" && !slices.Contains(errs, t.Err) {
			errs = append(errs, t.Err)
		}
	}
	sort.Strings(errs)
	if len(errs) == 0 {
		return ""
	}
	return "; task errors: " + strings.Join(errs, "; ")
}

// swarmStatus reports what each Swarm service runs now.
func (e *Engine) swarmStatus(ctx context.Context) ([]ServiceState, error) {
	sd, err := e.swarmDocker()
	if err != nil {
		return nil, err
	}
	var out []ServiceState
	for _, svc := range e.plan.Services {
		name := e.plan.SwarmName(svc)
		st := ServiceState{Service: svc.Name, Group: svc.Group, Container: name, Target: svc.Image, State: "missing"}
		s, tasks, err := e.pollService(ctx, sd, name)
		if err != nil {
			return nil, err
		}
		if s != nil {
			c := countTasks(s, tasks)
			st.Image, st.ImageID, st.State = s.Spec.Image, pinnedID(s.Spec.Image), fmt.Sprintf("%d/%d run", c.Running, c.Desired)
			if u := c.Update; strings.Contains(u, "paused") || u == "updating" || u == "rollback_started" {
				st.Health = strings.ReplaceAll(u, "_", " ")
			}
			// The image is the spec's: say how many tasks run it, as the
			// cockpit does, while not all of them do.
			switch {
			case c.Update == "updating" || c.Update == "rollback_started":
				st.State += fmt.Sprintf(" ↻ %d/%d", c.Updated, c.Desired)
			case strings.Contains(c.Update, "paused"):
				st.State += fmt.Sprintf(" ✗ paused %d/%d", c.Updated, c.Desired)
			case c.Updated != c.Desired:
				st.State += fmt.Sprintf(", %d/%d on it", c.Updated, c.Desired)
			}
		}
		out = append(out, st)
	}
	return out, nil
}
