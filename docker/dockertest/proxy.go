package dockertest

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/scratch"
)

var (
	proxyOnce sync.Once
	proxyErr  error
)

// ProxyImage builds kamal-proxy at the version go.mod pins into the image
// `make proxy-image` makes (scratch.ProxyRef), loads it into the engine
// once per test process, and returns its reference. The image is shared
// with `make proxy-image` and left on the engine.
func ProxyImage(t testing.TB, cli *docker.Client) string {
	t.Helper()
	proxyOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			proxyErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		path := filepath.Join(t.TempDir(), "kamal-proxy.tar")
		if proxyErr = scratch.WriteProxyTarball(ctx, root, path); proxyErr != nil {
			return
		}
		_, proxyErr = cli.Load(ctx, path)
	})
	if proxyErr != nil {
		t.Fatalf("build the kamal-proxy image: %v", proxyErr)
	}
	return scratch.ProxyRef
}

// Proxy starts a kamal-proxy container of its own for this test, named
// <project>-proxy on the network <project>-net (so it never meets a real
// golive-proxy), publishing ports; Cleanup(cli, project) removes both.
func Proxy(t testing.TB, cli *docker.Client, project string, ports ...docker.Port) (*docker.Proxy, docker.ProxySpec) {
	t.Helper()
	spec := docker.ProxySpec{Name: project + "-proxy", Image: ProxyImage(t, cli), Network: project + "-net", Ports: ports}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cli.Remove(ctx, spec.Name)
		cli.RemoveNetwork(ctx, spec.Network)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := cli.EnsureProxy(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	return p, spec
}
