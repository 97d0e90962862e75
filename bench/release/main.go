// Command release measures one two-service release (backend then
// frontend, HTTP health on /health, images present) done by golive's engine
// side by side with a minimal Engine API program and, when it is installed,
// docker-compose: in the same run, alternating, n rounds, medians and
// ratios. It also reports the peak memory of a `golive apply` process.
// `make bench-release` runs it; it needs a Docker engine and Go.
package main

import (
	"bufio"
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
	"github.com/golive/golive/docker/scratch"
	"github.com/golive/golive/plans"
)

func main() {
	n := flag.Int("n", 7, "rounds (each runs every contender once per measurement)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *n); err != nil {
		fmt.Fprintln(os.Stderr, "bench-release:", err)
		os.Exit(1)
	}
}

// bench is one run's setup: images, ports, plans and the three contenders.
type bench struct {
	id      string
	dir     string
	cli     *docker.Client
	images  map[string]string // "api:1" → reference
	golive  *golive
	minimal *minimal
	compose *compose // nil when docker-compose is not installed
}

// samples are one measurement's durations per contender.
type samples map[string][]time.Duration

// cpuTime is the CPU time (user and system) this process has used. The
// golive engine and the minimal program run in it, one at a time, so the
// difference over one release is what that release cost the client: a
// figure that a busy machine stretches far less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func run(ctx context.Context, n int) error {
	if n < 1 {
		return errors.New("-n must be at least 1")
	}
	b, err := setup(ctx)
	if b != nil {
		defer b.cleanup()
	}
	if err != nil {
		return err
	}
	results, cpu := map[string]samples{}, map[string]samples{}
	add := func(to map[string]samples, measure, who string, d time.Duration) {
		if to[measure] == nil {
			to[measure] = samples{}
		}
		to[measure][who] = append(to[measure][who], d)
	}
	timed := func(measure, who string, f func() error) error {
		start, used := time.Now(), cpuTime()
		if err := f(); err != nil {
			return fmt.Errorf("%s, %s: %w", measure, who, err)
		}
		add(results, measure, who, time.Since(start))
		add(cpu, measure, who, cpuTime()-used)
		return nil
	}
	fmt.Fprintf(os.Stderr, "bench-release: %d rounds", n)
	for round := range n {
		fmt.Fprint(os.Stderr, ".")
		// Each round alternates who goes first.
		first, second := "golive", "minimal"
		if round%2 == 1 {
			first, second = second, first
		}
		for _, who := range []string{first, second} {
			var err error
			if who == "golive" {
				err = errors.Join(
					timed("deploy, default plan", who, func() error { return b.golive.apply(ctx, "2", false) }),
					timed("revert, kept containers", who, func() error { return b.golive.revert(ctx) }),
					timed("deploy, stable: 0s", who, func() error { return b.golive.apply(ctx, "2", true) }),
					b.golive.dropKept(ctx),
					timed("revert, recreated", who, func() error { return b.golive.revert(ctx) }),
				)
			} else {
				err = errors.Join(
					timed("deploy, default plan", who, func() error { return b.minimal.deploy(ctx, "2") }),
					timed("revert, kept containers", who, func() error { return b.minimal.revertKept(ctx) }),
					timed("deploy, stable: 0s", who, func() error { return b.minimal.deploy(ctx, "2") }),
					b.minimal.dropKept(ctx),
					timed("revert, recreated", who, func() error { return b.minimal.revertRecreate(ctx, "1") }),
				)
			}
			if err != nil {
				return err
			}
		}
		if b.compose != nil {
			if err := timed("deploy, default plan", "compose", func() error { return b.compose.up(ctx, "2") }); err != nil {
				return err
			}
			if err := b.compose.up(ctx, "1"); err != nil {
				return err
			}
		}
	}
	fmt.Fprintln(os.Stderr)
	mem, err := b.golive.peakMemory(ctx)
	if err != nil {
		return err
	}
	report(b, n, results, cpu, mem)
	return nil
}

func setup(ctx context.Context) (*bench, error) {
	cli, err := docker.Connect(ctx, "")
	if err != nil {
		return nil, err
	}
	idb := make([]byte, 3)
	rand.Read(idb)
	dir, err := os.MkdirTemp("", "golive-bench-")
	if err != nil {
		return nil, err
	}
	b := &bench{id: "glbench-" + hex.EncodeToString(idb), dir: dir, cli: cli, images: map[string]string{}}
	root, err := benchkit.ModuleRoot()
	if err != nil {
		return b, err
	}
	app, err := benchkit.DemoApp(root, dir)
	if err != nil {
		return b, err
	}
	if err := b.loadImages(ctx, app); err != nil {
		return b, err
	}
	ports, err := benchkit.FreePorts(6)
	if err != nil {
		return b, err
	}
	bin := filepath.Join(dir, "golive")
	if err := benchkit.GoBuild(root, bin, "./cmd/golive"); err != nil {
		return b, err
	}
	if b.golive, err = newGolive(b, bin, ports[0], ports[1]); err != nil {
		return b, err
	}
	if b.minimal, err = newMinimal(ctx, b, ports[2], ports[3]); err != nil {
		return b, err
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		if b.compose, err = newCompose(b, ports[4], ports[5]); err != nil {
			return b, err
		}
	}
	// Version 1 runs everywhere before the first round.
	if err := b.golive.apply(ctx, "1", false); err != nil {
		return b, fmt.Errorf("golive: deploy version 1: %w", err)
	}
	if err := b.minimal.deploy(ctx, "1"); err != nil {
		return b, fmt.Errorf("minimal: deploy version 1: %w", err)
	}
	if b.compose != nil {
		if err := b.compose.up(ctx, "1"); err != nil {
			return b, fmt.Errorf("docker-compose: deploy version 1: %w", err)
		}
	}
	return b, nil
}

// loadImages builds the demo service's images FROM scratch (api and web,
// versions 1 and 2) and loads them into the engine.
func (b *bench) loadImages(ctx context.Context, app string) error {
	binary, err := os.ReadFile(app)
	if err != nil {
		return err
	}
	all := map[string]v1.Image{}
	for _, role := range []string{"api", "web"} {
		for _, version := range []string{"1", "2"} {
			ref := "golive-bench/" + b.id + "-" + role + ":" + version
			img, err := scratch.Image(binary, scratch.Config{Env: []string{"VERSION=" + version, "ROLE=" + role, "LOG_EVERY=1s"}})
			if err != nil {
				return err
			}
			all[ref] = img
			b.images[role+":"+version] = ref
		}
	}
	path, err := benchkit.Tarball(b.dir, all)
	if err != nil {
		return err
	}
	_, err = b.cli.Load(ctx, path)
	return err
}

// cleanup removes every container, network and image of the run.
func (b *bench) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if b.compose != nil {
		b.compose.down()
	}
	if b.minimal != nil {
		b.minimal.close(ctx)
	}
	cts, _ := b.cli.List(ctx, map[string]string{plans.LabelProject: b.id})
	for _, c := range cts {
		b.cli.Remove(ctx, c.ID)
	}
	b.cli.Remove(ctx, "golive-lock-"+b.id)
	records, _ := b.cli.Records(ctx, map[string]string{plans.LabelProject: b.id})
	for _, r := range records {
		b.cli.RemoveRecord(ctx, r.Name)
	}
	for _, ref := range b.images {
		b.cli.RemoveImage(ctx, ref)
	}
	b.cli.Close()
	os.RemoveAll(b.dir)
}

func report(b *bench, n int, results, cpu map[string]samples, memory []string) {
	fmt.Println("golive bench-release: a two-service release (backend then frontend), HTTP health on /health, images present")
	fmt.Println("machine:", machine(b))
	fmt.Printf("n = %d rounds, golive and the minimal Engine API program alternating; medians\n\n", n)
	withCompose := b.compose != nil
	header := fmt.Sprintf("%-26s %9s %12s %7s", "", "golive", "minimal API", "ratio")
	if withCompose {
		header += fmt.Sprintf(" %15s %7s", "docker-compose", "ratio")
	}
	fmt.Println(header)
	for _, measure := range []string{"deploy, default plan", "deploy, stable: 0s", "revert, kept containers", "revert, recreated"} {
		s := results[measure]
		g, m := median(s["golive"]), median(s["minimal"])
		line := fmt.Sprintf("%-26s %8.2fs %11.2fs %6.2fx", measure, g.Seconds(), m.Seconds(), g.Seconds()/m.Seconds())
		if c := s["compose"]; withCompose && len(c) > 0 {
			line += fmt.Sprintf(" %14.2fs %6.2fx", median(c).Seconds(), g.Seconds()/median(c).Seconds())
		}
		fmt.Println(line)
	}
	fmt.Println()
	fmt.Println("CPU time of this process per release (user + system; the Docker engine's own is not counted), medians:")
	fmt.Printf("%-26s %9s %12s %7s\n", "", "golive", "minimal API", "extra")
	for _, measure := range []string{"deploy, default plan", "deploy, stable: 0s", "revert, kept containers", "revert, recreated"} {
		g, m := median(cpu[measure]["golive"]), median(cpu[measure]["minimal"])
		fmt.Printf("%-26s %7.0fms %10.0fms %5.0fms\n", measure, ms(g), ms(m), ms(g-m))
	}
	fmt.Println()
	fmt.Println("golive: the engine in this process (lock, preload check, journal, deploy groups, health gates).")
	fmt.Println("minimal API: per service stop, rename, create, start, GET /health every 20 ms; deploys the groups in")
	fmt.Println("  order, reverts both services at once. docker-compose: `up -d` (recreates api, then web) + the same health wait.")
	for _, m := range memory {
		fmt.Println(m)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// machine describes the CPU, memory and Docker engine the run used.
func machine(b *bench) string {
	cpu := runtime.GOARCH
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	mem := ""
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kib int64
		if _, err := fmt.Sscanf(string(raw), "MemTotal: %d kB", &kib); err == nil {
			mem = fmt.Sprintf(", %.0f GiB", float64(kib)/(1<<20))
		}
	}
	engine := ""
	if out, err := exec.Command("docker", "version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})").Output(); err == nil {
		engine = ", Docker " + strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.Driver}}").Output(); err == nil {
		engine += ", storage " + strings.TrimSpace(string(out))
	}
	load := ""
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(raw)); len(f) >= 3 {
			load = ", load average " + strings.Join(f[:3], " ") + " at the end"
		}
	}
	return fmt.Sprintf("%s, %d cores%s%s, %s%s", cpu, runtime.NumCPU(), mem, engine, time.Now().UTC().Format("2006-01-02"), load)
}
