package plans

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Phase is where a release stands, as the cockpit, watch, the report and
// the headless CLI all tell it.
type Phase string

// Phases of a release.
const (
	PhaseReady            Phase = "ready"
	PhasePreloading       Phase = "preloading"
	PhaseDeploying        Phase = "deploying"
	PhaseDeployed         Phase = "deployed"
	PhaseFailed           Phase = "failed"
	PhasePreloadFailed    Phase = "preload failed" // nothing was changed; the images are not all there
	PhaseReverting        Phase = "reverting"
	PhaseReverted         Phase = "reverted"
	PhaseRevertIncomplete Phase = "revert incomplete"
)

// hostBracket are the kinds that one host's engine emits for its own part
// and the coordinator of a release across hosts emits for the whole. A
// lock broken on a host is not among them: it tells that the operation
// holding it was interrupted.
var hostBracket = map[string]bool{
	EvPreloadStart: true, EvPreloadEnd: true, EvRevertStart: true, EvRevertEnd: true,
	EvLockAcquired: true, EvLockReleased: true, EvLockRefused: true,
	EvApplyStart: true, EvApplyEnd: true,
}

// hostLock follows the lock of one host of the plan: taken, released,
// or, when its release failed, still held.
func (s *State) hostLock(ev Event) {
	switch {
	case ev.Kind == EvLockAcquired && !slices.Contains(s.LockedHosts, ev.Host):
		s.LockedHosts = append(s.LockedHosts, ev.Host)
		slices.Sort(s.LockedHosts)
	case ev.Kind == EvLockReleased && ev.Result != ResultFailed:
		s.LockedHosts = slices.DeleteFunc(s.LockedHosts, func(h string) bool { return h == ev.Host })
	}
}

// ResultInterrupted is the outcome of an operation whose process stopped
// before it ended, as a later command that broke its lock tells.
const ResultInterrupted = "interrupted"

// ResultHostLost is the result of a service on a host that stopped
// answering after the release changed it: what it runs is unknown.
const ResultHostLost = "host unreachable"

// Operations a State sees open.
const (
	OpPreload = "preload"
	OpApply   = "apply"
	OpRevert  = "revert"
)

// State is where one release stands: a pure fold over its events (Apply),
// with no I/O. It is the one definition of the release's state that the
// cockpit, watch, the report and the headless CLI share.
type State struct {
	Project, Release string
	Start, End       time.Time // the first and the latest event
	Actors           []string  // everyone who acted, in order of appearance
	Operator         string    // who started the latest apply or revert
	LockHolder       string    // "" when the lock is free
	LockRefused      string    // who held the lock when it was refused
	LockedHosts      []string  // the hosts whose lock the holder holds, for a plan with hosts:

	Op      string    // the operation open now: OpPreload, OpApply, OpRevert or ""
	OpStart time.Time // when it started
	Ops     int       // how many operations have started
	// Run is the latest apply; Outcome how the latest operation ended
	// (deployed, failed, reverted, aborted, revert incomplete, …) and
	// Error why, when it did not succeed.
	Run          string
	Outcome      string
	Error        string
	reverting    bool // an automatic revert runs inside the open apply
	revertFailed bool // a revert of the latest operation ended failed
	last         string
	lockOp       int // the operation (by Ops) that holds the lock; 0 when none
	// waiting is an apply started by another command while the open one
	// holds the lock: it goes on once that lock is broken, and is left out
	// (refused holds its run) when the lock is refused to it.
	waiting *Event
	refused []string

	Preload  Preload
	Steps    []StepState // the plan's steps per apply, in order
	Services []*ServiceStatus
	// Rollout is the batch a rollout across hosts deploys now: "api:
	// batch 2 of 3 on app2"; "" when none runs.
	Rollout  string
	Asking   string // a confirm question waiting for its answer
	AskedBy  string // whose session asks it
	Answered string // the latest answer: "yes: question" or "no: question"

	// Newer names a newer release of the same project that started while
	// this one is followed; its events are not folded in.
	Newer, NewerBy string
	NewerAt        time.Time

	// FirstSignal is the first failed step or error line after a deploy;
	// ApplyEnded when the latest apply ended; RevertedAt when a revert
	// last put every changed service back.
	FirstSignal, ApplyEnded, RevertedAt time.Time

	// ImpactRun is the apply whose impact the release tells now: the
	// latest apply, or the one the latest revert reverts.
	ImpactRun string

	plan         *Plan
	errorMinutes map[string]map[int64]minuteErrors
}

// Preload is the images being made present before a release.
type Preload struct {
	Started, Done bool
	Error         string
	Images        []ImageProgress
}

// ImageProgress is one image of the preload.
type ImageProgress struct {
	Ref, ID string
	Result  string              // "", present, pulled, failed
	Error   string              //
	Layers  map[string][2]int64 // layer → current, total bytes
}

// StepState is one step of one apply.
type StepState struct {
	Run      string // "" until an apply runs it
	N        int
	Name     string
	Kind     string
	Command  string
	State    string // pending, running, done, failed, skipped
	Result   string
	ExitCode *int
	Started  time.Time
	Duration time.Duration
	Error    string
	Output   []string // the last output lines
}

// ServiceStatus is one service as the release's events tell it.
type ServiceStatus struct {
	Name, Group      string
	Target, TargetID string // what the plan deploys
	Before, BeforeID string // what ran before the latest deploy
	Now, NowID       string // what runs now, as far as the events tell ("" unknown)
	Container        string // the container ID that runs now
	Result           string // deployed, unchanged, failed, reverted, … of its latest change
	Error            string
	Health           Probe             // the latest health gate result
	Probes           []Probe           // every health gate result, in order
	Errors           int               // error-level lines journaled
	FirstErrors      []ErrorLine       // the first error lines after each deploy
	Changes          []Change          // deploys and reverts, in order
	Unavailable      []Unavailable     // when it was not serving
	ErrorGate        ErrorGateStatus   // the error budget of its latest deploy
	ErrorGates       []ErrorGateStatus // every error gate that ended, in order
	Route            RouteState        // how the proxy treats its traffic, as the proxy steps left it
	// Switches are the proxy's switches of its traffic, in order: a
	// service with any takes traffic through the proxy, blue/green.
	Switches []Switch
	// Warm is the version the latest switch left, still running for an
	// instant switch back until Warm.Until; zero when none.
	Warm WarmVersion
	// Canary is the share of the traffic a new version takes before its
	// switch, while a canary step runs; zero otherwise.
	Canary CanaryShare
	// Tasks are a Swarm service's tasks as last counted (nil for a
	// container service).
	Tasks *SwarmTasks
	// Window is when its stable window ends while one runs: its new
	// container passed its first check and must keep passing until then
	// (a later group may deploy meanwhile).
	Window time.Time
}

// CanaryShare is a canary step's new version taking Percent of the
// rollout traffic from Since, for For.
type CanaryShare struct {
	Percent int
	Since   time.Time
	For     time.Duration
}

// RouteState is how the proxy treats a service's traffic: held (paused or
// in maintenance) since a time, or let through (Hold "").
type RouteState struct {
	Hold  string // "", ActionPaused or ActionMaintenance
	Since time.Time
	// Error is the latest proxy command on the route that failed: a hold
	// that failed may have held part of it, so it counts as held.
	Error string
}

// Switch is the proxy moving a service's traffic from one version to another.
type Switch struct {
	Time         time.Time
	From, FromID string
	To, ToID     string
	Container    string        // the container that takes the traffic since
	Took         time.Duration // from the proxy's deploy call to its return
	Back         bool          // a revert's switch back
}

// WarmVersion is an old version that keeps running after a switch.
type WarmVersion struct {
	Image, ImageID, Container string
	Until                     time.Time
}

// Proxied reports whether the service takes traffic through the proxy.
func (svc *ServiceStatus) Proxied() bool { return len(svc.Switches) > 0 }

// WarmLeft is how long the warm old version keeps running after now: a
// revert until then switches back without starting anything. Zero when
// none is warm.
func (svc *ServiceStatus) WarmLeft(now time.Time) time.Duration {
	if svc.Warm.Until.IsZero() || !svc.Warm.Until.After(now) {
		return 0
	}
	return svc.Warm.Until.Sub(now)
}

// switched folds a switch of the service's traffic: what served becomes
// the warm version when the switch keeps it running.
func (svc *ServiceStatus) switched(ev Event, back bool) {
	svc.Switches = append(svc.Switches, Switch{Time: ev.Time, From: svc.Now, FromID: svc.NowID, To: ev.Image, ToID: ev.ImageID,
		Container: ev.ContainerID, Took: time.Duration(ev.DurationMS) * time.Millisecond, Back: back})
	svc.Warm, svc.Canary = WarmVersion{}, CanaryShare{}
	if ev.KeepWarmMS > 0 {
		svc.Warm = WarmVersion{Image: svc.Now, ImageID: svc.NowID, Container: firstOf(ev.PrevContainerID, svc.Container),
			Until: ev.Time.Add(time.Duration(ev.KeepWarmMS) * time.Millisecond)}
	}
	svc.Now, svc.NowID, svc.Container = ev.Image, ev.ImageID, ev.ContainerID
}

// ErrorGateStatus is a service's error budget as its latest new container
// fills it: Count error lines within Per, of Budget.
type ErrorGateStatus struct {
	Count, Budget int
	Per           time.Duration
	Result        string    // "" while open, ok, failed or skipped
	Detail        string    // the latest message, or why it failed
	Tripped       []string  // the lines that tripped it, when it failed
	Run           string    // the apply that opened it
	Container     string    // the new container whose error lines it counts
	From, To      time.Time // its first and its latest event
}

// Text is the budget as the cockpit shows it: "errors 3/5 per 1m".
func (g ErrorGateStatus) Text() string {
	if g.Per == 0 {
		return ""
	}
	return fmt.Sprintf("errors %d/%d per %s", g.Count, g.Budget, g.Window())
}

// Threshold is what trips the gate: "more than 5 error lines within 1m".
func (g ErrorGateStatus) Threshold() string {
	if g.Per == 0 {
		return ""
	}
	return fmt.Sprintf("more than %d error lines within %s", g.Budget, g.Window())
}

// Window is the span its error lines are counted over: "1m", "1m30s".
func (g ErrorGateStatus) Window() string { return shortDuration(g.Per) }

// Probe is the latest result of a service's health gate.
type Probe struct {
	Result string // ok or failed; "" before any
	Time   time.Time
	Detail string
	After  time.Duration // how long the gate took
}

// ErrorLine is an error-level line seen after a new container started.
type ErrorLine struct {
	Time  time.Time
	After time.Duration
	Line  string
}

// Change is a service going from one image to another.
type Change struct {
	Time         time.Time
	What         string // deploy or revert
	From, FromID string
	To, ToID     string
	Result       string
}

// Unavailable is a window in which a service was not serving: from its
// serving container stopped to the next one passing its health gate.
type Unavailable struct {
	Cause    string // deploy or revert
	Run      string // the apply it belongs to (a revert belongs to the apply it reverts)
	From, To time.Time
	Open     bool // not serving yet when the events end
}

// Duration is how long the window lasted, up to end when it is open.
func (u Unavailable) Duration(end time.Time) time.Duration {
	if u.Open {
		return end.Sub(u.From)
	}
	return u.To.Sub(u.From)
}

type minuteErrors struct {
	count int
	times []int64
}

// outputKept is how many output lines of a step the state keeps.
const outputKept = 10

// PlannedService is a service as the plan names it.
type PlannedService struct {
	Name  string `json:"name"`
	Group string `json:"group,omitempty"`
	Image string `json:"image"`
}

// LoadedEvent is the plan.loaded event that opens a journal: it names
// every service of the plan.
func LoadedEvent(p *Plan, message string) Event {
	return Event{Kind: EvPlanLoaded, Message: message, Services: p.Placements()}
}

// NewState starts the state of a plan's release: every service and step
// is listed before any event mentions it. A nil plan follows the release
// named by the first event.
func NewState(plan *Plan) *State {
	s := &State{plan: plan, errorMinutes: map[string]map[int64]minuteErrors{}}
	if plan == nil {
		return s
	}
	s.Project, s.Release = plan.Project, plan.Release
	for _, ref := range plan.Images() {
		s.Preload.Images = append(s.Preload.Images, ImageProgress{Ref: ref, Layers: map[string][2]int64{}})
	}
	s.pendingSteps("")
	for _, svc := range plan.Placements() {
		s.Services = append(s.Services, &ServiceStatus{Name: svc.Name, Group: svc.Group, Target: svc.Image})
	}
	return s
}

// NewStateOf starts the state of a release known only by its name.
func NewStateOf(project, release string) *State {
	s := NewState(nil)
	s.Project, s.Release = project, release
	return s
}

func (s *State) pendingSteps(run string) {
	if s.plan == nil {
		return
	}
	for i, st := range s.plan.ReleaseSteps() {
		s.Steps = append(s.Steps, StepState{Run: run, N: i + 1, Name: st.Title(), Kind: st.Kind(), Command: st.Command(), State: "pending"})
	}
}

// Follows reports whether an event belongs to the release this state follows.
func (s *State) Follows(ev Event) bool {
	return ev.Project == "" || s.Project == "" || ev.Project == s.Project && (ev.Release == "" || s.Release == "" || ev.Release == s.Release)
}

// Apply folds one event into the state. Events of another project are
// ignored; those of another release of the same project only note it as
// newer. Unknown kinds and results are tolerated.
func (s *State) Apply(ev Event) {
	if s.Project == "" {
		s.Project, s.Release = ev.Project, ev.Release
	}
	if ev.Run != "" && slices.Contains(s.refused, ev.Run) {
		return // an apply refused the lock while another ran: it changed nothing
	}
	if !s.Follows(ev) {
		if ev.Project == s.Project && (ev.Kind == EvApplyStart || ev.Kind == EvPlanLoaded) && !ev.Time.Before(s.End) && ev.Release != s.Newer {
			s.Newer, s.NewerBy, s.NewerAt = ev.Release, ev.Actor, ev.Time
		}
		return
	}
	if s.Start.IsZero() || ev.Time.Before(s.Start) {
		s.Start = ev.Time
	}
	before := s.End
	if s.Newer != "" && s.NewerAt.Before(s.Start) {
		s.Newer, s.NewerBy, s.NewerAt = "", "", time.Time{} // it started before this one: not newer
	}
	if ev.Time.After(s.End) {
		s.End = ev.Time
	}
	if ev.Actor != "" && !slices.Contains(s.Actors, ev.Actor) {
		s.Actors = append(s.Actors, ev.Actor)
	}
	if ev.Host != "" {
		if hostBracket[ev.Kind] {
			s.hostLock(ev)
			return // the coordinator's own event tells the release
		}
		ev.Service = Placement(ev.Service, ev.Host)
	}
	switch ev.Kind {
	case EvPlanLoaded:
		for _, p := range ev.Services {
			if svc := s.service(p.Name, p.Group); svc.Target == "" {
				svc.Target = p.Image
			}
		}
	case EvLockAcquired:
		s.LockHolder, s.LockRefused = ev.Actor, ""
		s.lockOp = s.Ops + 1 // a revert takes the lock before it starts
		if s.Op != "" {
			s.lockOp = s.Ops
		}
	case EvLockReleased:
		if ev.Result != ResultFailed { // a failed release leaves the lock held
			s.LockHolder, s.lockOp, s.LockedHosts = "", 0, nil
		}
	case EvLockBroken:
		if s.Op != "" && s.Op != OpPreload && s.lockOp == s.Ops {
			s.interrupted(ev, before)
		}
		if s.waiting != nil {
			s.startApply(*s.waiting)
			s.waiting = nil
		}
		s.LockHolder, s.lockOp = "", 0
	case EvLockRefused:
		if s.waiting != nil {
			s.refused, s.waiting = append(s.refused, s.waiting.Run), nil
			break
		}
		s.LockRefused = strings.TrimPrefix(ev.Message, "held by ")
	case EvOperator:
		s.Operator = ev.Actor
	case EvPreloadStart:
		s.Preload.Started, s.Preload.Done, s.Preload.Error = true, false, ""
		for i := range s.Preload.Images {
			s.Preload.Images[i] = ImageProgress{Ref: s.Preload.Images[i].Ref, Layers: map[string][2]int64{}}
		}
		if s.Op == "" {
			s.Op, s.OpStart = OpPreload, ev.Time
			s.Ops++
		}
	case EvPreloadProgress, EvPreloadImage:
		img := s.image(ev.Image)
		if ev.Kind == EvPreloadImage {
			img.Result, img.Error, img.ID = ev.Result, ev.Error, ev.ImageID
		} else if ev.Layer != "" {
			img.Layers[ev.Layer] = [2]int64{ev.Current, ev.Total}
		}
	case EvPreloadEnd:
		s.Preload.Done, s.Preload.Error = ev.Result == ResultOK, ev.Error
		if s.Op == OpPreload {
			s.Op, s.last = "", OpPreload
		}
	case EvApplyStart:
		if s.Op == OpApply && s.lockOp == s.Ops && ev.Run != s.Run {
			s.waiting = &ev // another command's apply: it needs the lock first
			break
		}
		s.startApply(ev)
	case EvRolloutBatch:
		s.Rollout = ev.Message
	case EvHostLost:
		for _, svc := range s.Services {
			if strings.HasSuffix(svc.Name, "@"+ev.Host) && len(svc.Changes) > 0 {
				svc.Now, svc.NowID, svc.Result, svc.Error = "", "", ResultHostLost, ev.Error
			}
		}
	case EvApplyEnd:
		s.Op, s.last, s.reverting, s.Asking, s.Rollout = "", OpApply, false, "", ""
		s.closeWindows()
		s.Outcome, s.Error, s.ApplyEnded = ev.Result, OperatorStopped(ev.Error), ev.Time
		if s.revertFailed && ev.Result == string(Reverted) {
			s.Outcome = string(PhaseRevertIncomplete)
		}
		if s.Outcome == string(Reverted) {
			s.RevertedAt = ev.Time
		}
		if ev.Result == string(Deployed) {
			s.Error = ""
		}
	case EvRevertStart:
		s.Rollout = ""
		if s.Op == OpApply {
			s.reverting = true
		} else {
			s.Op, s.OpStart, s.Operator = OpRevert, ev.Time, ev.Actor
			s.Ops++
			if ev.Run != "" {
				s.ImpactRun = ev.Run
			}
			s.Outcome, s.Error, s.revertFailed = "", "", false
		}
	case EvRevertEnd:
		if ev.Result == ResultFailed {
			s.revertFailed = true
		}
		if s.Op == OpRevert || s.Op == "" {
			s.Op, s.last = "", OpRevert
			switch ev.Result {
			case ResultReverted:
				s.Outcome, s.Error, s.RevertedAt = string(Reverted), "", ev.Time
			case ResultNothing:
				s.Outcome, s.Error = ResultNothing, ev.Message
			case ResultFailed:
				s.Outcome, s.Error = string(PhaseRevertIncomplete), ev.Error
			default:
				s.Outcome, s.Error = ev.Result, OperatorStopped(ev.Error)
			}
		}
	case EvStepStart:
		st := s.step(ev)
		st.State, st.Started, st.Command, st.Output = "running", ev.Time, ev.Command, nil
		if ev.StepName != "" {
			st.Name = ev.StepName // as the engine filled it in (a mark step's URL)
		}
	case EvStepOutput:
		st := s.step(ev)
		st.Output = append(st.Output, ev.Line)
		if len(st.Output) > outputKept {
			st.Output = st.Output[len(st.Output)-outputKept:]
		}
	case EvStepEnd:
		s.Asking = "" // a confirm step that ended unanswered (R, Ctrl-C) asks nothing more
		st := s.step(ev)
		st.Result, st.ExitCode, st.Error = ev.Result, ev.ExitCode, OperatorStopped(ev.Error)
		st.Duration = time.Duration(ev.DurationMS) * time.Millisecond
		switch ev.Result {
		case ResultOK:
			st.State = "done"
		case ResultSkipped:
			st.State = "skipped"
		default:
			st.State = "failed"
			if s.FirstSignal.IsZero() {
				s.FirstSignal = ev.Time
			}
		}
	case EvConfirmAsk:
		s.Asking, s.AskedBy = ev.Message, ev.Actor
	case EvConfirmAnswer:
		s.Asking, s.Answered = "", ev.Result+": "+ev.Message
	case EvServiceStart:
		svc := s.service(ev.Service, ev.Group)
		svc.Target, svc.TargetID = ev.Image, ev.ImageID
		svc.Before, svc.BeforeID = ev.PrevImage, ev.PrevImageID
		if svc.Now == "" && svc.NowID == "" {
			svc.Now, svc.NowID = ev.PrevImage, ev.PrevImageID
		}
		svc.Result, svc.Error = "", ""
		svc.Changes = append(svc.Changes, Change{Time: ev.Time, What: "deploy", From: ev.PrevImage, FromID: ev.PrevImageID, To: ev.Image, ToID: ev.ImageID})
	case EvServiceChange:
		svc := s.service(ev.Service, ev.Group)
		action := ev.Action
		if action == "" { // journals written before actions were: the message says it
			action, _, _ = strings.Cut(ev.Message, " ")
		}
		switch action {
		case ActionStopped:
			at := ev.Time
			if !ev.Since.IsZero() {
				at = ev.Since
			}
			svc.down(s.cause(), firstOf(ev.Run, s.ImpactRun), at)
		case ActionStarted:
			svc.Now, svc.NowID, svc.Container = ev.Image, ev.ImageID, ev.ContainerID
		case ActionSwitched:
			svc.switched(ev, s.Op == OpRevert || s.reverting)
		case ActionCanary:
			svc.Canary = CanaryShare{Percent: int(ev.Current), Since: ev.Time, For: time.Duration(ev.DurationMS) * time.Millisecond}
		}
	case EvWindow:
		svc := s.service(ev.Service, "")
		svc.Window = ev.Time.Add(time.Duration(ev.DurationMS) * time.Millisecond)
		svc.up(ev.Time) // it answers: serving again
	case EvHealth:
		svc := s.service(ev.Service, "")
		svc.Window = time.Time{}
		svc.Health = Probe{Result: ev.Result, Time: ev.Time, Detail: firstOf(ev.Message, ev.Error), After: time.Duration(ev.DurationMS) * time.Millisecond}
		svc.Probes = append(svc.Probes, svc.Health)
		if ev.Result == ResultOK {
			svc.up(ev.Time)
		}
	case EvErrorGate:
		svc := s.service(ev.Service, "")
		g := svc.ErrorGate
		if g.Result != "" || g.Container != ev.ContainerID || g.Run != ev.Run {
			g = ErrorGateStatus{Run: ev.Run, Container: ev.ContainerID, From: ev.Time}
		}
		g.Count, g.Budget, g.Per = int(ev.Current), int(ev.Total), time.Duration(ev.DurationMS)*time.Millisecond
		g.Result, g.Detail, g.Tripped, g.To = ev.Result, firstOf(ev.Error, ev.Message), trippedLines(ev.Error), ev.Time
		svc.ErrorGate = g
		if g.Result != "" {
			svc.ErrorGates = append(svc.ErrorGates, g)
		}
	case EvServiceEnd:
		svc := s.service(ev.Service, ev.Group)
		svc.Result, svc.Error, svc.Canary, svc.Window = ev.Result, OperatorStopped(ev.Error), CanaryShare{}, time.Time{}
		if ev.ContainerID != "" {
			svc.Container = ev.ContainerID
		}
		if ev.Result == ResultDeployed || ev.Result == ResultUnchanged {
			svc.Now, svc.NowID = ev.Image, ev.ImageID
		}
		if n := len(svc.Changes); n > 0 && svc.Changes[n-1].What == "deploy" && svc.Changes[n-1].Result == "" {
			svc.Changes[n-1].Result = ev.Result
		}
	case EvRevertService:
		svc := s.service(ev.Service, ev.Group)
		svc.Result, svc.Error = ev.Result, ev.Error
		svc.Changes = append(svc.Changes, Change{Time: ev.Time, What: "revert", From: ev.Image, FromID: ev.ImageID, To: ev.PrevImage, ToID: ev.PrevImageID, Result: ev.Result})
		switch {
		case ev.Result == ResultReverted:
			svc.Now, svc.NowID = ev.PrevImage, ev.PrevImageID
			if ev.PrevImageID == "" { // it did not exist before: removing it is no outage
				svc.Container = ""
				if n := len(svc.Unavailable); n > 0 && svc.Unavailable[n-1].Open {
					svc.Unavailable = svc.Unavailable[:n-1]
				}
			}
		case svc.Now == "" && svc.NowID == "":
			svc.Now, svc.NowID = ev.Image, ev.ImageID // not reverted: what the apply deployed still runs
		}
	case EvLogError:
		svc := s.service(ev.Service, "")
		svc.FirstErrors = append(svc.FirstErrors, ErrorLine{Time: ev.Time, After: time.Duration(ev.DurationMS) * time.Millisecond, Line: ev.Line})
		if s.FirstSignal.IsZero() {
			s.FirstSignal = ev.Time
		}
	case EvLogErrors:
		s.logErrors(ev)
	case EvSwarmTasks:
		s.swarmTasks(ev)
	case EvRoute:
		r := &s.service(ev.Service, ev.Group).Route
		r.Error = ev.Error
		switch {
		case ev.Action == ActionResumed && ev.Result == ResultOK:
			r.Hold, r.Since = "", time.Time{}
		case ev.Action != ActionResumed && r.Hold != ev.Action:
			r.Hold, r.Since = ev.Action, ev.Time
		}
	}
}

func (s *State) startApply(ev Event) {
	s.Op, s.OpStart, s.Run, s.Operator = OpApply, ev.Time, ev.Run, ev.Actor
	s.ImpactRun = ev.Run
	s.Ops++
	s.Outcome, s.Error, s.reverting, s.revertFailed = "", "", false, false
	s.Steps = slices.DeleteFunc(s.Steps, func(st StepState) bool { return st.Run == "" })
	s.pendingSteps(ev.Run)
}

// interrupted ends the open operation whose lock another command broke:
// its process is gone, and what it did last is all the events tell.
func (s *State) interrupted(ev Event, last time.Time) {
	if s.Op == OpApply {
		s.ApplyEnded = last
	}
	for i := range s.Steps {
		if st := &s.Steps[i]; st.Run == s.Run && st.State == "running" {
			st.State, st.Result, st.Error = "failed", ResultFailed, "interrupted"
		}
	}
	s.Op, s.last, s.reverting, s.Asking, s.Rollout = "", s.Op, false, "", ""
	s.closeWindows()
	s.Outcome, s.Error = ResultInterrupted, "the process stopped before it finished ("+ev.Message+")"
}

// closeWindows ends the stable windows still open when the operation
// that watched them ended.
func (s *State) closeWindows() {
	for _, svc := range s.Services {
		svc.Window = time.Time{}
	}
}

// cause says whether a container stopped now belongs to a deploy or a revert.
func (s *State) cause() string {
	if s.Op == OpRevert || s.reverting {
		return "revert"
	}
	return "deploy"
}

func (svc *ServiceStatus) down(cause, run string, t time.Time) {
	if n := len(svc.Unavailable); n > 0 && svc.Unavailable[n-1].Open {
		return // still down since an earlier stop: one window
	}
	svc.Unavailable = append(svc.Unavailable, Unavailable{Cause: cause, Run: run, From: t, Open: true})
}

func (svc *ServiceStatus) up(t time.Time) {
	if n := len(svc.Unavailable); n > 0 && svc.Unavailable[n-1].Open {
		svc.Unavailable[n-1].To, svc.Unavailable[n-1].Open = t, false
	}
}

// logErrors takes a minute of error counts. Several processes may journal
// the same minute (a cockpit and a headless apply); the largest count wins.
func (s *State) logErrors(ev Event) {
	t, err := time.Parse(time.RFC3339, ev.Message)
	if err != nil {
		return
	}
	minute := t.Unix() / 60
	for name, n := range ev.Counts {
		m := s.errorMinutes[name]
		if m == nil {
			m = map[int64]minuteErrors{}
			s.errorMinutes[name] = m
		}
		if n <= m[minute].count {
			continue
		}
		svc := s.service(name, "")
		svc.Errors += n - m[minute].count
		m[minute] = minuteErrors{count: n, times: ev.Times[name]}
	}
}

// ErrorsPerMinute is a service's error-level lines per Unix minute.
func (s *State) ErrorsPerMinute(service string) map[int64]int {
	out := map[int64]int{}
	for m, e := range s.errorMinutes[service] {
		out[m] = e.count
	}
	return out
}

// ErrorTimes is the time of each of a service's journaled error lines, in
// order; exact reports whether every counted line has its time (journals
// written before per-line times were recorded have only minute counts).
func (s *State) ErrorTimes(service string) (times []time.Time, exact bool) {
	exact = true
	for _, e := range s.errorMinutes[service] {
		if len(e.times) != e.count {
			exact = false
		}
		for _, ms := range e.times {
			times = append(times, time.UnixMilli(ms).UTC())
		}
	}
	sort.Slice(times, func(a, b int) bool { return times[a].Before(times[b]) })
	return times, exact
}

// ErrorsAround counts a service's error lines in the window before t and
// the window from t on, from the journaled per-line times; exact is false
// when a journal had only minute counts and whole minutes were counted.
func (s *State) ErrorsAround(service string, t time.Time, window time.Duration) (before, after int, exact bool) {
	times, exact := s.ErrorTimes(service)
	if !exact {
		m, span := t.Unix()/60, int64(window/time.Minute)
		for minute, n := range s.ErrorsPerMinute(service) {
			switch {
			case minute >= m-span && minute < m:
				before += n
			case minute >= m && minute < m+span:
				after += n
			}
		}
		return before, after, false
	}
	for _, lt := range times {
		switch {
		case !lt.Before(t.Add(-window)) && lt.Before(t):
			before++
		case !lt.Before(t) && lt.Before(t.Add(window)):
			after++
		}
	}
	return before, after, true
}

func (s *State) image(ref string) *ImageProgress {
	for i := range s.Preload.Images {
		if s.Preload.Images[i].Ref == ref {
			return &s.Preload.Images[i]
		}
	}
	s.Preload.Images = append(s.Preload.Images, ImageProgress{Ref: ref, Layers: map[string][2]int64{}})
	return &s.Preload.Images[len(s.Preload.Images)-1]
}

func (s *State) step(ev Event) *StepState {
	for i := range s.Steps {
		if st := &s.Steps[i]; st.N == ev.Step && (st.Run == ev.Run || st.Run == "") {
			st.Run = ev.Run
			return st
		}
	}
	s.Steps = append(s.Steps, StepState{Run: ev.Run, N: ev.Step, Name: ev.StepName, Kind: ev.StepKind, State: "pending"})
	return &s.Steps[len(s.Steps)-1]
}

func (s *State) service(name, group string) *ServiceStatus {
	for _, svc := range s.Services {
		if svc.Name == name {
			if svc.Group == "" {
				svc.Group = group
			}
			return svc
		}
	}
	svc := &ServiceStatus{Name: name, Group: group}
	s.Services = append(s.Services, svc)
	if s.plan == nil {
		sort.SliceStable(s.Services, func(a, b int) bool { return s.Services[a].Name < s.Services[b].Name })
	}
	return svc
}

// Service is the status of one service, or nil.
func (s *State) Service(name string) *ServiceStatus {
	for _, svc := range s.Services {
		if svc.Name == name {
			return svc
		}
	}
	return nil
}

// Phase derives where the release stands from the open operation and how
// the latest one ended.
func (s *State) Phase() Phase {
	switch {
	case s.Op == OpApply && s.reverting, s.Op == OpRevert:
		return PhaseReverting
	case s.Op == OpApply:
		return PhaseDeploying
	case s.Op == OpPreload:
		return PhasePreloading
	}
	switch s.last {
	case OpPreload:
		if s.Preload.Error != "" {
			return PhasePreloadFailed
		}
		return PhaseReady
	case OpApply, OpRevert:
		return outcomePhase(s.Outcome)
	}
	return PhaseReady
}

// outcomePhase is the phase an operation's outcome leaves the release in.
func outcomePhase(outcome string) Phase {
	switch {
	case outcome == string(Deployed):
		return PhaseDeployed
	case outcome == string(Reverted):
		return PhaseReverted
	case outcome == ResultNothing:
		return PhaseReady
	case strings.Contains(outcome, "incomplete"):
		return PhaseRevertIncomplete
	}
	return PhaseFailed
}

// Running reports whether an operation is open.
func (s *State) Running() bool { return s.Op != "" }

// CurrentSteps are the steps of the latest apply (or the plan's, before one).
func (s *State) CurrentSteps() []StepState {
	var out []StepState
	for _, st := range s.Steps {
		if st.Run == s.Run {
			out = append(out, st)
		}
	}
	return out
}

// RunningStep is the step running now, or nil.
func (s *State) RunningStep() *StepState {
	for i := range s.Steps {
		if s.Steps[i].Run == s.Run && s.Steps[i].State == "running" {
			return &s.Steps[i]
		}
	}
	return nil
}

// FirstFailure is the first failed step of the latest apply, in one line.
func (s *State) FirstFailure() string {
	for _, st := range s.CurrentSteps() {
		if st.State == "failed" {
			return fmt.Sprintf("step %d (%s): %s", st.N, st.Name, firstOf(st.Error))
		}
	}
	return ""
}

// Impact is how long a service was not serving in one apply and its
// revert; run "" counts every apply of the release.
func (svc *ServiceStatus) Impact(run string, end time.Time) time.Duration {
	var d time.Duration
	for _, u := range svc.Unavailable {
		if run == "" || u.Run == run || u.Run == "" {
			d += u.Duration(end)
		}
	}
	return d
}

// ImpactSummary says, per service that stopped serving in the latest apply
// and its revert, for how long: "api 12.3s (deploy), web 0.8s (deploy)",
// and "web 0s (blue/green)" for one the proxy switched without a gap; ""
// when none did and none is proxied. Earlier runs of the release are told by ImpactOf.
func (s *State) ImpactSummary() string { return s.ImpactOf(s.ImpactRun) }

// ImpactOf is ImpactSummary for one apply (run "" for every apply).
func (s *State) ImpactOf(run string) string {
	var parts []string
	for _, svc := range s.Services {
		var causes []string
		open := false
		for _, u := range svc.Unavailable {
			if run != "" && u.Run != run && u.Run != "" {
				continue
			}
			if !slices.Contains(causes, u.Cause) {
				causes = append(causes, u.Cause)
			}
			open = open || u.Open
		}
		if len(causes) == 0 {
			if svc.Proxied() {
				parts = append(parts, svc.Name+" 0s (blue/green)")
			}
			continue
		}
		part := fmt.Sprintf("%s %s (%s", svc.Name, svc.Impact(run, s.End).Round(100*time.Millisecond), strings.Join(causes, ", "))
		if open {
			part += ", still not serving"
		}
		parts = append(parts, part+")")
	}
	return strings.Join(parts, ", ")
}

// ImpactRuns are the applies in which a service stopped serving, in order.
func (s *State) ImpactRuns() []string {
	var runs []string
	var first []time.Time
	for _, svc := range s.Services {
		for _, u := range svc.Unavailable {
			if i := slices.Index(runs, u.Run); i < 0 {
				runs, first = append(runs, u.Run), append(first, u.From)
			} else if u.From.Before(first[i]) {
				first[i] = u.From
			}
		}
	}
	idx := make([]int, len(runs))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return first[idx[a]].Before(first[idx[b]]) })
	out := make([]string, len(runs))
	for i, j := range idx {
		out[i] = runs[j]
	}
	return out
}

// Held says whose traffic the proxy holds, as far as the events tell:
// "web paused since 04:12:03 UTC, api in maintenance since …"; "" when none.
func (s *State) Held() string {
	var parts []string
	for _, svc := range s.Services {
		r := svc.Route
		if r.Hold == "" {
			continue
		}
		state := "paused"
		if r.Hold == ActionMaintenance {
			state = "in maintenance"
		}
		part := fmt.Sprintf("%s %s since %s", svc.Name, state, r.Since.UTC().Format("15:04:05 UTC"))
		if r.Error != "" {
			part += " (" + firstOf(r.Error) + ")"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}

// ServicesNow says what each service runs as far as the events tell:
// "api golive-demo/api:1 (reverted), web golive-demo/web:2 (deployed)".
func (s *State) ServicesNow() string {
	var parts []string
	for _, svc := range s.Services {
		now, untouched := svc.Now, len(svc.Changes) == 0 && svc.Now == "" && svc.NowID == ""
		switch {
		case svc.Result == ResultReverted && svc.NowID == "":
			now = "removed"
		case svc.Result == ResultHostLost:
			now = "unknown"
		case untouched:
			now = "not changed" // its deploy never started: a failure before it is not its own
		case now == "":
			now = "?"
		}
		part := svc.Name + " " + now
		if svc.Result != "" && !untouched {
			part += " (" + svc.Result + ")"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}

// OperatorStopped says a cancelled context in an error text as what it
// means in a release: the operator stopped it (Ctrl-C, q twice).
func OperatorStopped(text string) string {
	return strings.ReplaceAll(text, context.Canceled.Error(), "stopped by the operator")
}

// firstOf is the first non-empty text's first line.
func firstOf(texts ...string) string {
	for _, t := range texts {
		if t != "" {
			line, _, _ := strings.Cut(t, "\n")
			return line
		}
	}
	return ""
}
