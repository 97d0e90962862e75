package plans_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/dockertest/engines"
	"github.com/golive/golive/docker/scratch"
	"github.com/golive/golive/plans"
)

// TestHostsOverSSHAndTCPApplyAndRevert deploys one plan to host a, reached
// by ssh:// through a private sshd whose sessions run the docker CLI
// against the first test engine, and to host b by tcp://; then reverts
// both.
func TestHostsOverSSHAndTCPApplyAndRevert(t *testing.T) {
	set := engines.Get(t, 2)
	ea, eb := set.Engines[0], set.Engines[1]
	sshd := dockertest.StartSSHD(t, ea.Unix())
	b := make([]byte, 4)
	rand.Read(b)
	project := "glssh-" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	clients := map[string]*docker.Client{}
	for name, url := range map[string]string{"a": sshd.URL, "b": eb.TCP()} {
		cli, err := docker.ConnectHost(ctx, url, docker.HostOptions{SSHFlags: sshd.Flags})
		if err != nil {
			t.Fatal(err)
		}
		clients[name] = cli
		t.Cleanup(func() { dockertest.Cleanup(cli, project); cli.Close() })
	}
	if name, err := clients["a"].EngineName(ctx); err != nil || name != ea.Name {
		t.Fatalf("host a reaches engine %q (%v), want %q", name, err, ea.Name)
	}
	image := func(v string) string { return dockertest.ImageRef(project, "api:"+v) }
	for _, v := range []string{"1", "2"} {
		if err := set.LoadTarball(ctx, dockertest.DemoTarball(t, image(v), scratch.Config{Env: []string{"VERSION=" + v, "ROLE=api"}})); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	state := filepath.Join(dir, ".golive")
	engine := func(v string) *plans.Engine {
		path := filepath.Join(dir, "plan-"+v+".yaml")
		text := fmt.Sprintf(`project: %s
release: "%s"
hosts:
  a: {url: %q, address: %s}
  b: %s
services:
  api:
    image: %s
    ports: ["8080:8080"]
    health: {http: "http://{host}:8080/health", timeout: 6s, stable: 200ms, interval: 100ms}
`, project, v, sshd.URL, ea.Addr, eb.TCP(), image(v))
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := plans.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		e := plans.NewEngine(p, plans.Options{Hosts: map[string]plans.Docker{"a": clients["a"], "b": clients["b"]}, StateDir: state, Actor: "tester@ci"})
		t.Cleanup(e.Close)
		return e
	}
	running := func() map[string]string {
		out := map[string]string{}
		for name, c := range clients {
			ct, err := c.Inspect(ctx, project+"-api")
			if err != nil {
				t.Fatal(err)
			}
			out[name] = "missing"
			if ct != nil {
				out[name] = ct.Image + " " + ct.State
			}
		}
		return out
	}
	both := func(v string) map[string]string {
		return map[string]string{"a": image(v) + " running", "b": image(v) + " running"}
	}
	for _, v := range []string{"1", "2"} {
		if err := engine(v).Apply(ctx); err != nil {
			t.Fatalf("apply v%s: %v", v, err)
		}
		if got := running(); !equalMaps(got, both(v)) {
			t.Fatalf("after apply v%s: %v", v, got)
		}
	}
	if err := engine("2").Revert(ctx); err != nil {
		t.Fatal(err)
	}
	if got := running(); !equalMaps(got, both("1")) {
		t.Fatalf("after the revert both hosts run v1: %v", got)
	}
}
