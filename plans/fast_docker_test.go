package plans_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/plans"
)

func TestAnEngineThatStallsDuringTheHealthGateEndsTheApplyWithATimeoutNamingTheCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	stalling := dockertest.NewStallingEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cli, err := docker.Connect(ctx, stalling.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	cli.SetTimeouts(docker.Timeouts{Query: 2 * time.Second, Change: 10 * time.Second, StopMargin: 5 * time.Second, Idle: 10 * time.Second})
	p := f.plan("1", func(v *planVars) { v.OnFailure, v.Timeout = "stop", "3s" })
	e := plans.NewEngine(p, plans.Options{Docker: cli, Actor: "tester@ci", OnEvent: func(ev plans.Event) {
		if ev.Kind == plans.EvServiceChange && strings.HasPrefix(ev.Message, "started ") {
			stalling.Stall()
		}
	}})
	err = e.Apply(ctx)
	var aerr *plans.ApplyError
	if !errors.As(err, &aerr) || aerr.Outcome != plans.Failed {
		t.Fatalf("apply ended with %v, want a failed release", err)
	}
	for _, want := range []string{"step 1 (Deploy backend): api: ", "inspect container ", "no answer from the Docker engine within", "it may be stalled"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("apply error does not say %q:\n%v", want, err)
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("apply hung until the test's own deadline: %v", err)
	}
}

func TestStableZeroDecidesAtTheFirstPassingProbe(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// The api passes its first probe, then crashes 1.5 s after its start:
	// a gate with a stable window would catch the crash, stable 0 does not wait.
	p := f.plan("1", func(v *planVars) { v.APIEnv, v.Stable = ", CRASH_AFTER: 1500ms", "0s" })
	for _, svc := range p.Services {
		svc.Health.Stable = 0
	}
	if err := f.apply(p); err != nil {
		t.Fatalf("apply with stable 0: %v", err)
	}
	f.eachService(plans.EvHealth, func(ev plans.Event) {
		if ev.Result != plans.ResultOK {
			t.Fatalf("%s: health %s", ev.Service, ev.Result)
		}
	})
	if w := f.eventsOf(plans.EvWindow); len(w) > 0 {
		t.Fatalf("stable 0 opened a stable window: %+v", w[0])
	}
}

func TestAFailingGroupRemovesTheNextGroupsContainersCreatedAhead(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	f.mu.Lock()
	f.events = nil
	f.mu.Unlock()
	err := f.apply(f.plan("2", func(v *planVars) { v.OnFailure, v.APIEnv, v.Timeout = "stop", ", UNHEALTHY: 'true'", "2s" }))
	var aerr *plans.ApplyError
	if !errors.As(err, &aerr) || aerr.Outcome != plans.Failed {
		t.Fatalf("apply: %v", err)
	}
	if next := f.container(f.project + "-web.next"); next != nil {
		t.Fatalf("the frontend's container created ahead was left behind: %s (%s)", next.Name, next.State)
	}
	if w := f.version(f.webPort); w != "1" {
		t.Fatalf("after the failed backend: web %s, want 1 untouched", w)
	}
	for _, ev := range f.eventsOf(plans.EvServiceStart) {
		if ev.Service == "web" {
			t.Fatalf("the journal says web was deployed: %+v", ev)
		}
	}
}
