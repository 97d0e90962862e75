package plans_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/dockertest/engines"
	"github.com/golive/golive/docker/scratch"
	"github.com/golive/golive/plans"
)

// newProxiedHosts is a project on two test engines (h1, h2), each with the
// kamal-proxy image and demo images web:1 and web:2 (with a HEALTHCHECK)
// loaded; the proxy each apply starts on a host is removed afterwards.
func newProxiedHosts(t *testing.T) *hostsFixture {
	set := engines.Get(t, 3)
	b := make([]byte, 4)
	rand.Read(b)
	f := &hostsFixture{t: t, set: set, clients: map[string]*docker.Client{}, project: "glhproxy-" + hex.EncodeToString(b), dir: t.TempDir()}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for i, e := range set.Engines[:2] {
		cli, err := docker.ConnectHost(ctx, e.TCP(), docker.HostOptions{})
		if err != nil {
			t.Fatal(err)
		}
		f.clients[fmt.Sprintf("h%d", i+1)] = cli
		t.Cleanup(func() {
			defer cli.Close()
			// The services leave the proxy's network first, then it goes with the proxy.
			dockertest.Cleanup(cli, f.project)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cli.Remove(ctx, f.project+"-proxy")
			cli.RemoveNetwork(ctx, f.project+"-proxy-net")
		})
	}
	proxy := filepath.Join(f.dir, "kamal-proxy.tar")
	must(t, scratch.WriteProxyTarball(ctx, "..", proxy))
	must(t, set.LoadTarball(ctx, proxy))
	for _, v := range []string{"1", "2"} {
		cfg := scratch.Config{Env: []string{"VERSION=" + v, "ROLE=web"}, Healthcheck: []string{"/app", "healthcheck"}}
		must(t, set.LoadTarball(ctx, dockertest.DemoTarball(t, dockertest.ImageRef(f.project, "web:"+v), cfg)))
	}
	return f
}

// proxiedHostsPlan writes and loads the plan of web version v behind the
// proxy on h1 and h2, one host at a time, published on port.
func (f *hostsFixture) proxiedHostsPlan(v string, port int) *plans.Plan {
	f.t.Helper()
	var hosts strings.Builder
	for i, e := range f.set.Engines[:2] {
		fmt.Fprintf(&hosts, "  h%d: %s\n", i+1, e.TCP())
	}
	text := fmt.Sprintf(`project: %[1]s
release: "%[2]s"
on_failure: revert
hosts:
%[3]sproxy:
  ports: ["%[4]d:80"]
  image: %[5]s
  container: %[1]s-proxy
  network: %[1]s-proxy-net
services:
  web:
    image: %[6]s
    rollout: {batch: 1}
    proxy: {port: 8080, health: /health, drain: 2s, keep_warm: 10m}
    health: {docker: true, timeout: 20s, stable: 500ms, interval: 100ms}
`, f.project, v, hosts.String(), port, scratch.ProxyRef, dockertest.ImageRef(f.project, "web:"+v))
	path := filepath.Join(f.dir, "proxied-"+v+".yaml")
	must(f.t, os.WriteFile(path, []byte(text), 0o644))
	p, err := plans.Load(path)
	must(f.t, err)
	return p
}

// TestProxiedServiceOnTwoHostsLosesNoRequest deploys a proxied web on two
// hosts one at a time, each host switching through its own proxy, then
// reverts it, while requests go through each host's proxy: none fails.
func TestProxiedServiceOnTwoHostsLosesNoRequest(t *testing.T) {
	f := newProxiedHosts(t)
	port := dockertest.FreePort(t)
	must(t, f.apply(f.proxiedHostsPlan("1", port)))

	endLoads := f.loadEachProxy(port)

	v2 := f.proxiedHostsPlan("2", port)
	deployFrom, deployTo, err := timed(func() error { return f.apply(v2) })
	if err != nil {
		endLoads()
		t.Fatal(err)
	}
	var switched []string
	f.mu.Lock()
	for _, ev := range f.events {
		if ev.Kind == plans.EvServiceChange && ev.Action == plans.ActionSwitched && ev.Run == deployRun(f.events) {
			switched = append(switched, ev.Host)
		}
	}
	f.mu.Unlock()
	if strings.Join(switched, " ") != "h1 h2" {
		endLoads()
		t.Fatalf("switches of the v2 apply on hosts %v, want h1 then h2", switched)
	}
	for h, c := range f.clients {
		serving, err := c.Inspect(context.Background(), f.project+"-web")
		if err != nil || serving == nil || serving.Labels["io.golive.release"] != "2" {
			endLoads()
			t.Fatalf("%s after the deploy serves %+v (%v)", h, serving, err)
		}
	}

	time.Sleep(time.Second)
	revertFrom, revertTo, err := timed(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return f.engine(v2).Revert(ctx)
	})
	results := endLoads()
	must(t, err)
	t.Logf("deploy over 2 hosts, batch 1: %s; revert: %s", deployTo.Sub(deployFrom).Round(time.Millisecond), revertTo.Sub(revertFrom).Round(time.Millisecond))
	if got := f.revertOrder(); !strings.HasSuffix(got, "in order: h2, h1") {
		t.Errorf("a revert goes in reverse batch order: %q", got)
	}
	for h, rs := range results {
		t.Run(h, func(t *testing.T) {
			checkLoad(t, rs, "1", window{deployFrom, deployTo, "2"}, window{revertFrom, revertTo, "1"})
		})
	}
	for h, c := range f.clients {
		serving, err := c.Inspect(context.Background(), f.project+"-web")
		if err != nil || serving == nil || serving.Labels["io.golive.release"] != "1" || !serving.Running {
			t.Fatalf("%s after the revert serves %+v (%v)", h, serving, err)
		}
	}

	// A route left paused on one host's proxy refuses the next apply, and
	// a revert lets it through.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	route := f.project + "-web"
	must(t, f.clients["h2"].Proxy(f.project+"-proxy").Pause(ctx, route, time.Second, time.Minute))
	if err := f.apply(v2); err == nil || !strings.Contains(err.Error(), "host h2: service web: the proxy still holds its route "+route+" (paused)") {
		t.Fatalf("an apply with h2's route paused: %v", err)
	}
	if err := f.engine(v2).Revert(ctx); !errors.Is(err, plans.ErrNothingToRevert) {
		t.Fatalf("a revert with nothing to switch back, only h2's route to let through: %v", err)
	}
	rs := dockertest.Load(fmt.Sprintf("http://%s:%d/version", f.set.Engines[1].Addr, port), 10, 5, nil, nil)
	if tally := dockertest.Tally(rs); tally.Failed > 0 || tally.Versions["1"] != 5 {
		t.Fatalf("h2's proxy after the revert: %+v", tally)
	}
}

// loadEachProxy sends requests through each host's proxy, published on
// port at the host's address, until the function it returns ends them and
// returns the responses by host.
func (f *hostsFixture) loadEachProxy(port int) func() map[string][]dockertest.Response {
	loads := map[string]*load{}
	for i, e := range f.set.Engines[:2] {
		l := &load{stop: make(chan struct{}), done: make(chan []dockertest.Response)}
		url := fmt.Sprintf("http://%s:%d/version", e.Addr, port)
		go func() { l.done <- dockertest.Load(url, 100, 20000, l.stop, nil) }()
		loads[fmt.Sprintf("h%d", i+1)] = l
	}
	time.Sleep(300 * time.Millisecond)
	return func() map[string][]dockertest.Response {
		out := map[string][]dockertest.Response{}
		for h, l := range loads {
			out[h] = l.end()
		}
		return out
	}
}

// TestProxiedServiceFailingOnTheSecondHostSwitchesTheFirstBack: version 3
// is unhealthy on h2 only. h1 switches to it, h2's new container fails
// its gate and goes while h2's traffic never leaves version 1, and
// on_failure switches h1 back: no request fails on either host.
func TestProxiedServiceFailingOnTheSecondHostSwitchesTheFirstBack(t *testing.T) {
	f := newProxiedHosts(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ref := dockertest.ImageRef(f.project, "web:3")
	for h, unhealthy := range map[string]string{"h1": "false", "h2": "true"} {
		cfg := scratch.Config{Env: []string{"VERSION=3", "ROLE=web", "UNHEALTHY=" + unhealthy}, Healthcheck: []string{"/app", "healthcheck"}}
		if _, err := f.clients[h].Load(ctx, dockertest.DemoTarball(t, ref, cfg)); err != nil {
			t.Fatal(err)
		}
	}
	port := dockertest.FreePort(t)
	must(t, f.apply(f.proxiedHostsPlan("1", port)))

	endLoads := f.loadEachProxy(port)
	from, to, err := timed(func() error { return f.apply(f.proxiedHostsPlan("3", port)) })
	results := endLoads()
	if err == nil {
		t.Fatal("the apply of version 3 passed; h2's gate should have failed it")
	}
	t.Logf("apply of version 3: %v", err)
	for h, rs := range results {
		t.Run(h, func(t *testing.T) {
			checkLoad(t, rs, "1", window{from, to, "3"}, window{from, to, "1"})
		})
	}
	if v := results["h2"]; dockertest.Tally(v).Versions["3"] != 0 {
		t.Errorf("h2's proxy sent %d requests to version 3, which never passed its gate there", dockertest.Tally(v).Versions["3"])
	}
	for h, c := range f.clients {
		serving, err := c.Inspect(context.Background(), f.project+"-web")
		if err != nil || serving == nil || serving.Labels["io.golive.release"] != "1" || !serving.Running {
			t.Fatalf("%s after the failed apply serves %+v (%v)", h, serving, err)
		}
		next, err := c.Inspect(context.Background(), f.project+"-web.next")
		if err != nil || next != nil {
			t.Fatalf("%s keeps a new container %+v (%v)", h, next, err)
		}
	}
}

// deployRun is the run of the last apply among events.
func deployRun(events []plans.Event) string {
	run := ""
	for _, ev := range events {
		if ev.Kind == plans.EvApplyStart && ev.Host == "" {
			run = ev.Run
		}
	}
	return run
}
