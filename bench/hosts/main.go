// Command hosts measures a release across three Docker engines (2
// services × 3 hosts, HTTP health on each host, images present): golive
// deploying and reverting with every host at once and with rollout batch
// 1, side by side with a shell loop of `docker -H` commands doing the same
// one host at a time and all hosts at once, in the same run, alternating,
// n rounds, medians. It also measures what one more host connection costs
// golive (heap and goroutines). It starts its own engines in network
// namespaces (root only) and stops them at the end; `make bench-hosts` runs it.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/golive/golive/bench/benchkit"
	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest/engines"
	"github.com/golive/golive/docker/scratch"
)

// Ports the services publish on every engine: golive's and the shell's.
const (
	goliveAPI, goliveWeb = 18180, 18181
	shellAPI, shellWeb   = 18190, 18191
)

func main() {
	n := flag.Int("n", 5, "rounds (each runs every contender once)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *n); err != nil {
		fmt.Fprintln(os.Stderr, "bench-hosts:", err)
		os.Exit(1)
	}
}

// bench is one run: the engines, the images, golive's binary and plans.
type bench struct {
	id    string
	dir   string
	set   *engines.Set
	bin   string
	image func(role, version string) string
}

func run(ctx context.Context, n int) error {
	if n < 1 {
		return errors.New("-n must be at least 1")
	}
	if err := engines.Available(); err != nil {
		return fmt.Errorf("%w: run it as root", err)
	}
	b, err := setup(ctx)
	if b != nil {
		defer b.cleanup()
	}
	if err != nil {
		return err
	}
	perConn, err := connectionCost(ctx, b.set)
	if err != nil {
		return err
	}
	contenders := []struct {
		name           string
		deploy, revert func() error
	}{
		{"golive, all hosts at once", func() error { return b.golive(ctx, "apply", "2-parallel") }, func() error { return b.golive(ctx, "revert", "2-parallel") }},
		{"golive, rollout batch 1", func() error { return b.golive(ctx, "apply", "2-batch1") }, func() error { return b.golive(ctx, "revert", "2-batch1") }},
		{"docker -H loop, all hosts at once", func() error { return b.shell(ctx, "2", true) }, func() error { return b.shell(ctx, "1", true) }},
		{"docker -H loop, one host at a time", func() error { return b.shell(ctx, "2", false) }, func() error { return b.shell(ctx, "1", false) }},
	}
	times := map[string][]time.Duration{}
	fmt.Fprintf(os.Stderr, "bench-hosts: %d rounds", n)
	for round := range n {
		fmt.Fprint(os.Stderr, ".")
		order := slices.Clone(contenders)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, c := range order {
			for _, step := range []struct {
				what string
				f    func() error
			}{{"deploy", c.deploy}, {"revert", c.revert}} {
				start := time.Now()
				if err := step.f(); err != nil {
					return fmt.Errorf("%s, %s: %w", c.name, step.what, err)
				}
				times[step.what+"|"+c.name] = append(times[step.what+"|"+c.name], time.Since(start))
			}
		}
	}
	fmt.Fprintln(os.Stderr)
	fmt.Printf("2 services × 3 hosts (engines in network namespaces on this machine), %d rounds, median (min–max):\n\n", n)
	fmt.Printf("%-36s %-22s %s\n", "", "deploy v1→v2", "revert v2→v1")
	for _, c := range contenders {
		fmt.Printf("%-36s %-22s %s\n", c.name, summary(times["deploy|"+c.name]), summary(times["revert|"+c.name]))
	}
	fmt.Println("\ngolive runs as a process per command (connect, lock, preload check, health gates with stable: 0s);")
	fmt.Println("the shell loop removes and recreates each container and polls /health with curl; its revert recreates v1.")
	fmt.Printf("\nper host connection (tcp, in one process): %s\n", perConn)
	return nil
}

func summary(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	return fmt.Sprintf("%.2fs (%.2f–%.2f)", s[len(s)/2].Seconds(), s[0].Seconds(), s[len(s)-1].Seconds())
}

func setup(ctx context.Context) (*bench, error) {
	idb := make([]byte, 3)
	rand.Read(idb)
	dir, err := os.MkdirTemp("", "golive-bench-hosts-")
	if err != nil {
		return nil, err
	}
	b := &bench{id: "glbhosts-" + hex.EncodeToString(idb), dir: dir}
	b.image = func(role, version string) string { return "golive-bench/" + b.id + "-" + role + ":" + version }
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if b.set, err = engines.Start(startCtx, engines.Config{Count: 3, Prefix: "glb"}); err != nil {
		return b, err
	}
	root, err := benchkit.ModuleRoot()
	if err != nil {
		return b, err
	}
	app, err := benchkit.DemoApp(root, dir)
	if err != nil {
		return b, err
	}
	b.bin = filepath.Join(dir, "golive")
	if err := benchkit.GoBuild(root, b.bin, "./cmd/golive"); err != nil {
		return b, err
	}
	if err := b.loadImages(ctx, app); err != nil {
		return b, err
	}
	for _, v := range []string{"1-parallel", "2-parallel", "2-batch1"} {
		if err := os.WriteFile(filepath.Join(dir, "plan-"+v+".yaml"), []byte(b.plan(v)), 0o644); err != nil {
			return b, err
		}
	}
	if err := b.golive(ctx, "apply", "1-parallel"); err != nil {
		return b, fmt.Errorf("golive: deploy version 1: %w", err)
	}
	if err := b.shell(ctx, "1", true); err != nil {
		return b, fmt.Errorf("shell: deploy version 1: %w", err)
	}
	return b, nil
}

// loadImages builds api and web, versions 1 and 2, FROM scratch and loads
// them into every engine.
func (b *bench) loadImages(ctx context.Context, app string) error {
	binary, err := os.ReadFile(app)
	if err != nil {
		return err
	}
	all := map[string]v1.Image{}
	for _, role := range []string{"api", "web"} {
		for _, version := range []string{"1", "2"} {
			img, err := scratch.Image(binary, scratch.Config{Env: []string{"VERSION=" + version, "ROLE=" + role, "LOG_EVERY=1s"}})
			if err != nil {
				return err
			}
			all[b.image(role, version)] = img
		}
	}
	path, err := benchkit.Tarball(b.dir, all)
	if err != nil {
		return err
	}
	return b.set.LoadTarball(ctx, path)
}

// plan is golive's plan "V-MODE": version V, every host at once
// (parallel) or one host at a time (batch1).
func (b *bench) plan(name string) string {
	version, mode, _ := strings.Cut(name, "-")
	var hosts strings.Builder
	for i, e := range b.set.Engines {
		fmt.Fprintf(&hosts, "  h%d: %s\n", i+1, e.TCP())
	}
	rollout := ""
	if mode == "batch1" {
		rollout = "\n    rollout: {batch: 1}"
	}
	return fmt.Sprintf(`project: %[1]s
release: "%[2]s-%[3]s"
hosts:
%[4]sservices:
  api:
    image: %[5]s
    group: backend
    ports: ["%[7]d:8080"]%[9]s
    health: {http: "http://{host}:%[7]d/health", stable: 0s, interval: 50ms}
  web:
    image: %[6]s
    group: frontend
    ports: ["%[8]d:8080"]%[9]s
    health: {http: "http://{host}:%[8]d/health", stable: 0s, interval: 50ms}
`, b.id, version, mode, hosts.String(), b.image("api", version), b.image("web", version), goliveAPI, goliveWeb, rollout)
}

// golive runs `golive apply|revert` on plan "V-MODE".
func (b *bench) golive(ctx context.Context, command, plan string) error {
	cmd := exec.CommandContext(ctx, b.bin, command, filepath.Join(b.dir, "plan-"+plan+".yaml"), "--yes", "--state", filepath.Join(b.dir, "state"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	return nil
}

// shell replaces api then web on every host with version v by a shell
// loop of docker -H commands, one host after another or all at once,
// waiting for each container's /health with curl.
func (b *bench) shell(ctx context.Context, v string, parallel bool) error {
	var script strings.Builder
	script.WriteString("set -e\n")
	for _, e := range b.set.Engines {
		body := ""
		for _, svc := range []struct {
			role string
			port int
		}{{"api", shellAPI}, {"web", shellWeb}} {
			name := b.id + "-sh-" + svc.role
			body += fmt.Sprintf("docker -H %[1]s rm -f %[2]s >/dev/null\n"+
				"docker -H %[1]s run -d --name %[2]s -e ROLE=%[3]s -p %[4]d:8080 %[5]s >/dev/null\n"+
				"until curl -fsS -o /dev/null http://%[6]s:%[4]d/health 2>/dev/null; do sleep 0.05; done\n",
				e.TCP(), name, svc.role, svc.port, b.image(svc.role, v), e.Addr)
		}
		if parallel {
			fmt.Fprintf(&script, "(\n%s) &\n", body)
		} else {
			script.WriteString(body)
		}
	}
	if parallel {
		script.WriteString("for job in $(jobs -p); do wait $job; done\n")
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", script.String())
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+b.dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	return nil
}

// connectionCost is the heap and goroutines one more open host connection
// costs in one process, over the three engines.
func connectionCost(ctx context.Context, set *engines.Set) (string, error) {
	measure := func() (uint64, int) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse, runtime.NumGoroutine()
	}
	heap0, g0 := measure()
	var clients []*docker.Client
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for _, e := range set.Engines {
		c, err := docker.ConnectHost(ctx, e.TCP(), docker.HostOptions{})
		if err != nil {
			return "", err
		}
		if _, err := c.EngineName(ctx); err != nil {
			return "", err
		}
		clients = append(clients, c)
	}
	heap1, g1 := measure()
	k := len(clients)
	return fmt.Sprintf("%.0f KiB heap, %.1f goroutines (%d connections: heap %d → %d KiB, goroutines %d → %d)",
		float64(int64(heap1)-int64(heap0))/1024/float64(k), float64(g1-g0)/float64(k), k, heap0/1024, heap1/1024, g0, g1), nil
}

func (b *bench) cleanup() {
	if b.set != nil {
		if err := b.set.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "bench-hosts: stop the engines:", err)
		}
	}
	os.RemoveAll(b.dir)
}
