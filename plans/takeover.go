package plans

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/golive/golive/docker"
)

// A revert started while an apply runs can take over: it leaves a takeover
// record naming the apply's lock on the Docker host, the apply notices it
// within takeoverPoll, stops where it is without reverting and frees the
// lock, and the revert takes the lock and puts back what the apply changed.

const (
	recordTakeover    = "takeover"
	labelTakeoverLock = "io.golive.takeover.lock" // the lock container of the apply asked to stop
	labelTakeoverPID  = "io.golive.takeover.pid"
	takeoverPoll      = 250 * time.Millisecond
	// takeoverWait bounds how long a revert waits for the apply to let go.
	takeoverWait = 2 * time.Minute
)

func (p *Plan) takeoverName() string { return "golive-takeover-" + p.Project }

// TakeoverError says a revert from elsewhere stopped this apply to undo it.
type TakeoverError struct {
	By  string // who reverts
	PID int    // the reverting process
}

func (e *TakeoverError) Error() string {
	return fmt.Sprintf("stopped: %s (process %d) took over with golive revert", e.By, e.PID)
}

func (e *Engine) takeover() *TakeoverError {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.takenOver
}

func (e *Engine) stopRequested() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stopRevert
}

// StopApply stops the running apply where it is and reverts what it
// changed, whatever on_failure says. It returns at once; Apply returns
// when the revert is done. Without a running apply it does nothing.
func (e *Engine) StopApply() {
	e.mu.Lock()
	cancel := e.applyCancel
	if cancel != nil {
		e.stopRevert = true
	}
	e.mu.Unlock()
	if cancel != nil {
		e.Emit(Event{Kind: EvOperator, Run: e.currentRun(), Message: "stop the apply and revert what it changed"})
		cancel()
	}
}

// watchTakeover polls for a takeover record addressed to this engine's
// lock, and stops the apply when one appears.
func (e *Engine) watchTakeover(ctx context.Context) {
	if e.hosts != nil {
		return // a revert across hosts waits for the apply's locks
	}
	t := time.NewTicker(takeoverPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		e.mu.Lock()
		lock := e.lockID
		e.mu.Unlock()
		recs, err := e.opts.Docker.Records(ctx, map[string]string{LabelProject: e.plan.Project, LabelRecord: recordTakeover})
		if err != nil || len(recs) == 0 || lock == "" || recs[0].Labels[labelTakeoverLock] != lock {
			continue
		}
		rec := recs[0]
		pid, _ := strconv.Atoi(rec.Labels[labelTakeoverPID])
		taken := &TakeoverError{By: rec.Labels[LabelActor], PID: pid}
		e.mu.Lock()
		e.takenOver = taken
		cancel := e.applyCancel
		e.mu.Unlock()
		e.Emit(Event{Kind: EvLockTakeover, Run: e.currentRun(), Message: taken.Error() + "; stopping here, without reverting"})
		if cancel != nil {
			cancel()
		}
		return
	}
}

// takeOver asks the apply holding the lock to stop, waits for it to let
// go, and takes the lock for a revert.
func (e *Engine) takeOver(ctx context.Context, held *docker.HeldError) error {
	d := e.opts.Docker
	name := e.plan.takeoverName()
	if err := d.RemoveRecord(ctx, name); err != nil { // an earlier request, for another lock
		return err
	}
	if err := d.CreateRecord(ctx, name, map[string]string{LabelProject: e.plan.Project, LabelRecord: recordTakeover,
		LabelActor: e.opts.Actor, labelTakeoverLock: held.ID, labelTakeoverPID: strconv.Itoa(os.Getpid())}); err != nil {
		return err
	}
	defer d.RemoveRecord(context.WithoutCancel(ctx), name)
	e.Emit(Event{Kind: EvLockTakeover, Message: fmt.Sprintf("asked the apply of %s (process %d on %s, since %s) to stop; this revert takes over",
		held.Holder, held.PID, held.Host, held.Since.UTC().Format(time.RFC3339))})
	deadline := time.Now().Add(takeoverWait)
	for {
		now, err := d.Lock(ctx, e.plan.LockName())
		if err != nil {
			return err
		}
		if now == nil || now.ID != held.ID || !HolderAlive(*now) {
			return e.Lock(ctx, "revert")
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w; it did not stop within %s of being asked to", held, takeoverWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(takeoverPoll):
		}
	}
}
