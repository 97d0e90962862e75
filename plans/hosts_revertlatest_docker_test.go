package plans_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golive/golive/plans"
)

// TestHostsRevertAfterAFailedRolloutNeverGoesFurtherBackOnAnUntouchedHost:
// v3 fails on h2, on_failure puts h1 and h2 back, and h3 is never touched.
// A `golive revert` then has nothing left to do; it reverted h3's own
// latest apply (v1's, which created the service) and removed it.
func TestHostsRevertAfterAFailedRolloutNeverGoesFurtherBackOnAnUntouchedHost(t *testing.T) {
	f := newHostsFixture(t)
	if err := f.apply(f.plan("1", "")); err != nil {
		t.Fatal(err)
	}
	var aerr *plans.ApplyError
	if err := f.apply(f.plan("3", "")); !errors.As(err, &aerr) || aerr.Outcome != plans.Reverted {
		t.Fatalf("v3 is unhealthy on h2: want a reverted apply, got %v", err)
	}
	hosts := map[string]plans.Docker{}
	for name, c := range f.clients {
		hosts[name] = c
	}
	asker := &askCounter{}
	e := plans.NewEngine(f.plan("3", ""), plans.Options{Hosts: hosts, Asker: asker, Actor: "tester@ci"})
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.Revert(ctx); !errors.Is(err, plans.ErrNothingToRevert) {
		t.Errorf("the latest apply is reverted on every host it changed: want nothing to revert, got %v (asked %q)", err, asker.questions)
	}
	if got := f.running(); !equalMaps(got, f.want("1")) {
		t.Errorf("every host keeps v1: %v", got)
	}
}
