package plans

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golive/golive/docker"
)

// swarmTarget is one Swarm service an apply changed, as recorded on the
// manager before the change.
type swarmTarget struct {
	record  string // the record's name
	service string // the plan's name of it
	group   string
	name    string // the Swarm service
	existed bool
	spec    docker.RecordedSpec // the spec before the apply, exactly
}

// swarmUndoable finds the apply to undo, run or else the latest one whose
// changes are not reverted, and the services it changed.
func (e *Engine) swarmUndoable(ctx context.Context, run string) (*revertJob, []swarmTarget, error) {
	d := e.opts.Docker
	prev, err := d.Records(ctx, map[string]string{LabelProject: e.plan.Project, LabelRecord: recordSwarmPrev})
	if err != nil {
		return nil, nil, err
	}
	done, err := d.Records(ctx, map[string]string{LabelProject: e.plan.Project, LabelRecord: recordReverted})
	if err != nil {
		return nil, nil, err
	}
	reverted := map[string]docker.Record{}
	for _, r := range done {
		reverted[r.Labels[LabelRevertOf]] = r
	}
	if run == "" {
		for _, r := range prev {
			if r.Labels[LabelRun] > run {
				if _, ok := reverted[r.Labels[LabelRun]]; !ok {
					run = r.Labels[LabelRun]
				}
			}
		}
	}
	if run == "" {
		return nil, nil, fmt.Errorf("%w: golive recorded no change to a Swarm service of project %s that is not reverted", ErrNothingToRevert, e.plan.Project)
	}
	if rec, ok := reverted[run]; ok {
		return nil, nil, fmt.Errorf("%w: the latest apply (%s, release %s) was already reverted by %s", ErrNothingToRevert, run, rec.Labels[LabelRelease], rec.Labels[LabelActor])
	}
	job := &revertJob{run: run}
	var targets []swarmTarget
	for _, r := range prev {
		if r.Labels[LabelRun] != run {
			continue
		}
		job.release = r.Labels[LabelRelease]
		targets = append(targets, swarmTarget{record: r.Name, service: r.Labels[LabelService], group: r.Labels[LabelGroup],
			name: r.Labels[labelSwarmPrevName], existed: r.Labels[labelSwarmExisted] == "true", spec: docker.RecordedSpec(r.Labels[labelSwarmSpec])})
	}
	if len(targets) == 0 {
		return nil, nil, fmt.Errorf("%w: apply %s changed no Swarm service", ErrNothingToRevert, run)
	}
	return job, targets, nil
}

// revertSwarm puts every Swarm service the apply changed back to its
// exact recorded spec. auto says it is that apply's on_failure action.
func (e *Engine) revertSwarm(ctx context.Context, run string, auto bool) error {
	start := time.Now()
	job, targets, err := e.swarmUndoable(ctx, run)
	if err != nil {
		return err
	}
	run = job.run
	if !auto {
		for _, t := range targets {
			job.targets = append(job.targets, revertTarget{Service: t.service, Existed: t.existed})
		}
		if err := e.confirmRemovals(ctx, job); err != nil {
			return err
		}
		if err := e.guard(ctx); err != nil {
			return err
		}
	}
	e.Emit(Event{Kind: EvRevertStart, Run: run, Message: fmt.Sprintf("%d Swarm services, to their recorded specs", len(targets))})
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() { errs[i] = e.revertSwarmService(ctx, run, t) })
	}
	wg.Wait()
	err = errors.Join(errs...)
	if err == nil {
		if rerr := e.opts.Docker.CreateRecord(ctx, e.plan.revertRecordName(recordReverted, run), e.recordLabels(recordReverted, job, "")); rerr != nil {
			err = fmt.Errorf("every service is back, but recording that on the manager failed: %w", rerr)
		} else {
			for _, t := range targets {
				e.opts.Docker.RemoveRecord(ctx, t.record)
			}
			e.pruneRecords(ctx, e.staleAfter(ctx, run))
		}
	}
	end := Event{Kind: EvRevertEnd, Run: run, Result: ResultReverted, DurationMS: ms(time.Since(start))}
	if err != nil {
		end.Result, end.Error = ResultIncomplete, err.Error()
	}
	e.Emit(end)
	if err != nil {
		return &RevertError{Run: run, Err: err, Finish: e.finishCommand()}
	}
	return nil
}

// revertSwarmService brings one service back to its recorded spec: by
// Swarm's own rollback when that spec is Swarm's previous one, else by
// setting it; a service the apply created is removed.
func (e *Engine) revertSwarmService(ctx context.Context, run string, t swarmTarget) (err error) {
	sd, err := e.swarmDocker()
	if err != nil {
		return err
	}
	start := time.Now()
	ev := Event{Kind: EvRevertService, Run: run, Service: t.service, Group: t.group, PrevImage: t.spec.Image(), PrevImageID: pinnedID(t.spec.Image())}
	defer func() {
		ev.DurationMS = ms(time.Since(start))
		if err != nil {
			ev.Result, ev.Error = ResultFailed, err.Error()
			err = fmt.Errorf("revert %s: %w", t.service, err)
		}
		e.Emit(ev)
	}()
	cur, err := e.inspectService(ctx, sd, t.name)
	if err != nil {
		return err
	}
	if cur != nil {
		ev.Image, ev.ImageID = cur.Spec.Image, pinnedID(cur.Spec.Image)
	}
	cctx, cancel := context.WithTimeout(ctx, swarmCallLimit)
	defer cancel()
	if !t.existed {
		if cur != nil {
			if err := sd.RemoveService(cctx, t.name); err != nil {
				return err
			}
		}
		ev.Result, ev.Message = ResultReverted, "removed: the service did not exist before"
		return nil
	}
	if cur == nil {
		return fmt.Errorf("the service %s is gone from the manager; its recorded spec is kept in the record %s", t.name, t.record)
	}
	switch {
	case cur.Current.Equal(t.spec):
		ev.Message = "already at its recorded spec"
	case cur.Previous != nil && cur.Previous.Equal(t.spec):
		ev.Message = "Swarm rollback: the recorded spec is Swarm's previous spec"
		err = sd.RollbackService(cctx, t.name, cur.Version)
	default:
		ev.Message = "set to the recorded spec (Swarm's previous spec is another one)"
		err = sd.RestoreService(cctx, t.name, cur.Version, t.spec)
	}
	if err != nil {
		return err
	}
	svc := &Service{Name: t.service, Group: t.group}
	limit := DefaultHealthTimeout
	if p := e.plan.Service(t.service); p != nil && p.Update != nil {
		limit += time.Duration(p.Replicas) * (p.Update.Delay + p.Update.Monitor)
	}
	err = e.awaitSwarm(ctx, sd, run, svc, t.name, e.plan.Revert.Stable, limit, func(s *docker.Service) error {
		if s.Update.State == "updating" || s.Update.State == "rollback_started" || s.Current.Equal(t.spec) {
			return nil
		}
		return errors.New("the service was changed by someone else during the revert (its spec is no longer the recorded one)")
	})
	if err != nil {
		return err
	}
	now, err := e.inspectService(ctx, sd, t.name)
	if err != nil {
		return err
	}
	if now == nil || !now.Current.Equal(t.spec) {
		return errors.New("the service's spec differs from the recorded one after the revert")
	}
	ev.Result = ResultReverted
	return nil
}

// changedAnything says, by ErrNothingToRevert, that apply run changed
// nothing a revert would put back.
func (e *Engine) changedAnything(ctx context.Context, run string) error {
	if e.plan.Docker.Swarm {
		_, _, err := e.swarmUndoable(ctx, run)
		return err
	}
	_, err := e.undoable(ctx, run)
	return err
}
