package docker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest/engines"
	"github.com/golive/golive/docker/scratch"
)

// swarmImages are the demo images every swarm test node holds: v1 healthy,
// v1b healthy with another version, v2 failing its health check.
type swarmImages struct{ v1, v1b, v2 string }

var loadedSwarmImages *swarmImages

// swarmFixture returns the test binary's 3-node swarm, a client of its
// manager and the demo images, loaded on every node once.
func swarmFixture(t *testing.T) (*engines.Swarm, *docker.Client, swarmImages) {
	t.Helper()
	sw := engines.GetSwarm(t, hostEngines)
	if loadedSwarmImages == nil {
		began := time.Now()
		ids := sw.LoadDemoImages(t, map[string]scratch.Config{
			"golive-test/swarm-api:1":  {Env: []string{"VERSION=1"}},
			"golive-test/swarm-api:1b": {Env: []string{"VERSION=1b"}},
			"golive-test/swarm-api:2":  {Env: []string{"VERSION=2", "UNHEALTHY=true"}},
		})
		loadedSwarmImages = &swarmImages{v1: ids["golive-test/swarm-api:1"], v1b: ids["golive-test/swarm-api:1b"], v2: ids["golive-test/swarm-api:2"]}
		t.Logf("swarm of %d nodes formed in %s (engines started in %s), 3 demo images loaded on every node in %s",
			len(sw.Engines), sw.FormTime.Round(time.Millisecond), sw.Manager.StartTime.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli, err := docker.ConnectHost(ctx, sw.Manager.TCP(), docker.HostOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return sw, cli, *loadedSwarmImages
}

// demoService is a spec of the demo service on the test swarm: a health
// check every 250 ms (given 5 s to answer: under a loaded machine the test
// engines' exec takes seconds, and a 1 s timeout made healthy tasks
// unhealthy), a 1 s stop grace period (the demo app does not handle
// SIGTERM) and a 1 s monitor, so updates take seconds.
func demoService(name, image string, replicas uint64) docker.ServiceSpec {
	return docker.ServiceSpec{
		Name:     name,
		Image:    image,
		Replicas: replicas,
		Env:      []string{"LOG_EVERY=200ms"},
		Labels:   map[string]string{"golive.test": name},
		Update:   docker.UpdatePolicy{Parallelism: 2, Monitor: time.Second, StartFirst: true},
		Healthcheck: &container.HealthConfig{
			Test:     []string{"CMD", "/app", "healthcheck"},
			Interval: 250 * time.Millisecond,
			Timeout:  5 * time.Second,
			Retries:  3,
		},
		StopGracePeriod: time.Second,
	}
}

func createService(t *testing.T, cli *docker.Client, spec docker.ServiceSpec) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.CreateService(ctx, spec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := cli.RemoveService(ctx, spec.Name); err != nil {
			t.Error(err)
		}
	})
}

// converged reports whether service runs replicas tasks of image on its
// current spec, all running and healthy, with no update or rollback in
// flight.
func converged(s *docker.Service, tasks []docker.Task, image string, replicas int) bool {
	switch s.Update.State {
	case "", "completed", "rollback_completed":
	default:
		return false
	}
	n := 0
	for _, task := range tasks {
		if task.Desired != "running" {
			continue
		}
		if task.State != "running" || task.Image != image || !task.UpToDate || task.Health != "healthy" {
			return false
		}
		n++
	}
	return n == replicas
}

// convergeLimit bounds a wait for the swarm: generous, as its engines
// share a loaded machine with the rest of the suite.
const convergeLimit = 3 * time.Minute

// waitFor polls the service at 5 Hz until done says so, and returns how
// long that took.
func waitFor(t *testing.T, cli *docker.Client, name string, what string, done func(*docker.Service, []docker.Task) bool) time.Duration {
	t.Helper()
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), convergeLimit)
	defer cancel()
	var s *docker.Service
	var tasks []docker.Task
	for {
		var err error
		s, err = cli.InspectService(ctx, name)
		if err == nil {
			tasks, err = cli.ServiceTasks(ctx, name)
		}
		if err == nil && done(s, tasks) {
			return time.Since(began)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not %s after %s: update %+v, tasks:\n%s", name, what, convergeLimit, s.Update, describeTasks(tasks))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func describeTasks(tasks []docker.Task) string {
	var b strings.Builder
	for _, t := range tasks {
		fmt.Fprintf(&b, "  slot %d on %s: %s (desired %s) health %q image %.19s up to date %t err %q msg %q\n", t.Slot, t.Node, t.State, t.Desired, t.Health, t.Image, t.UpToDate, t.Err, t.Message)
	}
	return b.String()
}

func inspect(t *testing.T, cli *docker.Client, name string) *docker.Service {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := cli.InspectService(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSwarmServiceScalesToFourAcrossNodesThenPausesOnAnUnhealthyUpdateAndRestoresExactly
// needs root: on a 3-node swarm of test engines it creates the demo
// service with 2 replicas, scales it to 4 over every node, updates it to a
// v2 that fails its HEALTHCHECK (the update pauses, the old tasks keep
// running, the new ones say why), and restores the spec recorded before.
func TestSwarmServiceScalesToFourAcrossNodesThenPausesOnAnUnhealthyUpdateAndRestoresExactly(t *testing.T) {
	sw, cli, img := swarmFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	name := "scale"
	spec := demoService(name, img.v1, 2)
	createService(t, cli, spec)
	took := waitFor(t, cli, name, "running 2 healthy v1 tasks", func(s *docker.Service, tasks []docker.Task) bool {
		return converged(s, tasks, img.v1, 2)
	})
	t.Logf("2 replicas running and healthy %s after create", took.Round(time.Millisecond))
	if got := inspect(t, cli, name).Spec; !reflect.DeepEqual(got, spec) {
		t.Fatalf("spec read back = %+v\nwant %+v", got, spec)
	}

	spec.Replicas = 4
	s := inspect(t, cli, name)
	if err := cli.UpdateService(ctx, name, s.Version, spec); err != nil {
		t.Fatal(err)
	}
	if err := cli.UpdateService(ctx, name, s.Version, spec); err == nil {
		t.Fatal("an update at a stale version was accepted")
	}
	var nodes map[string]int
	took = waitFor(t, cli, name, "running 4 healthy tasks", func(s *docker.Service, tasks []docker.Task) bool {
		nodes = map[string]int{}
		for _, task := range tasks {
			if task.Desired == "running" {
				nodes[task.Node]++
			}
		}
		return converged(s, tasks, img.v1, 4)
	})
	t.Logf("4 replicas %s after the update, per node %v", took.Round(time.Millisecond), nodes)
	if len(nodes) != len(sw.Engines) {
		t.Fatalf("4 tasks on nodes %v, want all %d nodes", nodes, len(sw.Engines))
	}

	before := inspect(t, cli, name)
	bad := spec
	bad.Image = img.v2
	if err := cli.UpdateService(ctx, name, before.Version, bad); err != nil {
		t.Fatal(err)
	}
	var failed []docker.Task
	took = waitFor(t, cli, name, "paused", func(s *docker.Service, tasks []docker.Task) bool {
		failed = failed[:0]
		for _, task := range tasks {
			if task.Image == img.v2 && task.Health == "unhealthy" {
				failed = append(failed, task)
			}
		}
		return s.Update.State == "paused"
	})
	paused := inspect(t, cli, name)
	tasks, err := cli.ServiceTasks(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("update to unhealthy v2 paused %s after it began: %q\n%s", took.Round(time.Millisecond), paused.Update.Message, describeTasks(tasks))
	if len(failed) == 0 {
		t.Fatalf("no v2 task reported unhealthy:\n%s", describeTasks(tasks))
	}
	if !bytes.Equal(paused.Previous, before.Current) {
		t.Fatalf("PreviousSpec after the update differs from the spec before it:\n%s\n%s", paused.Previous, before.Current)
	}
	running := 0
	for _, task := range tasks {
		if task.Desired == "running" && task.State == "running" && task.Image == img.v1 {
			running++
		}
	}
	if running < 4-2 {
		t.Fatalf("%d v1 tasks still running during the paused start-first update, want at least 2", running)
	}

	if err := cli.RestoreService(ctx, name, paused.Version, before.Current); err != nil {
		t.Fatal(err)
	}
	took = waitFor(t, cli, name, "back on 4 healthy v1 tasks", func(s *docker.Service, tasks []docker.Task) bool {
		return converged(s, tasks, img.v1, 4)
	})
	t.Logf("restored to the recorded spec %s after the request", took.Round(time.Millisecond))
	if after := inspect(t, cli, name); !bytes.Equal(after.Current, before.Current) {
		t.Fatalf("spec after restore differs from the recorded one:\n%s\n%s", after.Current, before.Current)
	}
}

// TestSwarmServiceUpdateAndRevertTimesAgainstDockerServiceRollback needs
// root and the docker CLI: on 4 replicas it times a healthy update and the
// revert to the recorded previous spec, Swarm's own rollback through the
// API, and `docker service update --rollback` against the manager's tcp
// address, each until every task runs the old image healthy.
func TestSwarmServiceUpdateAndRevertTimesAgainstDockerServiceRollback(t *testing.T) {
	sw, cli, img := swarmFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()
	name := "timed"
	spec := demoService(name, img.v1, 4)
	createService(t, cli, spec)
	waitFor(t, cli, name, "running 4 healthy v1 tasks", func(s *docker.Service, tasks []docker.Task) bool {
		return converged(s, tasks, img.v1, 4)
	})
	next := spec
	next.Image = img.v1b
	update := func() time.Duration {
		t.Helper()
		began := time.Now()
		if err := cli.UpdateService(ctx, name, inspect(t, cli, name).Version, next); err != nil {
			t.Fatal(err)
		}
		waitFor(t, cli, name, "updated to v1b", func(s *docker.Service, tasks []docker.Task) bool {
			return converged(s, tasks, img.v1b, 4)
		})
		return time.Since(began)
	}
	back := func(revert func(*docker.Service) error) time.Duration {
		t.Helper()
		began := time.Now()
		if err := revert(inspect(t, cli, name)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, cli, name, "back on v1", func(s *docker.Service, tasks []docker.Task) bool {
			return converged(s, tasks, img.v1, 4)
		})
		return time.Since(began)
	}
	recorded := inspect(t, cli, name).Current
	up1 := update()
	restore := back(func(s *docker.Service) error { return cli.RestoreService(ctx, name, s.Version, recorded) })
	up2 := update()
	rollback := back(func(s *docker.Service) error { return cli.RollbackService(ctx, name, s.Version) })
	up3 := update()
	cliRollback := back(func(*docker.Service) error {
		out, err := exec.CommandContext(ctx, "docker", "-H", sw.Manager.TCP(), "service", "update", "--rollback", "--detach", name).CombinedOutput()
		if err != nil {
			return fmt.Errorf("docker service update --rollback: %v: %s", err, out)
		}
		return nil
	})
	t.Logf("4 replicas, parallelism 2, start-first, monitor 1s: update %s / %s / %s; revert to the recorded spec %s; Swarm rollback (API) %s; docker service update --rollback %s",
		up1.Round(time.Millisecond), up2.Round(time.Millisecond), up3.Round(time.Millisecond),
		restore.Round(time.Millisecond), rollback.Round(time.Millisecond), cliRollback.Round(time.Millisecond))
}

// TestSwarmServiceRestoresTheRecordedSpecAfterTwoOutOfBandUpdates needs
// root and the docker CLI: after two `docker service update`s made by
// hand, Swarm's PreviousSpec is the first of them, while the spec golive
// recorded still brings the service back exactly.
func TestSwarmServiceRestoresTheRecordedSpecAfterTwoOutOfBandUpdates(t *testing.T) {
	sw, cli, img := swarmFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	name := "manual"
	createService(t, cli, demoService(name, img.v1, 2))
	waitFor(t, cli, name, "running 2 healthy v1 tasks", func(s *docker.Service, tasks []docker.Task) bool {
		return converged(s, tasks, img.v1, 2)
	})
	recorded := inspect(t, cli, name).Current
	for _, env := range []string{"HAND=1", "HAND=2"} {
		out, err := exec.CommandContext(ctx, "docker", "-H", sw.Manager.TCP(), "service", "update", "--detach", "--env-add", env, name).CombinedOutput()
		if err != nil {
			t.Fatalf("docker service update --env-add %s: %v: %s", env, err, out)
		}
	}
	s := inspect(t, cli, name)
	if bytes.Equal(s.Previous, recorded) || !strings.Contains(string(s.Previous), "HAND=1") {
		t.Fatalf("PreviousSpec after two manual updates = %s, want the first manual one", s.Previous)
	}
	if err := cli.RestoreService(ctx, name, s.Version, recorded); err != nil {
		t.Fatal(err)
	}
	took := waitFor(t, cli, name, "back on the recorded spec", func(s *docker.Service, tasks []docker.Task) bool {
		return bytes.Equal(s.Current, recorded) && converged(s, tasks, img.v1, 2)
	})
	t.Logf("back on the recorded spec %s after the request", took.Round(time.Millisecond))
}

// TestSwarmServiceLogsNameTaskAndNodeOfEveryLine needs root: a service
// with one task per node (a host-mode port allows no more) logs through
// the manager with each line's task, node and time; every node's task is
// heard and answers on its node's address.
func TestSwarmServiceLogsNameTaskAndNodeOfEveryLine(t *testing.T) {
	sw, cli, img := swarmFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	name := "logs"
	spec := demoService(name, img.v1, uint64(len(sw.Engines)))
	spec.Ports = []docker.ServicePort{{Published: 28080, Target: 8080}}
	createService(t, cli, spec)
	waitFor(t, cli, name, "running a healthy task per node", func(s *docker.Service, tasks []docker.Task) bool {
		return converged(s, tasks, img.v1, len(sw.Engines))
	})
	for _, e := range sw.Engines {
		if body, err := getWithin("http://" + e.Addr + ":28080/version"); err != nil || body != "1\n" {
			t.Fatalf("%s:28080/version = %q, %v", e.Addr, body, err)
		}
	}
	began := time.Now()
	stream, err := cli.ServiceLogs(ctx, name, docker.LogOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	nodeNames := map[string]bool{}
	for _, e := range sw.Engines {
		nodeNames[e.Name] = true
	}
	started := map[string]string{} // node: task
	heard := map[string]bool{}
	for len(started) < len(sw.Engines) || len(heard) < len(sw.Engines) {
		l, err := stream.Next(ctx)
		if errors.Is(err, io.EOF) || ctx.Err() != nil {
			t.Fatalf("log stream ended with starts from %v and lines from %v: %v", started, heard, err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if l.Time.IsZero() || time.Since(l.Time) > time.Minute {
			t.Fatalf("line %q has time %v", l.Text, l.Time)
		}
		if !strings.HasPrefix(l.Task, name+".") || !nodeNames[l.Node] {
			t.Fatalf("line %q from task %q on node %q: want the task's and the node's names", l.Text, l.Task, l.Node)
		}
		heard[l.Node] = true
		if strings.Contains(l.Text, "starting api version=1") {
			started[l.Node] = l.Task
		}
	}
	t.Logf("start lines of %v and later lines from every node within %s", started, time.Since(began).Round(time.Millisecond))
}

// TestServiceSpecRoundTripsThroughSwarmsForm checks, without an engine,
// that what golive sets reads back the same, ports in host mode included.
func TestServiceSpecRoundTripsThroughSwarmsForm(t *testing.T) {
	spec := demoService("api", "sha256:0123", 3)
	spec.Ports = []docker.ServicePort{{Published: 8080, Target: 80, Protocol: "tcp"}, {Published: 53, Target: 53, Protocol: "udp"}}
	spec.Update = docker.UpdatePolicy{Parallelism: 1, Delay: 2 * time.Second, Monitor: 10 * time.Second}
	if got := docker.ServiceSpecRoundTrip(spec); !reflect.DeepEqual(got, spec) {
		t.Fatalf("round trip = %+v\nwant %+v", got, spec)
	}
}
