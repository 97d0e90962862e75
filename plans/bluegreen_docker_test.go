package plans_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

// proxied is a test's blue/green project: the fixture's images behind a
// kamal-proxy container of its own, published on proxyPort.
type proxied struct {
	*fixture
	proxyImage string
	proxyPort  int
}

func newProxied(t *testing.T) *proxied {
	f := newFixture(t)
	p := &proxied{fixture: f, proxyImage: dockertest.ProxyImage(t, f.cli), proxyPort: dockertest.FreePort(t)}
	t.Cleanup(func() {
		// The services leave the proxy's network first, then it goes with the proxy.
		dockertest.Cleanup(f.cli, f.project)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		f.cli.Remove(ctx, f.project+"-proxy")
		f.cli.RemoveNetwork(ctx, f.project+"-proxy-net")
	})
	return p
}

// bluegreenVars fill the proxied plan.
type bluegreenVars struct {
	Project, Release, Image, ProxyImage, KeepWarm, Stable, Env, Steps string
	ProxyPort                                                         int
}

var bluegreenPlan = template.Must(template.New("plan").Parse(`project: {{.Project}}
release: "{{.Release}}"
on_failure: revert
proxy:
  ports: ["127.0.0.1:{{.ProxyPort}}:80"]
  image: {{.ProxyImage}}
  container: {{.Project}}-proxy
  network: {{.Project}}-proxy-net
services:
  web:
    image: {{.Image}}
    env: {ROLE: web{{.Env}}}
    proxy: {port: 8080, health: /health, drain: 2s, keep_warm: {{.KeepWarm}}}
    health: {http: "http://localhost:8080/health", timeout: 10s, stable: {{.Stable}}, interval: 100ms}
{{.Steps}}`))

// plan writes the proxied plan for web version v; env adds env entries (", K: V").
func (p *proxied) plan(v, keepWarm, stable, env string) *plans.Plan {
	return p.planWith(bluegreenVars{Release: v, KeepWarm: keepWarm, Stable: stable, Env: env})
}

// planWith writes the proxied plan that vars describe, filling in the project's own values.
func (p *proxied) planWith(vars bluegreenVars) *plans.Plan {
	p.t.Helper()
	v := vars.Release
	vars.Project, vars.Image, vars.ProxyImage, vars.ProxyPort = p.project, p.image("web:"+v), p.proxyImage, p.proxyPort
	var b strings.Builder
	must(p.t, bluegreenPlan.Execute(&b, vars))
	path := filepath.Join(p.dir, "bluegreen-"+v+".yaml")
	must(p.t, os.WriteFile(path, []byte(b.String()), 0o644))
	plan, err := plans.Load(path)
	must(p.t, err)
	return plan
}

// load is requests sent through the proxy while a test changes the release.
type load struct {
	stop chan struct{}
	done chan []dockertest.Response
}

func (p *proxied) startLoad() *load {
	l := &load{stop: make(chan struct{}), done: make(chan []dockertest.Response)}
	url := fmt.Sprintf("http://127.0.0.1:%d/version", p.proxyPort)
	go func() { l.done <- dockertest.Load(url, 200, 20000, l.stop, nil) }()
	time.Sleep(300 * time.Millisecond)
	return l
}

func (l *load) end() []dockertest.Response {
	time.Sleep(300 * time.Millisecond)
	close(l.stop)
	return <-l.done
}

// window is when an operation ran: requests started after it are
// answered by version after, those in flight during it by the version
// before it or after it.
type window struct {
	from, to time.Time
	after    string
}

// checkLoad fails unless every request was answered, first by version
// first, then by the version each window (in order) switched to.
func checkLoad(t *testing.T, rs []dockertest.Response, first string, windows ...window) {
	t.Helper()
	tally := dockertest.Tally(rs)
	t.Logf("%d requests: %d failed (%d connection errors), by version %v", tally.Sent, tally.Failed, tally.Errors, tally.Versions)
	if tally.Sent < 200 {
		t.Fatalf("only %d requests were sent", tally.Sent)
	}
	for _, r := range rs {
		if r.Failed() {
			t.Fatalf("request at %s failed: status %d, %v", r.Start.Format("15:04:05.000"), r.Status, r.Err)
		}
		// A request may be answered by any version that served between its
		// start and its end: on a loaded machine one started just before a
		// switch can reach the proxy after it.
		want := []string{first}
		for _, w := range windows {
			switch {
			case r.Start.After(w.to):
				want = []string{w.after}
			case r.End.After(w.from):
				want = append(want, w.after)
			}
		}
		if !slices.Contains(want, r.Version) {
			t.Fatalf("request at %s answered by version %s, want %s", r.Start.Format("15:04:05.000"), r.Version, strings.Join(want, " or "))
		}
	}
}

// timed runs op and returns the window it ran in.
func timed(op func() error) (time.Time, time.Time, error) {
	from := time.Now()
	err := op()
	return from, time.Now(), err
}

func (f *fixture) switches() []plans.Event {
	var out []plans.Event
	for _, ev := range f.eventsOf(plans.EvServiceChange) {
		if ev.Action == plans.ActionSwitched {
			out = append(out, ev)
		}
	}
	return out
}

func (f *fixture) state(p *plans.Plan) *plans.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := plans.NewState(p)
	for _, ev := range f.events {
		s.Apply(ev)
	}
	return s
}

func TestBlueGreenDeployAndWarmRevertLoseNoRequest(t *testing.T) {
	t.Parallel()
	p := newProxied(t)
	v1, v2 := p.plan("1", "10m", "500ms", ""), p.plan("2", "10m", "500ms", "")
	must(t, p.apply(v1))
	l := p.startLoad()
	deployFrom, deployTo, err := timed(func() error { return p.apply(v2) })
	if err != nil {
		l.end()
		t.Fatal(err)
	}
	name := p.project + "-web"
	serving, warm := p.container(name), p.warm(name)
	if serving == nil || !serving.Running || serving.Labels["io.golive.release"] != "2" || warm == nil || !warm.Running {
		l.end()
		t.Fatalf("after the switch: serving %+v, warm %+v", serving, warm)
	}
	time.Sleep(time.Second)
	revertFrom, revertTo, err := timed(func() error { return p.revert(v2) })
	rs := l.end()
	must(t, err)
	checkLoad(t, rs, "1", window{deployFrom, deployTo, "2"}, window{revertFrom, revertTo, "1"})
	var lastNew time.Time // the last request answered by version 2
	for _, r := range rs {
		if r.Version == "2" && r.Start.After(lastNew) {
			lastNew = r.Start
		}
	}
	t.Logf("golive revert while warm: every request answered by version 1 from %s after the call, which returned after %s",
		max(0, lastNew.Sub(revertFrom)).Round(time.Millisecond), revertTo.Sub(revertFrom).Round(time.Millisecond))

	if back := p.container(name); back == nil || back.ID != warm.ID || !back.Running {
		t.Errorf("after the revert %s is %+v, want the warm container %s", name, back, warm.ID)
	}
	if w := p.warm(name); w != nil {
		t.Errorf("a warm container is left after the revert: %s", w.Name)
	}
	for _, ev := range p.eventsOf(plans.EvServiceChange) {
		if ev.Time.After(revertFrom) && (ev.Action == plans.ActionStarted || ev.Action == plans.ActionBeside || ev.Action == plans.ActionStopped) {
			t.Errorf("the revert while warm started or stopped a container: %s %s", ev.Action, ev.Message)
		}
	}
	sw := p.switches()
	if len(sw) != 3 {
		t.Fatalf("switch events: %+v, want the first route, the deploy and the revert", sw)
	}
	s := p.state(v2)
	web := s.Service("web")
	// Release 2's state: its switch to version 2 and the revert's back to 1.
	if len(web.Switches) != 2 || web.Switches[0].Back || !web.Switches[1].Back || web.Switches[1].To != p.image("web:1") {
		t.Errorf("switches in the state: %+v", web.Switches)
	}
	if web.Now != p.image("web:1") || web.WarmLeft(time.Now()) != 0 || len(web.Unavailable) != 0 {
		t.Errorf("after the revert the state says now %s, warm %+v, unavailable %+v", web.Now, web.Warm, web.Unavailable)
	}
	for _, x := range web.Switches {
		t.Logf("switch to %s took %s", x.To, x.Took)
	}
}

// warm returns the warm container of the service named name, or nil.
func (p *proxied) warm(name string) *docker.Container {
	p.t.Helper()
	all, err := p.cli.List(context.Background(), map[string]string{"io.golive.container": name})
	must(p.t, err)
	for i := range all {
		if strings.HasPrefix(all[i].Name, name+".warm-until-") {
			return &all[i]
		}
	}
	return nil
}

func TestBlueGreenStateWhileWarm(t *testing.T) {
	t.Parallel()
	p := newProxied(t)
	v1, v2 := p.plan("1", "10m", "0s", ""), p.plan("2", "10m", "0s", "")
	must(t, p.apply(v1))
	// The service's log follows its name to the new version, though the old one runs on.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lines := make(chan string, 1024)
	go logs.FollowContainer(ctx, p.cli, p.project+"-web", logs.ContainerOptions{Follow: true}, func(_ string, _ time.Time, line []byte, _ int) {
		select {
		case lines <- string(line):
		default:
		}
	})
	must(t, p.apply(v2))
	deadline := time.After(10 * time.Second)
	for followed := false; !followed; {
		select {
		case line := <-lines:
			followed = strings.Contains(line, "version=2")
		case <-deadline:
			t.Fatal("the log of the service's name did not move to version 2 after the switch")
		}
	}
	web := p.state(v2).Service("web")
	left := web.WarmLeft(time.Now())
	if web.Now != p.image("web:2") || web.Warm.Image != p.image("web:1") || left < 9*time.Minute || left > 10*time.Minute || !web.Proxied() || len(web.Unavailable) != 0 {
		t.Fatalf("while warm: now %s, warm %+v (left %s), unavailable %+v", web.Now, web.Warm, left, web.Unavailable)
	}
	if w := p.warm(p.project + "-web"); w == nil || w.ID != web.Warm.Container {
		t.Fatalf("warm container %+v, the state says %s", w, web.Warm.Container)
	}
	// Applied again, it is left alone, judged by its gate sent straight to it.
	must(t, p.apply(v2))
	if w := p.warm(p.project + "-web"); w == nil || w.ID != web.Warm.Container {
		t.Fatalf("after an unchanged apply, the warm container is %+v", w)
	}
	e, _ := p.engine(v2, plans.Options{})
	st, err := e.Status(context.Background())
	must(t, err)
	if len(st) != 1 || st[0].Image != p.image("web:2") || st[0].Warm != p.image("web:1") || st[0].WarmUntil.Sub(web.Warm.Until).Abs() > time.Second {
		t.Errorf("status: %+v, want web:2 with web:1 warm until %s", st, web.Warm.Until)
	}
}

func TestBlueGreenFailingVersionNeverTakesTraffic(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, env, stable string }{
		{"unhealthy", ", UNHEALTHY: \"true\"", "0s"},
		{"crashes in its stable window", ", CRASH_AFTER: 1s", "3s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newProxied(t)
			v1 := p.plan("1", "10m", "0s", "")
			must(t, p.apply(v1))
			v2 := p.plan("2", "10m", tt.stable, tt.env)
			l := p.startLoad()
			err := p.apply(v2)
			rs := l.end()
			if err == nil {
				t.Fatal("the failing version was deployed")
			}
			checkLoad(t, rs, "1")
			name := p.project + "-web"
			if ct := p.container(name); ct == nil || !ct.Running || ct.Labels["io.golive.release"] != "1" {
				t.Errorf("%s after the failed deploy: %+v", name, ct)
			}
			if next := p.container(name + ".next"); next != nil {
				t.Errorf("the failed new container is left: %s", next.Name)
			}
			if sw := p.switches(); len(sw) != 1 {
				t.Errorf("switches: %+v, want only v1's first route", sw)
			}
		})
	}
}

func TestBlueGreenRevertAfterKeepWarmStartsTheKeptVersion(t *testing.T) {
	t.Parallel()
	p := newProxied(t)
	v1, v2 := p.plan("1", "1s", "0s", ""), p.plan("2", "1s", "0s", "")
	must(t, p.apply(v1))
	must(t, p.apply(v2))
	time.Sleep(1500 * time.Millisecond)
	l := p.startLoad()
	from, to, err := timed(func() error { return p.revert(v2) })
	rs := l.end()
	must(t, err)
	checkLoad(t, rs, "2", window{from, to, "1"})
	name := p.project + "-web"
	if ct := p.container(name); ct == nil || ct.Labels["io.golive.release"] != "1" || !ct.Running {
		t.Errorf("%s after the revert: %+v", name, ct)
	}
	if prev := p.container(name + ".prev"); prev != nil {
		t.Errorf("%s is left after the revert started it", prev.Name)
	}
}

func TestCanaryGivesTheNewVersionItsShareThenAllTheTraffic(t *testing.T) {
	t.Parallel()
	p := newProxied(t)
	must(t, p.apply(p.plan("1", "10m", "0s", "")))
	canary := "steps:\n  - canary: {service: web, percent: 99, for: 2s}\n  - deploy: default\n"
	v2 := p.planWith(bluegreenVars{Release: "2", KeepWarm: "10m", Stable: "0s", Steps: canary})
	// Requests with kamal-proxy's rollout cookie may go to the canary; the others stay on version 1.
	url := fmt.Sprintf("http://127.0.0.1:%d/version", p.proxyPort)
	stopCookies, cookieVersions := make(chan struct{}), make(chan map[string]int)
	go func() {
		seen := map[string]int{}
		for {
			select {
			case <-stopCookies:
				cookieVersions <- seen
				return
			case <-time.After(20 * time.Millisecond):
			}
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.AddCookie(&http.Cookie{Name: "kamal-rollout", Value: "customer-42"})
			if resp, err := http.DefaultClient.Do(req); err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				seen[strings.TrimSpace(string(body))]++
			}
		}
	}()
	l := p.startLoad()
	from, to, err := timed(func() error { return p.apply(v2) })
	rs := l.end()
	close(stopCookies)
	seen := <-cookieVersions
	must(t, err)
	var canaryAt time.Time
	for _, ev := range p.eventsOf(plans.EvServiceChange) {
		if ev.Action == plans.ActionCanary {
			canaryAt = ev.Time
		}
	}
	if canaryAt.IsZero() || seen["2"] == 0 {
		t.Fatalf("canary event at %s; requests with the rollout cookie answered by %v", canaryAt, seen)
	}
	// Without the cookie, version 1 answers until the switch after the canary's 2s.
	checkLoad(t, rs, "1", window{canaryAt.Add(2 * time.Second), to, "2"})
	if from.After(canaryAt) {
		t.Fatal("the canary event precedes the apply")
	}
	if web := p.state(v2).Service("web"); web.Now != p.image("web:2") || web.Canary.Percent != 0 || len(web.Unavailable) != 0 {
		t.Errorf("after the canary: now %s, canary %+v, unavailable %+v", web.Now, web.Canary, web.Unavailable)
	}
}

func TestCanaryThatCrashesNeverTakesTheTraffic(t *testing.T) {
	t.Parallel()
	p := newProxied(t)
	must(t, p.apply(p.plan("1", "10m", "0s", "")))
	canary := "steps:\n  - canary: {service: web, percent: 50, for: 3s}\n  - deploy: default\n"
	v2 := p.planWith(bluegreenVars{Release: "2", KeepWarm: "10m", Stable: "0s", Env: ", CRASH_AFTER: 1s", Steps: canary})
	l := p.startLoad()
	err := p.apply(v2)
	rs := l.end()
	if err == nil || !strings.Contains(err.Error(), "canary") {
		t.Fatalf("a canary that crashes: %v", err)
	}
	checkLoad(t, rs, "1")
	if next := p.container(p.project + "-web.next"); next != nil {
		t.Errorf("the canary container is left: %s", next.Name)
	}
}
