package plans_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/plans"
)

// get is one request through the proxy: its status, and its body's version.
func (p *proxied) get() (int, string) {
	p.t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/version", p.proxyPort))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// An apply that finds a proxied service already running its target must
// not say "deployed" while the proxy routes it nowhere: a proxy container
// removed (or recreated empty) by someone loses every route.
func TestApplyRoutesAnUnchangedServiceTheProxyLost(t *testing.T) {
	t.Parallel()
	p := newProxied(t)
	v2 := p.plan("2", "10m", "0s", "")
	must(t, p.apply(p.plan("1", "10m", "0s", "")))
	must(t, p.apply(v2))
	ctx := context.Background()
	must(t, p.cli.Remove(ctx, p.project+"-proxy"))

	must(t, p.apply(v2))
	if status, version := p.get(); status != http.StatusOK || version != "2" {
		t.Fatalf("after an apply that found web unchanged, a request through the proxy got %d %q, want 200 from version 2", status, version)
	}
}

// Status tells which container the proxy sends a service's traffic to
// when it is not the one that has the service's name (a revert killed
// after its switch back), and when the proxy routes it nowhere.
func TestStatusSaysWhereTheProxySendsTheTraffic(t *testing.T) {
	t.Parallel()
	p := newProxied(t)
	v2 := p.plan("2", "10m", "0s", "")
	must(t, p.apply(p.plan("1", "10m", "0s", "")))
	must(t, p.apply(v2))
	ctx := context.Background()
	name := p.project + "-web"
	warm := p.warm(name)
	e, _ := p.engine(v2, plans.Options{})
	web := func() plans.ServiceState {
		t.Helper()
		states, err := e.Status(ctx)
		must(t, err)
		return states[0]
	}
	if st := web(); st.Traffic != "" || st.Warm == "" {
		t.Fatalf("after a switch, status says traffic %q, warm %q; want no note and the warm version", st.Traffic, st.Warm)
	}

	// What a revert killed right after its switch back leaves.
	proxy := p.cli.Proxy(p.project + "-proxy")
	must(t, proxy.Deploy(ctx, p.project+"-web", dockerDeploy(warm.ID)))
	if _, version := p.get(); version != "1" {
		t.Fatalf("the proxy answers with version %q after the switch back", version)
	}
	st := web()
	if !strings.Contains(st.Traffic, warm.Name) || !strings.Contains(st.Traffic, p.image("web:1")) || !strings.Contains(st.Traffic, "golive revert") {
		t.Errorf("status while the proxy sends the traffic to the warm container: traffic %q, want its name, image and the command that finishes", st.Traffic)
	}
	if st.Warm != "" {
		t.Errorf("status offers the version that takes the traffic as a warm one to switch back to: %q", st.Warm)
	}

	must(t, proxy.Remove(ctx, p.project+"-web"))
	if st := web(); !strings.Contains(st.Traffic, "no route") {
		t.Errorf("status while the proxy routes web nowhere: traffic %q", st.Traffic)
	}
	must(t, p.cli.Remove(ctx, p.project+"-proxy"))
	if st := web(); !strings.Contains(st.Traffic, "does not run") {
		t.Errorf("status while the proxy container is gone: traffic %q", st.Traffic)
	}
}

// dockerDeploy switches a route to container id's port 8080, as golive does.
func dockerDeploy(id string) docker.ProxyDeploy {
	return docker.ProxyDeploy{Target: docker.ShortID(id) + ":8080", HealthPath: "/health", HealthInterval: 100 * time.Millisecond, DeployTimeout: 10 * time.Second}
}

// Stopping a warm old version once its keep_warm ran out is no outage:
// it took no traffic. The release's state must not count the service as
// not serving until the apply's next health check.
func TestRetiringAWarmVersionIsNoOutage(t *testing.T) {
	t.Parallel()
	p := newProxied(t)
	v2 := p.plan("2", "1s", "0s", "")
	must(t, p.apply(p.plan("1", "1s", "0s", "")))
	must(t, p.apply(v2))
	time.Sleep(2 * time.Second) // keep_warm runs out
	must(t, p.apply(v2))
	if p.warm(p.project+"-web") != nil {
		t.Fatal("the warm version still runs after its keep_warm ran out and an apply")
	}
	if web := p.state(v2).Service("web"); len(web.Unavailable) != 0 {
		t.Errorf("after the warm version was retired the state says web was not serving: %+v", web.Unavailable)
	}
}

// A revert is the way back when things go wrong, the proxy container's
// loss included: it must not fail, again and again, because the proxy it
// switches through was removed; it starts the proxy again and switches.
func TestRevertRecreatesAProxyThatIsGone(t *testing.T) {
	t.Parallel()
	p := newProxied(t)
	v2 := p.plan("2", "10m", "0s", "")
	must(t, p.apply(p.plan("1", "10m", "0s", "")))
	must(t, p.apply(v2))
	must(t, p.cli.Remove(context.Background(), p.project+"-proxy"))

	must(t, p.revert(v2))
	if status, version := p.get(); status != http.StatusOK || version != "1" {
		t.Fatalf("after the revert a request through the proxy got %d %q, want 200 from version 1", status, version)
	}
}
