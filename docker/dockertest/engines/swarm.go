package engines

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/scratch"
)

// Swarm is a Docker Swarm made of a Set's engines: engine 1 is the only
// manager, the others are workers. The engines start with
// DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1, so a service whose image is loaded
// on every node runs without a registry.
type Swarm struct {
	*Set
	// Manager is engine 1; services are created through it.
	Manager *Engine
	// AddrPool is the swarm's default address pool for overlay networks,
	// 10.S.128.0/17, the part of the slot's range the engines leave free.
	AddrPool netip.Prefix
	// FormTime is how long init and joins took.
	FormTime time.Duration
}

// FormSwarm makes the set's engines one swarm: init on engine 1 on its
// switch address, then every other engine joins as a worker, in parallel.
// The swarm ends with the engines (Set.Stop); LeaveSwarm undoes it earlier.
func (s *Set) FormSwarm(ctx context.Context) (*Swarm, error) {
	began := time.Now()
	sw := &Swarm{Set: s, Manager: s.Engines[0], AddrPool: netip.MustParsePrefix(fmt.Sprintf("10.%d.128.0/17", s.Slot))}
	mgr, err := apiClient(ctx, sw.Manager)
	if err != nil {
		return nil, err
	}
	defer mgr.Close()
	listen := net.JoinHostPort(sw.Manager.Addr, "2377")
	if _, err := mgr.SwarmInit(ctx, client.SwarmInitOptions{
		ListenAddr:      listen,
		AdvertiseAddr:   sw.Manager.Addr,
		DefaultAddrPool: []netip.Prefix{sw.AddrPool},
		SubnetSize:      24,
		Spec:            swarm.Spec{Annotations: swarm.Annotations{Name: "default"}},
	}); err != nil {
		return nil, fmt.Errorf("engines: swarm init on %s: %w", sw.Manager.Name, err)
	}
	info, err := mgr.SwarmInspect(ctx, client.SwarmInspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("engines: swarm inspect on %s: %w", sw.Manager.Name, err)
	}
	errs := make([]error, len(s.Engines))
	var wg sync.WaitGroup
	for i, e := range s.Engines[1:] {
		wg.Go(func() {
			cli, err := apiClient(ctx, e)
			if err != nil {
				errs[i] = err
				return
			}
			defer cli.Close()
			if _, err := cli.SwarmJoin(ctx, client.SwarmJoinOptions{
				ListenAddr:    net.JoinHostPort(e.Addr, "2377"),
				AdvertiseAddr: e.Addr,
				RemoteAddrs:   []string{listen},
				JoinToken:     info.Swarm.JoinTokens.Worker,
			}); err != nil {
				errs[i] = fmt.Errorf("engines: %s joins the swarm: %w", e.Name, err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := sw.waitReady(ctx, mgr); err != nil {
		return nil, err
	}
	sw.FormTime = time.Since(began)
	return sw, nil
}

// waitReady waits until the manager sees every node ready.
func (sw *Swarm) waitReady(ctx context.Context, mgr *client.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		res, err := mgr.NodeList(ctx, client.NodeListOptions{})
		ready := 0
		if err == nil {
			for _, n := range res.Items {
				if n.Status.State == swarm.NodeStateReady {
					ready++
				}
			}
			if ready == len(sw.Engines) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("engines: %d of %d swarm nodes ready: %v", ready, len(sw.Engines), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// LeaveSwarm makes every engine leave the swarm (forced), workers first.
func (sw *Swarm) LeaveSwarm(ctx context.Context) error {
	var errs []error
	for i := len(sw.Engines) - 1; i >= 0; i-- {
		cli, err := apiClient(ctx, sw.Engines[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := cli.SwarmLeave(ctx, client.SwarmLeaveOptions{Force: true}); err != nil {
			errs = append(errs, fmt.Errorf("engines: %s leaves the swarm: %w", sw.Engines[i].Name, err))
		}
		cli.Close()
	}
	return errors.Join(errs...)
}

// apiClient connects to e's socket with the API version it speaks.
func apiClient(ctx context.Context, e *Engine) (*client.Client, error) {
	cli, err := client.New(client.WithHost(e.Unix()))
	if err != nil {
		return nil, fmt.Errorf("engines: %s: %w", e.Name, err)
	}
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		cli.Close()
		return nil, fmt.Errorf("engines: %s: %w", e.Name, err)
	}
	return cli, nil
}

var sharedSwarm struct {
	once sync.Once
	sw   *Swarm
	err  error
}

// GetSwarm returns the swarm of this test binary's shared engines (Get),
// forming it on first use; count is the number of nodes. Like Get it skips
// the test when engines cannot run here, and the engines' end (Main or
// Wrap) ends the swarm.
func GetSwarm(t testing.TB, count int) *Swarm {
	t.Helper()
	set := Get(t, count)
	sharedSwarm.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sharedSwarm.sw, sharedSwarm.err = set.FormSwarm(ctx)
	})
	if sharedSwarm.err != nil {
		t.Fatalf("form a swarm of %d engines: %v", count, sharedSwarm.err)
	}
	return sharedSwarm.sw
}

// LoadDemoImages builds the demo service as each ref with its config,
// loads them into every node in one tarball and returns their image IDs
// by ref. An image ID is the same on every node and pins a service to
// these bytes without a registry.
func (sw *Swarm) LoadDemoImages(t testing.TB, images map[string]scratch.Config) map[string]string {
	t.Helper()
	imgs := make(map[string]v1.Image, len(images))
	ids := make(map[string]string, len(images))
	for ref, cfg := range images {
		img, err := scratch.Image(dockertest.DemoBinary(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		id, err := img.ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		imgs[ref], ids[ref] = img, id.String()
	}
	path := filepath.Join(t.TempDir(), "images.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := scratch.WriteTarball(f, imgs); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := sw.LoadTarball(ctx, path); err != nil {
		t.Fatal(err)
	}
	cli, err := docker.ConnectHost(ctx, sw.Manager.Unix(), docker.HostOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	for ref, id := range ids {
		if got, err := cli.ImageID(ctx, ref); err != nil || got != id {
			t.Fatalf("image %s on %s has ID %q (%v), want %s", ref, sw.Manager.Name, got, err, id)
		}
	}
	return ids
}
