package engines_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/dockertest/engines"
	"github.com/golive/golive/docker/scratch"
)

func TestMain(m *testing.M) { engines.Main(m) }

func TestEachEngineAnswersOnItsAddressAndSocketUnderItsOwnName(t *testing.T) {
	set := engines.Get(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seen := map[string]bool{}
	for _, e := range set.Engines {
		for _, url := range []string{e.TCP(), e.Unix()} {
			cli, err := docker.ConnectHost(ctx, url, docker.HostOptions{})
			if err != nil {
				t.Fatal(err)
			}
			name, err := cli.EngineName(ctx)
			cli.Close()
			if err != nil || name != e.Name {
				t.Fatalf("%s: engine name %q, %v; want %q", url, name, err, e.Name)
			}
		}
		if seen[e.Addr] {
			t.Fatalf("two engines at %s", e.Addr)
		}
		seen[e.Addr] = true
		mem, err := e.Memory()
		if err != nil || mem == 0 {
			t.Fatalf("%s memory = %d, %v", e.Name, mem, err)
		}
		t.Logf("%s at %s: started in %s, %d MB resident", e.Name, e.TCP(), e.StartTime.Round(time.Millisecond), mem>>20)
	}
}

// TestCleanRemovesWhatACrashedRunLeftAndSparesARunningOne starts a second
// set next to the shared one, runs a container on it, SIGKILLs its dockerd
// and abandons the set, as an OOM kill and a killed test binary would; Clean
// must remove the orphaned container, its cgroups, the namespaces and the
// files, while the shared set, whose owner is alive, keeps running.
func TestCleanRemovesWhatACrashedRunLeftAndSparesARunningOne(t *testing.T) {
	shared := engines.Get(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	crashed, err := engines.Start(ctx, engines.Config{Count: 1, Prefix: "gltx"})
	if err != nil {
		t.Fatal(err)
	}
	if crashed.Slot == shared.Slot {
		t.Fatalf("two running sets share slot %d", crashed.Slot)
	}
	e := crashed.Engines[0]
	if err := crashed.LoadTarball(ctx, dockertest.DemoTarball(t, "golive-test/crash:1", scratch.Config{})); err != nil {
		t.Fatal(err)
	}
	cli, err := docker.ConnectHost(ctx, e.Unix(), docker.HostOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := cli.Create(ctx, docker.Spec{Name: "orphan", Image: "golive-test/crash:1"})
	if err == nil {
		err = cli.Start(ctx, id)
	}
	cli.Close()
	if err != nil {
		t.Fatal(err)
	}
	cgroups := containerCgroups(t, id)
	pid, err := os.ReadFile(filepath.Join(e.Dir, "docker.pid"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("kill", "-KILL", strings.TrimSpace(string(pid))).CombinedOutput(); err != nil {
		t.Fatalf("kill dockerd: %v %s", err, out)
	}
	crashed.Abandon()
	if err := engines.Clean("gltx", ""); err != nil {
		t.Fatal(err)
	}
	for _, path := range append(cgroups, "/run/netns/"+e.Namespace, fmt.Sprintf("/run/netns/gltx%dsw", crashed.Slot), fmt.Sprintf("/sys/class/net/gltx%dh", crashed.Slot), e.Dir) {
		if _, err := os.Stat(path); err == nil {
			t.Errorf("%s is left after Clean", path)
		}
	}
	if err := engines.Clean(engines.TestPrefix, ""); err != nil {
		t.Fatal(err)
	}
	cli, err = docker.ConnectHost(ctx, shared.Engines[0].TCP(), docker.HostOptions{})
	if err != nil {
		t.Fatalf("Clean broke a running set: %v", err)
	}
	cli.Close()
}

// containerCgroups finds the running container id's process and returns
// its cgroup folders, one per hierarchy.
func containerCgroups(t *testing.T, id string) []string {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cgroup")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), id) {
			continue
		}
		var dirs []string
		for line := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
			parts := strings.SplitN(line, ":", 3)
			controller := strings.TrimPrefix(strings.Split(parts[1], ",")[0], "name=")
			dir := filepath.Join("/sys/fs/cgroup", controller, parts[2])
			if _, err := os.Stat(dir); err == nil {
				dirs = append(dirs, dir)
			}
		}
		if len(dirs) == 0 {
			t.Fatalf("container %s runs in no cgroup folder found under /sys/fs/cgroup: %s", id, b)
		}
		return dirs
	}
	t.Fatalf("no process of container %s", id)
	return nil
}

// BenchmarkStartLoadAndStopThreeEngines measures what the fixture costs a
// test binary: starting three engines in parallel, loading the demo image
// (≈6 MB) into all of them, the memory each takes idle, and stopping them.
func BenchmarkStartLoadAndStopThreeEngines(b *testing.B) {
	if err := engines.Available(); err != nil {
		b.Skip(err.Error())
	}
	tarball := dockertest.DemoTarball(b, "golive-test/bench:1", scratch.Config{})
	ctx := context.Background()
	var start, load, stop time.Duration
	var memory int64
	runs := 0
	for b.Loop() {
		began := time.Now()
		set, err := engines.Start(ctx, engines.Config{Count: 3, Prefix: "glb"})
		if err != nil {
			b.Fatal(err)
		}
		start += time.Since(began)
		began = time.Now()
		if err := set.LoadTarball(ctx, tarball); err != nil {
			b.Fatal(err)
		}
		load += time.Since(began)
		for _, e := range set.Engines {
			m, _ := e.Memory()
			memory += m
		}
		began = time.Now()
		if err := set.Stop(); err != nil {
			b.Fatal(err)
		}
		stop += time.Since(began)
		runs++
	}
	b.ReportMetric(start.Seconds()/float64(runs), "start-s")
	b.ReportMetric(load.Seconds()/float64(runs), "load-s")
	b.ReportMetric(stop.Seconds()/float64(runs), "stop-s")
	b.ReportMetric(float64(memory)/float64(3*runs)/(1<<20), "MB/engine")
}
