package main

import (
	"context"
	"testing"
	"time"

	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/plans"
)

// TestHostsDownWhenTheCockpitOpensAreReadOnceTheyAnswer: h2 does not answer
// when the cockpit's engine is made and comes back a moment later; its
// services are read again and `p` (preload) passes. It stayed unreachable
// until golive was restarted, and `p` kept failing.
func TestHostsDownWhenTheCockpitOpensAreReadOnceTheyAnswer(t *testing.T) {
	_, clients, write := hostsProject(t)
	if code, out, errs := cli(t, "apply", write("1", "", ""), "--yes"); code != 0 {
		t.Fatalf("apply v1: exit %d\n%s%s", code, out, errs)
	}
	link, hosts := cutLinkToH2(t, clients)
	plan, err := plans.Load(write("2", hosts, ""))
	if err != nil {
		t.Fatal(err)
	}
	link.Cut()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h := &headless{plan: plan}
	h.reachOrLater(ctx)
	defer h.closeAll()
	if h.lost["h2"] == nil {
		t.Fatal("h2 answered through a cut link")
	}
	e := plans.NewEngine(plan, h.engineOptions(plans.Options{}))
	defer e.Close()
	h2State := func() string {
		states, _ := e.Status(ctx)
		for _, st := range states {
			if st.Service == "api@h2" {
				return st.State
			}
		}
		return "no row"
	}
	if got := h2State(); got != "unreachable" {
		t.Fatalf("api@h2 with h2 down: %s, want unreachable", got)
	}
	if err := e.Preload(ctx); err == nil {
		t.Fatal("the preload passed with h2 down")
	}
	if err := link.Restore(); err != nil {
		t.Fatal(err)
	}
	dockertest.WaitFor(t, "api@h2 to be read once h2 answers", func() bool { return h2State() == "running" })
	if err := e.Preload(ctx); err != nil {
		t.Errorf("p once h2 answers: %v", err)
	}
}
