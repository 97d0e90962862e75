// Package dockertest gives tests a real Docker engine: unique project names
// whose containers, images and locks are removed afterwards, the demo
// service as FROM-scratch images, free host ports and an in-process registry.
package dockertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"go.uber.org/goleak"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/scratch"
)

// Client connects to the real Docker engine, failing the test when there is none.
func Client(t testing.TB) *docker.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cli, err := docker.Connect(ctx, "")
	if err != nil {
		t.Fatalf("this test needs a real Docker engine: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// Project returns a project name unique to this test run, and removes
// every container and record labeled with it, its lock and record containers, its
// network <project>-net and its images when the test ends.
func Project(t testing.TB, cli *docker.Client) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	project := "gltest-" + hex.EncodeToString(b)
	t.Cleanup(func() { Cleanup(cli, project) })
	return project
}

// Cleanup removes what a test project left on the engine.
func Cleanup(cli *docker.Client, project string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cts, _ := cli.List(ctx, map[string]string{"io.golive.project": project})
	for _, c := range cts {
		cli.Remove(ctx, c.ID)
	}
	records, _ := cli.Records(ctx, map[string]string{"io.golive.project": project})
	for _, r := range records {
		cli.RemoveRecord(ctx, r.Name)
	}
	cli.RemoveNetwork(ctx, project+"-net")
	cli.Remove(ctx, "golive-lock-"+project)
	cli.Remove(ctx, "golive-record-"+project)
	for _, ref := range []string{"api:1", "api:2", "web:1", "web:2", "api:3"} {
		cli.RemoveImage(ctx, ImageRef(project, ref))
	}
}

// ImageRef is the name of a test image that belongs to project.
func ImageRef(project, nameTag string) string { return "golive-test/" + project + "-" + nameTag }

var (
	buildOnce sync.Once
	binary    []byte
	buildErr  error
)

// DemoBinary builds the demo service (examples/demo/app) once per test process.
func DemoBinary(t testing.TB) []byte {
	t.Helper()
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "golive-demo-")
		if err != nil {
			buildErr = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "app")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./examples/demo/app")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if msg, err := cmd.CombinedOutput(); err != nil {
			buildErr = &buildError{msg: string(msg), err: err}
			return
		}
		binary, buildErr = os.ReadFile(out)
	})
	if buildErr != nil {
		t.Fatalf("build the demo service: %v", buildErr)
	}
	return binary
}

type buildError struct {
	msg string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.msg }

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// DemoTarball writes the demo service, with cfg baked in, as image ref into
// a `docker save` tarball in the test's temporary folder and returns its path.
func DemoTarball(t testing.TB, ref string, cfg scratch.Config) string {
	t.Helper()
	img, err := scratch.Image(DemoBinary(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "image.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := scratch.WriteTarball(f, map[string]v1.Image{ref: img}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// LoadDemoImage builds a demo service image with cfg baked in, loads it
// into the engine as ref and returns its image ID.
func LoadDemoImage(t testing.TB, cli *docker.Client, ref string, cfg scratch.Config) string {
	t.Helper()
	path := DemoTarball(t, ref, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := cli.Load(ctx, path); err != nil {
		t.Fatal(err)
	}
	id, err := cli.ImageID(ctx, ref)
	if err != nil || id == "" {
		t.Fatalf("image %s not loaded: %v", ref, err)
	}
	return id
}

// FreePort returns a TCP port that nothing listens on now and that no other
// test, in this process or another one, is given while this process runs.
// Ports the kernel hands out for :0 are also its ephemeral ports: another
// test was given the same one (CI: "port is already allocated"), and any
// outgoing connection may take it before a container publishes it. So the
// port is drawn below the ephemeral range and reserved with a lock on a
// file that the kernel releases when the process ends.
func FreePort(t testing.TB) int {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "golive-test-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	low := ephemeralLow()
	for range 1000 {
		b := make([]byte, 2)
		rand.Read(b)
		port := 10000 + (int(b[0])<<8|int(b[1]))%(low-10000)
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			t.Fatal(err)
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close()
			continue
		}
		l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err != nil {
			f.Close()
			continue
		}
		l.Close()
		heldPorts.Lock()
		heldPorts.files = append(heldPorts.files, f) // held until the process ends
		heldPorts.Unlock()
		return port
	}
	t.Fatal("no free TCP port below the ephemeral range after 1000 tries")
	return 0
}

// heldPorts keeps the lock files of the ports FreePort gave out open.
var heldPorts struct {
	sync.Mutex
	files []*os.File
}

// ephemeralLow is the first port of the kernel's ephemeral range.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	if fields := strings.Fields(string(b)); len(fields) == 2 {
		if n, err := strconv.Atoi(fields[0]); err == nil && n > 11000 {
			return n
		}
	}
	return 32768
}

// Registry starts an in-process registry on 127.0.0.1 and returns its host:port.
func Registry(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// Push builds a demo image and pushes it to a registry as ref.
func Push(t testing.TB, ref string, cfg scratch.Config) {
	t.Helper()
	img, err := scratch.Image(DemoBinary(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

// LongLivedGoroutines are the goroutines that outlive a test by design, for
// goleak: the Docker client's idle HTTP connections to the engine.
func LongLivedGoroutines() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	}
}
