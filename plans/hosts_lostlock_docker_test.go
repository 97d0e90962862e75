package plans_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/plans"
)

// TestHostsLockLeftOnALostHostIsNoObstacleToItsOwnRevert cuts h2's link
// while its batch deploys, so the apply cannot release h2's lock: the
// release state must say the lock is still held there (the cockpit showed
// "lock: free" while status named h2's holder), and once h2 answers again
// the same process (the cockpit's R) reverts, where it was refused by the
// lock it had itself been unable to release.
func TestHostsLockLeftOnALostHostIsNoObstacleToItsOwnRevert(t *testing.T) {
	f := newHostsFixture(t)
	if err := f.apply(f.plan("1", "")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	link := dockertest.NewCuttingEngine(t, f.set.Engines[1].Socket())
	linked, err := docker.ConnectHost(ctx, link.Host, docker.HostOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer linked.Close()
	direct := f.clients["h2"]
	f.clients["h2"] = linked
	p := f.plan("2", "")
	e := f.engine(p)
	f.clients["h2"] = direct

	applied := make(chan error, 1)
	go func() { applied <- e.Apply(ctx) }()
	dockertest.WaitFor(t, "h2's batch to start", func() bool { return len(f.started(f.lastRun())) == 2 })
	link.Cut()
	if err := <-applied; err == nil {
		t.Fatal("an apply that lost h2 mid-rollout succeeded")
	}
	st := plans.NewState(p)
	f.mu.Lock()
	for _, ev := range f.events {
		st.Apply(ev)
	}
	f.mu.Unlock()
	if st.LockHolder == "" {
		t.Errorf("h2's lock could not be released, yet the state says the lock is free (locked hosts %v)", st.LockedHosts)
	}

	if err := link.Restore(); err != nil {
		t.Fatal(err)
	}
	if err := e.Revert(ctx); err != nil {
		var held *docker.HeldError
		t.Fatalf("the revert once h2 answers (refused by its own lock: %v): %v", errors.As(err, &held), err)
	}
	if got := f.running(); !equalMaps(got, f.want("1")) {
		t.Errorf("after the revert every host runs v1: %v", got)
	}
	for name, c := range f.clients {
		if held, err := c.Lock(ctx, p.LockName()); err != nil || held != nil {
			t.Errorf("host %s: lock left %v (%v)", name, held, err)
		}
	}
}
