package plans_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/scratch"
	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

// TestHostsErrorGateCountsPerHost rolls api:4 out over three hosts with an
// error gate; api:4 logs errors on h2 only. The gate trips for api@h2
// alone: h3 is never touched, h1 and h2 are put back, and the first error
// lines after the deploy are journaled for api@h2.
func TestHostsErrorGateCountsPerHost(t *testing.T) {
	f := newHostsFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := f.set.LoadTarball(ctx, dockertest.DemoTarball(t, f.image("4"), scratch.Config{Env: []string{"VERSION=4", "ROLE=api", "LOG_EVERY=100ms"}})); err != nil {
		t.Fatal(err)
	}
	noisy := dockertest.DemoTarball(t, f.image("4"), scratch.Config{Env: []string{"VERSION=4", "ROLE=api", "LOG_EVERY=100ms", "ERROR_RATE=1"}})
	if _, err := f.clients["h2"].Load(ctx, noisy); err != nil {
		t.Fatal(err)
	}
	if err := f.apply(f.plan("1", "")); err != nil {
		t.Fatal(err)
	}
	h3Before, err := f.clients["h3"].Inspect(ctx, f.project+"-api")
	if err != nil || h3Before == nil {
		t.Fatal(h3Before, err)
	}
	p := f.planGated("4", ", errors: {max: 5, per: 1m, watch: 4s}", "")
	buf := logs.NewBuffer(0)
	e := f.engineWith(p, buf)
	followCtx, stop := context.WithCancel(context.Background())
	followed := make(chan error, 1)
	go func() { followed <- e.FollowLogs(followCtx, buf, p.FollowLogsFrom(time.Now())) }()
	dockertest.WaitFor(t, "the running version's lines on every host", func() bool {
		got := buf.Sources()
		return slices.Contains(got, "api@h1") && slices.Contains(got, "api@h2") && slices.Contains(got, "api@h3")
	})
	err = e.Apply(ctx)
	stop()
	if ferr := <-followed; ferr != nil {
		t.Fatal(ferr)
	}
	e.Close()
	var aerr *plans.ApplyError
	if !errors.As(err, &aerr) || aerr.Outcome != plans.Reverted {
		t.Fatalf("api:4 logs errors on h2: want a reverted apply, got %v", err)
	}
	if !strings.Contains(err.Error(), "host h2") || !strings.Contains(err.Error(), "error gate: 6 error lines") {
		t.Errorf("the error should name host h2 and its gate: %v", err)
	}
	run := f.lastRun()
	if got := f.started(run); !slices.Equal(got, []string{"h1", "h2"}) {
		t.Errorf("batch 3 (h3) must never start after h2's gate tripped; started %v", got)
	}
	if h3After, err := f.clients["h3"].Inspect(ctx, f.project+"-api"); err != nil || h3After == nil || h3After.ID != h3Before.ID {
		t.Errorf("h3's container changed: %v → %v (%v)", h3Before, h3After, err)
	}
	if got := f.running(); !equalMaps(got, f.want("1")) {
		t.Fatalf("h1 and h2 are put back: %v", got)
	}
	st := plans.NewState(p)
	f.mu.Lock()
	for _, ev := range f.events {
		st.Apply(ev)
	}
	f.mu.Unlock()
	if g := st.Service("api@h2").ErrorGate; g.Result != plans.ResultFailed {
		t.Errorf("api@h2's gate: %+v", g)
	}
	if g := st.Service("api@h1").ErrorGate; g.Result != plans.ResultOK {
		t.Errorf("api@h1's gate passed: %+v", g)
	}
	if len(st.Service("api@h2").FirstErrors) == 0 || len(st.Service("api@h1").FirstErrors) != 0 {
		t.Errorf("first error lines after the deploy, per host: h1 %v, h2 %v", st.Service("api@h1").FirstErrors, st.Service("api@h2").FirstErrors)
	}
}

// engineWith is engine with the logs followed into buf, as the cockpit
// and the headless apply do.
func (f *hostsFixture) engineWith(p *plans.Plan, buf *logs.Buffer) *plans.Engine {
	f.t.Helper()
	state := filepath.Join(f.dir, ".golive")
	j, err := plans.CreateJournal(state, p.Project, p.Release, time.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { j.Close() })
	hosts := map[string]plans.Docker{}
	for name, c := range f.clients {
		hosts[name] = c
	}
	return plans.NewEngine(p, plans.Options{Hosts: hosts, Journal: j, StateDir: state, Actor: "tester@ci", Logs: buf, OnEvent: func(ev plans.Event) {
		f.mu.Lock()
		f.events = append(f.events, ev)
		f.mu.Unlock()
	}})
}
