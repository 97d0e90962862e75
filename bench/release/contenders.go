package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/golive/golive/plans"
)

// golive releases through golive's engine, in this process, as `golive
// apply` and `golive revert` do (lock, journal, health gates).
type golive struct {
	b     *bench
	bin   string // the golive command, for the memory measurement
	state string
	plans map[string]string // version → plan file
}

const planYAML = `project: %s
release: "%s"
on_failure: revert
services:
  api:
    image: %s
    group: backend
    ports: ["127.0.0.1:%d:8080"]
    health: {http: "http://127.0.0.1:%d/health", timeout: 30s%s}
  web:
    image: %s
    group: frontend
    ports: ["127.0.0.1:%d:8080"]
    health: {http: "http://127.0.0.1:%d/health", timeout: 30s%s}
`

func newGolive(b *bench, bin string, apiPort, webPort int) (*golive, error) {
	g := &golive{b: b, bin: bin, state: filepath.Join(b.dir, "state"), plans: map[string]string{}}
	for _, v := range []string{"1", "2"} {
		for _, stable := range []string{"", ", stable: 0s"} {
			path := filepath.Join(b.dir, "plan-"+v+map[string]string{"": "", ", stable: 0s": "-stable0"}[stable]+".yaml")
			text := fmt.Sprintf(planYAML, b.id, v, b.images["api:"+v], apiPort, apiPort, stable, b.images["web:"+v], webPort, webPort, stable)
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				return nil, err
			}
			g.plans[v+stable] = path
		}
	}
	return g, nil
}

// engine loads a plan and makes an engine that journals like the CLI.
func (g *golive) engine(version string, stable0 bool) (*plans.Engine, func(), error) {
	key := version
	if stable0 {
		key += ", stable: 0s"
	}
	p, err := plans.Load(g.plans[key])
	if err != nil {
		return nil, nil, err
	}
	if stable0 {
		for _, s := range p.Services {
			s.Health.Stable = 0
		}
	}
	j, err := plans.CreateJournal(g.state, p.Project, p.Release, time.Now())
	if err != nil {
		return nil, nil, err
	}
	e := plans.NewEngine(p, plans.Options{Docker: g.b.cli, Journal: j, StateDir: g.state, Actor: "bench@golive"})
	return e, func() { e.Close(); j.Close() }, nil
}

func (g *golive) apply(ctx context.Context, version string, stable0 bool) error {
	e, done, err := g.engine(version, stable0)
	if err != nil {
		return err
	}
	defer done()
	return e.Apply(ctx)
}

func (g *golive) revert(ctx context.Context) error {
	e, done, err := g.engine("2", false)
	if err != nil {
		return err
	}
	defer done()
	return e.Revert(ctx)
}

// dropKept removes the stopped previous containers, so the next revert
// has to recreate them from their image and configuration.
func (g *golive) dropKept(ctx context.Context) error {
	for _, svc := range []string{"api", "web"} {
		if err := g.b.cli.Remove(ctx, g.b.id+"-"+svc+".prev"); err != nil {
			return err
		}
	}
	return nil
}

// peakMemory runs `golive apply` and `golive revert` as processes under
// /usr/bin/time and reports their peak resident memory and wall time. (The
// rusage of a child started from this process would count this process's
// own memory: Linux keeps the high-water mark across exec.)
func (g *golive) peakMemory(ctx context.Context) ([]string, error) {
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		return []string{"peak memory: not measured, /usr/bin/time is not installed (apt-get install time)"}, nil
	}
	var out []string
	for _, args := range [][]string{{"apply", g.plans["2"], "--yes"}, {"revert", g.plans["2"], "--yes"}} {
		report := filepath.Join(g.b.dir, "time.txt")
		cmd := exec.CommandContext(ctx, "/usr/bin/time", append([]string{"-f", "%M", "-o", report, g.bin}, append(args, "--state", g.state)...)...)
		start := time.Now()
		msg, err := cmd.CombinedOutput()
		took := time.Since(start)
		if err != nil {
			return nil, fmt.Errorf("golive %s: %w\n%s", args[0], err, msg)
		}
		raw, err := os.ReadFile(report)
		if err != nil {
			return nil, err
		}
		kib, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil {
			return nil, fmt.Errorf("/usr/bin/time said %q", raw)
		}
		out = append(out, fmt.Sprintf("golive %s (default plan) as a process: peak memory %.1f MiB, %.2fs", args[0], float64(kib)/1024, took.Seconds()))
	}
	return out, nil
}

// minimal is the floor: the Engine API calls a release cannot do without,
// with nothing around them.
type minimal struct {
	api   *client.Client
	b     *bench
	ports map[string]int // service → host port
	http  *http.Client
}

var groups = []string{"api", "web"} // backend, then frontend

func newMinimal(ctx context.Context, b *bench, apiPort, webPort int) (*minimal, error) {
	api, err := client.New(client.FromEnv)
	if err != nil {
		return nil, err
	}
	if _, err := api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		api.Close()
		return nil, err
	}
	return &minimal{api: api, b: b, ports: map[string]int{"api": apiPort, "web": webPort}, http: &http.Client{Timeout: time.Second}}, nil
}

func (m *minimal) name(svc string) string { return m.b.id + "-min-" + svc }

// deploy replaces each service in group order: stop the old container,
// rename it aside, create and start the new one, wait for /health.
func (m *minimal) deploy(ctx context.Context, version string) error {
	for _, svc := range groups {
		name := m.name(svc)
		if _, err := m.api.ContainerStop(ctx, name, client.ContainerStopOptions{}); err != nil && !notFound(err) {
			return err
		}
		if _, err := m.api.ContainerRename(ctx, name, client.ContainerRenameOptions{NewName: name + ".prev"}); err != nil && !notFound(err) {
			return err
		}
		if err := m.start(ctx, svc, version); err != nil {
			return err
		}
	}
	return nil
}

func (m *minimal) start(ctx context.Context, svc, version string) error {
	port, _ := network.ParsePort("8080/tcp")
	res, err := m.api.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:   m.name(svc),
		Config: &container.Config{Image: m.b.images[svc+":"+version], ExposedPorts: network.PortSet{port: {}}, Labels: map[string]string{"io.golive.bench": m.b.id}},
		HostConfig: &container.HostConfig{
			PortBindings:  network.PortMap{port: {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: strconv.Itoa(m.ports[svc])}}},
			RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
		},
	})
	if err != nil {
		return err
	}
	if _, err := m.api.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
		return err
	}
	return m.healthy(ctx, svc)
}

// healthy polls the service's /health every 20 ms until it answers 200.
func (m *minimal) healthy(ctx context.Context, svc string) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/health", m.ports[svc])
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := m.http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not healthy within 30s", svc)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// revertKept brings both kept containers back at once.
func (m *minimal) revertKept(ctx context.Context) error {
	return m.each(func(svc string) error {
		name := m.name(svc)
		if _, err := m.api.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true}); err != nil {
			return err
		}
		if _, err := m.api.ContainerRename(ctx, name+".prev", client.ContainerRenameOptions{NewName: name}); err != nil {
			return err
		}
		if _, err := m.api.ContainerStart(ctx, name, client.ContainerStartOptions{}); err != nil {
			return err
		}
		return m.healthy(ctx, svc)
	})
}

// revertRecreate replaces both services at once with new containers of version.
func (m *minimal) revertRecreate(ctx context.Context, version string) error {
	return m.each(func(svc string) error {
		if _, err := m.api.ContainerRemove(ctx, m.name(svc), client.ContainerRemoveOptions{Force: true}); err != nil {
			return err
		}
		return m.start(ctx, svc, version)
	})
}

func (m *minimal) dropKept(ctx context.Context) error {
	return m.each(func(svc string) error {
		_, err := m.api.ContainerRemove(ctx, m.name(svc)+".prev", client.ContainerRemoveOptions{Force: true})
		return err
	})
}

func (m *minimal) each(f func(svc string) error) error {
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	for i, svc := range groups {
		wg.Go(func() { errs[i] = f(svc) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (m *minimal) close(ctx context.Context) {
	for _, svc := range groups {
		for _, name := range []string{m.name(svc), m.name(svc) + ".prev"} {
			m.api.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true})
		}
	}
	m.api.Close()
}

func notFound(err error) bool { return cerrdefs.IsNotFound(err) }

// compose releases with docker-compose: `up -d` recreates what changed
// (api first: web depends on it), then the same health wait.
type compose struct {
	b       *bench
	project string
	file    string
	health  *minimal // its health wait, on compose's ports
}

const composeYAML = `version: "2.4"
services:
  api:
    image: ${API_IMAGE}
    ports: ["127.0.0.1:%d:8080"]
    restart: unless-stopped
  web:
    image: ${WEB_IMAGE}
    ports: ["127.0.0.1:%d:8080"]
    restart: unless-stopped
    depends_on: [api]
`

func newCompose(b *bench, apiPort, webPort int) (*compose, error) {
	file := filepath.Join(b.dir, "compose.yaml")
	if err := os.WriteFile(file, fmt.Appendf(nil, composeYAML, apiPort, webPort), 0o644); err != nil {
		return nil, err
	}
	return &compose{b: b, project: b.id + "-compose", file: file,
		health: &minimal{b: b, ports: map[string]int{"api": apiPort, "web": webPort}, http: &http.Client{Timeout: time.Second}}}, nil
}

func (c *compose) up(ctx context.Context, version string) error {
	cmd := exec.CommandContext(ctx, "docker-compose", "-p", c.project, "-f", c.file, "up", "-d")
	cmd.Env = append(os.Environ(), "API_IMAGE="+c.b.images["api:"+version], "WEB_IMAGE="+c.b.images["web:"+version])
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("docker-compose up: %w\n%s", err, out)
	}
	return c.health.each(func(svc string) error { return c.health.healthy(ctx, svc) })
}

func (c *compose) down() {
	cmd := exec.Command("docker-compose", "-p", c.project, "-f", c.file, "down", "--remove-orphans")
	cmd.Env = append(os.Environ(), "API_IMAGE=x", "WEB_IMAGE=x")
	cmd.Run()
}
