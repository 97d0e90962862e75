package engines_test

import (
	"context"
	"testing"
	"time"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/golive/golive/docker/dockertest/engines"
)

// TestSwarmOfThreeEnginesHasOneManagerAndTwoReadyWorkers needs root: the
// shared engines form a swarm whose manager advertises its switch address
// and hands out overlay subnets from the slot's reserved 10.S.128.0/17.
func TestSwarmOfThreeEnginesHasOneManagerAndTwoReadyWorkers(t *testing.T) {
	sw := engines.GetSwarm(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli, err := client.New(client.WithHost(sw.Manager.TCP()))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		t.Fatal(err)
	}
	nodes, err := cli.NodeList(ctx, client.NodeListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]swarm.NodeRole{}
	for _, n := range nodes.Items {
		if n.Status.State != swarm.NodeStateReady {
			t.Errorf("node %s is %s", n.Description.Hostname, n.Status.State)
		}
		roles[n.Description.Hostname] = n.Spec.Role
	}
	for i, e := range sw.Engines {
		want := swarm.NodeRoleWorker
		if i == 0 {
			want = swarm.NodeRoleManager
		}
		if roles[e.Name] != want {
			t.Errorf("node %s has role %q, want %q (nodes %v)", e.Name, roles[e.Name], want, roles)
		}
	}
	info, err := cli.SwarmInspect(ctx, client.SwarmInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Swarm.DefaultAddrPool) != 1 || info.Swarm.DefaultAddrPool[0] != sw.AddrPool {
		t.Errorf("default address pool %v, want %v", info.Swarm.DefaultAddrPool, sw.AddrPool)
	}
	t.Logf("swarm of %d formed in %s", len(sw.Engines), sw.FormTime.Round(time.Millisecond))
}
