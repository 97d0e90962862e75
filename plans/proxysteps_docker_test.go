package plans_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/scratch"
	"github.com/golive/golive/plans"
)

// routed is a test project whose web service runs behind its own
// kamal-proxy, with a route the proxy steps can hold: the route is
// registered directly, as a blue/green deploy would.
type routed struct {
	t       *testing.T
	cli     *docker.Client
	proxy   *docker.Proxy
	project string
	dir     string
	url     string // the web service's /version through the proxy
	head    string // the plan up to its steps
}

func newRouted(t *testing.T) *routed {
	cli := dockertest.Client(t)
	project := dockertest.Project(t, cli)
	port := dockertest.FreePort(t)
	p, spec := dockertest.Proxy(t, cli, project, docker.Port{HostIP: "127.0.0.1", HostPort: strconv.Itoa(port), ContainerPort: "80", Proto: "tcp"})
	ref := dockertest.ImageRef(project, "web:1")
	dockertest.LoadDemoImage(t, cli, ref, scratch.Config{Env: []string{"VERSION=1", "ROLE=web", "LOG_EVERY=1h"}})
	r := &routed{t: t, cli: cli, proxy: p, project: project, dir: t.TempDir(), url: fmt.Sprintf("http://127.0.0.1:%d/version", port)}
	r.head = fmt.Sprintf(`project: %s
release: "1"
on_failure: revert
proxy: {container: %s, network: %s, image: %s, ports: ["127.0.0.1:%d:80"]}
services:
  web:
    image: %s
    group: frontend
    network: %s
    proxy: {port: 8080, health: /health, drain: 2s}
    health: {stable: 200ms, timeout: 15s, interval: 100ms}
steps:
`, project, spec.Name, spec.Network, spec.Image, port, ref, spec.Network)
	if _, err := r.apply("  - deploy: frontend\n", nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	web := project + "-web"
	if err := p.Deploy(ctx, web, docker.ProxyDeploy{Target: web + ":8080", HealthPath: "/health", HealthInterval: 100 * time.Millisecond, DeployTimeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if got := get(r.url); got.status != 200 || got.body != "1" {
		t.Fatalf("through the proxy before the steps: %+v", got)
	}
	return r
}

// apply loads the plan with these steps and applies it, calling onEvent
// for each event; it returns every event.
func (r *routed) apply(steps string, onEvent func(context.CancelFunc, plans.Event)) ([]plans.Event, error) {
	r.t.Helper()
	path := filepath.Join(r.dir, "plan.yaml")
	if err := os.WriteFile(path, []byte(r.head+steps), 0o644); err != nil {
		r.t.Fatal(err)
	}
	plan, err := plans.Load(path)
	if err != nil {
		r.t.Fatal(err)
	}
	j, err := plans.CreateJournal(filepath.Join(r.dir, ".golive"), plan.Project, plan.Release, time.Now())
	if err != nil {
		r.t.Fatal(err)
	}
	defer j.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var mu sync.Mutex
	var events []plans.Event
	e := plans.NewEngine(plan, plans.Options{Docker: r.cli, Journal: j, Actor: "tester@ci", OnEvent: func(ev plans.Event) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
		if onEvent != nil {
			onEvent(cancel, ev)
		}
	}})
	defer e.Close()
	err = e.Apply(ctx)
	mu.Lock()
	defer mu.Unlock()
	return events, err
}

// state is the route's state in the proxy: running, paused or stopped.
func (r *routed) state() string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	svc, err := r.proxy.Service(ctx, r.project+"-web")
	if err != nil || svc == nil {
		r.t.Fatalf("route: %+v, %v", svc, err)
	}
	return svc.State
}

// response is one request through the proxy.
type response struct {
	status     int
	body       string
	err        error
	start, end time.Time
}

func get(url string) response {
	r := response{start: time.Now()}
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(url)
	if err == nil {
		b, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		r.status, r.body, err = resp.StatusCode, strings.TrimSpace(string(b)), rerr
	}
	r.err, r.end = err, time.Now()
	return r
}

// during sends one request through the proxy as soon as a route event
// with this action succeeds; wait returns its response.
type during struct {
	action string
	url    string
	once   sync.Once
	done   chan response
}

func newDuring(action, url string) *during {
	return &during{action: action, url: url, done: make(chan response, 1)}
}

func (d *during) observe(ev plans.Event) {
	if ev.Kind == plans.EvRoute && ev.Action == d.action && ev.Result == plans.ResultOK {
		d.once.Do(func() { go func() { d.done <- get(d.url) }() })
	}
}

func (d *during) wait(t *testing.T) response {
	t.Helper()
	select {
	case r := <-d.done:
		return r
	case <-time.After(time.Minute):
		t.Fatalf("no request was sent while %s", d.action)
		return response{}
	}
}

func routeEvents(events []plans.Event) (out []plans.Event) {
	for _, ev := range events {
		if ev.Kind == plans.EvRoute {
			out = append(out, ev)
		}
	}
	return out
}

func TestRealProxyStepsHoldRequestsWhilePausedAndServeTheMaintenancePage(t *testing.T) {
	t.Parallel()
	r := newRouted(t)
	paused, maintenance := newDuring(plans.ActionPaused, r.url), newDuring(plans.ActionMaintenance, r.url)
	events, err := r.apply(`  - pause: frontend
    timeout: 20s
  - run: sleep 2
  - deploy: frontend
  - resume: frontend
  - maintenance: {group: frontend, message: Back in 5 minutes}
  - run: sleep 1
  - end_maintenance: frontend
`, func(_ context.CancelFunc, ev plans.Event) { paused.observe(ev); maintenance.observe(ev) })
	if err != nil {
		t.Fatal(err)
	}
	var resumedAt time.Time // when the resume step began: the proxy lets requests go before it says so
	for _, ev := range events {
		if ev.Kind == plans.EvStepStart && ev.Step == 4 {
			resumedAt = ev.Time
		}
	}
	held := paused.wait(t)
	if held.err != nil || held.status != 200 || held.body != "1" {
		t.Fatalf("a request sent while paused: %+v, want 200 from version 1", held)
	}
	if held.end.Before(resumedAt) || held.end.Sub(held.start) < time.Second {
		t.Errorf("a request sent while paused answered at %s after %s; resumed at %s: it was not held", held.end.Format(time.StampMilli), held.end.Sub(held.start), resumedAt.Format(time.StampMilli))
	}
	page := maintenance.wait(t)
	if page.err != nil || page.status != 503 || !strings.Contains(page.body, "Back in 5 minutes") {
		t.Errorf("a request in maintenance: %d %q %v, want 503 with the message", page.status, page.body, page.err)
	}
	if got := get(r.url); got.status != 200 || got.body != "1" || r.state() != "running" {
		t.Errorf("after the release: %+v, route %s", got, r.state())
	}
	var seen []string
	for _, ev := range routeEvents(events) {
		seen = append(seen, fmt.Sprintf("%d:%s:%s", ev.Step, ev.Action, ev.Result))
	}
	if got := strings.Join(seen, " "); got != "1:paused:ok 4:resumed:ok 5:maintenance:ok 7:resumed:ok" {
		t.Errorf("route events: %s", got)
	}
	s := plans.NewState(nil)
	for _, ev := range events {
		s.Apply(ev)
	}
	if held := s.Held(); held != "" {
		t.Errorf("the state says %s is held after the release", held)
	}
}

func TestRealProxyStepsAreLetThroughWhenTheReleaseFailsOrIsInterrupted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, steps, action string
		interrupt           bool
	}{
		{"a step fails while paused", "  - pause: frontend\n  - run: exit 3\n  - deploy: frontend\n  - resume: frontend\n", plans.ActionPaused, false},
		{"a step fails in maintenance", "  - maintenance: {group: frontend, message: down}\n  - run: exit 3\n  - deploy: frontend\n  - end_maintenance: frontend\n", plans.ActionMaintenance, false},
		{"the operator interrupts while paused", "  - pause: frontend\n  - run: sleep 60\n  - deploy: frontend\n  - resume: frontend\n", plans.ActionPaused, true},
	}
	r := newRouted(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.t = t
			wanted := newDuring(tt.action, r.url)
			events, err := r.apply(tt.steps, func(cancel context.CancelFunc, ev plans.Event) {
				wanted.observe(ev)
				if tt.interrupt && ev.Kind == plans.EvStepStart && ev.Step == 2 {
					go func() { time.Sleep(500 * time.Millisecond); cancel() }()
				}
			})
			var aerr *plans.ApplyError
			if !errors.As(err, &aerr) || aerr.Interrupted != tt.interrupt {
				t.Fatalf("apply: %v, want a failed release (interrupted %v)", err, tt.interrupt)
			}
			if state := r.state(); state != "running" {
				t.Fatalf("route is %s after the failed release, want running", state)
			}
			if held := wanted.wait(t); tt.action == plans.ActionPaused {
				if held.status != 200 || held.body != "1" {
					t.Errorf("a request held by the pause: %+v, want 200 from version 1 once let through", held)
				}
			}
			if got := get(r.url); got.status != 200 || got.body != "1" {
				t.Errorf("after the failed release: %+v", got)
			}
			routes := routeEvents(events)
			last := routes[len(routes)-1]
			if len(routes) != 2 || last.Action != plans.ActionResumed || last.Result != plans.ResultOK || last.Step != 2 || !strings.Contains(last.Message, "the release failed while step 1 had it") {
				t.Errorf("route events: %+v", routes)
			}
			var order []string
			for _, ev := range events {
				if ev.Kind == plans.EvRoute || ev.Kind == plans.EvRevertStart || ev.Kind == plans.EvApplyEnd {
					order = append(order, ev.Kind)
				}
			}
			if order[1] != plans.EvRoute {
				t.Errorf("events in order %v: traffic must be let through before on_failure's revert", order)
			}
			s := plans.NewState(nil)
			for _, ev := range events {
				s.Apply(ev)
			}
			if held := s.Held(); held != "" {
				t.Errorf("the state says %s is held after the failure path", held)
			}
		})
	}
	t.Run("a release whose lock was broken leaves the pause to the new holder and says how to end it", func(t *testing.T) {
		r.t = t
		events, err := r.apply("  - pause: frontend\n  - run: sleep 1\n  - deploy: frontend\n  - resume: frontend\n", func(_ context.CancelFunc, ev plans.Event) {
			if ev.Kind == plans.EvStepStart && ev.Step == 2 { // broken as `golive unlock` would
				r.cli.Remove(context.Background(), "golive-lock-"+ev.Project)
			}
		})
		var lost *plans.LockLostError
		want := fmt.Sprintf("service web may still be paused (step 1): this release lost its lock, so it leaves the proxy to whoever holds it now; `docker exec %s kamal-proxy resume %s-web` lets its traffic through", r.proxy.Container(), r.project)
		if !errors.As(err, &lost) || !strings.Contains(err.Error(), want) {
			t.Errorf("apply: %v\nwant a lost lock and: %s", err, want)
		}
		if state := r.state(); state != "paused" {
			t.Errorf("route is %s, want paused: another holder decides", state)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := r.proxy.Resume(ctx, r.project+"-web"); err != nil {
			t.Fatal(err)
		}
		s := plans.NewState(nil)
		for _, ev := range events {
			s.Apply(ev)
		}
		if held := s.Held(); !strings.HasPrefix(held, "web paused since") {
			t.Errorf("the state says %q is held, want web paused", held)
		}
	})
}

// TestApplyRefusesARouteLeftHeld: a route the proxy still holds (as a
// golive killed between a pause or maintenance step and its resume leaves
// it) stops the next apply before it changes anything, with the commands
// that let the traffic through; a revert lets it through.
func TestApplyRefusesARouteLeftHeld(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, state string
		hold        func(r *routed, ctx context.Context) error
	}{
		{"paused", "paused", func(r *routed, ctx context.Context) error {
			return r.proxy.Pause(ctx, r.project+"-web", time.Second, time.Minute)
		}},
		{"in maintenance", "stopped", func(r *routed, ctx context.Context) error {
			return r.proxy.Stop(ctx, r.project+"-web", "down", time.Second)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouted(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			must(t, tc.hold(r, ctx))
			events, err := r.apply("  - deploy: frontend\n", nil)
			if err == nil || !strings.Contains(err.Error(), r.project+"-web ("+tc.name+")") || !strings.Contains(err.Error(), "golive revert") || !strings.Contains(err.Error(), "kamal-proxy resume "+r.project+"-web") {
				t.Fatalf("apply with the route %s: %v", tc.name, err)
			}
			for _, ev := range events {
				if ev.Kind == plans.EvServiceStart || ev.Kind == plans.EvRoute {
					t.Fatalf("the refused apply changed something: %+v", ev)
				}
			}
			if got := r.state(); got != tc.state {
				t.Fatalf("route after the refused apply: %s, want %s", got, tc.state)
			}
			plan, err := plans.Load(filepath.Join(r.dir, "plan.yaml"))
			must(t, err)
			e := plans.NewEngine(plan, plans.Options{Docker: r.cli})
			states, err := e.Status(ctx)
			must(t, err)
			if states[0].Held != tc.name {
				t.Fatalf("status: held %q, want %q", states[0].Held, tc.name)
			}
			var resumed []plans.Event
			// The operator keeps web (the revert would remove it): the route is let through all the same.
			e = plans.NewEngine(plan, plans.Options{Docker: r.cli, Asker: answer(false), OnEvent: func(ev plans.Event) {
				if ev.Kind == plans.EvRoute {
					resumed = append(resumed, ev)
				}
			}})
			e.Revert(ctx)
			if got := r.state(); got != "running" || len(resumed) != 1 || resumed[0].Action != plans.ActionResumed || resumed[0].Result != plans.ResultOK {
				t.Fatalf("after revert: route %s, events %+v", got, resumed)
			}
			if _, err := r.apply("  - deploy: frontend\n", nil); err != nil {
				t.Fatalf("apply once the route is let through: %v", err)
			}
		})
	}
}
