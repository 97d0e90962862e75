package docker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/scratch"
)

func TestKamalProxyVersionIsTheOneGoModPins(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/basecamp/kamal-proxy").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v: %s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != scratch.KamalProxyVersion {
		t.Fatalf("go.mod pins kamal-proxy %s, the image is tagged %s: change scratch.KamalProxyVersion and docker.DefaultProxyImage together with go.mod", got, scratch.KamalProxyVersion)
	}
	if !strings.HasSuffix(docker.DefaultProxyImage, ":"+scratch.KamalProxyVersion) {
		t.Fatalf("default proxy image %s is not kamal-proxy %s", docker.DefaultProxyImage, scratch.KamalProxyVersion)
	}
}

// listOutput is what `kamal-proxy list` v0.9.2 prints, escapes included.
func listOutput(rows ...[]string) string {
	var b strings.Builder
	for i, row := range append([][]string{{"Service", "Host", "Path", "Target", "State", "TLS"}}, rows...) {
		for j, cell := range row {
			style := ""
			if i == 0 {
				style = "3;94"
			} else if j == 0 {
				style = "1;34"
			}
			fmt.Fprintf(&b, "\x1b[%sm%s\x1b[0m  ", style, cell)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestParseProxyListReadsEveryColumnEvenEmptyOnes(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want []docker.ProxyService
		err  string
	}{
		{name: "no services", out: listOutput()},
		{
			name: "two services, one without a path",
			out:  listOutput([]string{"api", "*", "/api", "api-1:8080", "running", "no"}, []string{"web", "shop.example.com", "", "web-1:8080,web-2:8080", "paused", "yes"}),
			want: []docker.ProxyService{
				{Name: "api", Host: "*", Path: "/api", Target: "api-1:8080", State: "running"},
				{Name: "web", Host: "shop.example.com", Target: "web-1:8080,web-2:8080", State: "paused", TLS: true},
			},
		},
		{name: "a format this version does not know", out: "Service Host\n", err: `kamal-proxy list: unexpected line "Service Host" (expected 6 columns)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := docker.ParseProxyList(tt.out)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error = %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestProxyErrorsSayWhatHappenedToTraffic(t *testing.T) {
	tests := []struct {
		name string
		err  *docker.ProxyError
		is   error
		want string
	}{
		{
			name: "an unhealthy target keeps traffic where it was",
			err:  &docker.ProxyError{Container: "golive-proxy", Args: []string{"deploy", "web", "--target", "web-2:8080"}, ExitCode: 1, Message: "target failed to become healthy within configured timeout (2s)"},
			is:   docker.ErrProxyUnhealthy,
			want: "kamal-proxy deploy web (in golive-proxy): target failed to become healthy within configured timeout (2s); traffic stayed on the previous target (check the health path and that the target listens on the proxy's network)",
		},
		{
			name: "an unknown service says to deploy it first",
			err:  &docker.ProxyError{Container: "p", Args: []string{"rollout", "set", "web", "--percent", "10"}, ExitCode: 1, Message: "service not found"},
			is:   docker.ErrProxyServiceNotFound,
			want: "kamal-proxy rollout set web (in p): service not found; the proxy does not route this service (deploy it first)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", tt.err, tt.is)
			}
			if errors.Is(tt.err, docker.ErrProxyHostInUse) {
				t.Errorf("%v matches an error it is not", tt.err)
			}
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("message:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestRealEngineExecSeparatesOutputStreamsAndReportsExitCodes(t *testing.T) {
	cli := dockertest.Client(t)
	project := dockertest.Project(t, cli)
	p, _ := dockertest.Proxy(t, cli, project)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	res, err := cli.Exec(ctx, p.Container(), []string{"kamal-proxy", "--help"})
	if err != nil || res.ExitCode != 0 || !strings.Contains(res.Stdout, "HTTP proxy for zero downtime deployments") || res.Stderr != "" {
		t.Fatalf("help: %+v, %v", res, err)
	}
	res, err = cli.Exec(ctx, p.Container(), []string{"kamal-proxy", "no-such-command"})
	if err != nil || res.ExitCode != 1 || !strings.Contains(res.Stderr, `unknown command "no-such-command"`) || res.Stdout != "" {
		t.Fatalf("unknown command: %+v, %v", res, err)
	}
	if _, err := cli.Exec(ctx, project+"-missing", []string{"true"}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("exec in a missing container: %v", err)
	}

	short, cancelShort := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancelShort()
	start := time.Now()
	_, err = cli.Exec(short, p.Container(), []string{"kamal-proxy", "deploy", "slow", "--target", "nowhere:80", "--deploy-timeout", "30s"})
	if err == nil || !strings.Contains(err.Error(), "no answer in time") {
		t.Fatalf("a command past its deadline: %v", err)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Fatalf("exec past its deadline returned after %s", waited)
	}
}

// demoTarget runs the demo service as version on the proxy's network and
// returns its HOST:PORT there.
func demoTarget(t testing.TB, cli *docker.Client, project, network, version string, env ...string) string {
	t.Helper()
	name := project + "-web-" + version
	demoContainer(t, cli, project, version, docker.Spec{Name: name, Network: network}, env...)
	return name + ":8080"
}

// demoContainer starts spec with a demo service image that reports version.
func demoContainer(t testing.TB, cli *docker.Client, project, version string, spec docker.Spec, env ...string) string {
	t.Helper()
	ref := dockertest.ImageRef(project, "web:"+version)
	dockertest.LoadDemoImage(t, cli, ref, scratch.Config{Env: append([]string{"VERSION=" + version, "ROLE=web", "LOG_EVERY=1h"}, env...)})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	spec.Image, spec.Labels = ref, map[string]string{"io.golive.project": project}
	id, err := cli.Create(ctx, spec)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cli.Remove(ctx, id)
		cli.RemoveImage(ctx, ref)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestRealProxySwitchesBetweenVersionsWithoutAFailedRequest(t *testing.T) {
	cli := dockertest.Client(t)
	project := dockertest.Project(t, cli)
	port := dockertest.FreePort(t)
	p, spec := dockertest.Proxy(t, cli, project, docker.Port{HostIP: "127.0.0.1", HostPort: strconv.Itoa(port), ContainerPort: "80", Proto: "tcp"})
	v1 := demoTarget(t, cli, project, spec.Network, "1")
	v2 := demoTarget(t, cli, project, spec.Network, "2")
	broken := demoTarget(t, cli, project, spec.Network, "3", "UNHEALTHY=true")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	deploy := func(target string) docker.ProxyDeploy {
		return docker.ProxyDeploy{Target: target, HealthPath: "/health", HealthInterval: 100 * time.Millisecond, DeployTimeout: 10 * time.Second, DrainTimeout: 5 * time.Second}
	}
	if err := p.Deploy(ctx, "web", deploy(v1)); err != nil {
		t.Fatal(err)
	}
	svc, err := p.Service(ctx, "web")
	if err != nil || svc == nil || svc.Target != v1 || svc.State != "running" || svc.Host != "*" {
		t.Fatalf("after deploy, list shows %+v, %v", svc, err)
	}

	stop := make(chan struct{})
	done := make(chan []dockertest.Response)
	var answered atomic.Int64
	go func() {
		done <- dockertest.Load(fmt.Sprintf("http://127.0.0.1:%d/version", port), 200, 10000, stop, &answered)
	}()
	// Between two switches, 200 requests are answered, however slow the machine.
	traffic := func(what string) {
		n := answered.Load() + 200
		dockertest.WaitFor(t, "200 requests answered "+what, func() bool { return answered.Load() >= n })
	}
	// A switch happens between the call and its return: requests started in
	// between may get either version, those started after it the new one.
	type mark struct {
		called, returned time.Time
		version          string
	}
	var marks []mark
	for _, step := range []struct{ target, version string }{{v2, "2"}, {v1, "1"}, {v2, "2"}, {v1, "1"}} {
		traffic("before the switch to " + step.version)
		called := time.Now()
		if err := p.Deploy(ctx, "web", deploy(step.target)); err != nil {
			close(stop)
			<-done
			t.Fatalf("switch to %s: %v", step.target, err)
		}
		marks = append(marks, mark{called, time.Now(), step.version})
	}
	traffic("after the last switch")
	err = p.Deploy(ctx, "web", docker.ProxyDeploy{Target: broken, HealthPath: "/health", HealthInterval: 100 * time.Millisecond, DeployTimeout: time.Second})
	if !errors.Is(err, docker.ErrProxyUnhealthy) {
		t.Errorf("deploy of an unhealthy target: %v, want %v", err, docker.ErrProxyUnhealthy)
	}
	traffic("after the refused target")
	close(stop)
	results := <-done

	if len(results) < 1000 {
		t.Fatalf("only %d requests were sent", len(results))
	}
	failed := 0
	for _, r := range results {
		if r.Failed() {
			failed++
			if failed <= 5 {
				t.Errorf("request at %s: status %d, %v", r.Start.Format("15:04:05.000"), r.Status, r.Err)
			}
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d requests failed during the switches", failed, len(results))
	}
	// A request may be answered by any version that served at some moment
	// between its start and its end: on a loaded machine a request started
	// just before a switch can reach the proxy after it.
	for _, r := range results {
		want := []string{"1"}
		for _, m := range marks {
			switch {
			case r.Start.After(m.returned):
				want = []string{m.version}
			case r.End.After(m.called):
				want = append(want, m.version)
			}
		}
		if !slices.Contains(want, r.Version) {
			var switches []string
			for _, m := range marks {
				switches = append(switches, fmt.Sprintf("to %s from %s to %s", m.version, m.called.Format("15:04:05.000"), m.returned.Format("15:04:05.000")))
			}
			t.Fatalf("request started at %s answered by version %s, want %s (switches: %s)", r.Start.Format("15:04:05.000"), r.Version, strings.Join(want, " or "), strings.Join(switches, "; "))
		}
	}
	t.Logf("%d requests through 4 switches and one refused unhealthy target, none failed", len(results))
}

func TestRealProxyPausesStopsAndSplitsTraffic(t *testing.T) {
	cli := dockertest.Client(t)
	project := dockertest.Project(t, cli)
	port := dockertest.FreePort(t)
	p, spec := dockertest.Proxy(t, cli, project, docker.Port{HostIP: "127.0.0.1", HostPort: strconv.Itoa(port), ContainerPort: "80", Proto: "tcp"})
	v1 := demoTarget(t, cli, project, spec.Network, "1")
	v2 := demoTarget(t, cli, project, spec.Network, "2")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url := fmt.Sprintf("http://127.0.0.1:%d/version", port)
	get := func(cookie string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "kamal-rollout", Value: cookie})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(body))
	}

	if err := p.Pause(ctx, "web", time.Second, time.Second); !errors.Is(err, docker.ErrProxyServiceNotFound) {
		t.Fatalf("pause of a service the proxy does not route: %v", err)
	}
	if err := p.Deploy(ctx, "web", docker.ProxyDeploy{Target: v1, HealthPath: "/health", HealthInterval: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}

	if err := p.Stop(ctx, "web", "back in five minutes", time.Second); err != nil {
		t.Fatal(err)
	}
	if status, body := get(""); status != http.StatusServiceUnavailable || !strings.Contains(body, "back in five minutes") {
		t.Errorf("stopped service answered %d %q", status, body)
	}
	if svc, _ := p.Service(ctx, "web"); svc == nil || svc.State != "stopped" {
		t.Errorf("list after stop: %+v", svc)
	}
	if err := p.Resume(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if status, body := get(""); status != http.StatusOK || body != "1" {
		t.Errorf("resumed service answered %d %q", status, body)
	}

	if err := p.Pause(ctx, "web", time.Second, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	held := make(chan time.Time)
	go func() {
		get("")
		held <- time.Now()
	}()
	time.Sleep(500 * time.Millisecond)
	resumed := time.Now()
	if err := p.Resume(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if answered := <-held; answered.Before(resumed) {
		t.Errorf("a request to a paused service was answered before resume")
	}

	if err := p.RolloutSet(ctx, "web", 50); !errors.Is(err, docker.ErrProxyNoRollout) {
		t.Errorf("rollout set without a rollout target: %v", err)
	}
	if err := p.RolloutDeploy(ctx, "web", v2, 10*time.Second, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.RolloutSet(ctx, "web", 100); err != nil {
		t.Fatal(err)
	}
	if _, body := get("customer-42"); body != "2" {
		t.Errorf("request in the rollout group answered by version %s", body)
	}
	if _, body := get(""); body != "1" {
		t.Errorf("request without a rollout cookie answered by version %s", body)
	}
	if err := p.RolloutStop(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if _, body := get("customer-42"); body != "1" {
		t.Errorf("after rollout stop, version %s answered", body)
	}

	if err := p.Remove(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if list, err := p.List(ctx); err != nil || len(list) != 0 {
		t.Errorf("list after remove: %+v, %v", list, err)
	}
}

func TestRealProxyIsReusedAndRefusesAnotherImage(t *testing.T) {
	cli := dockertest.Client(t)
	project := dockertest.Project(t, cli)
	_, spec := dockertest.Proxy(t, cli, project)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	before, err := cli.Inspect(ctx, spec.Name)
	if err != nil || before == nil {
		t.Fatal(before, err)
	}
	if _, err := cli.EnsureProxy(ctx, spec); err != nil {
		t.Fatalf("second EnsureProxy: %v", err)
	}
	if after, _ := cli.Inspect(ctx, spec.Name); after == nil || after.ID != before.ID || !after.Running {
		t.Fatalf("the running proxy was replaced or stopped: %+v", after)
	}
	if before.Labels[docker.ProxyLabel] != "true" {
		t.Errorf("proxy labels = %v", before.Labels)
	}

	other := spec
	other.Image = docker.DefaultProxyImage
	if _, err := cli.EnsureProxy(ctx, other); err == nil || !strings.Contains(err.Error(), "runs image "+spec.Image) {
		t.Errorf("EnsureProxy with another image: %v", err)
	}
	other = spec
	other.Ports = []docker.Port{{HostPort: "8089", ContainerPort: "80", Proto: "tcp"}}
	if _, err := cli.EnsureProxy(ctx, other); err == nil || !strings.Contains(err.Error(), "does not publish port 8089:80/tcp") {
		t.Errorf("EnsureProxy with another port: %v", err)
	}

	if err := cli.Stop(ctx, before.ID, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.EnsureProxy(ctx, spec); err != nil {
		t.Fatalf("EnsureProxy of a stopped proxy: %v", err)
	}
	if after, _ := cli.Inspect(ctx, spec.Name); after == nil || !after.Running {
		t.Fatalf("stopped proxy not started again: %+v", after)
	}
}

// BenchmarkProxySwitchBack measures a revert while the old version is warm:
// from the `kamal-proxy deploy` call back to version 1 until every request
// is answered by version 1 (switch) and until the call returns (call), next
// to the floor of a stop-first replacement in the same run: `docker stop -t 0`
// and `docker start` of a container until it answers again (stopstart).
// Run: go test -run '^$' -bench ProxySwitchBack -benchtime 20x ./docker
func BenchmarkProxySwitchBack(b *testing.B) {
	cli := dockertest.Client(b)
	project := dockertest.Project(b, cli)
	port := dockertest.FreePort(b)
	p, spec := dockertest.Proxy(b, cli, project, docker.Port{HostIP: "127.0.0.1", HostPort: strconv.Itoa(port), ContainerPort: "80", Proto: "tcp"})
	v1 := demoTarget(b, cli, project, spec.Network, "1")
	v2 := demoTarget(b, cli, project, spec.Network, "2")
	floorPort := dockertest.FreePort(b)
	floorID := demoContainer(b, cli, project, "floor", docker.Spec{Name: project + "-floor",
		Ports: []docker.Port{{HostIP: "127.0.0.1", HostPort: strconv.Itoa(floorPort), ContainerPort: "8080", Proto: "tcp"}}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	deploy := func(target string) docker.ProxyDeploy {
		return docker.ProxyDeploy{Target: target, HealthPath: "/health", HealthInterval: 100 * time.Millisecond, DeployTimeout: 10 * time.Second, DrainTimeout: 5 * time.Second}
	}
	if err := p.Deploy(ctx, "web", deploy(v1)); err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	version := func(url string) string {
		resp, err := client.Get(url)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(body))
	}
	proxied := fmt.Sprintf("http://127.0.0.1:%d/version", port)
	var switches, calls, floors []time.Duration
	b.ResetTimer()
	for range b.N {
		if err := p.Deploy(ctx, "web", deploy(v2)); err != nil {
			b.Fatal(err)
		}
		// A probe sends requests one after another during the switch back and
		// notes when the last one answered by version 2 started.
		start := time.Now()
		stop, lastOld := make(chan struct{}), make(chan time.Time)
		go func() {
			var last time.Time
			for {
				select {
				case <-stop:
					lastOld <- last
					return
				default:
				}
				at := time.Now()
				if version(proxied) != "1" {
					last = at
				}
			}
		}()
		if err := p.Deploy(ctx, "web", deploy(v1)); err != nil {
			b.Fatal(err)
		}
		calls = append(calls, time.Since(start))
		time.Sleep(50 * time.Millisecond)
		close(stop)
		switches = append(switches, max(0, (<-lastOld).Sub(start)))

		start = time.Now()
		if err := cli.Stop(ctx, floorID, 0); err != nil {
			b.Fatal(err)
		}
		if err := cli.Start(ctx, floorID); err != nil {
			b.Fatal(err)
		}
		for version(fmt.Sprintf("http://127.0.0.1:%d/version", floorPort)) != "floor" {
			time.Sleep(time.Millisecond)
		}
		floors = append(floors, time.Since(start))
	}
	b.StopTimer()
	for _, m := range []struct {
		name string
		d    []time.Duration
	}{{"switch", switches}, {"call", calls}, {"stopstart", floors}} {
		slices.Sort(m.d)
		b.ReportMetric(float64(m.d[len(m.d)/2].Microseconds())/1000, m.name+"-p50-ms")
		b.ReportMetric(float64(m.d[(len(m.d)*95+99)/100-1].Microseconds())/1000, m.name+"-p95-ms")
	}
}
