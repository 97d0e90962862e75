package plans_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/scratch"
	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

var recordJournals = flag.Bool("record-journals", false, "copy the journals of TestStateOfEveryOutcome to testdata/journals")

// run carries out one operation with the logs followed, as the CLI does,
// and returns its error and its journal's path.
func (f *fixture) run(p *plans.Plan, op func(context.Context, *plans.Engine) error) (error, string) {
	f.t.Helper()
	buf := logs.NewBuffer(0)
	e, j := f.engine(p, plans.Options{Logs: buf})
	e.Emit(plans.LoadedEvent(p, "state test"))
	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan error, 1)
	go func() { followed <- e.FollowLogs(ctx, buf, time.Now()) }()
	opCtx, opCancel := context.WithTimeout(context.Background(), 2*time.Minute)
	err := op(opCtx, e)
	opCancel()
	time.Sleep(300 * time.Millisecond) // the last error lines reach the buffer
	cancel()
	must(f.t, <-followed)
	e.Close()
	return err, j.Path()
}

func applyOp(ctx context.Context, e *plans.Engine) error  { return e.Apply(ctx) }
func revertOp(ctx context.Context, e *plans.Engine) error { return e.Revert(ctx) }

// foldFile folds a journal file into a fresh state of plan p.
func foldFile(t *testing.T, p *plans.Plan, path string) *plans.State {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	events, problems, err := plans.ReadJournal(fh)
	if err != nil || len(problems) > 0 {
		t.Fatalf("read %s: %v %v", path, err, problems)
	}
	s := plans.NewState(p)
	for _, ev := range events {
		s.Apply(ev)
	}
	return s
}

// TestStateOfEveryOutcome drives the real engine through each way a
// release ends and checks the state folded from its journal: the phase,
// what each service runs, and the measured time it was not serving.
func TestStateOfEveryOutcome(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	v1 := f.plan("1", nil)
	must(t, f.apply(v1))
	const steps = `steps:
  - {name: Migrate, run: echo migrating}
  - deploy: backend
  - deploy: frontend
  - verify: "true"
`
	broken := func(onFailure string) func(*planVars) {
		return func(v *planVars) {
			v.OnFailure, v.Timeout, v.APIEnv, v.Extra = onFailure, "3s", ", UNHEALTHY: 'true', ERROR_RATE: '1', LOG_EVERY: 100ms", steps
		}
	}
	type outcome struct {
		name    string
		plan    *plans.Plan
		op      func(context.Context, *plans.Engine) error
		wantErr bool
		phase   plans.Phase
		now     string // State.ServicesNow
		check   func(t *testing.T, s *plans.State)
	}
	v2 := f.plan("2", func(v *planVars) { v.APIEnv, v.Extra = ", ERROR_RATE: '0.5', LOG_EVERY: 100ms", steps })
	outcomes := []outcome{
		{"deployed", v2, applyOp, false, plans.PhaseDeployed, "api " + f.image("api:2") + " (deployed), web " + f.image("web:2") + " (deployed)", func(t *testing.T, s *plans.State) {
			for _, svc := range s.Services {
				if len(svc.Unavailable) != 1 || svc.Unavailable[0].Open || svc.Unavailable[0].Cause != "deploy" || svc.Impact(s.ImpactRun, s.End) <= 0 || svc.Impact(s.ImpactRun, s.End) > 10*time.Second {
					t.Errorf("%s not serving: %+v", svc.Name, svc.Unavailable)
				}
				if svc.Health.Result != plans.ResultOK || svc.Before != f.image(svc.Name+":1") {
					t.Errorf("%s: health %+v, before %s", svc.Name, svc.Health, svc.Before)
				}
			}
			if s.Service("api").Errors == 0 {
				t.Error("no api error line journaled")
			}
			for _, st := range s.CurrentSteps() {
				if (st.ExitCode != nil) != (st.Kind != plans.StepDeploy) || st.ExitCode != nil && *st.ExitCode != 0 {
					t.Errorf("step %d (%s) exit code %v", st.N, st.Kind, st.ExitCode)
				}
			}
		}},
		{"manual-revert", v2, revertOp, false, plans.PhaseReverted, "api " + f.image("api:1") + " (reverted), web " + f.image("web:1") + " (reverted)", func(t *testing.T, s *plans.State) {
			for _, svc := range s.Services {
				if len(svc.Unavailable) != 1 || svc.Unavailable[0].Cause != "revert" || svc.Unavailable[0].Open {
					t.Errorf("%s not serving: %+v", svc.Name, svc.Unavailable)
				}
			}
		}},
		{"failed-reverted", f.plan("2", broken("revert")), applyOp, true, plans.PhaseReverted, "api " + f.image("api:1") + " (reverted), web not changed", func(t *testing.T, s *plans.State) {
			api := s.Service("api")
			if len(api.Unavailable) != 1 || api.Unavailable[0].Open || api.Impact(s.ImpactRun, s.End) < 3*time.Second {
				t.Errorf("api was down from the deploy's stop to the revert's gate, got %+v", api.Unavailable)
			}
			if s.FirstFailure() == "" || !strings.Contains(s.Error, "services now") {
				t.Errorf("failure %q, error %q", s.FirstFailure(), s.Error)
			}
		}},
		{"failed-stop", f.plan("2", broken("stop")), applyOp, true, plans.PhaseFailed, "api " + f.image("api:2") + " (failed), web not changed", func(t *testing.T, s *plans.State) {
			if api := s.Service("api"); len(api.Unavailable) != 1 || !api.Unavailable[0].Open {
				t.Errorf("api should still be down: %+v", api.Unavailable)
			}
			if !strings.Contains(s.ImpactSummary(), "still not serving") {
				t.Errorf("impact %q", s.ImpactSummary())
			}
		}},
	}
	paths := map[string]string{}
	for _, o := range outcomes {
		t.Run(o.name, func(t *testing.T) {
			f.events = nil
			err, path := f.run(o.plan, o.op)
			if (err != nil) != o.wantErr {
				t.Fatalf("%s: %v", o.name, err)
			}
			live := plans.NewState(o.plan)
			for _, ev := range f.events {
				live.Apply(ev)
			}
			s := foldFile(t, o.plan, path)
			if s.Phase() != o.phase || live.Phase() != o.phase {
				t.Fatalf("phase %s from the journal, %s live; want %s", s.Phase(), live.Phase(), o.phase)
			}
			if got := s.ServicesNow(); got != o.now {
				t.Errorf("services now: %s\nwant %s", got, o.now)
			}
			o.check(t, s)
			paths[o.name] = path
		})
	}
	must(t, f.revert(v1)) // failed-stop left api on v2: back to v1 for the last case
	t.Run("revert-incomplete", func(t *testing.T) {
		// An api image that no other test shares, so removing its tag removes it.
		dockertest.LoadDemoImage(t, f.cli, f.image("api:1u"), scratch.Config{Env: []string{"VERSION=1", "ROLE=api", "UNIQUE=" + f.project}})
		must(t, f.apply(f.plan("1", func(v *planVars) { v.API = f.image("api:1u") })))
		must(t, f.apply(v2))
		must(t, f.cli.Remove(ctx, f.project+"-api.prev"))
		must(t, f.cli.RemoveImage(ctx, f.image("api:1u")))
		err, path := f.run(v2, revertOp)
		if err == nil {
			t.Fatal("revert without the previous image succeeded")
		}
		s := foldFile(t, v2, path)
		if s.Phase() != plans.PhaseRevertIncomplete || !strings.Contains(s.ServicesNow(), "api "+f.image("api:2")+" (failed)") {
			t.Fatalf("phase %s, services now %s", s.Phase(), s.ServicesNow())
		}
		paths["revert-incomplete"] = path
	})
	for name, path := range paths {
		recordJournal(t, path, name)
	}
}

// recordJournal copies a journal to testdata/journals under
// -record-journals, for the tests of the state and the report.
func recordJournal(t *testing.T, path, name string) {
	if !*recordJournals {
		return
	}
	b, err := os.ReadFile(path)
	must(t, err)
	must(t, os.WriteFile(filepath.Join("testdata", "journals", name+".jsonl"), b, 0o644))
}
