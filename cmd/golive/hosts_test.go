package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/dockertest/engines"
	"github.com/golive/golive/docker/scratch"
)

// cutLinkToH2 puts h2 of the three test engines behind a link the test
// can cut, and returns it with the plan's hosts: lines (h1 and h3 direct).
func cutLinkToH2(t *testing.T, clients map[string]*docker.Client) (*dockertest.CuttingEngine, string) {
	h2 := engines.Get(t, 3).Engines[1]
	link := dockertest.NewCuttingEngine(t, h2.Socket())
	var hosts strings.Builder
	for _, name := range []string{"h1", "h3"} {
		fmt.Fprintf(&hosts, "  %s: %s\n", name, clients[name].Host())
	}
	fmt.Fprintf(&hosts, "  h2: {url: %q, address: %s}\n", link.Host, h2.Addr)
	return link, hosts.String()
}

// hostsProject connects to three test engines, loads api:1 and api:2 on
// each, and returns the project name, its clients (h1…h3) and a function
// writing a plan for version v with extra service settings.
func hostsProject(t *testing.T) (string, map[string]*docker.Client, func(v, hostsYAML, extra string) string) {
	set := engines.Get(t, 3)
	b := make([]byte, 4)
	rand.Read(b)
	project := "glhosts-" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clients := map[string]*docker.Client{}
	var hosts strings.Builder
	for i, e := range set.Engines[:3] {
		cli, err := docker.ConnectHost(ctx, e.TCP(), docker.HostOptions{})
		if err != nil {
			t.Fatal(err)
		}
		clients[fmt.Sprintf("h%d", i+1)] = cli
		fmt.Fprintf(&hosts, "  h%d: %s\n", i+1, e.TCP())
		t.Cleanup(func() { dockertest.Cleanup(cli, project); cli.Close() })
	}
	for _, v := range []string{"1", "2"} {
		if err := set.LoadTarball(ctx, dockertest.DemoTarball(t, dockertest.ImageRef(project, "api:"+v), scratch.Config{Env: []string{"VERSION=" + v, "ROLE=api"}})); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	write := func(v, hostsYAML, extra string) string {
		if hostsYAML == "" {
			hostsYAML = hosts.String()
		}
		return writeFile(t, dir, "plan-"+v+".yaml", fmt.Sprintf(`project: %s
release: "%s"
hosts:
%sservices:
  api:
    image: %s
    ports: ["8080:8080"]
    health: {http: "http://{host}:8080/health", timeout: 6s, stable: 200ms, interval: 100ms}
%s`, project, v, hostsYAML, dockertest.ImageRef(project, "api:"+v), extra))
	}
	return project, clients, write
}

// images is what the api container runs on each host.
func images(t *testing.T, project string, clients map[string]*docker.Client) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, c := range clients {
		ct, err := c.Inspect(context.Background(), project+"-api")
		if err != nil {
			t.Fatal(err)
		}
		out[name] = "missing"
		if ct != nil {
			out[name] = ct.Image[strings.LastIndex(ct.Image, ":")+1:]
		}
	}
	return out
}

func TestHostsUnreachableAtStartChangesNothing(t *testing.T) {
	project, clients, write := hostsProject(t)
	var hosts strings.Builder
	for _, name := range []string{"h1", "h3"} {
		fmt.Fprintf(&hosts, "  %s: %s\n", name, "tcp://"+clients[name].Host()[len("tcp://"):])
	}
	hosts.WriteString("  h2: tcp://127.0.0.1:1\n")
	plan := write("1", hosts.String(), "")
	for _, args := range [][]string{{"check", plan}, {"apply", plan, "--yes"}} {
		code, _, stderr := cli(t, args...)
		if code != exitEnvironment || !strings.Contains(stderr, "host h2 cannot be reached") || !strings.Contains(stderr, "remove h2 from hosts") {
			t.Fatalf("golive %s: exit %d, want %d naming h2 and what to do:\n%s", args[0], code, exitEnvironment, stderr)
		}
	}
	if got := images(t, project, clients); got["h1"] != "missing" || got["h3"] != "missing" {
		t.Errorf("nothing may change on the hosts that answer: %v", got)
	}
}

// TestHostsKilledMidRolloutRevertsFromFreshProcess kills golive in the
// pause after the first batch; a new `golive revert` breaks the dead
// process's locks and puts back the one host it changed.
func TestHostsKilledMidRolloutRevertsFromFreshProcess(t *testing.T) {
	project, clients, write := hostsProject(t)
	if code, out, errs := cli(t, "apply", write("1", "", ""), "--yes"); code != 0 {
		t.Fatalf("apply v1: exit %d\n%s%s", code, out, errs)
	}
	plan2 := write("2", "", "    rollout: {batch: 1, pause: 30s}\n")
	cmd := exec.Command(golive, "apply", plan2, "--yes")
	var out dockertest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dockertest.WaitFor(t, "h1's batch to end", func() bool { return strings.Contains(out.String(), "✓ api@h1 deployed") })
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if got := images(t, project, clients); got["h1"] != "2" || got["h2"] != "1" || got["h3"] != "1" {
		t.Fatalf("killed in the pause after batch 1: %v", got)
	}
	code, stdout, stderr := cli(t, "revert", plan2, "--yes")
	if code != 0 {
		t.Fatalf("revert from a fresh process: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"h2: lock of ", "broken: its process", "1 hosts, in order: h1", "api@h2 not changed", "REVERTED"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the revert should say %q:\n%s", want, stdout)
		}
	}
	if got := images(t, project, clients); got["h1"] != "1" || got["h2"] != "1" || got["h3"] != "1" {
		t.Errorf("after the revert every host runs v1: %v\n%s", got, stdout)
	}
	for name, c := range clients {
		if held, err := c.Lock(context.Background(), "golive-lock-"+project); err != nil || held != nil {
			t.Errorf("host %s: lock left %v (%v)", name, held, err)
		}
	}
	code, stdout, stderr = cli(t, "logs", "--plan", plan2, "--no-follow", "--json")
	if code != 0 {
		t.Fatalf("logs --plan: exit %d\n%s", code, stderr)
	}
	for _, src := range []string{`"service:api@h1"`, `"service:api@h2"`, `"service:api@h3"`} {
		if !strings.Contains(stdout, src) {
			t.Errorf("golive logs --plan should merge every host's lines, source %s missing:\n%.2000s", src, stdout)
		}
	}
	code, stdout, _ = cli(t, "logs", "--plan", plan2, "--no-follow", "--json", "service:api@h2")
	if code != 0 || strings.Contains(stdout, "api@h1") || !strings.Contains(stdout, "api@h2") {
		t.Errorf("service:api@h2 reads h2 only: exit %d\n%.1000s", code, stdout)
	}
}

// TestHostsLogsLeaveOutAHostThatDoesNotAnswer: with one host down, `golive
// logs --plan` still reads the others and says which host is left out;
// asking for that host's service alone says it does not answer.
func TestHostsLogsLeaveOutAHostThatDoesNotAnswer(t *testing.T) {
	_, clients, write := hostsProject(t)
	var up strings.Builder
	for _, name := range []string{"h1", "h3"} {
		fmt.Fprintf(&up, "  %s: %s\n", name, clients[name].Host())
	}
	if code, _, stderr := cli(t, "apply", write("1", up.String(), ""), "--yes"); code != exitOK {
		t.Fatalf("apply: exit %d\n%s", code, stderr)
	}
	plan := write("2", up.String()+"  h2: tcp://127.0.0.1:1\n", "")
	code, stdout, stderr := cli(t, "logs", "--plan", plan, "--no-follow")
	if code != exitOK || !strings.Contains(stderr, "host h2 cannot be reached, its services' logs are left out") {
		t.Fatalf("logs with h2 down: exit %d, want %d naming h2:\n%s", code, exitOK, stderr)
	}
	if !strings.Contains(stdout, "api@h1") || !strings.Contains(stdout, "api@h3") || strings.Contains(stdout, "api@h2") {
		t.Errorf("want the lines of api@h1 and api@h3 only:\n%s", stdout)
	}
	code, _, stderr = cli(t, "logs", "--plan", plan, "--no-follow", "service:api@h2")
	if code != exitEnvironment || !strings.Contains(stderr, "service:api@h2 cannot be read: host h2 does not answer") {
		t.Errorf("logs service:api@h2: exit %d, want %d saying h2 does not answer:\n%s", code, exitEnvironment, stderr)
	}
}
