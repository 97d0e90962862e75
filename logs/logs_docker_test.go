package logs_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/scratch"
	"github.com/golive/golive/logs"
)

var seqField = regexp.MustCompile(`seq=(\d+)`)

// collector records what a source delivers.
type collector struct {
	mu    sync.Mutex
	lines []string
	seqs  []int
}

func (c *collector) sink(_ string, _ time.Time, line []byte, _ int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, string(line))
	if m := seqField.FindSubmatch(line); m != nil {
		n, _ := strconv.Atoi(string(m[1]))
		c.seqs = append(c.seqs, n)
	}
}

func (c *collector) seqCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seqs)
}

// TestFollowContainerMovesToTheReplacementWithoutLosingOrRepeating runs
// against the real Docker engine and replaces a container the way a deploy does.
func TestFollowContainerMovesToTheReplacementWithoutLosingOrRepeating(t *testing.T) {
	cli := dockertest.Client(t)
	project := dockertest.Project(t, cli)
	ref := dockertest.ImageRef(project, "api:1")
	dockertest.LoadDemoImage(t, cli, ref, scratch.Config{Env: []string{"LOG_EVERY=10ms"}})
	ctx := context.Background()
	name := project + "-api"
	spec := docker.Spec{Name: name, Image: ref, Labels: map[string]string{"io.golive.project": project}}
	a, err := cli.Create(ctx, spec)
	must(t, err)
	must(t, cli.Start(ctx, a))

	var got collector
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- logs.FollowContainer(fctx, cli, name, logs.ContainerOptions{Follow: true}, got.sink) }()
	dockertest.WaitFor(t, "lines of the first container", func() bool { return got.seqCount() >= 50 })

	spec.Name = name + ".next"
	b, err := cli.Create(ctx, spec)
	must(t, err)
	must(t, cli.Stop(ctx, a, 5))
	must(t, cli.Rename(ctx, a, name+".prev"))
	must(t, cli.Rename(ctx, b, name))
	must(t, cli.Start(ctx, b))
	last, err := cli.LastLines(ctx, a, 1)
	must(t, err)
	aLines, _ := strconv.Atoi(seqField.FindStringSubmatch(last[0])[1])
	dockertest.WaitFor(t, "lines of the replacement", func() bool { return got.seqCount() >= aLines+50 })
	cancel()
	must(t, <-done)

	got.mu.Lock()
	defer got.mu.Unlock()
	want := 1
	for i, n := range got.seqs {
		if i == aLines {
			want = 1 // the replacement starts at its first line
		}
		if n != want {
			t.Fatalf("line %d has seq %d, want %d (first container wrote %d lines)", i, n, want, aLines)
		}
		want++
	}
}

func TestFollowContainerReadsTTYContainersAndSanitizesInjection(t *testing.T) {
	cli := dockertest.Client(t)
	project := dockertest.Project(t, cli)
	ref := dockertest.ImageRef(project, "api:1")
	dockertest.LoadDemoImage(t, cli, ref, scratch.Config{Env: []string{"INJECT=true", "LOG_EVERY=1h"}})
	ctx := context.Background()
	for _, tty := range []bool{false, true} {
		name := project + "-tty-" + strconv.FormatBool(tty)
		id, err := cli.Create(ctx, docker.Spec{Name: name, Image: ref, TTY: tty, Labels: map[string]string{"io.golive.project": project}})
		must(t, err)
		must(t, cli.Start(ctx, id))
		buf := logs.NewBuffer(0)
		in := logs.NewIngester(name, buf, nil, 0)
		dockertest.WaitFor(t, "the injection lines", func() bool {
			lines, _ := cli.LastLines(ctx, id, 20)
			return len(lines) >= 8
		})
		must(t, logs.FollowContainer(ctx, cli, name, logs.ContainerOptions{}, in.Add))
		var text []string
		for _, l := range buf.Window(0, 100, nil) {
			text = append(text, l.Level.String()+" "+l.Text)
			for _, r := range l.Text {
				if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x202e {
					t.Fatalf("tty=%v: control character %U reached a line: %q", tty, r, l.Text)
				}
			}
		}
		all := strings.Join(text, "\n")
		for _, want := range []string{"none INJECT osc52  end", "none INJECT title  end", "none INJECT clear  end", "none INJECT dcs  apc  end",
			`error level=error msg="payment failed"` + logs.CRMark + `INJECT cr`, "INJECT bidi txt.exe end"} {
			if !strings.Contains(all, want) {
				t.Errorf("tty=%v: missing %q in:\n%s", tty, want, all)
			}
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// burstImage builds logs/testdata/burst into an image FROM scratch.
func burstImage(t *testing.T, cli *docker.Client, ref string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "burst")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./testdata/burst")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the burst program: %v\n%s", err, out)
	}
	binary, err := os.ReadFile(bin)
	must(t, err)
	img, err := scratch.Image(binary, scratch.Config{})
	must(t, err)
	tarPath := filepath.Join(t.TempDir(), "burst.tar")
	f, err := os.Create(tarPath)
	must(t, err)
	must(t, scratch.WriteTarball(f, map[string]v1.Image{ref: img}))
	must(t, f.Close())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = cli.Load(ctx, tarPath)
	must(t, err)
	t.Cleanup(func() { cli.RemoveImage(context.Background(), ref) })
}

// TestFollowContainerDeliversEveryLineOfABurstAcrossLogRotation runs
// against the real Docker engine (and its CLI, to set log options): a
// container prints 200,000 lines as fast as it can while json-file
// rotates every megabyte, the case where the engine's own follow stream
// loses most lines. Every sequence number must arrive exactly once.
func TestFollowContainerDeliversEveryLineOfABurstAcrossLogRotation(t *testing.T) {
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("needs the docker CLI to create a container with log options")
	}
	cli := dockertest.Client(t)
	project := dockertest.Project(t, cli)
	ref := dockertest.ImageRef(project, "burst:1")
	burstImage(t, cli, ref)
	name := project + "-burst"
	const lines = 200000
	out, err := exec.Command("docker", "create", "--name", name, "--label", "io.golive.project="+project,
		"--log-driver", "json-file", "--log-opt", "max-size=1m", "--log-opt", "max-file=100",
		"-e", "LINES="+strconv.Itoa(lines), ref).CombinedOutput()
	if err != nil {
		t.Fatalf("docker create: %v\n%s", err, out)
	}
	id := strings.TrimSpace(string(out))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	counts := make([]int, lines)
	var mu sync.Mutex
	delivered := 0
	done := make(chan error, 1)
	go func() {
		done <- logs.FollowContainer(ctx, cli, name, logs.ContainerOptions{Follow: true}, func(_ string, _ time.Time, line []byte, _ int) {
			m := seqField.FindSubmatch(line)
			if m == nil {
				return
			}
			n, _ := strconv.Atoi(string(m[1]))
			mu.Lock()
			counts[n]++
			if counts[n] == 1 {
				delivered++
			}
			mu.Unlock()
		})
	}()
	time.Sleep(300 * time.Millisecond) // the follower waits on the created container
	must(t, cli.Start(ctx, id))
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := delivered
		mu.Unlock()
		if n >= lines || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // repeats would come now
	cancel()
	must(t, <-done)
	mu.Lock()
	defer mu.Unlock()
	missing, repeated := 0, 0
	var examples []int
	for i, c := range counts {
		if c == 0 {
			missing++
		}
		if c > 1 {
			repeated += c - 1
		}
		if c != 1 && len(examples) < 10 {
			examples = append(examples, i)
		}
	}
	if missing > 0 || repeated > 0 {
		t.Fatalf("of %d lines: %d missing, %d repeated (lines %v)", lines, missing, repeated, examples)
	}
}
