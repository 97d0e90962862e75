package plans_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/plans"
)

// foldJournals folds journal files, in order, into one state of no plan.
func foldJournals(t *testing.T, paths ...string) *plans.State {
	t.Helper()
	s := plans.NewState(nil)
	for _, p := range paths {
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		events, _, err := plans.ReadJournal(fh)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			s.Apply(ev)
		}
	}
	return s
}

// The journals were written by the real engine (TestStateOfEveryOutcome
// with -record-journals, and the demo plans for those under report/testdata).
func TestStateFoldsRecordedJournals(t *testing.T) {
	tests := []struct {
		name     string
		journals []string
		phase    plans.Phase
		running  bool
		now      string
		impact   string // a part of ImpactSummary; "" for none
		steps    string // each step of the latest apply: state and exit code
	}{
		{"deployed", []string{"testdata/journals/deployed.jsonl"}, plans.PhaseDeployed, false, "api (deployed), web (deployed)", "api 700ms (deploy), web 600ms (deploy)", "run:done/0 deploy:done deploy:done verify:done/0"},
		{"failed and reverted automatically", []string{"testdata/journals/failed-reverted.jsonl"}, plans.PhaseReverted, false, "api (reverted), web not changed", "api 5.3s (deploy)", "run:done/0 deploy:failed deploy:skipped verify:skipped"},
		{"failed and left as it is", []string{"testdata/journals/failed-stop.jsonl"}, plans.PhaseFailed, false, "api (failed)", "api 3.9s (deploy, still not serving)", "run:done/0 deploy:failed deploy:skipped verify:skipped"},
		{"reverted by a second command", []string{"testdata/journals/manual-revert.jsonl"}, plans.PhaseReverted, false, "api (reverted), web (reverted)", "api 800ms (revert), web 800ms (revert)", ""},
		{"a revert that could not finish", []string{"testdata/journals/revert-incomplete.jsonl"}, plans.PhaseRevertIncomplete, false, "api (failed), web (reverted)", "web 1.2s (revert)", ""},
		{"the demo's broken release", []string{"report/testdata/broken-release.jsonl"}, plans.PhaseReverted, false, "api (reverted)", "api 11.5s (deploy)", "run:done run:done deploy:failed deploy:skipped"},
		{"apply then revert", []string{"report/testdata/apply-2.0.0.jsonl", "report/testdata/revert-2.0.0.jsonl"}, plans.PhaseReverted, false, "api (reverted), web (reverted)", "api 3.2s (deploy), web 2.2s (deploy)", ""},
		{"cut short by a crash", []string{"report/testdata/cut-short.jsonl"}, plans.PhaseDeploying, true, "api (failed)", "api 8.2s (deploy, still not serving)", ""},
		{"a new service removed by the revert of its failed release", []string{"testdata/journals/new-service-reverted.jsonl"}, plans.PhaseReverted, false, "api removed (reverted)", "", "mark:done deploy:done run:failed/3"},
		{"killed mid-apply, then reverted by the next command", []string{"testdata/journals/killed-apply.jsonl", "testdata/journals/revert-after-kill.jsonl"}, plans.PhaseReverted, false, "api (reverted), web not changed", "api 13.2s (deploy)", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := foldJournals(t, tt.journals...)
			if s.Phase() != tt.phase || s.Running() != tt.running {
				t.Fatalf("phase %s (running %v), want %s (running %v)", s.Phase(), s.Running(), tt.phase, tt.running)
			}
			now := s.ServicesNow()
			for _, part := range strings.Split(tt.now, ", ") {
				name, rest, _ := strings.Cut(part, " ")
				if !strings.Contains(now, name) || !strings.Contains(now, rest) {
					t.Errorf("services now %q lacks %q", now, part)
				}
			}
			if got := s.ImpactSummary(); !strings.Contains(got, tt.impact) || tt.impact == "" && got != "" {
				t.Errorf("impact %q, want it to contain %q", got, tt.impact)
			}
			if tt.steps != "" {
				var got []string
				for _, st := range s.CurrentSteps() {
					if st.Kind == plans.StepDeploy {
						got = append(got, st.Kind+":"+st.State)
					} else if st.ExitCode != nil {
						got = append(got, st.Kind+":"+st.State+"/"+string(rune('0'+*st.ExitCode)))
					} else {
						got = append(got, st.Kind+":"+st.State)
					}
				}
				if strings.Join(got, " ") != tt.steps {
					t.Errorf("steps %s, want %s", strings.Join(got, " "), tt.steps)
				}
			}
			if s.Project == "" || s.Operator == "" || s.Start.IsZero() || s.End.Before(s.Start) {
				t.Errorf("project %q, operator %q, %s–%s", s.Project, s.Operator, s.Start, s.End)
			}
		})
	}
}

// The error gates' journals were written by the real engine
// (TestAV2LoggingErrorsWithinItsBudgetDeploys and
// TestErrorsDuringTheWatchWindowAfterTheGroupDeployedRevertIt with -record-journals).
func TestStateKeepsEveryErrorGateWithWhatItWatchedAndItsDecision(t *testing.T) {
	tests := []struct {
		journal string
		want    []string // per gate: service container result count/budget per, its span > 0, lines that tripped it
	}{
		{"testdata/journals/error-gate-ok.jsonl", []string{"api 300a5e2c77a3 ok 4/50 per 1m true 0", "web f9a2dec78c23 ok 0/50 per 1m true 0"}},
		{"testdata/journals/error-gate-tripped.jsonl", []string{"api 499d388054f1 failed 4/3 per 1m true 4"}},
		{"testdata/journals/deployed.jsonl", nil},
	}
	for _, tt := range tests {
		t.Run(tt.journal, func(t *testing.T) {
			s := foldJournals(t, tt.journal)
			var got []string
			for _, svc := range s.Services {
				for _, g := range svc.ErrorGates {
					got = append(got, fmt.Sprintf("%s %s %s %d/%d per %s %v %d", svc.Name, g.Container[:12], g.Result, g.Count, g.Budget, g.Window(), g.To.After(g.From), len(g.Tripped)))
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("gates %q, want %q", got, tt.want)
			}
		})
	}
	// A gate still open when its journal ends is the service's latest, not an ended one.
	s := plans.NewState(nil)
	for _, n := range []int64{0, 2} {
		s.Apply(plans.Event{Kind: plans.EvErrorGate, Run: "r1", Service: "api", ContainerID: "c1", Current: n, Total: 5, DurationMS: 60000})
	}
	if svc := s.Service("api"); len(svc.ErrorGates) != 0 || svc.ErrorGate.Count != 2 || svc.ErrorGate.Threshold() != "more than 5 error lines within 1m" {
		t.Fatalf("an open gate: %+v, ended %+v", svc.ErrorGate, svc.ErrorGates)
	}
}

func TestStateFollowsOneReleaseAndNotesANewerOne(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)
	ev := func(sec int, release, kind, result string) plans.Event {
		return plans.Event{Time: t0.Add(time.Duration(sec) * time.Second), Project: "shop", Release: release, Kind: kind, Result: result, Actor: "bob@ops2", Run: release}
	}
	s := plans.NewStateOf("shop", "2.0.0")
	for _, e := range []plans.Event{
		ev(0, "2.0.0", plans.EvApplyStart, ""),
		ev(5, "2.0.0", plans.EvApplyEnd, string(plans.Deployed)),
		ev(60, "2.0.1", plans.EvApplyStart, ""),
		ev(61, "2.0.1", plans.EvRevertStart, ""),
		ev(70, "2.0.1", plans.EvApplyEnd, string(plans.Reverted)),
		{Time: t0.Add(80 * time.Second), Project: "other", Release: "9", Kind: plans.EvApplyStart},
	} {
		s.Apply(e)
	}
	if s.Phase() != plans.PhaseDeployed || s.Newer != "2.0.1" || s.NewerBy != "bob@ops2" {
		t.Fatalf("phase %s, newer %q by %q", s.Phase(), s.Newer, s.NewerBy)
	}
}

func TestARevertThatFailedInsideAnApplyIsNotCalledReverted(t *testing.T) {
	s := plans.NewStateOf("shop", "2")
	for _, e := range []plans.Event{
		{Kind: plans.EvApplyStart, Run: "r1"},
		{Kind: plans.EvStepEnd, Run: "r1", Step: 1, Result: plans.ResultFailed, Error: "api: not healthy"},
		{Kind: plans.EvRevertStart, Run: "r1"},
		{Kind: "revert.retry", Run: "r1", Result: "waiting"}, // a kind this fold does not know
		{Kind: plans.EvRevertEnd, Run: "r1", Result: plans.ResultFailed, Error: "docker: connection lost"},
		{Kind: plans.EvApplyEnd, Run: "r1", Result: string(plans.Reverted)},
	} {
		s.Apply(e)
		if e.Kind == plans.EvRevertStart && s.Phase() != plans.PhaseReverting {
			t.Fatalf("phase %s while the automatic revert runs", s.Phase())
		}
	}
	if s.Phase() != plans.PhaseRevertIncomplete {
		t.Fatalf("phase %s", s.Phase())
	}
	s.Apply(plans.Event{Kind: plans.EvApplyStart, Run: "r2"})
	s.Apply(plans.Event{Kind: plans.EvApplyEnd, Run: "r2", Result: "revert incomplete"}) // an outcome the engine may add
	if s.Phase() != plans.PhaseRevertIncomplete {
		t.Fatalf("phase %s for a revert-incomplete outcome", s.Phase())
	}
}

func TestFollowReleaseStartsAtTheJournalOfItsReleaseAndGoesOn(t *testing.T) {
	state := t.TempDir()
	t0 := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)
	for i, release := range []string{"2.0.0", "2.0.0", "2.0.1"} {
		j, err := plans.CreateJournal(state, "shop", release, t0.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Append(plans.Event{Kind: plans.EvApplyStart, Project: "shop", Release: release, Run: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
		j.Close()
	}
	got := make(chan string, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- plans.FollowRelease(ctx, state, "shop", "2.0.0", func(_ string, e plans.Event) { got <- e.Release + "/" + e.Run })
	}()
	var runs []string
	for len(runs) < 2 {
		select {
		case r := <-got:
			runs = append(runs, r)
		case <-time.After(5 * time.Second):
			t.Fatalf("delivered only %v", runs)
		}
	}
	cancel()
	if err := <-done; err != nil || strings.Join(runs, " ") != "2.0.0/b 2.0.1/c" {
		t.Fatalf("delivered %v (%v); want the newest journal of 2.0.0 and the newer one of 2.0.1", runs, err)
	}
}

func TestALockBrokenByTheNextCommandEndsOnlyTheOperationThatHeldIt(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	at := func(sec int, kind, result string) plans.Event {
		return plans.Event{Time: t0.Add(time.Duration(sec) * time.Second), Kind: kind, Result: result, Run: "r1"}
	}
	tests := []struct {
		name    string
		events  []plans.Event
		phase   plans.Phase
		outcome string
	}{
		{"an apply killed, then reverted by another process", []plans.Event{
			at(0, plans.EvApplyStart, ""), at(1, plans.EvLockAcquired, ""), at(2, plans.EvStepStart, ""),
			at(10, plans.EvLockBroken, ""), at(11, plans.EvLockAcquired, ""), at(12, plans.EvRevertStart, ""),
			at(15, plans.EvRevertEnd, plans.ResultReverted), at(16, plans.EvLockReleased, ""),
		}, plans.PhaseReverted, string(plans.Reverted)},
		{"an apply killed, and its lock broken by unlock", []plans.Event{
			at(0, plans.EvApplyStart, ""), at(1, plans.EvLockAcquired, ""), at(2, plans.EvStepStart, ""),
			at(10, plans.EvLockBroken, ""),
		}, plans.PhaseFailed, plans.ResultInterrupted},
		{"a revert killed, then reverted again", []plans.Event{
			at(0, plans.EvLockAcquired, ""), at(1, plans.EvRevertStart, ""),
			at(10, plans.EvLockBroken, ""), at(11, plans.EvLockAcquired, ""), at(12, plans.EvRevertStart, ""),
			at(15, plans.EvRevertEnd, plans.ResultReverted),
		}, plans.PhaseReverted, string(plans.Reverted)},
		{"an apply that breaks a dead process's stale lock goes on", []plans.Event{
			at(0, plans.EvApplyStart, ""), at(1, plans.EvLockBroken, ""), at(2, plans.EvLockAcquired, ""),
		}, plans.PhaseDeploying, ""},
		{"an apply that breaks the lock of an apply seen killed goes on", []plans.Event{
			at(0, plans.EvApplyStart, ""), at(1, plans.EvLockAcquired, ""),
			at(10, plans.EvApplyStart, ""), at(11, plans.EvLockBroken, ""), at(12, plans.EvLockAcquired, ""),
		}, plans.PhaseDeploying, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := plans.NewStateOf("shop", "2")
			for _, e := range tt.events {
				s.Apply(e)
			}
			if s.Phase() != tt.phase || s.Outcome != tt.outcome {
				t.Fatalf("phase %s, outcome %q; want %s, %q", s.Phase(), s.Outcome, tt.phase, tt.outcome)
			}
		})
	}
}

func TestAnApplyOfAnotherCommandCountsOnlyOnceItHasTheLock(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	at := func(sec int, run, kind, result string) plans.Event {
		return plans.Event{Time: t0.Add(time.Duration(sec) * time.Second), Kind: kind, Result: result, Run: run}
	}
	tests := []struct {
		name    string
		events  []plans.Event
		phase   plans.Phase // after every event; the last one's at the end
		run     string
		outcome string
	}{
		{"a second apply refused the lock while the first runs", []plans.Event{
			at(0, "r1", plans.EvApplyStart, ""), at(1, "", plans.EvLockAcquired, ""), at(2, "r1", plans.EvStepStart, ""),
			at(3, "r2", plans.EvApplyStart, ""), at(3, "", plans.EvLockRefused, ""), at(3, "r2", plans.EvApplyEnd, string(plans.Aborted)),
			at(4, "r1", plans.EvStepEnd, plans.ResultOK),
		}, plans.PhaseDeploying, "r1", ""},
		{"and the first ends as it ends", []plans.Event{
			at(0, "r1", plans.EvApplyStart, ""), at(1, "", plans.EvLockAcquired, ""),
			at(3, "r2", plans.EvApplyStart, ""), at(3, "", plans.EvLockRefused, ""), at(3, "r2", plans.EvApplyEnd, string(plans.Aborted)),
			at(9, "r1", plans.EvApplyEnd, string(plans.Deployed)),
		}, plans.PhaseDeployed, "r1", string(plans.Deployed)},
		{"an apply killed, then another apply that breaks its lock", []plans.Event{
			at(0, "r1", plans.EvApplyStart, ""), at(1, "", plans.EvLockAcquired, ""),
			at(10, "r2", plans.EvApplyStart, ""), at(10, "", plans.EvLockBroken, ""), at(11, "", plans.EvLockAcquired, ""),
			at(20, "r2", plans.EvApplyEnd, string(plans.Deployed)),
		}, plans.PhaseDeployed, "r2", string(plans.Deployed)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := plans.NewStateOf("shop", "2")
			for i, e := range tt.events {
				s.Apply(e)
				if i >= 3 && i < len(tt.events)-1 && tt.run == "r1" && s.Phase() != plans.PhaseDeploying {
					t.Fatalf("after %s of %s: phase %s while r1 still runs", e.Kind, e.Run, s.Phase())
				}
			}
			if s.Phase() != tt.phase || s.Run != tt.run || s.Outcome != tt.outcome {
				t.Fatalf("phase %s, run %s, outcome %q; want %s, %s, %q", s.Phase(), s.Run, s.Outcome, tt.phase, tt.run, tt.outcome)
			}
		})
	}
}

// TestTheImpactCoversTheLatestApplyAndEveryApplyOnlyWhenAsked folds the
// same release deployed twice: the live figure is the second apply's, not
// the sum; ImpactOf("") and ImpactRuns tell each apply and the total.
func TestTheImpactCoversTheLatestApplyAndEveryApplyOnlyWhenAsked(t *testing.T) {
	fh, err := os.Open("testdata/journals/deployed.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	events, _, err := plans.ReadJournal(fh)
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := plans.NewState(nil)
	for _, ev := range events {
		s.Apply(ev)
	}
	once := s.ImpactSummary()
	for _, ev := range events {
		ev.Time = ev.Time.Add(time.Hour)
		if ev.Run != "" {
			ev.Run += "-again"
		}
		s.Apply(ev)
	}
	if got := s.ImpactSummary(); got != once || got != "api 700ms (deploy), web 600ms (deploy)" {
		t.Errorf("after the second apply the impact is %q, want the second apply's %q", got, once)
	}
	if got := s.ImpactOf(""); got != "api 1.4s (deploy), web 1.3s (deploy)" {
		t.Errorf("the impact of every apply is %q", got)
	}
	if runs := s.ImpactRuns(); len(runs) != 2 || runs[1] != s.Run {
		t.Errorf("runs %q, latest %q", runs, s.Run)
	}
}

// TestAReleaseStoppedByTheOperatorSaysSo folds an apply the operator
// stopped (Ctrl-C or q twice): what failed says so rather than "context
// canceled", and a service whose deploy never started is not changed.
func TestAReleaseStoppedByTheOperatorSaysSo(t *testing.T) {
	at := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	ev := func(i int, e plans.Event) plans.Event {
		e.Project, e.Release, e.Run, e.Time = "shop", "2", "r1", at.Add(time.Duration(i)*time.Second)
		return e
	}
	s := plans.NewState(nil)
	for i, e := range []plans.Event{
		{Kind: plans.EvApplyStart},
		{Kind: plans.EvStepStart, Step: 1, StepName: "deploy api", StepKind: plans.StepDeploy},
		{Kind: plans.EvServiceStart, Service: "api", Image: "api:2", PrevImage: "api:1", PrevImageID: "sha256:1"},
		{Kind: plans.EvServiceEnd, Service: "api", Result: plans.ResultFailed, Error: "health gate: context canceled"},
		{Kind: plans.EvServiceEnd, Service: "web", Result: plans.ResultFailed, Error: "context canceled"},
		{Kind: plans.EvStepEnd, Step: 1, StepName: "deploy api", StepKind: plans.StepDeploy, Result: plans.ResultFailed, Error: "deploy api: context canceled"},
		{Kind: plans.EvApplyEnd, Result: string(plans.Aborted), Error: "step 1 failed: deploy api: context canceled"},
	} {
		s.Apply(ev(i, e))
	}
	if got := s.FirstFailure(); got != "step 1 (deploy api): deploy api: stopped by the operator" {
		t.Errorf("what failed: %q", got)
	}
	if strings.Contains(s.Error, "context canceled") {
		t.Errorf("error: %q", s.Error)
	}
	if got := s.ServicesNow(); !strings.Contains(got, "web not changed") || strings.Contains(got, "?") {
		t.Errorf("services now: %q", got)
	}
}

// TestABlueGreenServiceCountsZeroNotServing folds the demo's real journals
// of its frontend switched by the proxy and back: web never stopped
// serving and says so, beside api's stop-first outage.
func TestABlueGreenServiceCountsZeroNotServing(t *testing.T) {
	s := plans.NewState(nil)
	for _, path := range []string{"report/testdata/proxy-apply-2.0.0.jsonl", "report/testdata/proxy-revert-2.0.0.jsonl"} {
		fh, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		events, _, err := plans.ReadJournal(fh)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			s.Apply(ev)
		}
	}
	if got, want := s.ImpactSummary(), "api 3.1s (deploy, revert), web 0s (blue/green)"; got != want {
		t.Errorf("impact %q, want %q", got, want)
	}
}

// A service in its stable window shows as such while the next group
// deploys, serves from its first pass, and leaves the window when its gate
// ends or the apply does.
func TestStateShowsAStableWindowWhileTheNextGroupDeploys(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ev := func(ms int, kind, service string, step int, more func(*plans.Event)) plans.Event {
		e := plans.Event{Time: at(ms), Kind: kind, Project: "p", Release: "2", Run: "r1", Service: service, Step: step}
		if more != nil {
			more(&e)
		}
		return e
	}
	window := func(e *plans.Event) { e.DurationMS = 500 }
	ok := func(e *plans.Event) { e.Result = plans.ResultOK }
	stopped := func(e *plans.Event) { e.Action = plans.ActionStopped }
	tests := []struct {
		ev        plans.Event
		apiWindow time.Time // api's window end after the event; zero: none
		running   int       // steps running
		apiDown   bool      // api's outage still open
	}{
		{ev(0, plans.EvApplyStart, "", 0, nil), time.Time{}, 0, false},
		{ev(10, plans.EvStepStart, "", 1, nil), time.Time{}, 1, false},
		{ev(20, plans.EvServiceChange, "api", 1, stopped), time.Time{}, 1, true},
		{ev(300, plans.EvWindow, "api", 0, window), at(800), 1, false},
		{ev(310, plans.EvStepStart, "", 2, nil), at(800), 2, false},
		{ev(320, plans.EvServiceChange, "web", 2, stopped), at(800), 2, false},
		{ev(800, plans.EvHealth, "api", 0, ok), time.Time{}, 2, false},
		{ev(810, plans.EvStepEnd, "", 1, ok), time.Time{}, 1, false},
		{ev(900, plans.EvWindow, "web", 0, window), time.Time{}, 1, false},
		{ev(940, plans.EvStepEnd, "", 2, func(e *plans.Event) { e.Result = plans.ResultFailed }), time.Time{}, 0, false},
		{ev(950, plans.EvApplyEnd, "", 0, func(e *plans.Event) { e.Result = "failed" }), time.Time{}, 0, false},
	}
	p := &plans.Plan{Project: "p", Release: "2", Services: []*plans.Service{{Name: "api", Group: "backend"}, {Name: "web", Group: "frontend"}},
		Steps: []plans.Step{{Deploy: "backend"}, {Deploy: "frontend"}}}
	s := plans.NewState(p)
	for _, tt := range tests {
		s.Apply(tt.ev)
		api := s.Service("api")
		if !api.Window.Equal(tt.apiWindow) {
			t.Fatalf("after %s at %s: api's window ends %s, want %s", tt.ev.Kind, tt.ev.Time.Format("05.000"), api.Window, tt.apiWindow)
		}
		running := 0
		for _, st := range s.CurrentSteps() {
			if st.State == "running" {
				running++
			}
		}
		if running != tt.running {
			t.Fatalf("after %s at %s: %d steps running, want %d", tt.ev.Kind, tt.ev.Time.Format("05.000"), running, tt.running)
		}
		if down := len(api.Unavailable) > 0 && api.Unavailable[len(api.Unavailable)-1].Open; down != tt.apiDown {
			t.Fatalf("after %s at %s: api not serving %v, want %v", tt.ev.Kind, tt.ev.Time.Format("05.000"), down, tt.apiDown)
		}
	}
	if web := s.Service("web"); !web.Window.IsZero() {
		t.Fatalf("the apply ended, but web is still shown in its window until %s", web.Window)
	}
	if got := s.Service("api").Impact("", s.End); got != 280*time.Millisecond {
		t.Fatalf("api not serving %s, want 280ms: from its stop to its first pass", got)
	}
}

// A confirm step that ends without an answer (the operator pressed R, or
// the apply was stopped) asks nothing any more: watch must not go on
// showing the question through the revert that follows.
func TestAConfirmStepThatEndsUnansweredAsksNothingMore(t *testing.T) {
	s := plans.NewStateOf("shop", "2")
	for _, e := range []plans.Event{
		{Kind: plans.EvApplyStart},
		{Kind: plans.EvStepStart, Step: 2, StepKind: plans.StepConfirm},
		{Kind: plans.EvConfirmAsk, Step: 2, Actor: "bob@ops2", Message: "QA done?"},
		{Kind: plans.EvStepEnd, Step: 2, StepKind: plans.StepConfirm, Result: plans.ResultFailed, Error: "context canceled"},
		{Kind: plans.EvRevertStart},
	} {
		e.Project, e.Release, e.Run = "shop", "2", "r1"
		s.Apply(e)
	}
	if s.Asking != "" {
		t.Fatalf("still asking %q after the step ended (phase %s)", s.Asking, s.Phase())
	}
}
