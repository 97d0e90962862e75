// Package swarmsuite_test runs Swarm plans end to end on a 3-node swarm of
// test engines (docker/dockertest/engines); it needs root.
package swarmsuite_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/dockertest/engines"
	"github.com/golive/golive/docker/scratch"
	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

// golive is the golive command built for the command-line tests.
var golive string

type withBinary struct{ m *testing.M }

func (w withBinary) Run() int { return dockertest.RunWithBinary(w.m, "../../cmd/golive", &golive) }

func TestMain(m *testing.M) { os.Exit(engines.Wrap(withBinary{m}).Run()) }

// nodes is how many engines the swarm has.
const nodes = 3

// images are the demo images on every node, by tag: 1 and 1b healthy,
// 2 failing its health check.
var (
	imagesOnce sync.Once
	imageIDs   map[string]string
)

// fixture returns a client of the swarm's manager and a project name
// whose services, records and lock are removed when the test ends.
func fixture(t *testing.T) (*engines.Swarm, *docker.Client, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the test swarm's engines run in network namespaces, which needs root")
	}
	sw := engines.GetSwarm(t, nodes)
	imagesOnce.Do(func() {
		imageIDs = sw.LoadDemoImages(t, map[string]scratch.Config{
			"golive-test/swarm-api:1":  {Env: []string{"VERSION=1"}},
			"golive-test/swarm-api:1b": {Env: []string{"VERSION=1b"}},
			"golive-test/swarm-api:2":  {Env: []string{"VERSION=2", "UNHEALTHY=true"}},
		})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli, err := docker.ConnectHost(ctx, sw.Manager.TCP(), docker.HostOptions{})
	if err != nil {
		t.Fatal(err)
	}
	project := dockertest.Project(t, cli)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cli.RemoveService(ctx, project+"-api")
		cli.Close()
	})
	return sw, cli, project
}

// swarmPlan is a plan of one Swarm service api on the test swarm.
func swarmPlan(t *testing.T, host, project, tag string, replicas int, extra string) *plans.Plan {
	t.Helper()
	p, err := plans.Load(swarmPlanFile(t, host, project, tag, replicas, extra))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// swarmPlanFile writes that plan into a folder of its own.
func swarmPlanFile(t *testing.T, host, project, tag string, replicas int, extra string) string {
	t.Helper()
	text := fmt.Sprintf(`project: %s
release: r-%s
docker: {host: %q, swarm: true}
services:
  api:
    image: golive-test/swarm-api:%s
    replicas: %d
    update: {parallelism: 2, order: start-first, monitor: 1s}
    env: {LOG_EVERY: 200ms%s}
    stop_timeout: 1s
    health: {docker: true, stable: 500ms, timeout: 40s}
    healthcheck: {test: [CMD, /app, healthcheck], interval: 250ms, timeout: 1s, retries: 2}
`, project, tag, host, tag, replicas, extra)
	path := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// recorder folds an engine's events into the release state.
type recorder struct {
	mu     sync.Mutex
	events []plans.Event
}

func (r *recorder) add(ev plans.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) state(p *plans.Plan) *plans.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := plans.NewState(p)
	for _, ev := range r.events {
		s.Apply(ev)
	}
	return s
}

func (r *recorder) kinds(kind string) []plans.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []plans.Event
	for _, ev := range r.events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

type yes struct{}

func (yes) Confirm(context.Context, string) (bool, error) { return true, nil }

func engine(p *plans.Plan, cli plans.Docker, rec *recorder) *plans.Engine {
	return plans.NewEngine(p, plans.Options{Docker: cli, OnEvent: rec.add, Asker: yes{}})
}

func apply(t *testing.T, p *plans.Plan, cli plans.Docker, rec *recorder) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e := engine(p, cli, rec)
	defer e.Close()
	began := time.Now()
	err := e.Apply(ctx)
	t.Logf("apply of %s took %s", p.Release, time.Since(began).Round(time.Millisecond))
	return err
}

func revert(t *testing.T, p *plans.Plan, cli plans.Docker, rec *recorder) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e := engine(p, cli, rec)
	defer e.Close()
	began := time.Now()
	err := e.Revert(ctx)
	t.Logf("revert took %s", time.Since(began).Round(time.Millisecond))
	return err
}

func current(t *testing.T, cli *docker.Client, name string) *docker.Service {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := cli.InspectService(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSwarmPlanScalesFromTwoToFourReplicasOverEveryNode needs root: a plan
// creates the service with 2 replicas, the next scales it to 4; the state
// fold counts 4 of 4 running, spread over every node.
func TestSwarmPlanScalesFromTwoToFourReplicasOverEveryNode(t *testing.T) {
	sw, cli, project := fixture(t)
	rec := &recorder{}
	if err := apply(t, swarmPlan(t, sw.Manager.TCP(), project, "1", 2, ""), cli, rec); err != nil {
		t.Fatal(err)
	}
	p := swarmPlan(t, sw.Manager.TCP(), project, "1", 4, "")
	if err := apply(t, p, cli, rec); err != nil {
		t.Fatal(err)
	}
	st := rec.state(p).Service("api")
	if st == nil || st.Tasks == nil {
		t.Fatalf("the state has no tasks of api: %+v", st)
	}
	if st.Tasks.Running != 4 || st.Tasks.Desired != 4 || st.Tasks.Updated != 4 || len(st.Tasks.Nodes) != nodes {
		t.Fatalf("api tasks = %+v, want 4 of 4 running the current spec on all %d nodes", *st.Tasks, nodes)
	}
	if s := current(t, cli, project+"-api"); s.Spec.Image != imageIDs["golive-test/swarm-api:1"] {
		t.Fatalf("the service runs %s, want it pinned to the image ID %s", s.Spec.Image, imageIDs["golive-test/swarm-api:1"])
	}
	pre := rec.kinds(plans.EvPreloadImage)
	if len(pre) == 0 || !strings.Contains(pre[0].Message, "offline") {
		t.Fatalf("preload does not say the image is pinned offline: %+v", pre)
	}
}

// TestSwarmUnhealthyUpdateIsRevertedToTheExactSpec needs root: v2 fails its
// health check, Swarm pauses the update, golive reverts to the spec
// recorded before (Swarm's rollback: it is the previous spec) and the
// apply says reverted; a second revert removes the service it created.
func TestSwarmUnhealthyUpdateIsRevertedToTheExactSpec(t *testing.T) {
	sw, cli, project := fixture(t)
	rec := &recorder{}
	if err := apply(t, swarmPlan(t, sw.Manager.TCP(), project, "1", 2, ""), cli, rec); err != nil {
		t.Fatal(err)
	}
	before := current(t, cli, project+"-api")
	p := swarmPlan(t, sw.Manager.TCP(), project, "2", 2, "")
	err := apply(t, p, cli, rec)
	var aerr *plans.ApplyError
	if !errors.As(err, &aerr) || aerr.Outcome != plans.Reverted {
		t.Fatalf("apply of unhealthy v2 = %v, want reverted", err)
	}
	t.Logf("apply error: %v", err)
	after := current(t, cli, project+"-api")
	if !after.Current.Equal(before.Current) {
		t.Fatalf("spec after the revert differs from the one before the apply:\n%s\n%s", after.Current, before.Current)
	}
	reverts := rec.kinds(plans.EvRevertService)
	if len(reverts) != 1 || reverts[0].Result != plans.ResultReverted || !strings.Contains(reverts[0].Message, "Swarm rollback") {
		t.Fatalf("revert events = %+v, want one reverted by Swarm rollback", reverts)
	}
	if st := rec.state(p); st.Phase() != plans.PhaseReverted {
		t.Fatalf("phase = %s, want reverted", st.Phase())
	}
	if err := revert(t, p, cli, rec); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.InspectService(ctx, project+"-api"); !docker.IsNotFound(err) {
		t.Fatalf("after the second revert the service created by the first apply is still there (%v)", err)
	}
	if err := revert(t, p, cli, rec); !errors.Is(err, plans.ErrNothingToRevert) {
		t.Fatalf("third revert = %v, want nothing to revert", err)
	}
}

// TestSwarmRevertAfterAManualUpdateIsExact needs root: after v1b is
// deployed someone runs an update by hand (Swarm's previous spec is then
// v1b's); golive's revert still sets the spec recorded before v1b.
func TestSwarmRevertAfterAManualUpdateIsExact(t *testing.T) {
	sw, cli, project := fixture(t)
	rec := &recorder{}
	if err := apply(t, swarmPlan(t, sw.Manager.TCP(), project, "1", 2, ""), cli, rec); err != nil {
		t.Fatal(err)
	}
	before := current(t, cli, project+"-api")
	p := swarmPlan(t, sw.Manager.TCP(), project, "1b", 2, "")
	if err := apply(t, p, cli, rec); err != nil {
		t.Fatal(err)
	}
	s := current(t, cli, project+"-api")
	manual := s.Spec
	manual.Env = append(manual.Env, "MANUAL=1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cli.UpdateService(ctx, project+"-api", s.Version, manual); err != nil {
		t.Fatal(err)
	}
	if err := revert(t, p, cli, rec); err != nil {
		t.Fatal(err)
	}
	after := current(t, cli, project+"-api")
	if !after.Current.Equal(before.Current) {
		t.Fatalf("spec after the revert differs from the one recorded before v1b:\n%s\n%s", after.Current, before.Current)
	}
	reverts := rec.kinds(plans.EvRevertService)
	if len(reverts) != 1 || !strings.Contains(reverts[0].Message, "recorded spec") || strings.Contains(reverts[0].Message, "Swarm rollback") {
		t.Fatalf("revert events = %+v, want one that set the recorded spec", reverts)
	}
}

// TestSwarmLogsComeFromTasksOnEveryNode needs root: with 3 replicas spread
// over the nodes, the plan's log follower reads every task, each as its
// own source named task@node.
func TestSwarmLogsComeFromTasksOnEveryNode(t *testing.T) {
	sw, cli, project := fixture(t)
	rec := &recorder{}
	p := swarmPlan(t, sw.Manager.TCP(), project, "1", nodes, "")
	if err := apply(t, p, cli, rec); err != nil {
		t.Fatal(err)
	}
	buf := logs.NewBuffer(0)
	e := engine(p, cli, rec)
	defer e.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.FollowLogs(ctx, buf, time.Time{}) }()
	began := time.Now()
	var sources []string
	for time.Since(began) < 20*time.Second {
		sources = buf.Sources()
		if onNodes(sources) == nodes {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if onNodes(sources) != nodes {
		t.Fatalf("log sources %v: want tasks on all %d nodes", sources, nodes)
	}
	t.Logf("sources %v after %s", sources, time.Since(began).Round(time.Millisecond))
	for _, l := range buf.Window(0, 5, &logs.Filter{}) {
		if !strings.HasPrefix(l.Source, "api.") || !strings.Contains(l.Source, "@") {
			t.Fatalf("line from source %q: want api.SLOT@NODE", l.Source)
		}
	}
}

// onNodes counts the distinct nodes of task@node sources.
func onNodes(sources []string) int {
	seen := map[string]bool{}
	for _, s := range sources {
		if _, node, ok := strings.Cut(s, "@"); ok {
			seen[node] = true
		}
	}
	return len(seen)
}

// TestSwarmUpdateSurvivesALostManagerConnection needs root: the link to
// the manager is cut for 3 s right after the update starts; golive says
// so, keeps following once it is back and the release ends deployed.
func TestSwarmUpdateSurvivesALostManagerConnection(t *testing.T) {
	sw, cli, project := fixture(t)
	rec := &recorder{}
	if err := apply(t, swarmPlan(t, sw.Manager.TCP(), project, "1", 2, ""), cli, rec); err != nil {
		t.Fatal(err)
	}
	link := dockertest.NewCuttingEngine(t, sw.Manager.Socket())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cut, err := docker.ConnectHost(ctx, link.Host, docker.HostOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cut.Close()
	p := swarmPlan(t, link.Host, project, "1b", 4, "")
	restored := make(chan error, 1)
	var once sync.Once
	e := plans.NewEngine(p, plans.Options{Docker: cut, OnEvent: func(ev plans.Event) {
		rec.add(ev)
		if ev.Kind == plans.EvServiceChange {
			once.Do(func() {
				link.Cut()
				go func() {
					time.Sleep(3 * time.Second)
					restored <- link.Restore()
				}()
			})
		}
	}})
	defer e.Close()
	actx, acancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer acancel()
	if err := e.Apply(actx); err != nil {
		t.Fatalf("apply across a 3 s cut: %v", err)
	}
	if err := <-restored; err != nil {
		t.Fatal(err)
	}
	lost := false
	for _, ev := range rec.kinds(plans.EvSwarmTasks) {
		lost = lost || strings.Contains(ev.Message, "does not answer")
	}
	if !lost {
		t.Fatal("the journal does not say the manager stopped answering")
	}
	if st := rec.state(p).Service("api"); st.Tasks == nil || st.Tasks.Updated != 4 || st.Tasks.Running != 4 {
		t.Fatalf("api tasks = %+v, want 4 of 4 on the new spec", st.Tasks)
	}
}

// TestSwarmCommandLineSaysWhatIsPinnedAndExitsNonZeroWhenReverted needs
// root: `golive check` says the image is pinned offline to its local ID;
// `golive apply` of an unhealthy v2 reverts and exits 3, where `docker
// stack deploy` would exit 0.
func TestSwarmCommandLineSaysWhatIsPinnedAndExitsNonZeroWhenReverted(t *testing.T) {
	sw, _, project := fixture(t)
	state := t.TempDir()
	run := func(args ...string) (string, int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, golive, args...).CombinedOutput()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			return string(out), exit.ExitCode()
		case err != nil:
			t.Fatalf("golive %v: %v\n%s", args, err, out)
		}
		return string(out), 0
	}
	v1 := swarmPlanFile(t, sw.Manager.TCP(), project, "1", 2, "")
	out, code := run("check", v1)
	if code != 0 || !strings.Contains(out, "pinned to the local image ID") || !strings.Contains(out, "offline") {
		t.Fatalf("golive check exited %d:\n%s", code, out)
	}
	if out, code := run("apply", v1, "--yes", "--state", state); code != 0 {
		t.Fatalf("golive apply v1 exited %d:\n%s", code, out)
	}
	out, code = run("apply", swarmPlanFile(t, sw.Manager.TCP(), project, "2", 2, ""), "--yes", "--state", state)
	if code != 3 || !strings.Contains(out, "Swarm paused the update") || !strings.Contains(out, "REVERTED") {
		t.Fatalf("golive apply of unhealthy v2 exited %d, want 3 (reverted):\n%s", code, out)
	}
	t.Logf("apply of v2:\n%s", out)
	out, code = run("logs", "--plan", v1, "--no-follow", "--tail", "50", "service:api")
	if code != 0 || !strings.Contains(out, "service:api.1@") || !strings.Contains(out, "service:api.2@") {
		t.Fatalf("golive logs of the Swarm service exited %d, want lines of both tasks as service:api.SLOT@NODE:\n%s", code, out)
	}
}

// TestSwarmPinsARegistryImageToItsDigest needs root: an image pulled from
// a registry is pinned to its registry digest at preload, and every task
// runs it by that digest.
func TestSwarmPinsARegistryImageToItsDigest(t *testing.T) {
	sw, cli, project := fixture(t)
	l, err := net.Listen("tcp", sw.HostAddr+":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	defer srv.Close()
	ref := l.Addr().String() + "/" + project + "/api:reg"
	dockertest.Push(t, ref, scratch.Config{Env: []string{"VERSION=reg"}})
	// The engines prefer offline images (DOCKER_SERVICE_PREFER_OFFLINE_IMAGE),
	// so tasks never pull: every node pulls the image first, which gives
	// each its registry digest.
	for _, e := range sw.Engines {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		node, err := docker.ConnectHost(ctx, e.Unix(), docker.HostOptions{})
		if err == nil {
			err = node.Pull(ctx, ref, func(docker.PullProgress) {})
			node.Close()
		}
		cancel()
		if err != nil {
			t.Fatalf("pull %s on %s: %v", ref, e.Name, err)
		}
	}
	path := swarmPlanFile(t, sw.Manager.TCP(), project, "1", 2, "")
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(text), "golive-test/swarm-api:1", ref, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := plans.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if err := apply(t, p, cli, rec); err != nil {
		t.Fatal(err)
	}
	pre := rec.kinds(plans.EvPreloadImage)
	if len(pre) != 1 || !strings.Contains(pre[0].Message, "registry digest") {
		t.Fatalf("preload = %+v, want the image pinned to its registry digest", pre)
	}
	repo := strings.TrimSuffix(ref, ":reg")
	if s := current(t, cli, project+"-api"); !strings.HasPrefix(s.Spec.Image, repo+"@sha256:") {
		t.Fatalf("the service runs %s, want %s@sha256:…", s.Spec.Image, repo)
	}
}

// TestSwarmServiceWhoseTasksCannotStartFailsWithoutWaitingOutItsTimeout
// needs root: a new service whose image no node has fails as soon as its
// tasks keep being rejected, and the revert removes it.
func TestSwarmServiceWhoseTasksCannotStartFailsWithoutWaitingOutItsTimeout(t *testing.T) {
	sw, cli, project := fixture(t)
	rec := &recorder{}
	p := swarmPlan(t, sw.Manager.TCP(), project, "1", 2, "")
	// An image ID pinned by hand: no node has it, and nothing can pull it.
	missing := "sha256:" + strings.Repeat("0", 64)
	e := plans.NewEngine(p, plans.Options{Docker: pinnedTo{cli, missing}, OnEvent: rec.add, Asker: yes{}})
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	began := time.Now()
	err := e.Apply(ctx)
	var aerr *plans.ApplyError
	if !errors.As(err, &aerr) || aerr.Outcome != plans.Reverted || !strings.Contains(err.Error(), "keep failing") {
		t.Fatalf("apply = %v, want reverted after the tasks kept failing", err)
	}
	if took := time.Since(began); took > 30*time.Second {
		t.Errorf("it took %s, as long as the gate's timeout", took)
	}
	if _, err := cli.InspectService(ctx, project+"-api"); !docker.IsNotFound(err) {
		t.Fatalf("the service golive created is still there after the revert (%v)", err)
	}
}

// pinnedTo is the manager, with every image pinned to id.
type pinnedTo struct {
	*docker.Client
	id string
}

func (p pinnedTo) PinImage(context.Context, string) (docker.PinnedImage, error) {
	return docker.PinnedImage{Ref: p.id, Offline: true}, nil
}

// An apply killed while Swarm updates a service leaves Swarm updating it;
// a second apply of the same plan used to find the spec already set, call
// the service unchanged and the release deployed in 0.4 s, with half of
// the tasks still on the old spec and no health gate. It refuses instead,
// before changing anything.
func TestSwarmApplyDuringAnInterruptedUpdateDoesNotCallItDeployed(t *testing.T) {
	sw, cli, project := fixture(t)
	if err := apply(t, swarmPlan(t, sw.Manager.TCP(), project, "1", 4, ""), cli, &recorder{}); err != nil {
		t.Fatal(err)
	}
	v1b := swarmPlanFile(t, sw.Manager.TCP(), project, "1b", 4, "")
	killed := exec.Command(golive, "apply", v1b, "--yes", "--state", t.TempDir())
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for current(t, cli, project+"-api").Update.State != "updating" {
		if time.Now().After(deadline) {
			killed.Process.Kill()
			t.Fatal("the update of 1b never began")
		}
		time.Sleep(20 * time.Millisecond)
	}
	killed.Process.Kill()
	killed.Wait()
	err := apply(t, plansLoad(t, v1b), cli, &recorder{})
	if err == nil || !strings.Contains(err.Error(), "Swarm is still moving service "+project+"-api to this spec (updating)") {
		t.Fatalf("apply during the interrupted update: %v, want a refusal saying Swarm is still updating", err)
	}
}

func plansLoad(t *testing.T, path string) *plans.Plan {
	t.Helper()
	p, err := plans.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSwarmLogsTailZeroShowsNoHistory: `golive logs --tail 0` of a Swarm
// service follows what comes next, as for a container. The engine's tail
// of 0 means all of it, so the whole history came first, the tasks'
// "starting" lines among it.
func TestSwarmLogsTailZeroShowsNoHistory(t *testing.T) {
	sw, _, project := fixture(t)
	v1 := swarmPlanFile(t, sw.Manager.TCP(), project, "1", 2, "")
	if out, err := exec.Command(golive, "apply", v1, "--yes", "--state", t.TempDir()).CombinedOutput(); err != nil {
		t.Fatalf("golive apply v1: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"--no-follow"}, {}} {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		out, _ := exec.CommandContext(ctx, golive, append([]string{"logs", "--plan", v1, "--tail", "0", "service:api"}, args...)...).CombinedOutput()
		cancel()
		if strings.Contains(string(out), "starting api") {
			t.Errorf("golive logs --tail 0 %v printed the service's history:\n%s", args, out)
		}
	}
}

// TestSwarmStatusSaysHowManyTasksRunTheSpecItShows: an apply killed while
// Swarm cannot place the new tasks (start-first on a fixed host port, a
// task on every node) leaves the update running. `golive status` showed
// the new spec's image and "3/3 run", as if v1b ran, while every task ran
// v1; it says how many run the image it shows.
func TestSwarmStatusSaysHowManyTasksRunTheSpecItShows(t *testing.T) {
	sw, cli, project := fixture(t)
	write := func(tag string) string {
		path := swarmPlanFile(t, sw.Manager.TCP(), project, tag, nodes, "")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Replace(string(b), "    stop_timeout:", "    ports: [\"mode=host,published=18777,target=8080\"]\n    stop_timeout:", 1)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if err := apply(t, plansLoad(t, write("1")), cli, &recorder{}); err != nil {
		t.Fatal(err)
	}
	v1b := write("1b")
	killed := exec.Command(golive, "apply", v1b, "--yes", "--state", t.TempDir())
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for current(t, cli, project+"-api").Update.State != "updating" {
		if time.Now().After(deadline) {
			killed.Process.Kill()
			t.Fatal("the update of 1b never began")
		}
		time.Sleep(20 * time.Millisecond)
	}
	killed.Process.Kill()
	killed.Wait()
	out, _ := exec.Command(golive, "status", v1b).CombinedOutput()
	want := fmt.Sprintf("%d/%d run ↻ 0/%d", nodes, nodes, nodes)
	if !strings.Contains(string(out), want) {
		t.Errorf("status while no task runs the new spec should say %q:\n%s", want, out)
	}
}
