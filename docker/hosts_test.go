package docker_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/dockertest/engines"
	"github.com/golive/golive/docker/scratch"
)

// hostEngines is how many extra engines this package's tests share.
const hostEngines = 3

func TestMain(m *testing.M) { engines.Main(m) }

func TestConnectHostSaysWhatIsWrongWithAHostURL(t *testing.T) {
	certs := t.TempDir()
	tests := []struct {
		name, url string
		opts      docker.HostOptions
		err       string
	}{
		{name: "no scheme", url: "10.0.0.12:2376", err: "not a URL; write unix:///path/docker.sock, tcp://HOST:PORT or ssh://USER@HOST"},
		{name: "unknown scheme", url: "http://10.0.0.12", err: `scheme "http" is not supported; use unix://, tcp:// or ssh://`},
		{name: "unix without a path", url: "unix://", err: "a unix socket needs an absolute path"},
		{name: "tcp without a host", url: "tcp://:2375", err: "tcp:// needs a host name or address"},
		{name: "tcp with a path", url: "tcp://app1:2375/v1.41", err: "write tcp://HOST:PORT, without user, path or query"},
		{name: "certificates on a unix socket", url: "unix:///var/run/docker.sock", opts: docker.HostOptions{CertDir: certs}, err: "TLS certificates apply to tcp:// hosts only"},
		{name: "a certificate folder without ca.pem", url: "tcp://app1", opts: docker.HostOptions{CertDir: certs}, err: "needs ca.pem, cert.pem and key.pem"},
		{name: "ssh with a password", url: "ssh://deploy:secret@app1", err: "plain-text password is not supported"},
		{name: "ssh with a query", url: "ssh://deploy@app1?x=1", err: "query parameters are not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cli, err := docker.ConnectHost(context.Background(), tt.url, tt.opts)
			if err == nil {
				cli.Close()
				t.Fatalf("%s connected", tt.url)
			}
			if !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error = %v, want it to say %q", err, tt.err)
			}
		})
	}
}

func TestConnectTakesAnSSHHostFromThePlanOrDockerHost(t *testing.T) {
	for _, tt := range []struct{ host, env string }{
		{host: "ssh://deploy:secret@app1"},
		{env: "ssh://deploy:secret@app1"},
	} {
		t.Setenv("DOCKER_HOST", tt.env)
		_, err := docker.Connect(context.Background(), tt.host)
		if err == nil || !strings.Contains(err.Error(), "docker host ssh://deploy:xxxxx@app1: ssh host connection is not valid") {
			t.Fatalf("host %q, DOCKER_HOST %q: error = %v, want the ssh connection helper's", tt.host, tt.env, err)
		}
	}
}

func TestConnectHostNamesAnEngineThatDoesNotAnswer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "unix://" + filepath.Join(t.TempDir(), "docker.sock")
	_, err := docker.ConnectHost(ctx, url, docker.HostOptions{})
	if err == nil || !strings.Contains(err.Error(), "cannot reach the Docker engine at "+url) {
		t.Fatalf("error = %v, want it to name %s", err, url)
	}
}

// TestScratchContainerRunsOnEachOfThreeEnginesByTCP needs root: it starts
// three extra engines (docker/dockertest/engines), runs the demo service on
// each through its tcp:// URL, and reaches its published port at that
// engine's address from the host.
func TestScratchContainerRunsOnEachOfThreeEnginesByTCP(t *testing.T) {
	set := engines.Get(t, hostEngines)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ref := "golive-test/hosts-api:1"
	loadDemoImage(t, set, ref, []string{"VERSION=1"})
	var wg sync.WaitGroup
	for _, e := range set.Engines {
		wg.Go(func() {
			cli, err := docker.ConnectHost(ctx, e.TCP(), docker.HostOptions{})
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(func() { cli.Close() })
			if cli.Host() != e.TCP() {
				t.Errorf("Host() = %s, want %s", cli.Host(), e.TCP())
			}
			project := dockertest.Project(t, cli)
			id, err := cli.Create(ctx, docker.Spec{
				Name: project + "-api", Image: ref,
				Ports:  []docker.Port{{HostPort: "18080", ContainerPort: "8080", Proto: "tcp"}},
				Labels: map[string]string{"io.golive.project": project},
			})
			if err == nil {
				err = cli.Start(ctx, id)
			}
			if err != nil {
				t.Errorf("%s: %v", e.Name, err)
				return
			}
			if body, err := getWithin(fmt.Sprintf("http://%s:18080/version", e.Addr)); err != nil || body != "1\n" {
				t.Errorf("%s: version = %q, %v; want 1", e.Name, body, err)
			}
			if err := cli.Remove(ctx, id); err != nil {
				t.Errorf("%s: remove: %v", e.Name, err)
			}
			if ct, err := cli.Inspect(ctx, project+"-api"); err != nil || ct != nil {
				t.Errorf("%s: after remove: %+v, %v", e.Name, ct, err)
			}
		})
	}
	wg.Wait()
}

// TestConnectHostOverSSHReachesTheEngineInTheURLOrInDockerHost needs root
// and OpenSSH's sshd: through a private sshd on 127.0.0.1, an ssh:// URL
// with a socket path reaches that engine, and one without reaches the
// engine that sshd's SetEnv DOCKER_HOST names.
func TestConnectHostOverSSHReachesTheEngineInTheURLOrInDockerHost(t *testing.T) {
	set := engines.Get(t, hostEngines)
	e1, e2 := set.Engines[0], set.Engines[1]
	sshd := dockertest.StartSSHD(t, e2.Unix())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for url, want := range map[string]string{
		sshd.URL + e1.Socket(): e1.Name,
		sshd.URL:               e2.Name,
	} {
		cli, err := docker.ConnectHost(ctx, url, docker.HostOptions{SSHFlags: sshd.Flags})
		if err != nil {
			t.Fatal(err)
		}
		name, err := cli.EngineName(ctx)
		cli.Close()
		if err != nil || name != want {
			t.Fatalf("%s reached engine %q (%v), want %q", url, name, err, want)
		}
	}
}

// TestConnectHostSpeaksTLSWithACertificateFolder needs root: it starts an
// engine that requires TLS client certificates and reaches it with the
// folder's ca.pem, cert.pem and key.pem (port 2376 by default), and not
// without them.
func TestConnectHostSpeaksTLSWithACertificateFolder(t *testing.T) {
	if err := engines.Available(); err != nil {
		t.Skip(err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	set, err := engines.Start(ctx, engines.Config{Count: 1, Prefix: engines.TestPrefix, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Stop()
	e := set.Engines[0]
	for _, url := range []string{e.TCP(), "tcp://" + e.Addr} {
		cli, err := docker.ConnectHost(ctx, url, docker.HostOptions{CertDir: set.CertDir})
		if err != nil {
			t.Fatal(err)
		}
		name, err := cli.EngineName(ctx)
		cli.Close()
		if err != nil || name != e.Name {
			t.Fatalf("%s reached engine %q (%v), want %q", url, name, err, e.Name)
		}
	}
	cli, err := docker.ConnectHost(ctx, e.TCP(), docker.HostOptions{})
	if err == nil {
		cli.Close()
		t.Fatalf("%s answered without client certificates", e.TCP())
	}
	t.Log(err)
}

// BenchmarkConnectHost measures opening one client per engine (connect,
// negotiate the API version, one Info call) by tcp:// and ssh://, and what
// each open connection costs in goroutines and heap, next to the docker
// CLI doing the same (`docker -H URL info`) as the floor.
func BenchmarkConnectHost(b *testing.B) {
	set := engines.Get(b, hostEngines)
	sshd := dockertest.StartSSHD(b, "")
	urls := map[string]func(e *engines.Engine) string{
		"tcp": func(e *engines.Engine) string { return e.TCP() },
		"ssh": func(e *engines.Engine) string { return sshd.URL + e.Socket() },
	}
	for _, scheme := range []string{"tcp", "ssh"} {
		url := urls[scheme]
		b.Run("golive/"+scheme, func(b *testing.B) {
			ctx := context.Background()
			var open []*docker.Client
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			goroutines := runtime.NumGoroutine()
			for i := 0; b.Loop(); i++ {
				cli, err := docker.ConnectHost(ctx, url(set.Engines[i%len(set.Engines)]), docker.HostOptions{SSHFlags: sshd.Flags})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := cli.EngineName(ctx); err != nil {
					b.Fatal(err)
				}
				open = append(open, cli)
			}
			b.StopTimer()
			var after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(runtime.NumGoroutine()-goroutines)/float64(len(open)), "goroutines/host")
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(len(open)), "heap-B/host")
			for _, cli := range open {
				cli.Close()
			}
		})
		b.Run("docker-cli/"+scheme, func(b *testing.B) {
			if _, err := exec.LookPath("docker"); err != nil {
				b.Skip("the floor needs the docker CLI")
			}
			for i := 0; b.Loop(); i++ {
				e := set.Engines[i%len(set.Engines)]
				info := []string{"docker", "-H", url(e), "info", "--format", "{{.Name}}"}
				if scheme == "ssh" {
					info = append(append(append([]string{"ssh", "-p", sshd.Port}, sshd.Flags...), sshd.User+"@127.0.0.1", "docker", "-H", e.Unix()), info[3:]...)
				}
				if out, err := exec.Command(info[0], info[1:]...).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != e.Name {
					b.Fatalf("%s: %v: %s", strings.Join(info, " "), err, out)
				}
			}
		})
	}
}

// getWithin GETs url until it answers or a minute passes, and returns the body.
func getWithin(url string) (string, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b), err
		}
		if time.Now().After(deadline) {
			return "", err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// loadDemoImage builds the demo service image with env once and loads it
// into every engine of set.
func loadDemoImage(t *testing.T, set *engines.Set, ref string, env []string) {
	t.Helper()
	path := dockertest.DemoTarball(t, ref, scratch.Config{Env: env})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := set.LoadTarball(ctx, path); err != nil {
		t.Fatal(err)
	}
}
