package faults

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golive/golive/docker/dockertest"
)

// proxiedPlan writes a plan of version v in which web takes its traffic
// through a kamal-proxy of the test's own, published on port; steps, when
// set, is the plan's steps: list (and names the file).
func (r *release) proxiedPlan(v, proxyImage string, port int, steps string) string {
	r.t.Helper()
	text := fmt.Sprintf(`project: %[1]s
release: "%[2]s"
proxy:
  ports: ["127.0.0.1:%[3]d:80"]
  image: %[4]s
  container: %[1]s-proxy
  network: %[1]s-proxy-net
services:
  web:
    image: %[5]s
    proxy: {port: 8080, health: /health, drain: 2s, keep_warm: 10m}
    health: {http: "http://localhost:8080/health", timeout: 20s, stable: 100ms, interval: 50ms}
`, r.project, v, port, proxyImage, dockertest.ImageRef(r.project, "web:"+v)) + steps
	path := filepath.Join(r.dir, "proxied-"+v+".yaml")
	if steps != "" {
		path = filepath.Join(r.dir, "proxied-"+v+"-steps.yaml")
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		r.t.Fatal(err)
	}
	return path
}

// TestBlueGreenKilledAtRandomPointsIsRevertedWithoutAFailedRequest kills
// `golive apply` of a blue/green v2, or `golive revert` of it, with
// SIGKILL at a random moment; a revert from a fresh process must bring v1
// back as the one container of the service, and the requests sent through
// the proxy the whole time must all be answered.
func TestBlueGreenKilledAtRandomPointsIsRevertedWithoutAFailedRequest(t *testing.T) {
	t.Parallel()
	r := newRelease(t)
	port := dockertest.FreePort(t)
	proxyImage := dockertest.ProxyImage(t, r.cli)
	t.Cleanup(func() {
		dockertest.Cleanup(r.cli, r.project)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		r.cli.Remove(ctx, r.project+"-proxy")
		r.cli.RemoveNetwork(ctx, r.project+"-proxy-net")
	})
	p1, p2 := r.proxiedPlan("1", proxyImage, port, ""), r.proxiedPlan("2", proxyImage, port, "")
	r.mustRun(0, "apply", p1)
	start := time.Now()
	r.mustRun(0, "apply", p2)
	applySpan := time.Since(start)
	start = time.Now()
	r.mustRun(0, "revert", p2)
	revertSpan := time.Since(start)

	stop, done := make(chan struct{}), make(chan []dockertest.Response)
	go func() {
		done <- dockertest.Load(fmt.Sprintf("http://127.0.0.1:%d/version", port), 200, 100000, stop, nil)
	}()
	rng := rand.New(rand.NewPCG(12, 1))
	const trials = 8
	for i := range trials {
		killed, d := "apply", time.Duration(rng.Int64N(int64(applySpan)))
		if i%2 == 1 {
			r.mustRun(0, "apply", p2)
			killed, d = "revert", time.Duration(rng.Int64N(int64(revertSpan)))
		}
		out := r.killAfter(d, killed, p2)
		code, fin, errout := r.run("revert", p2)
		if code != 0 || !(strings.Contains(fin, "reverted") || strings.Contains(fin, "nothing to revert")) {
			close(stop)
			<-done
			t.Fatalf("trial %d (%s killed after %s): the revert exited %d\nkilled:\n%s\nrevert:\n%s%s", i, killed, d, code, out, fin, errout)
		}
		all, err := r.cli.List(t0(), map[string]string{"io.golive.project": r.project})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 1 || all[0].Name != r.project+"-web" || !all[0].Running || all[0].ImageID != r.imageIDs["web:1"] {
			close(stop)
			<-done
			t.Fatalf("trial %d (%s killed after %s): containers %+v, want %s-web alone on version 1", i, killed, d, all, r.project)
		}
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	rs := <-done
	tally := dockertest.Tally(rs)
	t.Logf("%d trials (apply spans %s, revert %s): %d requests, %d failed (%d connection errors), by version %v",
		trials, applySpan.Round(time.Millisecond), revertSpan.Round(time.Millisecond), tally.Sent, tally.Failed, tally.Errors, tally.Versions)
	for _, res := range rs {
		if res.Failed() {
			t.Fatalf("request at %s failed: status %d, %v", res.Start.Format("15:04:05.000"), res.Status, res.Err)
		}
	}
	if last := rs[len(rs)-1]; last.Version != "1" {
		t.Fatalf("the last request was answered by version %s, want 1", last.Version)
	}
}

// TestAPauseLeftByAKilledApplyIsLetThroughByTheRevert kills `golive apply`
// with SIGKILL while its pause step holds web's route (version 2 serves,
// version 1 warm): the proxy keeps it paused. status shows it, the next
// apply refuses to start, and a revert switches back and resumes it: the
// request held meanwhile is answered by version 1.
func TestAPauseLeftByAKilledApplyIsLetThroughByTheRevert(t *testing.T) {
	t.Parallel()
	r := newRelease(t)
	port := dockertest.FreePort(t)
	proxyImage := dockertest.ProxyImage(t, r.cli)
	t.Cleanup(func() {
		dockertest.Cleanup(r.cli, r.project)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		r.cli.Remove(ctx, r.project+"-proxy")
		r.cli.RemoveNetwork(ctx, r.project+"-proxy-net")
	})
	r.mustRun(0, "apply", r.proxiedPlan("1", proxyImage, port, ""))
	r.mustRun(0, "apply", r.proxiedPlan("2", proxyImage, port, ""))
	p2 := r.proxiedPlan("2", proxyImage, port, "steps:\n  - pause: default\n    timeout: 2m\n  - run: sleep 60\n  - deploy: default\n  - resume: default\n")
	route := r.project + "-web"
	proxy := r.cli.Proxy(r.project + "-proxy")
	state := func() string {
		svc, err := proxy.Service(t0(), route)
		if err != nil || svc == nil {
			t.Fatalf("route %s: %+v, %v", route, svc, err)
		}
		return svc.State
	}

	cmd := r.command("apply", p2)
	var out dockertest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for state() != "paused" {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the pause step never held the route:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	held := make(chan string, 1)
	go func() {
		client := http.Client{Timeout: 2 * time.Minute}
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/version", port))
		if err != nil {
			held <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		held <- fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}()
	time.Sleep(300 * time.Millisecond)
	if got := state(); got != "paused" {
		t.Fatalf("after SIGKILL the route is %s, want it still paused", got)
	}
	if status := r.mustRun(0, "status", p2); !strings.Contains(status, "route paused in the proxy") {
		t.Fatalf("status does not show the held route:\n%s", status)
	}
	if code, o, e := r.run("apply", p2); code == 0 || !strings.Contains(o+e, route+" (paused)") || !strings.Contains(o+e, "golive revert "+p2) {
		t.Fatalf("apply over the held route: exit %d\n%s%s", code, o, e)
	}
	select {
	case v := <-held:
		t.Fatalf("the held request was answered (%q) before the revert", v)
	default:
	}
	r.mustRun(0, "revert", p2)
	if got := state(); got != "running" {
		t.Fatalf("after the revert the route is %s, want running", got)
	}
	select {
	case v := <-held:
		if v != "200 1" {
			t.Fatalf("the held request was answered %q, want version 1", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the held request was not answered after the revert")
	}
}
