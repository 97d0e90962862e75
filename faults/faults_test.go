// Package faults attacks golive the way a bad release night does, against
// the real Docker engine: processes killed with SIGKILL at random points,
// the Docker connection cut, the journal's disk full, processes racing for
// the lock. Trials are seeded; a failure names its seed.
package faults

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/scratch"
	"github.com/golive/golive/plans"
)

var golive string // the built binary

func TestMain(m *testing.M) {
	os.Exit(dockertest.RunWithBinary(m, "../cmd/golive", &golive))
}

// trials is how many seeded trials each kill test runs.
const trials = 20

// release is a project with two services, api (group backend) and web
// (group frontend), and images of versions 1 and 2 of each.
type release struct {
	t        *testing.T
	cli      *docker.Client
	project  string
	dir      string
	ports    map[string]int
	imageIDs map[string]string // "api:1" → image ID
	env      []string          // extra environment of golive processes
}

func newRelease(t *testing.T) *release {
	cli := dockertest.Client(t)
	r := &release{t: t, cli: cli, project: dockertest.Project(t, cli), dir: t.TempDir(),
		ports: map[string]int{"api": dockertest.FreePort(t), "web": dockertest.FreePort(t)}, imageIDs: map[string]string{}}
	for _, svc := range []string{"api", "web"} {
		for _, v := range []string{"1", "2"} {
			r.imageIDs[svc+":"+v] = dockertest.LoadDemoImage(t, cli, dockertest.ImageRef(r.project, svc+":"+v), scratch.Config{Env: []string{"VERSION=" + v}})
		}
	}
	return r
}

// plan writes the plan of version v; extra is appended, and apiEnv goes
// into api's env.
func (r *release) plan(v, apiEnv, extra string) string {
	r.t.Helper()
	text := fmt.Sprintf(`project: %s
release: "%s"
services:
`, r.project, v)
	for _, svc := range []string{"api", "web"} {
		group, env := "backend", apiEnv
		if svc == "web" {
			group, env = "frontend", ""
		}
		text += fmt.Sprintf(`  %s:
    image: %s
    group: %s
    ports: ["127.0.0.1:%d:8080"]
    env: {%s}
    health: {http: "http://127.0.0.1:%d/health", timeout: 20s, stable: 100ms, interval: 50ms}
`, svc, dockertest.ImageRef(r.project, svc+":"+v), group, r.ports[svc], env, r.ports[svc])
	}
	path := filepath.Join(r.dir, "plan-"+v+".yaml")
	if err := os.WriteFile(path, []byte(text+extra), 0o644); err != nil {
		r.t.Fatal(err)
	}
	return path
}

// run runs golive to its end and returns its exit code and output.
func (r *release) run(args ...string) (int, string, string) {
	r.t.Helper()
	cmd := r.command(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), out.String(), errb.String()
	} else if err != nil {
		r.t.Fatal(err)
	}
	return 0, out.String(), errb.String()
}

func (r *release) command(args ...string) *exec.Cmd {
	cmd := exec.Command(golive, args...)
	cmd.Env = append(os.Environ(), r.env...)
	return cmd
}

// mustRun runs golive and fails the test unless it exits with code.
func (r *release) mustRun(code int, args ...string) string {
	r.t.Helper()
	got, out, errout := r.run(args...)
	if got != code {
		r.t.Fatalf("golive %s: exit %d, want %d\n%s%s", strings.Join(args, " "), got, code, out, errout)
	}
	return out + errout
}

// killAfter starts golive and kills it with SIGKILL after d (or lets it
// finish first), returning what it printed.
func (r *release) killAfter(d time.Duration, args ...string) string {
	r.t.Helper()
	cmd := r.command(args...)
	var out dockertest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
	return out.String()
}

// settled fails unless every service runs version v's image, answers as
// version v, and no other container of the project is left.
func (r *release) settled(v, context string) {
	r.t.Helper()
	ctx := t0()
	all, err := r.cli.List(ctx, map[string]string{"io.golive.project": r.project})
	if err != nil {
		r.t.Fatal(err)
	}
	var names []string
	for _, c := range all {
		names = append(names, c.Name)
	}
	want := []string{r.project + "-api", r.project + "-web"}
	if len(names) != 2 || !(names[0] == want[0] && names[1] == want[1] || names[0] == want[1] && names[1] == want[0]) {
		r.t.Fatalf("%s: containers %v, want exactly %v", context, names, want)
	}
	for _, svc := range []string{"api", "web"} {
		ct, err := r.cli.Inspect(ctx, r.project+"-"+svc)
		if err != nil {
			r.t.Fatal(err)
		}
		if !ct.Running || ct.ImageID != r.imageIDs[svc+":"+v] {
			r.t.Fatalf("%s: %s is %s on image %s, want running %s", context, svc, ct.State, docker.ShortID(ct.ImageID), docker.ShortID(r.imageIDs[svc+":"+v]))
		}
		if got := answer(r.ports[svc], "version"); got != v {
			r.t.Fatalf("%s: %s answers version %q, want %s", context, svc, got, v)
		}
		if got := answer(r.ports[svc], "health"); got == "down" {
			r.t.Fatalf("%s: %s health check does not answer", context, svc)
		}
	}
}

// t0 is the context of the test's own Docker calls.
func t0() context.Context { return context.Background() }

func answer(port int, path string) string {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/%s", port, path))
	if err != nil {
		return "down"
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		return "down"
	}
	return strings.TrimSpace(string(b))
}

// TestRevertKilledAtRandomPointsIsFinishedByTheNextRevert: v2 is deployed,
// `golive revert` is killed with SIGKILL at a random moment, and a revert
// from a fresh process must bring every service back to v1 and leave no
// stray container.
func TestRevertKilledAtRandomPointsIsFinishedByTheNextRevert(t *testing.T) {
	t.Parallel()
	r := newRelease(t)
	p1, p2 := r.plan("1", "", ""), r.plan("2", "", "")
	r.mustRun(0, "apply", p1)
	// How long an undisturbed revert takes, to spread the kills over it.
	r.mustRun(0, "apply", p2)
	start := time.Now()
	r.mustRun(0, "revert", p2)
	span := time.Since(start)
	rng := rand.New(rand.NewPCG(8, 1))
	for i := range trials {
		r.mustRun(0, "apply", p2)
		d := time.Duration(rng.Int64N(int64(span)))
		out := r.killAfter(d, "revert", p2)
		code, fin, errout := r.run("revert", p2)
		if code != 0 || !(strings.Contains(fin, "reverted") || strings.Contains(fin, "nothing to revert")) {
			t.Fatalf("trial %d (kill after %s): the finishing revert exited %d\nkilled revert:\n%s\nfinishing revert:\n%s%s", i, d, code, out, fin, errout)
		}
		r.settled("1", fmt.Sprintf("trial %d (kill after %s)", i, d))
	}
	t.Logf("%d trials, kills spread over %s", trials, span.Round(time.Millisecond))
}

// TestApplyKilledAtRandomPointsIsRevertedByAFreshProcess kills `golive
// apply` of v2 at a random moment; a revert from a fresh process must
// bring back v1.
func TestApplyKilledAtRandomPointsIsRevertedByAFreshProcess(t *testing.T) {
	t.Parallel()
	r := newRelease(t)
	p1, p2 := r.plan("1", "", ""), r.plan("2", "", "")
	r.mustRun(0, "apply", p1)
	start := time.Now()
	r.mustRun(0, "apply", p2)
	span := time.Since(start)
	r.mustRun(0, "revert", p2)
	rng := rand.New(rand.NewPCG(9, 1))
	for i := range trials {
		d := time.Duration(rng.Int64N(int64(span)))
		out := r.killAfter(d, "apply", p2)
		code, fin, errout := r.run("revert", p2)
		if code != 0 || !(strings.Contains(fin, "reverted") || strings.Contains(fin, "nothing to revert")) {
			t.Fatalf("trial %d (kill after %s): revert exited %d\nkilled apply:\n%s\nrevert:\n%s%s", i, d, code, out, fin, errout)
		}
		r.settled("1", fmt.Sprintf("trial %d (kill after %s)", i, d))
	}
	t.Logf("%d trials, kills spread over %s", trials, span.Round(time.Millisecond))
}

// proxy forwards a unix socket to the Docker engine's and can cut every
// connection for a while, as a flaky link or a restarting daemon does.
type proxy struct {
	path   string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
	listen net.Listener
}

func newProxy(t *testing.T) *proxy {
	target := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "unix://") {
		target = strings.TrimPrefix(h, "unix://")
	} else if h != "" {
		t.Skip("the socket proxy needs a local unix-socket Docker engine; DOCKER_HOST is " + h)
	}
	dir, err := os.MkdirTemp("", "glproxy")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{path: filepath.Join(dir, "docker.sock"), conns: map[net.Conn]bool{}}
	p.listen, err = net.Listen("unix", p.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.listen.Close(); p.cut(); os.RemoveAll(dir) })
	go func() {
		for {
			c, err := p.listen.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.down {
				p.mu.Unlock()
				c.Close()
				continue
			}
			up, err := net.Dial("unix", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

// cut closes every open connection; set down refuses new ones until restore.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

func (p *proxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// TestDockerConnectionCutMidDeployEndsInATruthfulOutcome cuts the Docker
// connection for 1–3 s while v2's api is in its health gate (it never
// passes): the automatic revert must wait for the engine and put v1 back,
// and what golive says must match what runs.
func TestDockerConnectionCutMidDeployEndsInATruthfulOutcome(t *testing.T) {
	t.Parallel()
	r := newRelease(t)
	p1, p2 := r.plan("1", "", ""), r.plan("2", "UNHEALTHY: 'true'", "")
	r.mustRun(0, "apply", p1)
	px := newProxy(t)
	r.env = []string{"DOCKER_HOST=unix://" + px.path}
	rng := rand.New(rand.NewPCG(10, 1))
	for i := range 3 {
		outage := time.Second + time.Duration(rng.Int64N(int64(2*time.Second)))
		cmd := r.command("apply", p2)
		var out dockertest.SyncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		dockertest.WaitFor(t, "api v2 to start", func() bool { return strings.Contains(out.String(), "api: started") })
		px.cut()
		time.Sleep(outage)
		px.restore()
		err := cmd.Wait()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		}
		text := out.String()
		switch code {
		case 3: // reverted: it must be true
			if !strings.Contains(text, "was reverted") {
				t.Fatalf("trial %d (outage %s): exit 3 without saying reverted:\n%s", i, outage, text)
			}
		case 1: // revert incomplete: it must say so and how to finish
			if !strings.Contains(text, "revert incomplete") || !strings.Contains(text, "golive revert "+p2) {
				t.Fatalf("trial %d (outage %s): exit 1 without the way to finish:\n%s", i, outage, text)
			}
			r.mustRun(0, "revert", p2)
		default:
			t.Fatalf("trial %d (outage %s): exit %d\n%s", i, outage, code, text)
		}
		if !regexp.MustCompile(`revert.retry|trying the revert again|reverted`).MatchString(text) {
			t.Fatalf("trial %d: no trace of the revert:\n%s", i, text)
		}
		r.settled("1", fmt.Sprintf("trial %d (outage %s, exit %d)", i, outage, code))
		t.Logf("trial %d: outage %s, exit %d, %d reconnect tries", i, outage.Round(time.Millisecond), code, strings.Count(text, "trying the revert again"))
	}
}

// TestAFullDiskUnderTheStateFolderStopsTheRelease fills a small tmpfs that
// holds the journal during the release's first step: the release must stop
// before it changes a container, exit non-zero and name the problem.
func TestAFullDiskUnderTheStateFolderStopsTheRelease(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	state := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", state).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", state).Run() })
	r := newRelease(t)
	r.mustRun(0, "apply", r.plan("1", "", ""))
	before := r.containerIDs()
	// The first step fills the disk, as a chatty migration logging there would.
	p2 := r.plan("2", "", fmt.Sprintf("steps:\n  - run: dd if=/dev/zero of=%s/fill bs=64k 2>/dev/null; echo filled\n  - deploy: backend\n  - deploy: frontend\n", state))
	code, out, errout := r.run("apply", p2, "--state", state)
	if code == 0 || !strings.Contains(errout, "no space left on device") || !strings.Contains(errout, "journal") {
		t.Fatalf("apply on a full disk: exit %d\n%s%s", code, out, errout)
	}
	t.Logf("golive said:\n%s", errout)
	if after := r.containerIDs(); after != before {
		t.Fatalf("containers changed after the journal failed: %s → %s", before, after)
	}
	r.settled("1", "after the full disk")
	// A fresh release on the still-full disk refuses to start.
	code, _, errout = r.run("apply", p2, "--state", state)
	if code != 5 || !strings.Contains(errout, "free") {
		t.Fatalf("apply with no free space: exit %d %s", code, errout)
	}
}

func (r *release) containerIDs() string {
	var ids []string
	for _, svc := range []string{"api", "web"} {
		ct, err := r.cli.Inspect(t0(), r.project+"-"+svc)
		if err != nil || ct == nil {
			r.t.Fatalf("%s: %v", svc, err)
		}
		ids = append(ids, docker.ShortID(ct.ID))
	}
	return strings.Join(ids, ",")
}

// race starts two golive applies at once and checks that exactly one
// proceeds and the other exits 4 naming the winner's process.
func (r *release) race(trial int, plan string) {
	r.t.Helper()
	type result struct {
		pid  int
		code int
		out  string
	}
	results := make([]result, 2)
	cmds := make([]*exec.Cmd, 2)
	bufs := make([]*bytes.Buffer, 2)
	for k := range cmds {
		cmds[k] = r.command("apply", plan)
		bufs[k] = &bytes.Buffer{}
		cmds[k].Stdout, cmds[k].Stderr = bufs[k], bufs[k]
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			r.t.Fatal(err)
		}
	}
	for k, c := range cmds {
		err := c.Wait()
		results[k] = result{pid: c.Process.Pid, out: bufs[k].String()}
		if exit, ok := err.(*exec.ExitError); ok {
			results[k].code = exit.ExitCode()
		}
	}
	for k, res := range results {
		other := results[1-k]
		if res.code == 0 && other.code == 4 {
			if !strings.Contains(other.out, "another release holds the lock") || !strings.Contains(other.out, "process "+strconv.Itoa(res.pid)) {
				r.t.Fatalf("trial %d: the loser does not name the winner (pid %d):\n%s", trial, res.pid, other.out)
			}
			return
		}
	}
	r.t.Fatalf("trial %d: exits %d and %d, want one 0 and one 4\n--- 1:\n%s--- 2:\n%s", trial, results[0].code, results[1].code, results[0].out, results[1].out)
}

// TestTwoProcessesRacingForTheLockOneProceedsTheOtherExits4 races two
// applies for a free lock, and for a stale lock left by a dead process.
func TestTwoProcessesRacingForTheLockOneProceedsTheOtherExits4(t *testing.T) {
	t.Parallel()
	r := newRelease(t)
	// The plan holds the lock for a while before its (unchanged) deploys.
	extra := "steps:\n  - run: sleep 0.3\n  - deploy: backend\n  - deploy: frontend\n"
	plan := r.plan("1", "", extra)
	r.mustRun(0, "apply", plan)
	host, _ := os.Hostname()
	for i := range trials {
		r.race(i, plan)
	}
	for i := range trials {
		dead := exec.Command("true")
		if err := dead.Run(); err != nil {
			t.Fatal(err)
		}
		stale := docker.LockInfo{Holder: "ghost@" + host, Since: time.Now(), Operation: "apply", Host: host, PID: dead.Process.Pid, Started: "1"}
		if err := r.cli.AcquireLock(t0(), "golive-lock-"+r.project, stale, map[string]string{"io.golive.project": r.project}); err != nil {
			t.Fatal(err)
		}
		r.race(trials+i, plan)
	}
	r.settled("1", "after the races")
	t.Logf("%d races for a free lock, %d for a stale one", trials, trials)
}

// TestARevertFromASecondTerminalTakesOverARunningApply: while an apply of
// v2 waits in api's health gate, `golive revert --yes` from another process
// stops it and puts v1 back; both say so.
func TestARevertFromASecondTerminalTakesOverARunningApply(t *testing.T) {
	t.Parallel()
	r := newRelease(t)
	p1, p2 := r.plan("1", "", ""), r.plan("2", "UNHEALTHY: 'true'", "")
	r.mustRun(0, "apply", p1)
	apply := r.command("apply", p2)
	var out dockertest.SyncBuffer
	apply.Stdout, apply.Stderr = &out, &out
	if err := apply.Start(); err != nil {
		t.Fatal(err)
	}
	dockertest.WaitFor(t, "api v2 to start", func() bool { return strings.Contains(out.String(), "api: started") })
	if code, _, errout := r.run("revert", p2); code != 4 || !strings.Contains(errout, "with --yes") {
		t.Fatalf("revert without --yes during an apply: exit %d %s", code, errout)
	}
	took := r.mustRun(0, "revert", p2, "--yes")
	err := apply.Wait()
	exit, _ := err.(*exec.ExitError)
	if exit == nil || exit.ExitCode() != 4 || !strings.Contains(out.String(), "took over with golive revert") {
		t.Fatalf("the apply that was taken over: %v\n%s", err, out.String())
	}
	if !strings.Contains(took, "this revert takes over") || !strings.Contains(took, "reverted") {
		t.Fatalf("the revert that took over:\n%s", took)
	}
	r.settled("1", "after the takeover")
}

// TestAFailureThatChangedNothingExits5: the first step fails, so no
// container was touched and nothing needs reverting.
func TestAFailureThatChangedNothingExits5(t *testing.T) {
	t.Parallel()
	r := newRelease(t)
	r.mustRun(0, "apply", r.plan("1", "", ""))
	out := r.mustRun(5, "apply", r.plan("2", "", "steps:\n  - run: exit 1\n  - deploy: backend\n  - deploy: frontend\n"))
	if !strings.Contains(out, "failed before it changed anything") {
		t.Fatalf("apply:\n%s", out)
	}
	r.settled("1", "after a failure that changed nothing")
}

// TestApplyKilledBetweenGroupsWithTheNextCreatedAheadLeavesNoNextBehindARevert
// kills `golive apply` of v2 between its two deploy groups: api's new
// container runs while its gate waits, and web's new container waits,
// created ahead, as <name>.next. A revert from a fresh process must bring
// back v1 and remove that container too.
func TestApplyKilledBetweenGroupsWithTheNextCreatedAheadLeavesNoNextBehindARevert(t *testing.T) {
	t.Parallel()
	r := newRelease(t)
	p1 := r.plan("1", "", "")
	r.mustRun(0, "apply", p1)
	// api's gate waits for a file that never appears (web's deploy starts
	// once api passed its first check): the moment between the groups
	// lasts until the kill.
	p2 := r.plan("2", "", "")
	text, err := os.ReadFile(p2)
	if err != nil {
		t.Fatal(err)
	}
	api := regexp.MustCompile(`health: \{http: "[^"]*"`).FindIndex(text)
	held := string(text[:api[0]]) + "health: {cmd: [test, -e, " + filepath.Join(r.dir, "never") + "]" + string(text[api[1]:])
	if err := os.WriteFile(p2, []byte(held), 0o644); err != nil {
		t.Fatal(err)
	}
	next := r.project + "-web.next"
	for i := range 3 {
		cmd := r.command("apply", p2)
		var out dockertest.SyncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// api's new container answers (a started container listens a moment
		// later, seconds on a loaded machine) and web's waits, created ahead.
		dockertest.WaitFor(t, "api answering 2, web created ahead", func() bool {
			ct, err := r.cli.Inspect(t0(), next)
			return err == nil && ct != nil && strings.Contains(out.String(), "api: started ") && answer(r.ports["api"], "version") == "2"
		})
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if got := answer(r.ports["api"], "version"); got != "2" {
			t.Fatalf("trial %d: killed with api answering %q, want 2 (its new container runs)\n%s", i, got, out.String())
		}
		code, fin, errout := r.run("revert", p2)
		if code != 0 || !strings.Contains(fin, "reverted") {
			t.Fatalf("trial %d: revert exited %d\nkilled apply:\n%s\nrevert:\n%s%s", i, code, out.String(), fin, errout)
		}
		if ct, err := r.cli.Inspect(t0(), next); err != nil || ct != nil {
			t.Fatalf("trial %d: %s is left after the revert (%v)\n%s", i, next, err, fin)
		}
		// web never left v1: the revert says what it did, not a restart.
		if !regexp.MustCompile(`↩ web: removed the container \S+ created ahead \(never started\); the service ran \S+ throughout`).MatchString(fin) || strings.Contains(fin, "web: restarted") {
			t.Fatalf("trial %d: the revert does not say web ran v1 throughout:\n%s", i, fin)
		}
		r.settled("1", fmt.Sprintf("trial %d", i))
	}
}

// TestRevertKilledWhileThePreviousContainerWaitsForItsGateIsGatedByTheNext
// kills `golive revert` after it restarted web's previous container and
// stopped the new one (kept as <name>.next), while that previous container
// has not passed its gate. That state looks like a .next created ahead and
// never started; the finishing revert must still wait for the gate, not
// call the service "ran v1 throughout" and finish on a container that does
// not answer yet.
func TestRevertKilledWhileThePreviousContainerWaitsForItsGateIsGatedByTheNext(t *testing.T) {
	t.Parallel()
	r := newRelease(t)
	// web's v1 gate waits for a file on this machine: present while v1 is
	// deployed, removed before the revert, so the revert's gate waits.
	ready := filepath.Join(r.dir, "web-ready")
	if err := os.WriteFile(ready, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p1 := r.plan("1", "", "")
	text, err := os.ReadFile(p1)
	if err != nil {
		t.Fatal(err)
	}
	gates := regexp.MustCompile(`health: \{http: "[^"]*"`).FindAllIndex(text, -1)
	web := gates[1]
	held := string(text[:web[0]]) + "health: {cmd: [test, -e, " + ready + "]" + string(text[web[1]:])
	if err := os.WriteFile(p1, []byte(held), 0o644); err != nil {
		t.Fatal(err)
	}
	r.mustRun(0, "apply", p1)
	p2 := r.plan("2", "", "")
	r.mustRun(0, "apply", p2)
	if err := os.Remove(ready); err != nil {
		t.Fatal(err)
	}
	cmd := r.command("revert", p2)
	var out dockertest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dockertest.WaitFor(t, "web's previous container restarted, the new one stopped", func() bool {
		next, err := r.cli.Inspect(t0(), r.project+"-web.next")
		return err == nil && next != nil && !next.Running && strings.Contains(out.String(), "web: started the previous container")
	})
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	fin := r.command("revert", p2)
	var finOut dockertest.SyncBuffer
	fin.Stdout, fin.Stderr = &finOut, &finOut
	if err := fin.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- fin.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("the finishing revert ended (%v) while web's previous container had not passed its gate:\n%s", err, finOut.String())
	case <-time.After(time.Second):
	}
	if err := os.WriteFile(ready, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the finishing revert: %v\nkilled revert:\n%s\nfinishing revert:\n%s", err, out.String(), finOut.String())
	}
	if got := finOut.String(); strings.Contains(got, "created ahead") || !strings.Contains(got, "reverted") {
		t.Fatalf("the finishing revert does not say it restored web after its gate:\n%s", got)
	}
	r.settled("1", "after the finishing revert")
}

// TestApplyKilledWhileTheFrontendDeploysInTheBackendsStableWindow kills
// `golive apply` of v2 while both groups are in flight: api has passed its
// first check and is in its stable window, web's new container has
// started. A revert from a fresh process must bring both back to v1.
func TestApplyKilledWhileTheFrontendDeploysInTheBackendsStableWindow(t *testing.T) {
	t.Parallel()
	r := newRelease(t)
	r.mustRun(0, "apply", r.plan("1", "", ""))
	p2 := r.plan("2", "", "")
	text, err := os.ReadFile(p2)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.ReplaceAll(string(text), "timeout: 20s, stable: 100ms", "timeout: 60s, stable: 30s")
	if err := os.WriteFile(p2, []byte(long), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := r.command("apply", p2)
	var out dockertest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dockertest.WaitFor(t, "web started while api is in its window", func() bool {
		return strings.Contains(out.String(), "api: passed its first check") && strings.Contains(out.String(), "web: started ")
	})
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	code, fin, errout := r.run("revert", p2)
	if code != 0 || !strings.Contains(fin, "reverted") {
		t.Fatalf("revert exited %d\nkilled apply:\n%s\nrevert:\n%s%s", code, out.String(), fin, errout)
	}
	r.settled("1", "after the revert of an apply killed with two groups in flight")
}

// TestARevertCountsAnOutageItFindsStartedBeforeIt: a revert killed while
// Docker stopped the new containers leaves them stopped with no stop in
// any journal (the daemon finishes a stop its client no longer waits
// for); a crash does the same. The revert that puts the service back must
// count it as not serving from that stop, not hide the outage.
func TestARevertCountsAnOutageItFindsStartedBeforeIt(t *testing.T) {
	t.Parallel()
	r := newRelease(t)
	r.mustRun(0, "apply", r.plan("1", "", ""))
	p2 := r.plan("2", "", "")
	r.mustRun(0, "apply", p2)
	if err := r.cli.Stop(t0(), r.project+"-api", 10); err != nil {
		t.Fatal(err)
	}
	const down = 2 * time.Second
	time.Sleep(down) // the service stays down at least this long
	out := r.mustRun(0, "revert", p2)
	m := regexp.MustCompile(`not serving: api ([0-9.]+m?s) \(([a-z, ]+)\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no not-serving figure for api:\n%s", out)
	}
	took, err := time.ParseDuration(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m[2], "revert") || took < down {
		t.Fatalf("api not serving %s (%s), but it was stopped for at least %s before the revert:\n%s", took, m[2], down, out)
	}
	// web served until the revert stopped it: nothing found down there.
	if found := regexp.MustCompile(`(?m)^.*found no container serving.*$`).FindAllString(out, -1); len(found) != 1 || !strings.Contains(found[0], "api:") {
		t.Fatalf("found down: %q, want api's only:\n%s", found, out)
	}
	r.settled("1", "after the revert")
}

// TestTheNotServingWindowOpensBeforeTheOldContainerExits: a stop-first
// deploy's outage begins when golive asks Docker to stop what serves, not
// when that call returns (the rename beside it and the daemon's own work
// come after the container is gone): the journaled window must open no
// later than Docker's own stop time of the previous container.
func TestTheNotServingWindowOpensBeforeTheOldContainerExits(t *testing.T) {
	t.Parallel()
	r := newRelease(t)
	r.mustRun(0, "apply", r.plan("1", "", ""))
	out := r.mustRun(0, "apply", r.plan("2", "", ""))
	path := regexp.MustCompile(`journal: (\S+)`).FindStringSubmatch(out)
	if path == nil {
		t.Fatalf("no journal named:\n%s", out)
	}
	fh, err := os.Open(path[1])
	if err != nil {
		t.Fatal(err)
	}
	events, _, err := plans.ReadJournal(fh)
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := plans.NewState(nil)
	for _, ev := range events {
		s.Apply(ev)
	}
	for _, svc := range []string{"api", "web"} {
		prev, err := r.cli.Inspect(t0(), r.project+"-"+svc+".prev")
		if err != nil || prev == nil || prev.FinishedAt.IsZero() {
			t.Fatalf("%s: the previous container: %v %v", svc, prev, err)
		}
		st := s.Service(svc)
		if st == nil || len(st.Unavailable) != 1 {
			t.Fatalf("%s: windows %+v", svc, st)
		}
		if from := st.Unavailable[0].From; from.After(prev.FinishedAt) {
			t.Errorf("%s: not serving from %s, but Docker stopped its previous container at %s", svc, from.Format("15:04:05.000"), prev.FinishedAt.Format("15:04:05.000"))
		}
	}
}
