// Package swarm times a Swarm release of 4 replicas on a 3-node swarm of
// test engines (needs root): golive's update and revert side by side with
// `docker service update --rollback` in the same run, alternating.
// `make bench-swarm` runs it.
package swarm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/dockertest/engines"
	"github.com/golive/golive/docker/scratch"
	"github.com/golive/golive/plans"
)

func TestMain(m *testing.M) { engines.Main(m) }

const planYAML = `project: %s
release: "%s"
docker: {host: %q, swarm: true}
services:
  api:
    image: golive-bench/swarm-api:%s
    replicas: 4
    update: {parallelism: 2, order: start-first, monitor: 1s}
    env: {LOG_EVERY: 1s}
    stop_timeout: 1s
    health: {docker: true, stable: 0s, timeout: 40s}
    healthcheck: {test: [CMD, /app, healthcheck], interval: 250ms, timeout: 1s, retries: 2}
`

// BenchmarkSwarmUpdateAndRevert4Replicas reports medians in seconds:
// golive's update (v1 → v1b), golive's revert (Swarm's rollback as its fast
// path, the spec checked exact) and `docker service update --rollback`
// from the same v1b until every task runs v1 healthy, polled at 5 Hz.
func BenchmarkSwarmUpdateAndRevert4Replicas(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("the test swarm's engines run in network namespaces, which needs root")
	}
	sw := engines.GetSwarm(b, 3)
	ids := sw.LoadDemoImages(b, map[string]scratch.Config{
		"golive-bench/swarm-api:1":  {Env: []string{"VERSION=1"}},
		"golive-bench/swarm-api:1b": {Env: []string{"VERSION=1b"}},
	})
	ctx := context.Background()
	cli, err := docker.ConnectHost(ctx, sw.Manager.TCP(), docker.HostOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	project := dockertest.Project(b, cli)
	name := project + "-api"
	defer cli.RemoveService(ctx, name)
	dir := b.TempDir()
	load := func(tag string) *plans.Plan {
		path := filepath.Join(dir, tag+".yaml")
		if err := os.WriteFile(path, fmt.Appendf(nil, planYAML, project, tag, sw.Manager.TCP(), tag), 0o644); err != nil {
			b.Fatal(err)
		}
		p, err := plans.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	v1, v1b := load("1"), load("1b")
	timed := func(f func(*plans.Engine) error, p *plans.Plan) time.Duration {
		e := plans.NewEngine(p, plans.Options{Docker: cli})
		defer e.Close()
		began := time.Now()
		if err := f(e); err != nil {
			b.Fatal(err)
		}
		return time.Since(began)
	}
	apply := func(e *plans.Engine) error { return e.Apply(ctx) }
	revert := func(e *plans.Engine) error { return e.Revert(ctx) }
	timed(apply, v1)
	var updates, reverts, rollbacks []time.Duration
	for b.Loop() {
		updates = append(updates, timed(apply, v1b))
		reverts = append(reverts, timed(revert, v1b))
		updates = append(updates, timed(apply, v1b))
		began := time.Now()
		if out, err := exec.Command("docker", "-H", sw.Manager.TCP(), "service", "update", "--rollback", "--detach", name).CombinedOutput(); err != nil {
			b.Fatalf("docker service update --rollback: %v: %s", err, out)
		}
		waitBack(b, cli, name, ids["golive-bench/swarm-api:1"])
		rollbacks = append(rollbacks, time.Since(began))
	}
	b.ReportMetric(median(updates), "golive-update-s")
	b.ReportMetric(median(reverts), "golive-revert-s")
	b.ReportMetric(median(rollbacks), "docker-rollback-s")
	b.Logf("updates %v; golive reverts %v; docker service update --rollback %v", updates, reverts, rollbacks)
}

// waitBack polls at 5 Hz until every task of name that Swarm wants
// running runs image, healthy, and the rollback is complete.
func waitBack(b *testing.B, cli *docker.Client, name, image string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		s, err := cli.InspectService(ctx, name)
		if err != nil {
			b.Fatal(err)
		}
		tasks, err := cli.ServiceTasks(ctx, name)
		if err != nil {
			b.Fatal(err)
		}
		n, ok := 0, s.Update.State == "rollback_completed"
		for _, t := range tasks {
			if t.State == "running" {
				ok = ok && t.Desired == "running" && t.Image == image && t.UpToDate
				n++
			}
		}
		if ok && n == 4 {
			return
		}
		select {
		case <-ctx.Done():
			b.Fatalf("%s not rolled back to %s within a minute", name, image)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func median(ds []time.Duration) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Seconds()
}
