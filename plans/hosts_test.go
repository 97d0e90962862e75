package plans

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

const hostsPlanText = `project: shop
release: "2"
hosts:
  app1: ssh://deploy@app1.internal
  app2: {url: "tcp://10.0.0.12:2376", address: 10.9.9.9}
  edge: unix:///var/run/docker.sock
services:
  api:
    image: shop/api:2
    group: backend
    hosts: [app2, app1]
    rollout: {batch: 1, pause: 10s}
    health: {http: "http://{host}:8080/health"}
  worker:
    image: shop/worker:2
    group: backend
  web:
    image: shop/web:2
    group: frontend
    hosts: [edge]
    health: {tcp: "{host}:80"}
`

func TestAPlanWithHostsPlacesServicesAndFillsTheGateAddress(t *testing.T) {
	p, err := Parse("/p.yaml", []byte(hostsPlanText))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.ServiceHosts(p.Service("api")); !slices.Equal(got, []string{"app1", "app2"}) {
		t.Errorf("api hosts %v", got)
	}
	if got := p.ServiceHosts(p.Service("worker")); !slices.Equal(got, []string{"app1", "app2", "edge"}) {
		t.Errorf("worker runs on every host by default: %v", got)
	}
	for _, tc := range []struct{ host, svc, gate string }{
		{"app1", "api", "http://app1.internal:8080/health"},
		{"app2", "api", "http://10.9.9.9:8080/health"},
		{"edge", "web", "127.0.0.1:80"},
	} {
		sub := p.onHost(tc.host)
		h := sub.Service(tc.svc).Health
		if got := h.HTTP + h.TCP; got != tc.gate {
			t.Errorf("%s on %s: gate %q, want %q", tc.svc, tc.host, got, tc.gate)
		}
	}
	if p.Service("api").Health.HTTP != "http://{host}:8080/health" {
		t.Errorf("the plan's own gate must stay a template: %s", p.Service("api").Health.HTTP)
	}
	var waves []string
	for _, w := range p.rolloutWaves("backend") {
		waves = append(waves, fmt.Sprintf("%s %d/%d %v %s", w.service, w.batch, w.of, w.hosts, w.pause))
	}
	want := []string{"api 1/2 [app1] 0s", "api 2/2 [app2] 10s", " 1/1 [app1 app2 edge] 0s"}
	if !slices.Equal(waves, want) {
		t.Errorf("waves %q, want %q", waves, want)
	}
	if got := p.lastBatch(); got["app1"] != 3 || got["app2"] != 3 || got["edge"] != 4 {
		t.Errorf("a revert puts back edge (frontend), then app1 and app2 together (the backend's last wave): %v", got)
	}
	var names []string
	for _, s := range p.Placements() {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "api@app1 api@app2 worker@app1 worker@app2 worker@edge web@edge" {
		t.Errorf("placements %s", got)
	}
}

func TestBatchSizeOfHosts(t *testing.T) {
	for _, tc := range []struct {
		b    BatchSize
		n    int
		want int
	}{
		{BatchSize{N: 1}, 3, 1}, {BatchSize{N: 5}, 3, 3}, {BatchSize{N: 50, Percent: true}, 3, 2},
		{BatchSize{N: 10, Percent: true}, 3, 1}, {BatchSize{N: 100, Percent: true}, 4, 4}, {BatchSize{}, 3, 3},
	} {
		if got := tc.b.Of(tc.n); got != tc.want {
			t.Errorf("%+v of %d = %d, want %d", tc.b, tc.n, got, tc.want)
		}
	}
}

func TestHostMistakesAreNamedWithWhatToDo(t *testing.T) {
	base := "project: shop\nrelease: '1'\n"
	for _, tc := range []struct{ name, plan, want string }{
		{"unknown host", base + "hosts: {app1: 'tcp://a:2375'}\nservices:\n  api: {image: a, hosts: [app9]}\n", `host "app9" is not under the plan's hosts (app1)`},
		{"bad url", base + "hosts: {app1: 'http://a'}\nservices:\n  api: {image: a}\n", "is not a Docker engine URL"},
		{"no url", base + "hosts: {app1: {address: 10.0.0.1}}\nservices:\n  api: {image: a}\n", "host app1 has no URL"},
		{"unknown host key", base + "hosts: {app1: {url: 'tcp://a', port: 1}}\nservices:\n  api: {image: a}\n", `no setting "port"`},
		{"docker.host too", base + "docker: {host: 'unix:///x'}\nhosts: {app1: 'tcp://a'}\nservices:\n  api: {image: a}\n", "docker.host and hosts are both set"},
		{"swarm too", base + "docker: {swarm: true}\nhosts: {app1: 'tcp://a'}\nservices:\n  api: {image: a}\n", "docker.swarm and hosts are both set"},
		{"batch zero", base + "hosts: {app1: 'tcp://a'}\nservices:\n  api: {image: a, rollout: {batch: 0}}\n", "rollout.batch"},
		{"no hosts", base + "hosts: {app1: 'tcp://a'}\nservices:\n  api: {image: a, hosts: []}\n", "hosts: [] places it on no host"},
		{"rollout without batch", base + "hosts: {app1: 'tcp://a'}\nservices:\n  api: {image: a, rollout: {pause: 5s}}\n", "rollout has no batch"},
		{"batch over 100%", base + "hosts: {app1: 'tcp://a'}\nservices:\n  api: {image: a, rollout: {batch: '150%'}}\n", "percentage from 1% to 100%"},
		{"rollout without hosts", base + "services:\n  api: {image: a, rollout: {batch: 1}}\n", "rollout needs several hosts"},
		{"{host} without hosts", base + "services:\n  api: {image: a, health: {http: 'http://{host}/'}}\n", "{host} in a gate needs a top-level `hosts:`"},
		{"cert_path on ssh", base + "hosts: {app1: {url: 'ssh://a', cert_path: /tmp}}\nservices:\n  api: {image: a}\n", "cert_path applies to tcp:// hosts only"},
		{"http gate of a proxied service on a remote host", base + "hosts: {app1: 'unix:///x', app2: 'ssh://a'}\nproxy: {}\nservices:\n  web: {image: a, proxy: {port: 80}, health: {http: 'http://{host}/up'}}\n",
			"service web: its health.http goes straight to each new container on the proxy network of its host, which golive cannot reach on app2"},
		{"pause step across hosts", base + "hosts: {app1: 'tcp://a:2375'}\nproxy: {}\nservices:\n  web: {image: a, group: front, proxy: {port: 80}}\nsteps:\n  - pause: front\n  - deploy: front\n  - resume: front\n",
			"step 1: pause does not run across several hosts yet"},
		{"tcp gate of a proxied service on a remote host", base + "hosts: {app1: 'tcp://a:2375'}\nproxy: {}\nservices:\n  web: {image: a, proxy: {port: 80}, health: {tcp: 'localhost:80'}}\n",
			"use health: {docker: true} (the image's HEALTHCHECK, run on the host) or health.cmd, or remove health.tcp (the proxy checks /up on the host before it switches)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("/p.yaml", []byte(tc.plan))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want %q, got %v", tc.want, err)
			}
		})
	}
}

// TestStateFollowsTheLockPerHostAndAHostLost: the state lists the hosts
// whose lock is held, keeps a host whose release failed, and shows the
// services changed on a lost host as unknown, the untouched ones not changed.
func TestStateFollowsTheLockPerHostAndAHostLost(t *testing.T) {
	p, err := Parse("/p.yaml", []byte(hostsPlanText))
	if err != nil {
		t.Fatal(err)
	}
	st := NewState(p)
	for _, ev := range []Event{
		{Kind: EvApplyStart, Run: "r1"},
		{Kind: EvLockAcquired, Actor: "alice", Host: "edge"},
		{Kind: EvLockAcquired, Actor: "alice", Host: "app1"},
		{Kind: EvLockAcquired, Actor: "alice", Host: "app2"},
		{Kind: EvLockAcquired, Actor: "alice", Message: "apply on app1, app2, edge"},
		{Kind: EvServiceStart, Run: "r1", Service: "api", Host: "app1", Image: "shop/api:2", PrevImage: "shop/api:1"},
		{Kind: EvHostLost, Run: "r1", Host: "app1", Error: "EOF"},
		{Kind: EvHostLost, Run: "r1", Host: "edge", Error: "EOF"},
	} {
		st.Apply(ev)
	}
	if want := []string{"app1", "app2", "edge"}; !slices.Equal(st.LockedHosts, want) {
		t.Errorf("locked hosts %v, want %v", st.LockedHosts, want)
	}
	for _, want := range []string{"api@app1 unknown (host unreachable)", "web@edge not changed"} {
		if !strings.Contains(st.ServicesNow(), want) {
			t.Errorf("services now %q lacks %q", st.ServicesNow(), want)
		}
	}
	for _, ev := range []Event{
		{Kind: EvLockReleased, Host: "app1", Result: ResultFailed, Error: "EOF"},
		{Kind: EvLockReleased, Host: "app2", Result: ResultOK},
		{Kind: EvLockReleased, Host: "edge", Result: ResultOK},
		{Kind: EvLockReleased, Result: ResultFailed, Error: "the lock is still held on app1"},
	} {
		st.Apply(ev)
	}
	if !slices.Equal(st.LockedHosts, []string{"app1"}) || st.LockHolder != "alice" {
		t.Errorf("after a release that failed on app1: locked on %v by %q", st.LockedHosts, st.LockHolder)
	}
	st.Apply(Event{Kind: EvLockReleased, Result: ResultOK})
	if len(st.LockedHosts) != 0 || st.LockHolder != "" {
		t.Errorf("a release on every host frees it: %v %q", st.LockedHosts, st.LockHolder)
	}
}

// TestProxiedServicesOnHostsTakeGatesThatReachThem: with hosts, a proxied
// service's http or tcp gate is taken on unix:// hosts only, and the gates
// that run on the host itself anywhere.
func TestProxiedServicesOnHostsTakeGatesThatReachThem(t *testing.T) {
	base := "project: shop\nrelease: '1'\nhosts: {local: 'unix:///var/run/docker.sock', app1: 'tcp://a:2375', app2: 'ssh://deploy@b'}\nproxy: {}\nservices:\n"
	for _, tc := range []struct{ name, service string }{
		{"http gate on the local host", "  web: {image: a, hosts: [local], proxy: {port: 80}, health: {http: 'http://{host}/up'}}\n"},
		{"docker gate everywhere", "  web: {image: a, proxy: {port: 80}, health: {docker: true}}\n"},
		{"cmd gate everywhere", "  web: {image: a, proxy: {port: 80}, health: {cmd: 'true'}}\n"},
		{"the proxy's own check only", "  web: {image: a, proxy: {port: 80}}\n"},
		{"http gate of an unproxied service", "  api: {image: a, health: {http: 'http://{host}:8080/up'}}\n  web: {image: a, proxy: {port: 80}}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse("/p.yaml", []byte(base+tc.service)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRolloutNotesNameABatchThatCoversEveryHost(t *testing.T) {
	base := "project: shop\nrelease: '1'\nhosts: {app1: 'tcp://a', app2: 'tcp://b', app3: 'tcp://c'}\nservices:\n"
	for _, tc := range []struct{ name, services, want string }{
		{"batch larger than the hosts", "  api: {image: a, hosts: [app1, app2], rollout: {batch: 5}}\n",
			"api: rollout batch 5 covers all its 2 hosts: they all change at once; set rollout.batch below 2 to change them a few at a time"},
		{"batch of every host", "  api: {image: a, rollout: {batch: 3}}\n", "api: rollout batch 3 covers all its 3 hosts"},
		{"100%", "  api: {image: a, rollout: {batch: '100%'}}\n", "api: rollout batch 100% covers all its 3 hosts"},
		{"batch below the hosts", "  api: {image: a, rollout: {batch: 2}}\n", ""},
		{"percentage below the hosts", "  api: {image: a, rollout: {batch: '50%'}}\n", ""},
		{"one host", "  api: {image: a, hosts: [app1], rollout: {batch: 1}}\n", ""},
		{"no rollout", "  api: {image: a}\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse("/p.yaml", []byte(base+tc.services))
			if err != nil {
				t.Fatal(err)
			}
			notes := p.RolloutNotes()
			if got := strings.Join(notes, "\n"); tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
				t.Errorf("notes %q, want %q", notes, tc.want)
			}
		})
	}
}
