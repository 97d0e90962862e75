// Command logs is `make bench-logs`: it measures `golive logs` against the
// tools people compare it with, alternately on the same generated data,
// and prints medians and ratios.
//
//	file      golive logs --no-follow FILE   vs  grep -E -i 'error|fatal|panic' FILE, each into a pipe
//	container golive logs --no-follow c:X    vs  docker logs X
//	follow    golive logs c:X                vs  docker logs -f X, at 20,000 lines/s, side by side
//	cockpit   the tui flood benchmark: the real renderer at 160×48 under 20,000 lines/s
//
// It needs Go, grep and the Docker engine with its CLI; the Docker parts
// are skipped with a reason when the engine is missing.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/scratch"
)

func main() {
	fileLines := flag.Int("file-lines", 2_000_000, "lines in the generated file")
	ctLines := flag.Int("container-lines", 1_000_000, "lines in the container's log")
	rounds := flag.Int("rounds", 3, "runs of each side")
	rate := flag.Int("rate", 20000, "lines a second for the follow comparison")
	seconds := flag.Int("seconds", 10, "length of the follow comparison")
	flag.Parse()
	dir, err := os.MkdirTemp("", "golive-bench-logs-")
	check(err)
	defer os.RemoveAll(dir)
	golive := filepath.Join(dir, "golive")
	run("go", "build", "-o", golive, "./cmd/golive")
	fmt.Printf("machine: %s, %d cores, %s, load average %s\n", cpuModel(), runtime.NumCPU(), runtime.Version(), loadAverage())
	fmt.Println("(medians; CPU is user+system of the process, daemon is dockerd's during the run; wall times suffer when the machine is busy)")
	fmt.Println()

	path := filepath.Join(dir, "mixed.log")
	size := generate(path, *fileLines)
	fmt.Printf("file: %d lines, %.0f MB of logfmt, JSON, nginx, Spring, Python tracebacks, Go panics\n", *fileLines, float64(size)/1e6)
	g, p := alternate(*rounds,
		[]string{golive, "logs", "--no-follow", path},
		[]string{"grep", "-E", "-i", "error|fatal|panic", path})
	report("golive logs --no-follow FILE", "grep -E -i into a pipe", g, p, *fileLines)

	cli, err := docker.Connect(context.Background(), "")
	if err != nil {
		fmt.Println("\ncontainer, follow: skipped:", err)
	} else {
		containers(cli, dir, golive, *ctLines, *rounds, *rate, *seconds)
		cli.Close()
	}

	fmt.Println("\ncockpit: go test ./tui -bench BenchmarkFlood (real renderer, colours, 160×48, 20,000 lines/s)")
	out, err := exec.Command("go", "test", "./tui", "-run", "^$", "-bench", "^BenchmarkFlood$", "-benchtime", "1x", "-count", "3").CombinedOutput()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "BenchmarkFlood") {
			fmt.Println("  " + l)
		}
	}
	if err != nil {
		fmt.Printf("  failed: %v\n%s", err, out)
	}
}

// sample is one run of a command.
type sample struct {
	wall, cpu, daemon time.Duration
	rssKB             int64
	bytes             int64
}

// alternate runs a and b in turn, rounds times each, with their output into a pipe.
func alternate(rounds int, a, b []string) (sa, sb []sample) {
	for i := 0; i < rounds; i++ {
		sa = append(sa, measure(a))
		sb = append(sb, measure(b))
	}
	return sa, sb
}

func measure(argv []string) sample {
	cmd := exec.Command(argv[0], argv[1:]...)
	stdout, err := cmd.StdoutPipe()
	check(err)
	cmd.Stderr = os.Stderr
	d0 := daemonCPU()
	start := time.Now()
	check(cmd.Start())
	var hwm atomic.Int64
	copied := make(chan int64)
	go func() {
		n, _ := io.Copy(io.Discard, stdout)
		copied <- n
	}()
	tick := time.NewTicker(5 * time.Millisecond)
	var n int64
	for waiting := true; waiting; {
		select {
		case n = <-copied:
			waiting = false
		case <-tick.C:
			hwm.Store(max(hwm.Load(), peakRSS(cmd.Process.Pid)))
		}
	}
	tick.Stop()
	if err := cmd.Wait(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", strings.Join(argv, " "), err)
	}
	s := sample{wall: time.Since(start), daemon: daemonCPU() - d0, bytes: n, rssKB: hwm.Load()}
	s.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return s
}

func median(ss []sample, f func(sample) float64) float64 {
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func report(name, peer string, g, p []sample, lines int) {
	wall := func(s sample) float64 { return s.wall.Seconds() }
	cpu := func(s sample) float64 { return s.cpu.Seconds() }
	dcpu := func(s sample) float64 { return s.daemon.Seconds() }
	rss := func(s sample) float64 { return float64(s.rssKB) / 1024 }
	gw, pw := median(g, wall), median(p, wall)
	gc, pc := median(g, cpu), median(p, cpu)
	fmt.Printf("  %-34s %6.2f s wall (%4.2f M lines/s)  %6.2f s CPU  daemon %5.2f s  %5.1f MiB\n", name, gw, float64(lines)/gw/1e6, gc, median(g, dcpu), median(g, rss))
	fmt.Printf("  %-34s %6.2f s wall (%4.2f M lines/s)  %6.2f s CPU  daemon %5.2f s  %5.1f MiB\n", peer, pw, float64(lines)/pw/1e6, pc, median(p, dcpu), median(p, rss))
	gd, pd := median(g, func(s sample) float64 { return s.cpu.Seconds() + s.daemon.Seconds() }), median(p, func(s sample) float64 { return s.cpu.Seconds() + s.daemon.Seconds() })
	fmt.Printf("  ratio golive/peer: %.2f× wall, %.2f× CPU, %.2f× CPU with the daemon's\n", gw/pw, gc/pc, gd/pd)
}

func containers(cli *docker.Client, dir, golive string, lines, rounds, rate, seconds int) {
	ctx := context.Background()
	tag := fmt.Sprintf("golive-bench/burst-%d:1", os.Getpid())
	bin := filepath.Join(dir, "burst")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./logs/testdata/burst")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	out, err := cmd.CombinedOutput()
	check(err, string(out))
	binary, err := os.ReadFile(bin)
	check(err)
	img, err := scratch.Image(binary, scratch.Config{})
	check(err)
	tarPath := filepath.Join(dir, "burst.tar")
	f, err := os.Create(tarPath)
	check(err)
	check(scratch.WriteTarball(f, map[string]v1.Image{tag: img}))
	check(f.Close())
	_, err = cli.Load(ctx, tarPath)
	check(err)
	defer cli.RemoveImage(ctx, tag)

	name := fmt.Sprintf("golive-bench-%d-store", os.Getpid())
	defer exec.Command("docker", "rm", "-f", name).Run()
	run("docker", "run", "-d", "--name", name, "--log-opt", "max-size=100m", "--log-opt", "max-file=5",
		"-e", "LINES="+strconv.Itoa(lines), tag)
	waitLast(name, lines-1)
	fmt.Printf("\ncontainer: %d lines in its log (json-file)\n", lines)
	g, p := alternate(rounds,
		[]string{golive, "logs", "--no-follow", "container:" + name},
		[]string{"docker", "logs", name})
	report("golive logs --no-follow container:X", "docker logs X", g, p, lines)

	fname := fmt.Sprintf("golive-bench-%d-follow", os.Getpid())
	defer exec.Command("docker", "rm", "-f", fname).Run()
	total := rate * seconds
	run("docker", "run", "-d", "--name", fname, "-e", "RATE="+strconv.Itoa(rate), "-e", "LINES="+strconv.Itoa(total), tag)
	ga := start(golive, "logs", "container:"+fname)
	pa := start("docker", "logs", "-f", fname)
	d0 := daemonCPU()
	t0 := time.Now()
	waitLast(fname, total-1)
	ga.wait(int64(total), 30*time.Second)
	pa.wait(int64(total), 30*time.Second)
	gs, ps := ga.stop(), pa.stop()
	elapsed := time.Since(t0)
	fmt.Printf("\nfollow: %d lines/s for %d s, both followers at once (daemon %.0f%% of a core)\n", rate, seconds, 100*(daemonCPU()-d0).Seconds()/elapsed.Seconds())
	for _, r := range []struct {
		name string
		s    sample
		n    int64
	}{{"golive logs container:X", gs, ga.lines.Load()}, {"docker logs -f X", ps, pa.lines.Load()}} {
		fmt.Printf("  %-34s %5.1f%% of a core, %d lines\n", r.name, 100*r.s.cpu.Seconds()/elapsed.Seconds(), r.n)
	}
	fmt.Printf("  ratio golive/peer: %.2f× CPU\n", gs.cpu.Seconds()/ps.cpu.Seconds())
}

// follower is a command reading a log until stopped.
type follower struct {
	cmd   *exec.Cmd
	lines atomic.Int64
	done  chan struct{}
}

// wait waits until the follower printed n lines, or for at most d.
func (f *follower) wait(n int64, d time.Duration) {
	deadline := time.Now().Add(d)
	for f.lines.Load() < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

func start(argv ...string) *follower {
	f := &follower{cmd: exec.Command(argv[0], argv[1:]...), done: make(chan struct{})}
	stdout, err := f.cmd.StdoutPipe()
	check(err)
	check(f.cmd.Start())
	go func() {
		defer close(f.done)
		br := bufio.NewReaderSize(stdout, 1<<20)
		for {
			chunk, err := br.ReadSlice('\n')
			if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
				f.lines.Add(1)
			}
			if err != nil && err != bufio.ErrBufferFull {
				return
			}
		}
	}()
	return f
}

func (f *follower) stop() sample {
	f.cmd.Process.Signal(syscall.SIGINT)
	<-f.done
	f.cmd.Wait()
	return sample{cpu: f.cmd.ProcessState.UserTime() + f.cmd.ProcessState.SystemTime()}
}

// waitLast waits until a container's newest line is number seq.
func waitLast(name string, seq int) {
	want := []byte("seq=" + strconv.Itoa(seq) + "\n")
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		out, _ := exec.Command("docker", "logs", "--tail", "1", name).Output()
		if bytes.HasSuffix(out, want) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	check(fmt.Errorf("container %s never printed line %d", name, seq))
}

// peakRSS is a running process's peak resident memory in KiB (VmHWM):
// the rusage of a child started by a Go program counts the parent's memory.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

var dockerd = func() string {
	out, _ := exec.Command("pgrep", "-x", "-o", "dockerd").Output()
	return strings.TrimSpace(string(out))
}()

// daemonCPU is the CPU time dockerd has used, when this machine runs it visibly.
func daemonCPU() time.Duration {
	if dockerd == "" {
		return 0
	}
	stat, err := os.ReadFile("/proc/" + dockerd + "/stat")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100
}

func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			_, v, _ := strings.Cut(l, ":")
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// generate writes a file of n lines in the formats golive meets and returns its size.
func generate(path string, n int) int64 {
	f, err := os.Create(path)
	check(err)
	w := bufio.NewWriterSize(f, 1<<20)
	ts := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for i := 0; i < n; {
		t := ts.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano)
		var lines []string
		switch i % 50 {
		case 7:
			lines = []string{
				t + " ERROR [celery.worker] Task orders.sync raised unexpected: KeyError('sku')",
				"Traceback (most recent call last):",
				`  File "/app/orders/tasks.py", line 88, in sync`,
				`    sku = item["sku"]`,
				"KeyError: 'sku'",
			}
		case 23:
			lines = []string{
				"panic: runtime error: invalid memory address or nil pointer dereference",
				"[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1b2c]",
				"",
				"goroutine 42 [running]:",
				"main.(*Server).handleOrder(0xc000120000, {0x7f3a2c, 0xc0001a2000})",
				"\t/src/app/orders.go:142 +0x1d",
			}
		case 31:
			lines = []string{fmt.Sprintf(`{"level":"error","ts":"%s","caller":"db/query.go:88","msg":"query failed","error":"Error 1054 (42S22): Unknown column 'orders.discount_code'","seq":%d}`, t, i)}
		case 3, 13, 33:
			lines = []string{fmt.Sprintf(`10.0.%d.%d - - [25/Nov/2026:10:00:00 +0000] "GET /static/app.3f2a1c.js HTTP/1.1" 200 48213 "https://shop.example.com/checkout" "Mozilla/5.0 (X11; Linux x86_64)"`, i%255, i%7)}
		case 17, 41:
			lines = []string{fmt.Sprintf("%s  WARN 1 --- [nio-8080-exec-7] c.s.orders.OrderService : Slow query took %dms for customer 88123", t[:23], i%3000)}
		default:
			lines = []string{fmt.Sprintf(`time=%s level=info msg="request method=GET path=/api/orders/%d status=200 duration_ms=%d" trace_id=4bf92f3577b34da6a3ce929d0e0e4736`, t, i, i%97)}
		}
		for _, l := range lines {
			if i < n {
				w.WriteString(l)
				w.WriteByte('\n')
				i++
			}
		}
	}
	check(w.Flush())
	fi, err := f.Stat()
	check(err)
	check(f.Close())
	return fi.Size()
}

func run(argv ...string) {
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	check(err, strings.Join(argv, " ")+": "+string(out))
}

func check(err error, context ...string) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-logs:", err, strings.Join(context, " "))
		os.Exit(1)
	}
}
