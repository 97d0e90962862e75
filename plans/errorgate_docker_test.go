package plans_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

// gated is a health.stable value that also sets an error gate: the
// fixture's plan writes each service's health as one flow mapping.
func gated(stable, budget string) string { return stable + ", errors: " + budget }

// applyFollowing applies p with the logs followed, as the cockpit and the
// headless apply do, and returns the release state folded from its events
// and the path of its journal.
func (f *fixture) applyFollowing(p *plans.Plan) (*plans.State, string, error) {
	buf := logs.NewBuffer(0)
	e, j := f.engine(p, plans.Options{Logs: buf})
	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan error, 1)
	go func() { followed <- e.FollowLogs(ctx, buf, p.FollowLogsFrom(time.Now())) }()
	// The running version's lines are in, as in a cockpit open for a while.
	dockertest.WaitFor(f.t, "the running version's log lines", func() bool { return buf.Len() > 0 })
	f.mu.Lock()
	f.events = nil
	f.mu.Unlock()
	err := e.Apply(context.Background())
	cancel()
	must(f.t, <-followed)
	e.Close()
	state := plans.NewState(p)
	f.mu.Lock()
	for _, ev := range f.events {
		state.Apply(ev)
	}
	f.mu.Unlock()
	return state, j.Path(), err
}

func TestAV2LoggingErrorsBeyondItsBudgetDuringStableIsRevertedNamingTheLines(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	p := f.plan("2", func(v *planVars) {
		v.APIEnv, v.Stable = ", ERROR_RATE: '1', LOG_EVERY: 100ms", gated("4s", "{max: 5, per: 1m}")
	})
	state, _, err := f.applyFollowing(p)
	var aerr *plans.ApplyError
	if !errors.As(err, &aerr) || aerr.Outcome != plans.Reverted {
		t.Fatalf("apply: %v", err)
	}
	for _, want := range []string{"api: error gate: 6 error lines within 1m (budget 5 per 1m)", "Unknown column 'orders.discount_code'"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
	if a := f.version(f.apiPort); a != "1" {
		t.Fatalf("after the revert: api %s", a)
	}
	if g := state.Service("api").ErrorGate; g.Result != plans.ResultFailed || g.Text() != "errors 6/5 per 1m" {
		t.Fatalf("api's gate in the state: %+v (%s)", g, g.Text())
	}
}

func TestAV2LoggingErrorsWithinItsBudgetDeploys(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	p := f.plan("2", func(v *planVars) {
		v.APIEnv, v.Stable = ", ERROR_RATE: '1', LOG_EVERY: 500ms", gated("2s", "{max: 50, per: 1m}")
	})
	state, journal, err := f.applyFollowing(p)
	must(t, err)
	if a := f.version(f.apiPort); a != "2" {
		t.Fatalf("api answers %s", a)
	}
	g := state.Service("api").ErrorGate
	if g.Result != plans.ResultOK || g.Count == 0 || g.Budget != 50 || g.Per != time.Minute {
		t.Fatalf("api's gate in the state: %+v", g)
	}
	recordJournal(t, journal, "error-gate-ok")
}

func TestErrorsDuringTheWatchWindowAfterTheGroupDeployedRevertIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	p := f.plan("2", func(v *planVars) {
		v.APIEnv, v.Stable = ", ERROR_RATE: '1', LOG_EVERY: 600ms", gated("300ms", "{max: 3, per: 1m, watch: 20s}")
	})
	_, journal, err := f.applyFollowing(p)
	var aerr *plans.ApplyError
	if !errors.As(err, &aerr) || aerr.Outcome != plans.Reverted || !strings.Contains(err.Error(), "api: error gate: 4 error lines") {
		t.Fatalf("apply: %v", err)
	}
	if len(f.eventsOf(plans.EvHealth)) == 0 || f.eventsOf(plans.EvHealth)[0].Result != plans.ResultOK {
		t.Fatalf("the health gate should have passed before the watch: %+v", f.eventsOf(plans.EvHealth))
	}
	if a := f.version(f.apiPort); a != "1" {
		t.Fatalf("after the revert: api %s", a)
	}
	recordJournal(t, journal, "error-gate-tripped")
}

func TestARatioBudgetIsMeasuredFromThePreviousVersionsErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", func(v *planVars) { v.APIEnv = ", ERROR_RATE: '1', LOG_EVERY: 100ms" })))
	time.Sleep(3 * time.Second) // v1 logs about 30 error lines
	p := f.plan("2", func(v *planVars) {
		v.APIEnv, v.Stable = ", ERROR_RATE: '1', LOG_EVERY: 20ms", gated("5s", "{max_ratio: 2, per: 1m}")
	})
	state, _, err := f.applyFollowing(p)
	var aerr *plans.ApplyError
	if !errors.As(err, &aerr) || aerr.Outcome != plans.Reverted || !strings.Contains(err.Error(), "api: error gate: ") {
		t.Fatalf("apply: %v", err)
	}
	// v1's rate over the 5 minutes before the deploy, doubled: more than
	// the 2 lines a quiet previous version would give.
	if g := state.Service("api").ErrorGate; g.Budget <= 2 || g.Result != plans.ResultFailed {
		t.Fatalf("api's gate: %+v", g)
	}
	if a := f.version(f.apiPort); a != "1" {
		t.Fatalf("after the revert: api %s", a)
	}
}
