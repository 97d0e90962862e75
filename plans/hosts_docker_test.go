package plans_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/dockertest/engines"
	"github.com/golive/golive/docker/scratch"
	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

// hostsFixture is one test's project on three test engines (h1, h2, h3),
// each with its own client, and demo images api:1, api:2 and api:3 loaded
// on every engine (api:3 unhealthy on h2 only).
type hostsFixture struct {
	t       *testing.T
	set     *engines.Set
	clients map[string]*docker.Client
	project string
	dir     string
	mu      sync.Mutex
	events  []plans.Event
}

func newHostsFixture(t *testing.T) *hostsFixture {
	set := engines.Get(t, 3)
	b := make([]byte, 4)
	rand.Read(b)
	f := &hostsFixture{t: t, set: set, clients: map[string]*docker.Client{}, project: "glhosts-" + hex.EncodeToString(b), dir: t.TempDir()}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i, e := range set.Engines[:3] {
		cli, err := docker.ConnectHost(ctx, e.TCP(), docker.HostOptions{})
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("h%d", i+1)
		f.clients[name] = cli
		t.Cleanup(func() { dockertest.Cleanup(cli, f.project); cli.Close() })
	}
	for _, v := range []string{"1", "2", "3"} {
		if err := set.LoadTarball(ctx, dockertest.DemoTarball(t, f.image(v), scratch.Config{Env: []string{"VERSION=" + v, "ROLE=api", "LOG_EVERY=200ms"}})); err != nil {
			t.Fatal(err)
		}
	}
	bad := dockertest.DemoTarball(t, f.image("3"), scratch.Config{Env: []string{"VERSION=3", "ROLE=api", "UNHEALTHY=true"}})
	if _, err := f.clients["h2"].Load(ctx, bad); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *hostsFixture) image(v string) string { return dockertest.ImageRef(f.project, "api:"+v) }

// plan writes a plan deploying api version v on the three hosts with
// rollout batch 1, and loads it.
func (f *hostsFixture) plan(v, extra string) *plans.Plan {
	f.t.Helper()
	return f.planGated(v, "", extra)
}

// planGated is plan with more settings in api's health mapping.
func (f *hostsFixture) planGated(v, health, extra string) *plans.Plan {
	f.t.Helper()
	var hosts strings.Builder
	for i, e := range f.set.Engines[:3] {
		fmt.Fprintf(&hosts, "  h%d: %s\n", i+1, e.TCP())
	}
	text := fmt.Sprintf(`project: %s
release: "%s"
hosts:
%sservices:
  api:
    image: %s
    ports: ["8080:8080"]
    rollout: {batch: 1}
    health: {http: "http://{host}:8080/health", timeout: 6s, stable: 200ms, interval: 100ms%s}
%s`, f.project, v, hosts.String(), f.image(v), health, extra)
	path := filepath.Join(f.dir, "plan-"+v+".yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		f.t.Fatal(err)
	}
	p, err := plans.Load(path)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *hostsFixture) engine(p *plans.Plan) *plans.Engine {
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
	e := plans.NewEngine(p, plans.Options{Hosts: hosts, Journal: j, StateDir: state, Actor: "tester@ci", OnEvent: func(ev plans.Event) {
		f.mu.Lock()
		f.events = append(f.events, ev)
		f.mu.Unlock()
	}})
	f.t.Cleanup(e.Close)
	return e
}

func (f *hostsFixture) apply(p *plans.Plan) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return f.engine(p).Apply(ctx)
}

// running is the image each host's api container runs, by host.
func (f *hostsFixture) running() map[string]string {
	f.t.Helper()
	out := map[string]string{}
	for name, c := range f.clients {
		ct, err := c.Inspect(context.Background(), f.project+"-api")
		if err != nil {
			f.t.Fatal(err)
		}
		out[name] = "missing"
		if ct != nil {
			out[name] = ct.Image + " " + ct.State
		}
	}
	return out
}

func (f *hostsFixture) want(v string) map[string]string {
	return map[string]string{"h1": f.image(v) + " running", "h2": f.image(v) + " running", "h3": f.image(v) + " running"}
}

// started lists, in order, the hosts on which run started a service deploy.
func (f *hostsFixture) started(run string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, ev := range f.events {
		if ev.Kind == plans.EvServiceStart && ev.Run == run {
			out = append(out, ev.Host)
		}
	}
	return out
}

func (f *hostsFixture) lastRun() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	run := ""
	for _, ev := range f.events {
		if ev.Kind == plans.EvApplyStart {
			run = ev.Run
		}
	}
	return run
}

// revertOrder is the message of the latest revert across hosts.
func (f *hostsFixture) revertOrder() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	msg := ""
	for _, ev := range f.events {
		if ev.Kind == plans.EvRevertStart && ev.Host == "" {
			msg = ev.Message
		}
	}
	return msg
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestHostsRollout deploys over three hosts one at a time, reverts across
// them, and then has the second batch fail: the third host is never
// touched and the first two are put back.
func TestHostsRollout(t *testing.T) {
	f := newHostsFixture(t)
	if err := f.apply(f.plan("1", "")); err != nil {
		t.Fatal(err)
	}
	if got := f.running(); !equalMaps(got, f.want("1")) {
		t.Fatalf("after v1: %v", got)
	}
	if err := f.apply(f.plan("2", "")); err != nil {
		t.Fatal(err)
	}
	run2 := f.lastRun()
	if got := f.started(run2); !slices.Equal(got, []string{"h1", "h2", "h3"}) {
		t.Fatalf("batches of 1 should deploy h1, h2, h3 in order; started %v", got)
	}
	f.mu.Lock()
	var order []string // batch events and deploy ends interleave: each batch ends before the next starts
	for _, ev := range f.events {
		if ev.Run == run2 && (ev.Kind == plans.EvRolloutBatch || ev.Kind == plans.EvServiceEnd) {
			order = append(order, ev.Kind+" "+ev.Host)
		}
	}
	f.mu.Unlock()
	wantOrder := []string{"rollout.batch ", "service.deploy.end h1", "rollout.batch ", "service.deploy.end h2", "rollout.batch ", "service.deploy.end h3"}
	if !slices.Equal(order, wantOrder) {
		t.Fatalf("order %q, want %q", order, wantOrder)
	}
	if got := f.running(); !equalMaps(got, f.want("2")) {
		t.Fatalf("after v2: %v", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := f.engine(f.plan("2", "")).Revert(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.running(); !equalMaps(got, f.want("1")) {
		t.Fatalf("after the revert every host should run v1 again: %v", got)
	}
	if got := f.revertOrder(); !strings.HasSuffix(got, "in order: h3, h2, h1") {
		t.Errorf("a revert goes in reverse batch order: %q", got)
	}

	h3Before, err := f.clients["h3"].Inspect(ctx, f.project+"-api")
	if err != nil || h3Before == nil {
		t.Fatal(h3Before, err)
	}
	err = f.apply(f.plan("3", ""))
	var aerr *plans.ApplyError
	if !errors.As(err, &aerr) || aerr.Outcome != plans.Reverted {
		t.Fatalf("v3 is unhealthy on h2: want a reverted apply, got %v", err)
	}
	if !strings.Contains(err.Error(), "host h2") {
		t.Errorf("the error should name host h2: %v", err)
	}
	if got := f.started(f.lastRun()); !slices.Equal(got, []string{"h1", "h2"}) {
		t.Errorf("batch 3 (h3) must never start after batch 2 failed; started %v", got)
	}
	h3After, err := f.clients["h3"].Inspect(ctx, f.project+"-api")
	if err != nil || h3After == nil || h3After.ID != h3Before.ID {
		t.Errorf("h3's container changed: %v → %v (%v)", h3Before, h3After, err)
	}
	if got := f.running(); !equalMaps(got, f.want("1")) {
		t.Fatalf("after the failed v3 every host should run v1: %v", got)
	}
	if got := f.revertOrder(); !strings.HasSuffix(got, "2 hosts, in order: h2, h1") {
		t.Errorf("the failed rollout's revert puts back h2, then h1: %q", got)
	}
	st := plans.NewState(f.plan("3", ""))
	f.mu.Lock()
	for _, ev := range f.events {
		st.Apply(ev)
	}
	f.mu.Unlock()
	if st.Phase() != plans.PhaseReverted {
		t.Errorf("state phase %s, want reverted", st.Phase())
	}
	results := map[string]string{}
	for _, s := range st.Services {
		results[s.Name] = s.Result
	}
	if results["api@h2"] != plans.ResultReverted || results["api@h1"] != plans.ResultReverted {
		t.Errorf("state per host: %v", results)
	}
}

// TestHostsLockContention: a lock held on one host refuses the release,
// names that host and its holder, and leaves no lock and no change elsewhere.
func TestHostsLockContention(t *testing.T) {
	f := newHostsFixture(t)
	p := f.plan("1", "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	other := plans.NewEngine(p, plans.Options{Docker: f.clients["h2"], Actor: "alice@elsewhere"})
	if err := other.Lock(ctx, "apply"); err != nil {
		t.Fatal(err)
	}
	defer other.Unlock()
	err := f.apply(p)
	if err == nil || !strings.Contains(err.Error(), "host h2") || !strings.Contains(err.Error(), "alice@elsewhere") {
		t.Fatalf("want the lock refused on h2 by alice, got %v", err)
	}
	for name, c := range f.clients {
		held, err := c.Lock(ctx, p.LockName())
		if err != nil {
			t.Fatal(err)
		}
		if name != "h2" && held != nil {
			t.Errorf("host %s keeps a lock by %s", name, held.Holder)
		}
	}
	if got := f.running(); !equalMaps(got, map[string]string{"h1": "missing", "h2": "missing", "h3": "missing"}) {
		t.Errorf("nothing may change: %v", got)
	}
}

// TestHostsLogs follows the service on every host into one buffer, each
// source named service@host.
func TestHostsLogs(t *testing.T) {
	f := newHostsFixture(t)
	p := f.plan("1", "")
	if err := f.apply(p); err != nil {
		t.Fatal(err)
	}
	buf := logs.NewBuffer(0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	e := f.engine(p)
	go func() {
		defer close(done)
		e.FollowLogs(ctx, buf, time.Time{})
	}()
	defer func() { cancel(); <-done }()
	dockertest.WaitFor(t, "lines from api on every host", func() bool {
		got := buf.Sources()
		return slices.Contains(got, "api@h1") && slices.Contains(got, "api@h2") && slices.Contains(got, "api@h3")
	})
}

// askCounter answers yes and keeps every question.
type askCounter struct {
	mu        sync.Mutex
	questions []string
}

func (a *askCounter) Confirm(_ context.Context, q string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.questions = append(a.questions, q)
	return true, nil
}

// TestHostsRevertOfAFirstDeployAsksOnce: removing services that were not
// there before is asked once for every host, naming each service@host.
func TestHostsRevertOfAFirstDeployAsksOnce(t *testing.T) {
	f := newHostsFixture(t)
	p := f.plan("1", "")
	if err := f.apply(p); err != nil {
		t.Fatal(err)
	}
	asker := &askCounter{}
	hosts := map[string]plans.Docker{}
	for name, c := range f.clients {
		hosts[name] = c
	}
	e := plans.NewEngine(p, plans.Options{Hosts: hosts, Asker: asker, Actor: "tester@ci"})
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.Revert(ctx); err != nil {
		t.Fatal(err)
	}
	if len(asker.questions) != 1 || !strings.Contains(asker.questions[0], "api@h1, api@h2, api@h3") {
		t.Errorf("want one question naming api on each host, got %q", asker.questions)
	}
	if got := f.running(); !equalMaps(got, map[string]string{"h1": "missing", "h2": "missing", "h3": "missing"}) {
		t.Errorf("the revert of a first deploy removes it everywhere: %v", got)
	}
}
