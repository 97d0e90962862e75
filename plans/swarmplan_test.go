package plans

import (
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/docker"
)

func TestSwarmPlanLoadsWithDefaults(t *testing.T) {
	p, err := Parse("/p.yaml", []byte(`project: shop
release: '1'
docker: {host: "tcp://manager:2375", swarm: true}
services:
  api:
    image: shop/api:2.4.0
    replicas: 4
    update: {parallelism: 2, delay: 2s, order: start-first, monitor: 10s}
    ports: ["mode=host,published=8080,target=8080"]
    health: {docker: true}
  worker: {image: shop/worker:1}
`))
	if err != nil {
		t.Fatal(err)
	}
	api, worker := p.Services[0], p.Services[1]
	if api.Replicas != 4 || *api.Update != (SwarmUpdate{Parallelism: 2, Delay: 2 * time.Second, Order: "start-first", Monitor: 10 * time.Second}) {
		t.Errorf("api = replicas %d, update %+v", api.Replicas, *api.Update)
	}
	if worker.Replicas != 1 || *worker.Update != (SwarmUpdate{Parallelism: 1, Order: "stop-first", Monitor: 5 * time.Second}) {
		t.Errorf("worker defaults = replicas %d, update %+v", worker.Replicas, *worker.Update)
	}
	if got := p.SwarmName(api); got != "shop-api" {
		t.Errorf("swarm name = %s", got)
	}
}

func TestSwarmPlanErrorsSayWhatToDo(t *testing.T) {
	const head = "project: shop\nrelease: '1'\n"
	const swarm = head + "docker: {swarm: true}\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"replicas on a container", head + "services:\n  api: {image: a, replicas: 2}\n",
			"service api: replicas is for Swarm services; add `docker: {swarm: true}`"},
		{"update on a container", head + "services:\n  api: {image: a, update: {parallelism: 2}}\n",
			"service api: update is for Swarm services"},
		{"restart in swarm", swarm + "services:\n  api: {image: a, restart: always}\n",
			"service api: restart is for container services and cannot be used with docker.swarm (Swarm itself restarts a service's tasks)"},
		{"volumes in swarm", swarm + "services:\n  api: {image: a, volumes: ['/d:/d']}\n",
			"service api: volumes is for container services"},
		{"container name in swarm", swarm + "services:\n  api: {image: a, container: x}\n",
			"service api: container is for container services"},
		{"http gate in swarm", swarm + "services:\n  api: {image: a, health: {http: 'http://x/'}}\n",
			"a Swarm service's gate is its tasks' HEALTHCHECK"},
		{"error gate in swarm", swarm + "services:\n  api: {image: a, health: {docker: true, errors: {max: 1}}}\n",
			"the error gate (health.errors) is for container services"},
		{"failure action", swarm + "services:\n  api: {image: a, update: {failure_action: rollback}}\n",
			"update.failure_action is golive's on_failure"},
		{"bad order", swarm + "services:\n  api: {image: a, update: {order: random}}\n",
			`update.order is "random"; expected stop-first (the default) or start-first`},
		{"zero replicas", swarm + "services:\n  api: {image: a, replicas: 0}\n",
			"replicas must be at least 1"},
		{"negative replicas", swarm + "services:\n  api: {image: a, replicas: -2}\n",
			"service api: replicas must not be negative, not -2"},
		{"fractional replicas", swarm + "services:\n  api: {image: a, replicas: 2.5}\n",
			"service api: replicas must be a whole number, not 2.5"},
		{"negative parallelism", swarm + "services:\n  api: {image: a, update: {parallelism: -1}}\n",
			"service api: update.parallelism must not be negative, not -1"},
		{"short port", swarm + "services:\n  api: {image: a, ports: ['8080:8080']}\n",
			`ports are written in long form, such as "mode=host,published=8080,target=8080"`},
		{"ingress port", swarm + "services:\n  api: {image: a, ports: ['mode=ingress,published=80,target=80']}\n",
			"write mode=host"},
		{"port twice", swarm + "services:\n  api: {image: a, ports: ['published=80,target=80']}\n  web: {image: w, ports: ['published=80,target=8080']}\n",
			"services api and web both publish port 80 on the nodes"},
		{"proxy in swarm", swarm + "proxy: {}\nservices:\n  api: {image: a}\n",
			"proxy cannot be used with docker.swarm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("/p.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseSwarmPort(t *testing.T) {
	tests := []struct {
		spec string
		want docker.ServicePort
		err  string
	}{
		{"mode=host,published=8080,target=80", docker.ServicePort{Published: 8080, Target: 80, Protocol: "tcp"}, ""},
		{"target=53,protocol=udp", docker.ServicePort{Target: 53, Protocol: "udp"}, ""},
		{"published=80", docker.ServicePort{}, "has no target"},
		{"published=80,target=99999", docker.ServicePort{}, "expected a port number from 1 to 65535"},
		{"published=80,target=80,color=red", docker.ServicePort{}, `unknown field "color"`},
	}
	for _, tt := range tests {
		got, err := ParseSwarmPort(tt.spec)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: error %v, want %q", tt.spec, err, tt.err)
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("%s = %+v, %v; want %+v", tt.spec, got, err, tt.want)
		}
	}
}
