package plans_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/plans"
)

// stables sets each service's stable window.
func stables(p *plans.Plan, api, web time.Duration) *plans.Plan {
	p.Service("api").Health.Stable = api
	p.Service("web").Health.Stable = web
	return p
}

// eventTime is when the first event of kind for service happened, matching
// the action when it is not "".
func (f *fixture) eventTime(kind, service, action string) time.Time {
	f.t.Helper()
	for _, ev := range f.eventsOf(kind) {
		if ev.Service == service && (action == "" || ev.Action == action) {
			return ev.Time
		}
	}
	f.t.Fatalf("no %s %s event for %s", kind, action, service)
	return time.Time{}
}

func TestTheFrontendDeploysWhileTheBackendIsInItsStableWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	f.mu.Lock()
	f.events = nil
	f.mu.Unlock()
	must(t, f.apply(stables(f.plan("2", nil), 3*time.Second, 300*time.Millisecond)))
	// web's deploy begins inside api's window (its container may start
	// after the window on a loaded machine: stop and start take seconds).
	opened := f.eventTime(plans.EvWindow, "api", "")
	webBegan := f.eventTime(plans.EvServiceStart, "web", "")
	apiHealthy := f.eventTime(plans.EvHealth, "api", "")
	if !opened.Before(webBegan) || !webBegan.Before(apiHealthy) {
		t.Fatalf("api's window opened %s and passed %s; web's deploy began %s: not inside it",
			opened.Format("05.000"), apiHealthy.Format("05.000"), webBegan.Format("05.000"))
	}
	if d := apiHealthy.Sub(opened); d < 3*time.Second {
		t.Fatalf("api's window lasted %s, shorter than its stable 3s", d)
	}
	for _, ev := range f.eventsOf(plans.EvStepEnd) {
		if ev.Result != plans.ResultOK {
			t.Fatalf("step %d ended %s: %s", ev.Step, ev.Result, ev.Error)
		}
	}
	if a, w := f.version(f.apiPort), f.version(f.webPort); a != "2" || w != "2" {
		t.Fatalf("after the apply: api %s, web %s; want 2 and 2", a, w)
	}
}

func TestABackendThatCrashesInItsStableWindowRevertsTheFrontendDeployedMeanwhile(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	f.mu.Lock()
	f.events = nil
	f.mu.Unlock()
	// The api answers at once and exits 2.5 s after its start, inside its
	// 8 s window; by then web has deployed and is in its own window.
	p := stables(f.plan("2", func(v *planVars) { v.APIEnv, v.APIRestart = ", CRASH_AFTER: 2500ms", "no" }), 8*time.Second, 5*time.Second)
	err := f.apply(p)
	var aerr *plans.ApplyError
	if !errors.As(err, &aerr) || aerr.Outcome != plans.Reverted {
		t.Fatalf("apply ended with %v, want a reverted release", err)
	}
	if !strings.Contains(aerr.Err.Error(), "step 1 (Deploy backend): api: container exited with code 1") {
		t.Fatalf("the apply's error does not name the backend's crash first:\n%v", aerr.Err)
	}
	f.eventTime(plans.EvWindow, "api", "")
	f.eventTime(plans.EvServiceChange, "web", plans.ActionStarted)
	steps := map[int]plans.Event{}
	for _, ev := range f.eventsOf(plans.EvStepEnd) {
		steps[ev.Step] = ev
	}
	if web := steps[2]; web.Result != plans.ResultFailed || !strings.Contains(web.Error, "stopped: step 1 (Deploy backend) failed") {
		t.Fatalf("the frontend's step ended %s: %q; want failed, stopped by the backend's failure", web.Result, web.Error)
	}
	f.eachService(plans.EvRevertService, func(ev plans.Event) {
		if ev.Result != plans.ResultReverted {
			t.Fatalf("%s: revert %s: %s", ev.Service, ev.Result, ev.Error)
		}
	})
	if a, w := f.version(f.apiPort), f.version(f.webPort); a != "1" || w != "1" {
		t.Fatalf("after the revert: api %s, web %s; want 1 and 1", a, w)
	}
}

func TestAStepBetweenTwoDeploysWaitsForTheFirstGroupsStableWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	f.mu.Lock()
	f.events = nil
	f.mu.Unlock()
	steps := "steps:\n  - deploy: backend\n  - verify: \"true\"\n  - deploy: frontend\n"
	must(t, f.apply(stables(f.plan("2", func(v *planVars) { v.Extra = steps }), time.Second, 300*time.Millisecond)))
	apiHealthy := f.eventTime(plans.EvHealth, "api", "")
	if webStart := f.eventTime(plans.EvServiceStart, "web", ""); webStart.Before(apiHealthy) {
		t.Fatalf("web started deploying at %s, before api's window passed at %s, though a verify step comes between",
			webStart.Format("05.000"), apiHealthy.Format("05.000"))
	}
}
