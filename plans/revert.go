package plans

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golive/golive/docker"
)

// ErrNothingToRevert says no apply is left to undo.
var ErrNothingToRevert = errors.New("nothing to revert")

// revertTarget is one service changed by the apply being undone.
type revertTarget struct {
	service string
	group   string
	name    string             // the service's container name
	changed []docker.Container // the containers that apply created (normally one)
}

// undoable finds the most recent apply that changed something and has not
// been reverted, and the services it changed.
func (e *Engine) undoable(ctx context.Context, run string) (string, []revertTarget, error) {
	d := e.opts.Docker
	all, err := d.List(ctx, map[string]string{LabelProject: e.plan.Project})
	if err != nil {
		return "", nil, err
	}
	// Only a service's current or about-to-be-current container says which
	// apply changed it last; a kept .prev container speaks of older ones.
	current := func(c docker.Container) bool {
		base := c.Labels[LabelContainer]
		return c.Labels[LabelRun] != "" && base != "" && (c.Name == base || c.Name == base+suffixNext)
	}
	if run == "" {
		for _, c := range all {
			if current(c) && c.Labels[LabelRun] > run {
				run = c.Labels[LabelRun]
			}
		}
		if run == "" {
			return "", nil, fmt.Errorf("%w: no container of project %s was deployed by golive", ErrNothingToRevert, e.plan.Project)
		}
		rec, err := d.ReadRecord(ctx, e.plan.recordName())
		if err != nil {
			return "", nil, err
		}
		if rec != nil && rec[LabelReverted] >= run {
			return "", nil, fmt.Errorf("%w: the latest apply (%s, release %s) was already reverted by %s", ErrNothingToRevert, run, rec[LabelRelease], rec[LabelActor])
		}
	}
	byName := map[string]int{} // container name → index in targets
	var targets []revertTarget
	for _, c := range all {
		if !current(c) || c.Labels[LabelRun] != run {
			continue
		}
		base := c.Labels[LabelContainer]
		i, ok := byName[base]
		if !ok {
			i = len(targets)
			byName[base] = i
			targets = append(targets, revertTarget{service: c.Labels[LabelService], group: c.Labels[LabelGroup], name: base})
		}
		targets[i].changed = append(targets[i].changed, c)
	}
	if len(targets) == 0 {
		return "", nil, fmt.Errorf("%w: apply %s changed no container", ErrNothingToRevert, run)
	}
	return run, targets, nil
}

// revert puts back what ran before the apply run (the most recent one when
// run is ""), group by group in reverse order.
func (e *Engine) revert(ctx context.Context, run string) error {
	start := time.Now()
	run, targets, err := e.undoable(ctx, run)
	if err != nil {
		return err
	}
	e.Emit(Event{Kind: EvRevertStart, Run: run, Message: fmt.Sprintf("%d services", len(targets))})
	groups := e.plan.Groups()
	// Services of groups no longer in the plan go first, then the plan's groups backwards.
	rank := func(g string) int {
		if i := slices.Index(groups, g); i >= 0 {
			return i
		}
		return len(groups)
	}
	slices.SortStableFunc(targets, func(a, b revertTarget) int { return rank(b.group) - rank(a.group) })
	var errs []error
	for i := 0; i < len(targets); {
		j := i
		for j < len(targets) && targets[j].group == targets[i].group {
			j++
		}
		groupErrs := make([]error, j-i)
		var wg sync.WaitGroup
		for k := i; k < j; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				groupErrs[k-i] = e.revertService(ctx, run, targets[k])
			}()
		}
		wg.Wait()
		errs = append(errs, groupErrs...)
		i = j
	}
	err = errors.Join(errs...)
	// Only a complete revert is recorded: after a partial one, revert again
	// retries the services still on the apply's containers.
	if err == nil {
		if rerr := e.opts.Docker.WriteRecord(ctx, e.plan.recordName(), map[string]string{
			LabelProject: e.plan.Project, LabelReverted: run, LabelRelease: e.plan.Release, LabelActor: e.opts.Actor,
		}); rerr != nil {
			err = fmt.Errorf("record the revert on the Docker host: %w", rerr)
		}
	}
	end := Event{Kind: EvRevertEnd, Run: run, Result: ResultReverted, DurationMS: ms(time.Since(start))}
	if err != nil {
		end.Result, end.Error = ResultFailed, err.Error()
	}
	e.Emit(end)
	return err
}

// revertService removes what the apply created for one service and brings
// back the container it replaced: the kept one if it is still there,
// otherwise a new one from the previous image ID and configuration.
func (e *Engine) revertService(ctx context.Context, run string, t revertTarget) (err error) {
	d := e.opts.Docker
	ev := Event{Kind: EvRevertService, Run: run, Service: t.service, Group: t.group}
	defer func() {
		if err != nil {
			ev.Result, ev.Error = ResultFailed, err.Error()
			e.Emit(ev)
			err = fmt.Errorf("revert %s: %w", t.service, err)
		}
	}()
	labels := t.changed[0].Labels
	ev.ContainerID, ev.Image, ev.ImageID = t.changed[0].ID, t.changed[0].Image, t.changed[0].ImageID
	ev.PrevContainerID, ev.PrevImage, ev.PrevImageID = labels[LabelPrevID], labels[LabelPrevImage], labels[LabelPrevImageID]
	existed := labels[LabelPrevImageID] != ""
	// Make sure what ran before can come back before taking anything down.
	var prev *docker.Container
	var spec docker.Spec
	if existed {
		if prev, err = d.Inspect(ctx, labels[LabelPrevID]); err != nil {
			return err
		}
		if prev == nil {
			if err := json.Unmarshal([]byte(labels[LabelPrevSpec]), &spec); err != nil {
				return fmt.Errorf("the previous container is gone and its configuration was not recorded (%v); the service was left as it is", err)
			}
			if have, err := d.ImageID(ctx, labels[LabelPrevImageID]); err != nil {
				return err
			} else if have == "" {
				return fmt.Errorf("the previous container is gone and its image %s (%s) is no longer on the Docker host; the service was left as it is: pull that image by digest and run revert again", labels[LabelPrevImage], docker.ShortID(labels[LabelPrevImageID]))
			}
		}
	}
	for _, c := range t.changed {
		if err := d.Remove(ctx, c.ID); err != nil {
			return err
		}
	}
	e.Emit(Event{Kind: EvServiceChange, Action: ActionStopped, Run: run, Service: t.service, Group: t.group, ContainerID: ev.ContainerID, Message: "removed the new container " + docker.ShortID(ev.ContainerID)})
	if !existed {
		ev.Result, ev.Message = ResultReverted, "removed: the service did not exist before"
		e.Emit(ev)
		return nil
	}
	var id string
	if prev != nil {
		id = prev.ID
		if prev.Name != t.name {
			if err := d.Rename(ctx, id, t.name); err != nil {
				return err
			}
		}
		ev.Message = "restarted the kept container " + docker.ShortID(id)
	} else {
		spec.Name, spec.Image = t.name, labels[LabelPrevImageID]
		if id, err = d.Create(ctx, spec); err != nil {
			return err
		}
		ev.Message = "recreated from image " + docker.ShortID(spec.Image) + " (the kept container was gone)"
	}
	if err := d.Start(ctx, id); err != nil {
		return err
	}
	if svc := e.plan.Service(t.service); svc != nil {
		if err := e.waitHealthy(ctx, svc, id); err != nil {
			return fmt.Errorf("the previous version is back but not healthy: %w", err)
		}
	}
	ev.Result = ResultReverted
	e.Emit(ev)
	return nil
}

// Revert undoes the most recent apply that changed something, under the lock.
func (e *Engine) Revert(ctx context.Context) error {
	if err := e.Lock(ctx, "revert"); err != nil {
		return err
	}
	defer e.Unlock()
	err := e.revert(ctx, "")
	if errors.Is(err, ErrNothingToRevert) {
		e.Emit(Event{Kind: EvRevertEnd, Result: ResultNothing, Message: strings.TrimPrefix(err.Error(), ErrNothingToRevert.Error()+": ")})
	}
	return err
}
