package plans

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golive/golive/docker"
)

// Outcome is how an apply ended.
type Outcome string

// Outcomes of an apply.
const (
	Deployed Outcome = "deployed" // every step passed
	Failed   Outcome = "failed"   // a step failed and what it changed was left as is
	Reverted Outcome = "reverted" // a step failed and every changed service runs its previous image again, past its gate
	Aborted  Outcome = "aborted"  // nothing was changed: lock, preload or environment problem
	// RevertIncomplete: a step failed and the revert could not put every
	// changed service back; `golive revert` finishes it.
	RevertIncomplete Outcome = "revert incomplete"
)

// ApplyError says how a failed apply ended and what state it left.
type ApplyError struct {
	Outcome Outcome
	Err     error  // what went wrong
	Revert  error  // what went wrong while reverting, if anything
	State   string // what each service runs now, for the operator
	// Unchanged says the release failed before it changed anything.
	Unchanged bool
	// Interrupted says the release was stopped by a signal.
	Interrupted bool
	// Finish is the command that puts the previous images back.
	Finish string
}

func (e *ApplyError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	switch e.Outcome {
	case Reverted:
		if e.Unchanged {
			b.WriteString("\nnothing was changed, so there was nothing to revert")
		} else {
			b.WriteString("\nreverted: every changed service runs its previous image again and passed its own health gate")
		}
	case RevertIncomplete:
		fmt.Fprintf(&b, "\n%v", e.Revert)
	case Failed:
		var lost *LockLostError
		var taken *TakeoverError
		switch {
		case errors.As(e.Err, &lost):
			b.WriteString("\nnothing was reverted: whoever broke the lock now decides; `" + e.Finish + "` puts the previous images back")
		case errors.As(e.Err, &taken):
			b.WriteString("\nits revert puts back what this apply changed")
		case e.Unchanged:
			b.WriteString("\nnothing had been changed yet")
		default:
			b.WriteString("\nleft as it is (on_failure: stop); `" + e.Finish + "` puts the previous images back")
		}
	}
	if e.State != "" {
		b.WriteString("\n" + e.State)
	}
	return b.String()
}

func (e *ApplyError) Unwrap() error { return e.Err }

// NewRunID names an apply; IDs sort in time order.
func NewRunID(now time.Time) string { return now.UTC().Format("20060102T150405.000000000Z") }

// Apply carries out the plan's steps under the release lock. Images are
// preloaded before the first step; when a step fails, on_failure decides
// whether what changed is reverted.
func (e *Engine) Apply(ctx context.Context) error {
	run := NewRunID(e.opts.Now())
	start := time.Now()
	e.Emit(Event{Kind: EvApplyStart, Run: run, Message: fmt.Sprintf("%d steps, on_failure: %s", len(e.plan.ReleaseSteps()), e.plan.OnFailure)})
	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	e.mu.Lock()
	e.run, e.applyCancel, e.stopRevert, e.takenOver = run, cancel, false, nil
	e.cut, e.cutCh = nil, make(chan struct{})
	e.mu.Unlock()
	err := e.apply(inner, run)
	e.mu.Lock()
	e.applyCancel, e.cut, e.cutCh = nil, nil, nil
	e.mu.Unlock()
	end := Event{Kind: EvApplyEnd, Run: run, Result: string(Deployed), DurationMS: ms(time.Since(start))}
	var aerr *ApplyError
	if errors.As(err, &aerr) {
		aerr.Interrupted = ctx.Err() != nil
		end.Result, end.Error = string(aerr.Outcome), aerr.Error()
	} else if err != nil {
		end.Result, end.Error = string(Aborted), err.Error()
	}
	e.Emit(end)
	return err
}

func (e *Engine) apply(ctx context.Context, run string) error {
	for _, svc := range e.plan.Services {
		if _, err := e.plan.ServiceEnv(svc, e.opts.Lookup); err != nil {
			return err
		}
	}
	if err := e.Lock(ctx, "apply"); err != nil {
		return err
	}
	defer e.Unlock()
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		e.watchTakeover(watchCtx)
	}()
	defer func() { stopWatch(); <-watched }()
	if err := e.checkSettled(ctx); err != nil {
		return err
	}
	if err := e.refuseHeld(ctx); err != nil {
		return err
	}
	if err := e.sweepWarm(ctx); err != nil {
		return err
	}
	if err := e.Preload(ctx); err != nil {
		return err
	}
	steps := e.plan.ReleaseSteps()
	var open []*overlapped
	failed := func(n int, err error) error {
		e.stepFailed(n, steps[n-1].Title(), err)
		settle(open)
		if first := e.firstFailure(); first != nil {
			err = first
		}
		if t := e.takeover(); t != nil {
			err = t
		}
		// The next group's containers may still be being created
		// ahead: they go first, so no revert races with them.
		if derr := e.discardAhead(); derr != nil {
			err = errors.Join(err, derr)
		}
		return e.fail(run, err, n)
	}
	for i, step := range steps {
		n := i + 1
		if step.Kind() != StepDeploy {
			if err := settle(open); err != nil {
				return failed(n-1, err)
			}
			open = nil
		}
		err := e.guard(ctx)
		switch {
		case err != nil:
		case step.Kind() == StepDeploy && n < len(steps) && steps[n].Kind() == StepDeploy:
			o := e.overlap(ctx, run, n, step)
			open = append(open, o)
			err = o.failedYet()
		default:
			err = e.runStep(ctx, run, n, step, nil)
		}
		if err == nil {
			err = e.cutErr() // an open window failed meanwhile
		}
		if err != nil {
			return failed(n, err)
		}
	}
	if err := settle(open); err != nil {
		return failed(len(steps), err)
	}
	return nil
}

// overlapped is a deploy step that goes on while the next deploy step
// runs: its services passed their first check, and their stable windows
// (and error watch) run on.
type overlapped struct {
	done chan struct{}
	err  error
}

// overlap runs deploy step n until its services have passed their first
// check, or it ended, and lets it run on.
func (e *Engine) overlap(ctx context.Context, run string, n int, step Step) *overlapped {
	o := &overlapped{done: make(chan struct{})}
	passed := make(chan struct{})
	go func() {
		defer close(o.done)
		if o.err = e.runStep(ctx, run, n, step, passed); o.err != nil {
			e.stepFailed(n, step.Title(), o.err)
		}
	}()
	select {
	case <-passed:
	case <-o.done:
	}
	return o
}

// failedYet is the step's error when it has already ended.
func (o *overlapped) failedYet() error {
	select {
	case <-o.done:
		return o.err
	default:
		return nil
	}
}

// settle waits until the overlapped steps have ended.
func settle(open []*overlapped) error {
	var errs []error
	for _, o := range open {
		<-o.done
		errs = append(errs, o.err)
	}
	return errors.Join(errs...)
}

// stepRun is a deploy step as the apply runs it: a service that fails
// stops the others at once (see stepFailed), and passed, when not nil, is
// closed once every service has passed its first check.
type stepRun struct {
	e      *Engine
	n      int
	title  string
	passed chan struct{}
}

func (s *stepRun) firstPassed() {
	if s.passed != nil {
		close(s.passed)
	}
}

func (s *stepRun) failed(err error) {
	s.e.stepFailed(s.n, s.title, fmt.Errorf("step %d (%s): %w", s.n, s.title, err))
}

// StepFailedError is why a step was stopped: another step of the apply
// (or a service of its own group) failed first.
type StepFailedError struct {
	Step  int
	Title string
	Err   error // that failure
}

func (s *StepFailedError) Error() string {
	return fmt.Sprintf("stopped: step %d (%s) failed", s.Step, s.Title)
}

// stepFailed records the apply's first failure and stops what still runs:
// health gates and stable windows end, and no service begins to change
// (one whose containers are being switched finishes the switch, so none
// is left half-switched). A step stopped by the operator records nothing:
// the cancelled context stops everything already.
func (e *Engine) stepFailed(n int, title string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cut != nil || e.cutCh == nil || errors.Is(err, context.Canceled) {
		return
	}
	var stopped *StepFailedError
	if errors.As(err, &stopped) {
		return // stopped by the first failure: not one itself
	}
	e.cut = &StepFailedError{Step: n, Title: title, Err: err}
	close(e.cutCh)
}

// cutSignal is closed when a step of the running apply failed; nil outside
// an apply.
func (e *Engine) cutSignal() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cutCh
}

// cutErr is the error that stops the apply's steps once one failed.
func (e *Engine) cutErr() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cut == nil {
		return nil
	}
	return e.cut
}

// firstFailure is the apply's first failure, if a step failed.
func (e *Engine) firstFailure() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cut == nil {
		return nil
	}
	return e.cut.Err
}

// dropNext removes the new container of a service that another step's
// failure stopped before it changed anything, so none is left as .next;
// after any other refusal (the lock was lost) nothing more is changed.
func (e *Engine) dropNext(ev Event, c *change, err error) error {
	var stopped *StepFailedError
	if !errors.As(err, &stopped) {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if rerr := e.opts.Docker.Remove(ctx, c.id); rerr != nil {
		return errors.Join(err, fmt.Errorf("%s was left behind: %w", c.next.Name, rerr))
	}
	e.Emit(withAction(ev, "", "removed "+c.next.Name+": the release stopped before the service changed"))
	return err
}

// mayBegin says whether a service may begin to change what runs: no step
// of the apply has failed, and the engine still holds its lock.
func (e *Engine) mayBegin(ctx context.Context) error {
	if err := e.cutErr(); err != nil {
		return err
	}
	return e.guard(ctx)
}

// reconnectFor bounds how long the automatic revert waits for a Docker
// engine that stopped answering.
const reconnectFor = 30 * time.Second

// fail applies the on_failure policy after step n failed, once the traffic
// the steps held is let through. Reverting uses a fresh context: an
// interrupted release must still be put back. A release whose lock was
// broken changes nothing more.
func (e *Engine) fail(run string, err error, n int) *ApplyError {
	steps := e.plan.ReleaseSteps()
	for k := n + 1; k <= len(steps); k++ {
		e.Emit(Event{Kind: EvStepEnd, Run: run, Step: k, StepName: steps[k-1].Title(), StepKind: steps[k-1].Kind(), Result: ResultSkipped})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if herr := e.letThrough(ctx, run, n, err); herr != nil {
		err = errors.Join(err, herr)
	}
	aerr := &ApplyError{Outcome: Failed, Err: err, Finish: e.finishCommand()}
	ranCommands := false
	for _, s := range steps[:n-1] {
		ranCommands = ranCommands || s.Kind() == StepRun
	}
	var lost *LockLostError
	var taken *TakeoverError
	switch {
	case errors.As(err, &lost), errors.As(err, &taken):
	case e.plan.OnFailure == "revert" || e.stopRequested():
		aerr.Outcome = Reverted
		switch rerr := e.revertRetrying(ctx, run); {
		case errors.Is(rerr, ErrNothingToRevert):
			aerr.Unchanged = !ranCommands
		case rerr != nil:
			aerr.Outcome, aerr.Revert = RevertIncomplete, rerr
		}
	default:
		uerr := e.changedAnything(ctx, run)
		aerr.Unchanged = errors.Is(uerr, ErrNothingToRevert) && !ranCommands
	}
	aerr.State = e.stateSummary(ctx)
	return aerr
}

// revertRetrying reverts run; while the Docker engine does not answer it
// tries again, backing off, for up to reconnectFor. The revert resumes
// where the last try stopped.
func (e *Engine) revertRetrying(ctx context.Context, run string) error {
	deadline := time.Now().Add(reconnectFor)
	backoff := 250 * time.Millisecond
	for {
		err := e.revert(ctx, run, true)
		left := time.Until(deadline)
		if err == nil || !docker.IsConnectionLost(err) || left <= 0 {
			return e.asIncomplete(run, err)
		}
		wait := min(backoff, left)
		e.Emit(Event{Kind: EvRevertRetry, Run: run, Error: err.Error(),
			Message: fmt.Sprintf("the Docker engine does not answer; trying the revert again until %s (next try in %s)", deadline.Local().Format("15:04:05"), wait.Round(10*time.Millisecond))})
		select {
		case <-ctx.Done():
			return e.asIncomplete(run, err)
		case <-time.After(wait):
		}
		backoff = min(2*backoff, 4*time.Second)
	}
}

// asIncomplete gives a revert that failed before it could begin (the
// engine gone from the start, say) the same shape as one cut short, so
// that the operator is told the command that finishes it.
func (e *Engine) asIncomplete(run string, err error) error {
	var rerr *RevertError
	if err == nil || errors.Is(err, ErrNothingToRevert) || errors.As(err, &rerr) {
		return err
	}
	return &RevertError{Run: run, Err: err, Finish: e.finishCommand()}
}

// checkSettled refuses to start while an interrupted apply left a service
// between two containers.
func (e *Engine) checkSettled(ctx context.Context) error {
	if e.hosts != nil {
		return e.eachHost(func(h *Engine) error { return h.checkSettled(ctx) })
	}
	for _, svc := range e.plan.Services {
		name := svc.ContainerName(e.plan.Project)
		next, err := e.opts.Docker.Inspect(ctx, name+suffixNext)
		if err != nil {
			return err
		}
		if next != nil {
			return fmt.Errorf("service %s is half-deployed: an interrupted apply or revert (of apply %s, by %s) left %s behind; run `%s` first",
				svc.Name, next.Labels[LabelRun], next.Labels[LabelActor], name+suffixNext, e.finishCommand())
		}
	}
	return nil
}

// ServiceState is what one service runs now.
type ServiceState struct {
	Service     string
	Group       string
	Container   string
	ContainerID string
	Image       string
	ImageID     string
	State       string // running, exited, missing, …
	Health      string
	Target      string // the plan's image
	Run         string // the apply that created the container
	// Warm is the previous version still running after a blue/green
	// switch, until WarmUntil: a revert switches back to it at once.
	Warm      string
	WarmUntil time.Time
	// Held is how the proxy holds the service's route now ("paused" or
	// "in maintenance"), "" when it lets the traffic through.
	Held string
	// Traffic says where the proxy sends the service's traffic when that
	// is not Container (another of its containers, or nowhere), and how to
	// finish; "" when the proxy sends it to Container or the service has no proxy:.
	Traffic string
}

// Status reports what each of the plan's services runs now.
func (e *Engine) Status(ctx context.Context) ([]ServiceState, error) {
	if e.hosts != nil {
		return e.statusHosts(ctx), nil
	}
	if e.plan.Docker.Swarm {
		return e.swarmStatus(ctx)
	}
	routes, proxyRuns, err := e.proxyRoutes(ctx)
	if err != nil {
		return nil, err
	}
	held := e.heldIn(routes)
	var out []ServiceState
	for _, svc := range e.plan.Services {
		st := ServiceState{Service: svc.Name, Group: svc.Group, Container: svc.ContainerName(e.plan.Project), Target: svc.Image, State: "missing"}
		ct, err := e.opts.Docker.Inspect(ctx, st.Container)
		if err != nil {
			return nil, err
		}
		if ct != nil {
			st.ContainerID, st.Image, st.ImageID, st.State, st.Health, st.Run = ct.ID, ct.Image, ct.ImageID, ct.State, ct.Health, ct.Labels[LabelRun]
		}
		if svc.Proxy != nil {
			serving, err := e.trafficStatus(ctx, svc, &st, routes, proxyRuns)
			if err != nil {
				return nil, err
			}
			if err := e.warmStatus(ctx, &st, serving); err != nil {
				return nil, err
			}
			for _, h := range held {
				if h.svc == svc {
					st.Held = h.state()
				}
			}
		}
		out = append(out, st)
	}
	return out, nil
}

func (e *Engine) stateSummary(ctx context.Context) string {
	states, err := e.Status(ctx)
	if err != nil {
		return "could not read the services' state: " + err.Error()
	}
	var b strings.Builder
	b.WriteString("services now:")
	for _, s := range states {
		fmt.Fprintf(&b, "\n  %-12s %-8s %s", s.Service, s.State, s.Image)
		if s.Health != "" {
			b.WriteString(" (" + s.Health + ")")
		}
	}
	return b.String()
}
