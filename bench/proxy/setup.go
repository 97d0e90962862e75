package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/golive/golive/bench/benchkit"
	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/scratch"
	"github.com/golive/golive/plans"
)

// planYAML is the measured service: with proxy: (blue/green, the old
// version warm for 10 minutes) or without (stop-first), the same gate.
const planYAML = `project: %s
release: "%s"
on_failure: revert
%sservices:
  web:
    image: %s
    %s
    health: {http: "http://%s/health", timeout: 30s, stable: 500ms, interval: 100ms}
`

const proxyYAML = `proxy:
  ports: ["127.0.0.1:%d:80"]
  image: %s
  container: %s
  network: %s
`

func setup(ctx context.Context) (*bench, error) {
	cli, err := docker.Connect(ctx, "")
	if err != nil {
		return nil, err
	}
	idb := make([]byte, 3)
	rand.Read(idb)
	dir, err := os.MkdirTemp("", "golive-bench-proxy-")
	if err != nil {
		return nil, err
	}
	b := &bench{id: "glbproxy-" + hex.EncodeToString(idb), dir: dir, cli: cli, images: map[string]string{}, plans: map[string]string{}, raw: map[string]string{}}
	b.state = filepath.Join(dir, "state")
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
	proxyTar := filepath.Join(dir, "kamal-proxy.tar")
	if err := scratch.WriteProxyTarball(ctx, root, proxyTar); err != nil {
		return b, err
	}
	if _, err := cli.Load(ctx, proxyTar); err != nil {
		return b, err
	}
	ports, err := benchkit.FreePorts(3)
	if err != nil {
		return b, err
	}
	b.ports.proxy, b.ports.direct, b.ports.raw = ports[0], ports[1], ports[2]
	spec := docker.ProxySpec{Name: b.id + "-proxy", Image: scratch.ProxyRef, Network: b.id + "-net",
		Ports: []docker.Port{{HostIP: "127.0.0.1", HostPort: strconv.Itoa(b.ports.proxy), ContainerPort: "80", Proto: "tcp"}}}
	if b.proxy, err = cli.EnsureProxy(ctx, spec); err != nil {
		return b, err
	}
	proxy := fmt.Sprintf(proxyYAML, b.ports.proxy, spec.Image, spec.Name, spec.Network)
	for _, v := range []string{"1", "2"} {
		bg := fmt.Sprintf(planYAML, b.id, v, proxy, b.images[v], "proxy: {port: 8080, health: /health, drain: 2s, keep_warm: 10m}", "localhost:8080")
		sf := fmt.Sprintf(planYAML, b.id+"-sf", v, "", b.images[v], fmt.Sprintf(`ports: ["127.0.0.1:%d:8080"]`, b.ports.direct), fmt.Sprintf("127.0.0.1:%d", b.ports.direct))
		for key, text := range map[string]string{"bg" + v: bg, "sf" + v: sf} {
			path := filepath.Join(dir, key+".yaml")
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				return b, err
			}
			b.plans[key] = path
		}
	}
	if err := b.rawContainers(ctx, spec.Network); err != nil {
		return b, err
	}
	// Version 1 runs everywhere before the first round.
	for _, key := range []string{"bg1", "sf1"} {
		if err := b.apply(ctx, key); err != nil {
			return b, fmt.Errorf("deploy version 1 (%s): %w", key, err)
		}
	}
	if err := b.switchTo(ctx, b.raw["switch1"]); err != nil {
		return b, err
	}
	if err := b.cli.Start(ctx, b.raw["start1"]); err != nil {
		return b, err
	}
	return b, waitVersion(ctx, fmt.Sprintf("http://127.0.0.1:%d/version", b.ports.raw), "1")
}

// rawContainers creates the floors' containers: versions 1 and 2 running
// on the proxy's network, and versions 1 and 2 publishing the same port,
// of which one runs at a time.
func (b *bench) rawContainers(ctx context.Context, network string) error {
	labels := map[string]string{plans.LabelProject: b.id}
	for _, v := range []string{"1", "2"} {
		id, err := b.cli.Create(ctx, docker.Spec{Name: b.id + "-switch-" + v, Image: b.images[v], Network: network, Labels: labels})
		if err != nil {
			return err
		}
		if err := b.cli.Start(ctx, id); err != nil {
			return err
		}
		b.raw["switch"+v] = id
		if b.raw["start"+v], err = b.cli.Create(ctx, docker.Spec{Name: b.id + "-start-" + v, Image: b.images[v], Labels: labels, StopTimeout: 10,
			Ports: []docker.Port{{HostIP: "127.0.0.1", HostPort: strconv.Itoa(b.ports.raw), ContainerPort: "8080", Proto: "tcp"}}}); err != nil {
			return err
		}
	}
	return nil
}

// switchTo sends the floor's traffic to container id with one exec of
// `kamal-proxy deploy`, as golive's switch does.
func (b *bench) switchTo(ctx context.Context, id string) error {
	return b.proxy.Deploy(ctx, "floor", docker.ProxyDeploy{Target: docker.ShortID(id) + ":8080", Hosts: []string{"floor.invalid"},
		HealthPath: "/health", HealthInterval: 200 * time.Millisecond, DrainTimeout: 2 * time.Second})
}

// engine loads a plan and makes an engine that journals like the CLI.
func (b *bench) engine(key string) (*plans.Engine, func(), error) {
	p, err := plans.Load(b.plans[key])
	if err != nil {
		return nil, nil, err
	}
	j, err := plans.CreateJournal(b.state, p.Project, p.Release, time.Now())
	if err != nil {
		return nil, nil, err
	}
	e := plans.NewEngine(p, plans.Options{Docker: b.cli, Journal: j, StateDir: b.state, Actor: "bench@golive"})
	return e, func() { e.Close(); j.Close() }, nil
}

func (b *bench) apply(ctx context.Context, key string) error {
	e, done, err := b.engine(key)
	if err != nil {
		return err
	}
	defer done()
	return e.Apply(ctx)
}

func (b *bench) revert(ctx context.Context, key string) error {
	e, done, err := b.engine(key)
	if err != nil {
		return err
	}
	defer done()
	return e.Revert(ctx)
}

// loadImages builds the demo service's image FROM scratch, versions 1 and
// 2, and loads them into the engine.
func (b *bench) loadImages(ctx context.Context, app string) error {
	binary, err := os.ReadFile(app)
	if err != nil {
		return err
	}
	all := map[string]v1.Image{}
	for _, version := range []string{"1", "2"} {
		ref := "golive-bench/" + b.id + "-web:" + version
		img, err := scratch.Image(binary, scratch.Config{Env: []string{"VERSION=" + version, "ROLE=web", "LOG_EVERY=1s"}})
		if err != nil {
			return err
		}
		all[ref] = img
		b.images[version] = ref
	}
	path, err := benchkit.Tarball(b.dir, all)
	if err != nil {
		return err
	}
	_, err = b.cli.Load(ctx, path)
	return err
}

// cleanup removes every container, network and image of the run (the
// kamal-proxy image stays, shared with `make proxy-image`).
func (b *bench) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, project := range []string{b.id, b.id + "-sf"} {
		cts, _ := b.cli.List(ctx, map[string]string{plans.LabelProject: project})
		for _, c := range cts {
			b.cli.Remove(ctx, c.ID)
		}
		b.cli.Remove(ctx, "golive-lock-"+project)
		records, _ := b.cli.Records(ctx, map[string]string{plans.LabelProject: project})
		for _, r := range records {
			b.cli.RemoveRecord(ctx, r.Name)
		}
	}
	b.cli.Remove(ctx, b.id+"-proxy")
	b.cli.RemoveNetwork(ctx, b.id+"-net")
	for _, ref := range b.images {
		b.cli.RemoveImage(ctx, ref)
	}
	b.cli.Close()
	os.RemoveAll(b.dir)
}
