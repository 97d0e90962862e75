package plans

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golive/golive/docker"
)

// ErrNothingToRevert says no apply is left to undo.
var ErrNothingToRevert = errors.New("nothing to revert")

// nothingLeftError is ErrNothingToRevert on an engine whose latest apply,
// run, has nothing left to undo there.
type nothingLeftError struct{ run, why string }

func (e *nothingLeftError) Error() string { return ErrNothingToRevert.Error() + ": " + e.why }
func (e *nothingLeftError) Unwrap() error { return ErrNothingToRevert }

// ErrRemovalNotConfirmed says a revert would remove a service that did not
// exist before, and nobody could be asked whether to.
var ErrRemovalNotConfirmed = errors.New("the revert would remove a service and there is no terminal to ask on")

// Values of LabelRecord: a revert leaves a "reverting" record (a labelled
// volume, see docker.Record) when it
// starts and a "reverted" one when every service is back, so a revert cut
// short is found and finished by the next one instead of being stacked on.
const (
	recordReverting = "reverting"
	recordReverted  = "reverted"
)

func (p *Plan) revertRecordName(state, run string) string {
	return "golive-" + state + "-" + p.Project + "-" + run
}

// revertTarget is one service changed by the apply being undone, and what
// to put back. It is recorded on the Docker host when a revert starts.
type revertTarget struct {
	Service     string  `json:"service"`
	Group       string  `json:"group"`
	Name        string  `json:"name"` // the service's container name
	Existed     bool    `json:"existed"`
	PrevID      string  `json:"prev_id,omitempty"`
	PrevImage   string  `json:"prev_image,omitempty"`
	PrevImageID string  `json:"prev_image_id,omitempty"`
	PrevSpec    string  `json:"prev_spec,omitempty"`
	Gate        *Health `json:"gate,omitempty"` // the previous container's own gate; nil: none recorded
	// Proxy is the apply's `proxy:` for the service: its traffic goes
	// through the proxy, and a revert switches it back.
	Proxy       *ServiceProxy `json:"proxy,omitempty"`
	StopTimeout int           `json:"stop_timeout,omitempty"`
}

// revertJob is the apply a revert undoes.
type revertJob struct {
	run     string
	release string
	targets []revertTarget
	resumed bool     // an earlier revert of this apply was cut short
	stale   []string // records no longer needed: of finished reverts, and "reverted" ones of older applies
}

// undoable finds the apply to undo: run, or else the latest apply that is
// not completely reverted. A revert of it that was cut short is resumed.
func (e *Engine) undoable(ctx context.Context, run string) (*revertJob, error) {
	if e.hosts != nil {
		return e.undoableHosts(ctx, run)
	}
	d := e.opts.Docker
	var all []docker.Container
	var records []docker.Record
	var listErr, recordsErr error
	var read sync.WaitGroup
	read.Go(func() { all, listErr = d.List(ctx, map[string]string{LabelProject: e.plan.Project}) })
	read.Go(func() { records, recordsErr = d.Records(ctx, map[string]string{LabelProject: e.plan.Project}) })
	read.Wait()
	if err := errors.Join(listErr, recordsErr); err != nil {
		return nil, err
	}
	started := map[string]docker.Record{}
	done := map[string]docker.Record{}
	latest := ""
	for _, rec := range records {
		r := rec.Labels[LabelRevertOf]
		switch rec.Labels[LabelRecord] {
		case recordReverting:
			started[r] = rec
		case recordReverted:
			done[r] = rec
		default:
			continue
		}
		if r > latest {
			latest = r
		}
	}
	for _, c := range all {
		r := ""
		switch {
		case c.Labels[LabelReverted] != "": // the record container of earlier versions
			r = c.Labels[LabelReverted]
			done[r] = docker.Record{Name: c.Name, Labels: c.Labels}
		case c.Labels[LabelContainer] != "" && !kept(c):
			// A kept .prev container speaks of older applies.
			r = c.Labels[LabelRun]
		}
		if r > latest {
			latest = r
		}
	}
	if run == "" {
		run = latest
	}
	if run == "" {
		return nil, fmt.Errorf("%w: no container of project %s was deployed by golive", ErrNothingToRevert, e.plan.Project)
	}
	if rec, ok := done[run]; ok {
		return nil, &nothingLeftError{run, fmt.Sprintf("the latest apply (%s, release %s) was already reverted by %s", run, rec.Labels[LabelRelease], rec.Labels[LabelActor])}
	}
	job := &revertJob{run: run}
	for _, rec := range records {
		r := rec.Labels[LabelRevertOf]
		_, finished := done[r]
		if rec.Labels[LabelRecord] == recordReverted && r < run || rec.Labels[LabelRecord] == recordReverting && finished {
			job.stale = append(job.stale, rec.Name)
		}
	}
	if rec, ok := started[run]; ok {
		if err := json.Unmarshal([]byte(rec.Labels[LabelTargets]), &job.targets); err != nil {
			return nil, fmt.Errorf("the record %s of the interrupted revert cannot be read (%v); remove it with `docker volume rm %s` and run revert again", rec.Name, err, rec.Name)
		}
		job.release, job.resumed = rec.Labels[LabelRelease], true
		return job, nil
	}
	byName := map[string]int{} // container name → index in targets
	for _, c := range all {
		base := c.Labels[LabelContainer]
		if c.Labels[LabelRun] != run || base == "" || kept(c) {
			continue
		}
		if _, ok := byName[base]; ok {
			continue
		}
		byName[base] = len(job.targets)
		job.release = c.Labels[LabelRelease]
		t := revertTarget{Service: c.Labels[LabelService], Group: c.Labels[LabelGroup], Name: base,
			Existed: c.Labels[LabelPrevImageID] != "", PrevID: c.Labels[LabelPrevID], PrevImage: c.Labels[LabelPrevImage],
			PrevImageID: c.Labels[LabelPrevImageID], PrevSpec: c.Labels[LabelPrevSpec], StopTimeout: c.Spec.StopTimeout, Proxy: recordedProxy(c.Labels)}
		job.targets = append(job.targets, t)
	}
	if len(job.targets) == 0 {
		return nil, &nothingLeftError{run, fmt.Sprintf("apply %s changed no container", run)}
	}
	// The gates are read side by side: one round-trip, not one per service.
	errs := make([]error, len(job.targets))
	var gates sync.WaitGroup
	for i := range job.targets {
		if t := &job.targets[i]; t.Existed {
			gates.Go(func() { t.Gate, errs[i] = e.recordedGate(ctx, *t) })
		}
	}
	gates.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return job, nil
}

// recordedGate is the health gate the previous container was deployed
// with, read from its labels (or the labels of its recorded configuration
// when it is gone). The new plan's gate never judges the old version.
func (e *Engine) recordedGate(ctx context.Context, t revertTarget) (*Health, error) {
	var labels map[string]string
	prev, err := e.opts.Docker.Inspect(ctx, t.PrevID)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		labels = prev.Labels
	} else {
		var spec docker.Spec
		if json.Unmarshal([]byte(t.PrevSpec), &spec) == nil {
			labels = spec.Labels
		}
	}
	if labels[LabelHealth] == "" {
		return nil, nil
	}
	var h Health
	if err := json.Unmarshal([]byte(labels[LabelHealth]), &h); err != nil {
		return nil, nil
	}
	return &h, nil
}

// RevertError says a revert could not put everything back: what went
// wrong, what runs now and the command that finishes it.
type RevertError struct {
	Run    string
	Err    error
	State  string // what each service runs now; "" when the caller tells it
	Finish string // the command that finishes the revert
}

func (e *RevertError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "revert incomplete: %v", e.Err)
	if e.State != "" {
		b.WriteString("\n" + e.State)
	}
	fmt.Fprintf(&b, "\nto finish, once the cause is fixed: %s (it resumes this revert; it never goes further back)", e.Finish)
	return b.String()
}

func (e *RevertError) Unwrap() error { return e.Err }

// finishCommand is the command line that resumes a revert of this plan.
func (e *Engine) finishCommand() string {
	cmd := "golive revert " + e.plan.Path
	if e.opts.StateDir != "" && e.opts.StateDir != filepath.Join(e.plan.Dir(), ".golive") {
		cmd += " --state " + e.opts.StateDir
	}
	return cmd
}

// revert puts back what ran before the apply run (the latest apply not
// completely reverted when run is ""). auto says it is the on_failure
// action of that same apply: it then asks no question, and goes on when
// the journal fails, so a broken release is still put back.
func (e *Engine) revert(ctx context.Context, run string, auto bool) error {
	if e.hosts != nil {
		return e.revertHosts(ctx, run, auto)
	}
	if e.plan.Docker.Swarm {
		return e.revertSwarm(ctx, run, auto)
	}
	start := time.Now()
	job, err := e.undoable(ctx, run)
	if err != nil {
		return err
	}
	run = job.run
	if !auto {
		if err := e.confirmRemovals(ctx, job); err != nil {
			return err
		}
		if err := e.guard(ctx); err != nil {
			return err
		}
	}
	msg := fmt.Sprintf("%d services, order %s", len(job.targets), e.revertOrder())
	if job.resumed {
		msg = "resuming the revert that was cut short: " + msg
	}
	e.Emit(Event{Kind: EvRevertStart, Run: run, Message: msg})
	// The record is created while the services' containers are read; the
	// first change waits for it (recorded).
	var recordErr error
	var record sync.WaitGroup
	if !job.resumed {
		b, _ := json.Marshal(job.targets)
		record.Go(func() {
			if err := e.opts.Docker.CreateRecord(ctx, e.plan.revertRecordName(recordReverting, run), e.recordLabels(recordReverting, job, string(b))); err != nil {
				recordErr = fmt.Errorf("record the revert on the Docker host before changing anything: %w", err)
			}
		})
	}
	recorded := func() error {
		record.Wait()
		return recordErr
	}
	pruned := make(chan struct{})
	go func() {
		defer close(pruned)
		e.pruneRecords(ctx, job.stale)
	}()
	err = e.revertTargets(ctx, run, job.targets, auto, recorded)
	if recorded() != nil {
		err = recordErr // nothing was changed
	}
	if err == nil {
		if rerr := e.opts.Docker.CreateRecord(ctx, e.plan.revertRecordName(recordReverted, run), e.recordLabels(recordReverted, job, "")); rerr != nil {
			err = fmt.Errorf("every service is back, but recording that on the Docker host failed: %w", rerr)
		}
	}
	<-pruned
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

func (e *Engine) recordLabels(state string, job *revertJob, targets string) map[string]string {
	l := map[string]string{LabelProject: e.plan.Project, LabelRecord: state, LabelRevertOf: job.run, LabelRelease: job.release, LabelActor: e.opts.Actor}
	if targets != "" {
		l[LabelTargets] = targets
	}
	return l
}

// pruneRecords removes records no longer needed, while the revert runs:
// those of finished reverts (the "reverting" one a revert leaves is
// removed by the next) and "reverted" ones of applies older than the one
// being undone.
func (e *Engine) pruneRecords(ctx context.Context, names []string) {
	for _, name := range names {
		e.opts.Docker.RemoveRecord(ctx, name)
	}
}

// staleAfter lists the records a finished revert of run makes useless:
// its own "reverting" one and "reverted" ones of older applies.
func (e *Engine) staleAfter(ctx context.Context, run string) []string {
	names := []string{e.plan.revertRecordName(recordReverting, run)}
	all, err := e.opts.Docker.Records(ctx, map[string]string{LabelProject: e.plan.Project, LabelRecord: recordReverted})
	if err != nil {
		return names
	}
	for _, rec := range all {
		if rec.Labels[LabelRevertOf] < run {
			names = append(names, rec.Name)
		}
	}
	return names
}

func (e *Engine) revertOrder() string {
	if e.plan.Revert.Order == RevertGroups {
		return RevertGroups
	}
	return RevertParallel
}

// confirmRemovals asks before a revert removes services that did not exist
// before the apply.
func (e *Engine) confirmRemovals(ctx context.Context, job *revertJob) error {
	if e.parent != nil {
		return nil // the coordinator asked once for every host (revertHosts)
	}
	var names []string
	for _, t := range job.targets {
		if !t.Existed {
			names = append(names, t.Service)
		}
	}
	if len(names) == 0 {
		return nil
	}
	q := fmt.Sprintf("The revert of apply %s (release %s) removes %s: not there before that apply. Remove?", job.run, job.release, strings.Join(names, ", "))
	if e.opts.Asker == nil {
		return fmt.Errorf("%w: %s Pass --yes to answer yes", ErrRemovalNotConfirmed, q)
	}
	e.Emit(Event{Kind: EvConfirmAsk, Run: job.run, Message: q})
	yes, err := e.opts.Asker.Confirm(ctx, q)
	if err != nil {
		return err
	}
	answer := Event{Kind: EvConfirmAnswer, Run: job.run, Message: q, Result: "yes"}
	if !yes {
		answer.Result = "no"
	}
	e.Emit(answer)
	if !yes {
		return fmt.Errorf("%w: nothing was reverted", ErrDeclined)
	}
	return nil
}

// revertTargets restores every target at once, or with revert.order:
// groups one group at a time in reverse deploy order. recorded says
// whether the revert is recorded on the Docker host, so it may change
// things.
func (e *Engine) revertTargets(ctx context.Context, run string, targets []revertTarget, auto bool, recorded func() error) error {
	batches := [][]revertTarget{targets}
	if e.revertOrder() == RevertGroups {
		groups := e.plan.Groups()
		// Services of groups no longer in the plan go first, then the plan's groups backwards.
		rank := func(g string) int {
			if i := slices.Index(groups, g); i >= 0 {
				return i
			}
			return len(groups)
		}
		sorted := slices.Clone(targets)
		slices.SortStableFunc(sorted, func(a, b revertTarget) int { return rank(b.Group) - rank(a.Group) })
		batches = nil
		for i := 0; i < len(sorted); {
			j := i
			for j < len(sorted) && sorted[j].Group == sorted[i].Group {
				j++
			}
			batches = append(batches, sorted[i:j])
			i = j
		}
	}
	var errs []error
	for _, batch := range batches {
		batchErrs := make([]error, len(batch))
		var wg sync.WaitGroup
		for k, t := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				batchErrs[k] = e.revertService(ctx, run, t, auto, recorded)
			}()
		}
		wg.Wait()
		errs = append(errs, batchErrs...)
		if e.revertOrder() == RevertGroups && errors.Join(batchErrs...) != nil {
			break
		}
	}
	return errors.Join(errs...)
}

// revertService brings back the container one service ran before apply
// run. It starts from whatever state an earlier, interrupted revert or
// apply left, and its order keeps every state recognisable:
//
//  1. check the previous version can come back (kept container, or its image);
//  2. stop the apply's containers, keeping them as <name>.next, while
//  3. the previous container gets the service's name back; then start it
//     (when any of that fails, put the new version back as it was);
//  4. wait for its own recorded health gate;
//  5. only then remove the apply's containers.
func (e *Engine) revertService(ctx context.Context, run string, t revertTarget, auto bool, recorded func() error) (err error) {
	d := e.opts.Docker
	ev := Event{Kind: EvRevertService, Run: run, Service: t.Service, Group: t.Group, PrevImage: t.PrevImage, PrevImageID: t.PrevImageID, PrevContainerID: t.PrevID}
	defer func() {
		if err != nil {
			ev.Result, ev.Error = ResultFailed, err.Error()
			e.Emit(ev)
			err = fmt.Errorf("revert %s: %w", t.Service, err)
		}
	}()
	change := func() error {
		if err := recorded(); err != nil {
			return err
		}
		if auto { // the journal on disk first, though a failing one stops nothing
			e.journalDurable()
			return nil
		}
		return e.guard(ctx)
	}
	if t.Proxy != nil && t.Existed {
		return e.switchBack(ctx, run, t, &ev, change)
	}
	// Both names are read side by side: one round-trip, not two.
	var at, next *docker.Container
	var atErr, nextErr error
	var read sync.WaitGroup
	read.Go(func() { at, atErr = d.Inspect(ctx, t.Name) })
	read.Go(func() { next, nextErr = d.Inspect(ctx, t.Name+suffixNext) })
	read.Wait()
	if err := errors.Join(atErr, nextErr); err != nil {
		return err
	}
	var news []*docker.Container // the apply's containers, under either name
	for _, c := range []*docker.Container{at, next} {
		if c != nil && c.Labels[LabelRun] == run {
			news = append(news, c)
		}
	}
	if len(news) > 0 {
		ev.ContainerID, ev.Image, ev.ImageID = news[0].ID, news[0].Image, news[0].ImageID
	}
	if !t.Existed {
		for _, c := range news {
			if err := change(); err != nil {
				return err
			}
			if err := d.Remove(ctx, c.ID); err != nil {
				return err
			}
			action := ""
			if c.Running {
				action = ActionStopped
			}
			e.containerEvent(run, t, action, c, "removed the new container "+docker.ShortID(c.ID)+" (the service did not exist before)")
		}
		if t.Proxy != nil {
			if err := e.unroute(ctx, t.Service); err != nil {
				return err
			}
		}
		ev.Result, ev.Message = ResultReverted, "removed: the service did not exist before"
		e.Emit(ev)
		return nil
	}

	// 1. Can the previous version come back?
	var prev *docker.Container
	switch {
	case at != nil && at.Labels[LabelRun] != run && (at.ID == t.PrevID || at.ImageID == t.PrevImageID):
		prev = at // kept, or recreated by an interrupted revert
	case at != nil && at.Labels[LabelRun] != run:
		return fmt.Errorf("container %s (%s, image %s) holds the service's name but is neither what apply %s created nor what ran before it; left as it is: remove or rename it and run revert again",
			t.Name, docker.ShortID(at.ID), at.Image, run)
	default:
		if prev, err = d.Inspect(ctx, t.PrevID); err != nil {
			return err
		}
	}
	var spec docker.Spec
	if prev == nil {
		if err := json.Unmarshal([]byte(t.PrevSpec), &spec); err != nil {
			return fmt.Errorf("the previous container is gone and its configuration was not recorded (%v); the service was left as it is", err)
		}
		if have, err := d.ImageID(ctx, t.PrevImageID); err != nil {
			return err
		} else if have == "" {
			return fmt.Errorf("the previous container is gone and its image %s (%s) is no longer on the Docker host; the service was left as it is: pull that image by digest and run revert again", t.PrevImage, docker.ShortID(t.PrevImageID))
		}
	}
	if at != nil && at.Labels[LabelRun] == run && next != nil && next.Labels[LabelRun] != run {
		return fmt.Errorf("%s is taken by container %s, which apply %s did not create; left as it is: remove it and run revert again", t.Name+suffixNext, docker.ShortID(next.ID), run)
	}

	// Created ahead by an apply cut short between its groups, never
	// started: the service ran the previous version throughout, and only
	// that container goes. A .next that ever ran is the new version a
	// revert cut short had stopped: the previous container it restarted
	// has not passed its gate yet, so that case takes the full path.
	if prev == at && prev.Running && len(news) == 1 && news[0] == next && !next.Running && next.StartedAt.IsZero() {
		if err := change(); err != nil {
			return err
		}
		if err := d.Remove(ctx, next.ID); err != nil {
			return err
		}
		e.containerEvent(run, t, "", next, "removed the container "+docker.ShortID(next.ID)+" created ahead as "+next.Name+", never started")
		ran := t.PrevImage
		if ran == "" {
			ran = docker.ShortID(t.PrevImageID)
		}
		ev.ContainerID, ev.Image, ev.ImageID = prev.ID, t.PrevImage, t.PrevImageID
		ev.Result, ev.Message = ResultReverted, "removed the container "+docker.ShortID(next.ID)+" created ahead (never started); the service ran "+ran+" throughout"
		e.Emit(ev)
		return nil
	}

	e.foundDown(run, t, append(news, prev)...)

	// 2–3. One check of the lock for the switch: while the apply's
	// containers stop (kept, stopped, as <name>.next, so they can come
	// back), the names move and the previous container, kept or recreated,
	// takes the service's name. Each move alone is revertible, so every
	// point in between is.
	stopTimeout := t.StopTimeout
	if stopTimeout <= 0 {
		stopTimeout = int(DefaultStopTimeout / time.Second)
	}
	if err := change(); err != nil {
		return err
	}
	var id string
	var moveErr error
	var moved sync.WaitGroup
	moved.Go(func() { id, moveErr = e.moveBack(ctx, t, news, prev, spec) })
	var stopErrs []error
	for _, c := range news {
		if !c.Running {
			continue
		}
		asked := e.opts.Now().UTC() // it stops serving from here, not once the call returns
		if err := d.Stop(ctx, c.ID, stopTimeout); err != nil {
			stopErrs = append(stopErrs, err)
			continue
		}
		e.Emit(Event{Kind: EvServiceChange, Action: ActionStopped, Run: run, Service: t.Service, Group: t.Group, Since: asked,
			ContainerID: c.ID, Image: c.Image, ImageID: c.ImageID, Message: "stopped the new container " + docker.ShortID(c.ID) + ", kept until the previous one is back"})
	}
	moved.Wait()
	if err := errors.Join(append(stopErrs, moveErr)...); err != nil {
		created := ""
		if prev == nil {
			created = id
		}
		return e.putNewBack(t, news, created, prev, err)
	}
	if prev != nil {
		ev.Message = "restarted the kept container " + docker.ShortID(id)
	} else {
		ev.Message = "recreated from image " + docker.ShortID(t.PrevImageID) + " (the kept container was gone)"
	}
	if prev == nil || !prev.Running {
		if err := change(); err != nil {
			return err
		}
		if err := d.Start(ctx, id); err != nil {
			return e.putNewBack(t, news, id, prev, fmt.Errorf("the previous version could not start: %w", err))
		}
		e.containerEvent(run, t, ActionStarted, &docker.Container{ID: id, Image: t.PrevImage, ImageID: t.PrevImageID}, "started the previous container "+docker.ShortID(id))
	}

	// 4. Judged by its own gate.
	if err := e.revertGate(ctx, t, id); err != nil {
		kept := "the apply's container was already gone"
		if len(news) > 0 {
			kept = "the new version is kept, stopped, as " + t.Name + suffixNext
		}
		return fmt.Errorf("the previous version runs again but did not pass its own health gate: %w; %s", err, kept)
	}

	// 5. Only now what the apply created goes.
	if len(news) > 0 {
		if err := change(); err != nil {
			return err
		}
	}
	for _, c := range news {
		if err := d.Remove(ctx, c.ID); err != nil {
			return err
		}
		e.containerEvent(run, t, "", c, "removed the new container "+docker.ShortID(c.ID))
	}
	ev.Result = ResultReverted
	e.Emit(ev)
	return nil
}

// moveBack gives the service's name back to what ran before apply run:
// the apply's container that holds it becomes <name>.next, then the
// previous container, kept (prev) or recreated from spec, takes it. It
// returns the previous container's ID.
func (e *Engine) moveBack(ctx context.Context, t revertTarget, news []*docker.Container, prev *docker.Container, spec docker.Spec) (string, error) {
	d := e.opts.Docker
	for _, c := range news {
		if c.Name == t.Name {
			if err := d.Rename(ctx, c.ID, t.Name+suffixNext); err != nil {
				return "", err
			}
		}
	}
	if prev == nil {
		spec.Name, spec.Image = t.Name, t.PrevImageID
		return d.Create(ctx, spec)
	}
	if prev.Name != t.Name {
		if err := d.Rename(ctx, prev.ID, t.Name); err != nil {
			return "", err
		}
	}
	return prev.ID, nil
}

// foundDown journals a service that no container serves as the revert
// begins, from the latest stop Docker recorded: a stop no journal holds
// (the daemon finished it after the process that asked for it was killed,
// or the new version crashed) is where its outage began.
func (e *Engine) foundDown(run string, t revertTarget, cs ...*docker.Container) {
	var last *docker.Container
	for _, c := range cs {
		switch {
		case c == nil:
		case c.Running:
			return
		case c.StartedAt.IsZero() || c.FinishedAt.IsZero(): // never ran
		case last == nil || c.FinishedAt.After(last.FinishedAt):
			last = c
		}
	}
	if last == nil {
		return
	}
	e.Emit(Event{Kind: EvServiceChange, Action: ActionStopped, Run: run, Service: t.Service, Group: t.Group,
		ContainerID: last.ID, Image: last.Image, ImageID: last.ImageID, Since: last.FinishedAt,
		Message: "found no container serving: " + docker.ShortID(last.ID) + " stopped at " + last.FinishedAt.Local().Format("15:04:05.000")})
}

// containerEvent journals what a revert did to one container, so the
// release state knows what serves: action is ActionStopped, ActionStarted
// or "" (no change to what serves).
func (e *Engine) containerEvent(run string, t revertTarget, action string, c *docker.Container, message string) {
	e.Emit(Event{Kind: EvServiceChange, Action: action, Run: run, Service: t.Service, Group: t.Group,
		ContainerID: c.ID, Image: c.Image, ImageID: c.ImageID, Message: message})
}

// putNewBack undoes a revert step that failed: the previous container (id,
// when it was started or created) goes back where it was, the apply's
// containers get their names back and those that ran are started again.
func (e *Engine) putNewBack(t revertTarget, news []*docker.Container, id string, prev *docker.Container, cause error) error {
	d := e.opts.Docker
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var errs []error
	if id != "" {
		if prev == nil {
			errs = append(errs, d.Remove(ctx, id))
		} else if !prev.Running {
			errs = append(errs, d.Stop(ctx, id, 10))
		}
	}
	if prev != nil {
		if cur, err := d.Inspect(ctx, prev.ID); err == nil && cur != nil && cur.Name != prev.Name {
			errs = append(errs, d.Rename(ctx, prev.ID, prev.Name))
		}
	}
	running := false
	for _, c := range news {
		if cur, err := d.Inspect(ctx, c.ID); err == nil && cur != nil && cur.Name != c.Name {
			errs = append(errs, d.Rename(ctx, c.ID, c.Name))
		}
		if c.Running {
			running = true
			if err := d.Start(ctx, c.ID); err != nil {
				errs = append(errs, err)
				continue
			}
			e.containerEvent(e.currentRun(), t, ActionStarted, c, "started the new container "+docker.ShortID(c.ID)+" again")
			// Back means passing its own gate again, as it did before.
			own := revertTarget{Service: t.Service}
			var h Health
			if json.Unmarshal([]byte(c.Labels[LabelHealth]), &h) == nil {
				own.Gate = &h
			}
			if err := e.revertGate(ctx, own, c.ID); err != nil {
				errs = append(errs, fmt.Errorf("the new version runs again but did not pass its health gate: %w", err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w; putting the new version back failed too: %v", cause, err)
	}
	if running {
		return fmt.Errorf("%w; the new version was put back, runs again and passed its health gate", cause)
	}
	return fmt.Errorf("%w; the containers were put back as they were", cause)
}

// revertGate waits until a restored container runs and passes the gate it
// was deployed with, once (or for revert.stable when the plan sets it).
// It probes fast at first, like every gate: the container was known good
// minutes ago.
func (e *Engine) revertGate(ctx context.Context, t revertTarget, id string) error {
	h := Health{Timeout: DefaultHealthTimeout, Interval: DefaultInterval}
	if t.Gate != nil {
		h = *t.Gate
		if h.Timeout <= 0 {
			h.Timeout = DefaultHealthTimeout
		}
		if h.Interval <= 0 {
			h.Interval = DefaultInterval
		}
	}
	return e.waitGate(ctx, &Service{Name: t.Service, Health: h}, id, e.plan.Revert.Stable, nil, nil)
}

// Revert undoes the latest apply that is not completely reverted, under
// the lock; a revert that was cut short is finished.
// When an apply holds the lock, the operator is asked whether to stop it
// and take over.
func (e *Engine) Revert(ctx context.Context) error {
	err := e.Lock(ctx, "revert")
	var held *docker.HeldError
	if errors.As(err, &held) && held.Operation == "apply" && e.hosts == nil {
		if e.opts.Asker == nil {
			return fmt.Errorf("%w\nto stop that apply where it is and revert what it changed, run revert on a terminal or with --yes", err)
		}
		q := fmt.Sprintf("An apply by %s (process %d on %s) is running since %s. Stop it and revert what it changed?",
			held.Holder, held.PID, held.Host, held.Since.Local().Format("15:04:05"))
		yes, aerr := e.opts.Asker.Confirm(ctx, q)
		if aerr != nil || !yes {
			return err
		}
		err = e.takeOver(ctx, held)
	}
	if err != nil {
		return err
	}
	defer e.Unlock()
	if err := e.sweepWarm(ctx); err != nil {
		return err
	}
	err = e.revert(ctx, "", false)
	if herr := e.resumeHeld(ctx); herr != nil {
		err = errors.Join(err, herr)
	}
	if errors.Is(err, ErrNothingToRevert) {
		e.Emit(Event{Kind: EvRevertEnd, Result: ResultNothing, Message: strings.TrimPrefix(err.Error(), ErrNothingToRevert.Error()+": ")})
	}
	var rerr *RevertError
	if errors.As(err, &rerr) {
		rerr.State = e.stateSummary(context.WithoutCancel(ctx))
	}
	return err
}
