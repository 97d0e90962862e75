package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/dockertest/engines"
	"github.com/golive/golive/docker/scratch"
)

var golive string // the built binary

func TestMain(m *testing.M) {
	os.Exit(engines.Wrap(withBinary{m}).Run())
}

// withBinary runs the tests with the golive binary built, so that
// engines.Wrap stops the shared test engines after them.
type withBinary struct{ m *testing.M }

func (w withBinary) Run() int { return dockertest.RunWithBinary(w.m, ".", &golive) }

// cli runs the golive binary and returns its exit code, stdout and stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(golive, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUsageAndPlanMistakesExitWithCode2AndNoStackTrace(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", "project: shop\nrelease: '1'\nservices:\n  api:\n    imag: x\n")
	planConfirm := writeFile(t, dir, "plan-confirm.yaml", "project: gltest-confirm\nrelease: '1'\nconfirm: true\nservices: {api: {image: a}}\n")
	confirm := writeFile(t, dir, "confirm.yaml", "project: shop\nrelease: '1'\nservices: {api: {image: a}}\nsteps:\n  - deploy: default\n  - confirm: sure?\n")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no arguments", nil, 2, "Usage:"},
		{"unknown command", []string{"deploy", bad}, 2, `unknown command "deploy"`},
		{"unknown command alone", []string{"deploy"}, 2, `unknown command "deploy"`},
		{"misspelt command with a flag", []string{"stauts", "--yes"}, 2, `unknown command "stauts"`},
		{"missing plan file", []string{"check", filepath.Join(dir, "nope.yaml")}, 2, "read plan: open " + filepath.Join(dir, "nope.yaml") + ": no such file or directory"},
		{"invalid plan", []string{"check", bad}, 2, bad + `:5:5: unknown field "imag"`},
		{"unknown flag", []string{"apply", bad, "--forcefully"}, 2, "flag provided but not defined: -forcefully"},
		{"two plans", []string{"apply", bad, bad}, 2, "expected one PLAN file, got 2 arguments"},
		{"confirm without a terminal", []string{"apply", confirm}, 2, "pass --yes to answer yes"},
		{"plan confirm without a terminal", []string{"revert", planConfirm}, 2, "the plan sets confirm: true and there is no terminal to ask on; pass --yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errout := cli(t, tt.args...)
			if code != tt.code || !strings.Contains(out+errout, tt.want) {
				t.Fatalf("exit %d, output:\n%s%s\nwant exit %d and %q", code, out, errout, tt.code, tt.want)
			}
			if strings.Contains(errout, "goroutine ") {
				t.Fatal("a stack trace reached the user")
			}
		})
	}
	code, out, _ := cli(t, "check", "../../plans/testdata/shop.yaml")
	if code != 0 || !strings.Contains(out, "plan ok: project shop, release 2.4.0, 2 services in groups backend → frontend, 6 steps") {
		t.Fatalf("check of a valid plan: %d %s", code, out)
	}
}

func TestCheckSaysWhichServicesSwitchThroughTheProxy(t *testing.T) {
	plan := writeFile(t, t.TempDir(), "plan.yaml", "project: shop\nrelease: '1'\nproxy: {}\nservices: {web: {image: w, proxy: {port: 8080}, health: {http: 'http://localhost:8080/up'}}}\n")
	code, out, errout := cli(t, "check", plan)
	if code != 0 || !strings.Contains(out, "plan ok") || !strings.Contains(out, "web: blue/green through proxy golive-proxy") || !strings.Contains(out, "health.http goes straight to each container at port 8080") || strings.Contains(errout, "proxy") {
		t.Fatalf("check: exit %d\n%s\n%s", code, out, errout)
	}
}

func TestDockerUnreachableSaysWhatToDo(t *testing.T) {
	dir := t.TempDir()
	plan := writeFile(t, dir, "plan.yaml", "project: shop\nrelease: '1'\ndocker: {host: 'unix:///nonexistent/docker.sock'}\nservices: {api: {image: a}}\n")
	code, _, errout := cli(t, "apply", plan)
	if code != exitEnvironment || !strings.Contains(errout, "cannot reach the Docker engine at unix:///nonexistent/docker.sock") || !strings.Contains(errout, "is the Docker daemon running?") {
		t.Fatalf("exit %d: %s", code, errout)
	}
}

// TestLockContentionAndRevertAfterSIGKILLMidDeploy needs the real Docker
// engine: one apply hangs in a health gate, a second process is refused
// the lock, the first is killed, and a fresh process reverts.
func TestLockContentionAndRevertAfterSIGKILLMidDeploy(t *testing.T) {
	plan, fx := apiPlans(t, "VERSION=")
	project, dir, port := fx.project, fx.dir, fx.port
	p1, p2 := plan("1", ""), plan("2", "UNHEALTHY: 'true'")
	if code, out, errout := cli(t, "apply", p1); code != 0 {
		t.Fatalf("apply v1: exit %d\n%s%s", code, out, errout)
	}
	if !strings.Contains(serviceVersion(port), "1") {
		t.Fatal("v1 does not answer")
	}

	hung := exec.Command(golive, "apply", p2)
	var hungOut dockertest.SyncBuffer
	hung.Stdout, hung.Stderr = &hungOut, &hungOut
	if err := hung.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hung.Process.Kill(); hung.Wait() })
	dockertest.WaitFor(t, "the second apply to start the new container", func() bool { return strings.Contains(hungOut.String(), "api: started") })

	code, out, errout := cli(t, "apply", p2)
	if code != exitLocked || !strings.Contains(errout, "another release holds the lock golive-lock-"+project) || !strings.Contains(errout, "golive unlock PLAN") {
		t.Fatalf("second process: exit %d: %s", code, errout)
	}
	if !strings.Contains(out, ": not started: another release holds the lock (held by ") || strings.Contains(out, "FAILED") || strings.Contains(out, "services now") {
		t.Fatalf("second process: the summary does not say it did not start:\n%s", out)
	}
	// Its process runs on this machine: unlock refuses, even with --force.
	for _, args := range [][]string{{"unlock", p2}, {"unlock", p2, "--force"}} {
		code, _, errout := cli(t, args...)
		if code != exitLocked || !strings.Contains(errout, fmt.Sprintf("process %d is still running on this machine", hung.Process.Pid)) {
			t.Fatalf("%v under a live lock: exit %d %s", args, code, errout)
		}
	}
	hung.Process.Signal(syscall.SIGKILL)
	hung.Wait()

	// status tells that the lock's holder is gone, what it left and how to finish.
	code, out, errout = cli(t, "status", p2)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("its process %d on this machine is gone: the apply was interrupted", hung.Process.Pid)) ||
		!strings.Contains(out, "  left: ") || !strings.Contains(out, "finish it with: golive revert "+p2) {
		t.Fatalf("status after the kill: exit %d\n%s%s", code, out, errout)
	}

	// The killed apply's lock names a process on this machine that is gone:
	// the revert breaks it, and says so, instead of sending the operator to unlock.
	code, out, errout = cli(t, "revert", p2)
	if code != 0 || !strings.Contains(out, "reverted") || !strings.Contains(out, fmt.Sprintf("its process %d on this machine is gone", hung.Process.Pid)) {
		t.Fatalf("revert: exit %d\n%s%s", code, out, errout)
	}
	if v := serviceVersion(port); v != "1" {
		t.Fatalf("after revert the service answers %q", v)
	}
	code, out, _ = cli(t, "revert", p2)
	if code != 0 || !strings.Contains(out, "nothing to revert") {
		t.Fatalf("second revert: exit %d %s", code, out)
	}
	// A lock held from another machine is never broken by itself: unlock does it.
	remote := docker.LockInfo{Holder: "bob@ops2", Since: time.Now(), Operation: "apply", Host: "ops2", PID: 1}
	if err := dockertest.Client(t).AcquireLock(context.Background(), "golive-lock-"+project, remote, map[string]string{"io.golive.project": project}); err != nil {
		t.Fatal(err)
	}
	if code, _, errout := cli(t, "revert", p2); code != exitLocked || !strings.Contains(errout, "bob@ops2") {
		t.Fatalf("revert under another machine's lock: exit %d %s", code, errout)
	}
	if code, _, errout := cli(t, "unlock", p2); code != exitUsage || !strings.Contains(errout, "held by bob@ops2") || !strings.Contains(errout, "pass --yes") {
		t.Fatalf("unlock without a terminal: exit %d %s", code, errout)
	}
	if code, out, errout := cli(t, "unlock", p2, "--yes"); code != 0 || !strings.Contains(out, "broke the lock of bob@ops2 (apply since") {
		t.Fatalf("unlock: exit %d\n%s%s", code, out, errout)
	}
	journals, _ := filepath.Glob(filepath.Join(dir, ".golive", "journal", project+"-*.jsonl"))
	if len(journals) < 4 {
		t.Fatalf("journals: %v", journals)
	}
}

func serviceVersion(port int) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/version", port), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "down"
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

// TestLogsFollowsAServiceThroughADeployAndARevert needs the real Docker
// engine: `golive logs` runs while v2 is deployed and reverted.
func TestLogsFollowsAServiceThroughADeployAndARevert(t *testing.T) {
	plan, _ := apiPlans(t, "LOG_EVERY=20ms", "VERSION=")
	p1, p2 := plan("1", ""), plan("2", "")
	if code, out, errout := cli(t, "apply", p1); code != 0 {
		t.Fatalf("apply v1: %d %s%s", code, out, errout)
	}
	follower := exec.Command(golive, "logs", "--json", "--plan", p2)
	var out dockertest.SyncBuffer
	follower.Stdout = &out
	if err := follower.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { follower.Process.Kill(); follower.Wait() }()
	dockertest.WaitFor(t, "logs of v1", func() bool { return strings.Count(out.String(), "\n") > 20 })
	// Each life of the container starts its lines at seq=1: the follower
	// is to see v2 start, then v1 restarted by the revert.
	starts := func() int { return len(regexp.MustCompile(`seq=1\b`).FindAllString(out.String(), -1)) }
	before := starts()
	if code, o, e := cli(t, "apply", p2); code != 0 {
		t.Fatalf("apply v2: %d %s%s", code, o, e)
	}
	dockertest.WaitFor(t, "logs of v2", func() bool { return starts() > before })
	if code, o, e := cli(t, "revert", p2); code != 0 {
		t.Fatalf("revert: %d %s%s", code, o, e)
	}
	dockertest.WaitFor(t, "logs of v1 after the revert", func() bool { return starts() > before+1 })
	follower.Process.Signal(syscall.SIGTERM)
	follower.Wait()

	// Each life of a container numbers its lines from 1: v1, then v2, then
	// v1 restarted by the revert. A lost line breaks a run; a repeated one
	// starts an extra run.
	var runs [][]int
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var rec struct{ Source, Level, Line string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		m := regexp.MustCompile(`seq=(\d+)`).FindStringSubmatch(rec.Line)
		if m == nil || rec.Source != "service:api" {
			t.Fatalf("unexpected record %+v", rec)
		}
		n, _ := strconv.Atoi(m[1])
		if n == 1 {
			runs = append(runs, nil)
		}
		if len(runs) == 0 {
			continue // joined v1 mid-way
		}
		runs[len(runs)-1] = append(runs[len(runs)-1], n)
	}
	if len(runs) != 3 {
		t.Fatalf("%d runs of lines, want 3 (v1, v2, v1 again)", len(runs))
	}
	for i, run := range runs {
		for k, n := range run {
			if n != k+1 {
				t.Fatalf("run %d: line %d has seq %d", i, k, n)
			}
		}
	}
}

// apiFixture is a project with demo images api:1 and api:2 on the real engine.
type apiFixture struct {
	project, dir string
	port         int
}

// apiPlans loads demo images api:1 and api:2 for a new project and returns
// a writer of plans deploying api:V on a free port with extra env.
// imageEnv entries ending in "=" get the version appended.
func apiPlans(t *testing.T, imageEnv ...string) (func(v, env string) string, apiFixture) {
	t.Helper()
	docker := dockertest.Client(t)
	project := dockertest.Project(t, docker)
	for _, v := range []string{"1", "2"} {
		var env []string
		for _, e := range imageEnv {
			if strings.HasSuffix(e, "=") {
				e += v
			}
			env = append(env, e)
		}
		dockertest.LoadDemoImage(t, docker, dockertest.ImageRef(project, "api:"+v), scratch.Config{Env: env})
	}
	port := dockertest.FreePort(t)
	dir := t.TempDir()
	return func(v, env string) string {
		return writeFile(t, dir, "plan-"+v+".yaml", fmt.Sprintf(`project: %s
release: "%s"
services:
  api:
    image: %s
    ports: ["127.0.0.1:%d:8080"]
    env: {%s}
    health: {http: "http://127.0.0.1:%d/health", timeout: 60s, stable: 300ms, interval: 100ms}
`, project, v, dockertest.ImageRef(project, "api:"+v), port, env, port))
	}, apiFixture{project: project, dir: dir, port: port}
}

func TestReportWritesAPostmortemFromJournalsOrAFolder(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "postmortem.html")
	code, stdout, stderr := cli(t, "report", "../../plans/report/testdata", "--format", "html", "-o", out)
	if code != 0 || !strings.Contains(stdout, "wrote "+out) || !strings.Contains(stderr, "note: ../../plans/report/testdata/cut-short.jsonl line 12") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	html, _ := os.ReadFile(out)
	if !strings.HasPrefix(string(html), "<!DOCTYPE html>") || !strings.Contains(string(html), "<svg") {
		t.Fatal("not a self-contained HTML report")
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o666&^umask() {
		t.Fatalf("the report is written with mode %v, want %v (0666 less the umask)", fi.Mode().Perm(), 0o666&^umask())
	}
	code, stdout, _ = cli(t, "report", "../../plans/report/testdata/broken-release.jsonl")
	if code != 0 || !strings.Contains(stdout, "| Outcome | **reverted** |") {
		t.Fatalf("markdown report: exit %d\n%s", code, stdout)
	}
	for _, args := range [][]string{{"report"}, {"report", "--format", "pdf", out}, {"report", filepath.Join(dir, "none.jsonl")}, {"report", dir}} {
		if code, _, stderr := cli(t, args...); code != exitUsage || stderr == "" {
			t.Fatalf("%v: exit %d, %q", args, code, stderr)
		}
	}
}

// TestInterruptDuringApplyRevertsWhatItChanged presses Ctrl-C (SIGINT)
// while an apply waits in a health gate, against the real engine.
func TestInterruptDuringApplyRevertsWhatItChanged(t *testing.T) {
	plan, fx := apiPlans(t, "VERSION=")
	if code, out, errout := cli(t, "apply", plan("1", "")); code != 0 {
		t.Fatalf("apply v1: %d %s%s", code, out, errout)
	}
	apply := exec.Command(golive, "apply", plan("2", "UNHEALTHY: 'true'"))
	var out dockertest.SyncBuffer
	apply.Stdout, apply.Stderr = &out, &out
	if err := apply.Start(); err != nil {
		t.Fatal(err)
	}
	dockertest.WaitFor(t, "the new container to start", func() bool { return strings.Contains(out.String(), "api: started") })
	apply.Process.Signal(os.Interrupt)
	err := apply.Wait()
	exit, _ := err.(*exec.ExitError)
	if exit == nil || exit.ExitCode() != exitInterrupted || !strings.Contains(out.String(), "interrupted: stopping the current step") || !strings.Contains(out.String(), "was reverted") {
		t.Fatalf("interrupted apply: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "context canceled") || !strings.Contains(out.String(), "stopped by the operator") {
		t.Errorf("the interrupt reads as a raw error, not as the operator's stop:\n%s", out.String())
	}
	if v := serviceVersion(fx.port); v != "1" {
		t.Fatalf("after the interrupt the service answers %q", v)
	}
}

// umask is the process's file mode creation mask. Reading it means setting
// it, so it is set back at once.
func umask() os.FileMode {
	mask := syscall.Umask(0)
	syscall.Umask(mask)
	return os.FileMode(mask)
}
