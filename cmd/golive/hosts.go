package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/plans"
)

// hostReach bounds how long connecting to one of the plan's hosts may take.
const hostReach = 15 * time.Second

// connectHosts opens a client for every host of a plan with `hosts:`, in
// parallel. A host that cannot be reached is named with what to do, and
// the clients opened are closed again.
func connectHosts(ctx context.Context, plan *plans.Plan) (map[string]*docker.Client, error) {
	clients, failed := reachHosts(ctx, plan)
	var errs []error
	for _, name := range plan.HostNames() {
		if err := failed[name]; err != nil {
			errs = append(errs, fmt.Errorf("host %s cannot be reached: %w\n  start its Docker engine or fix its URL under hosts:, or remove %s from hosts: (and from the services that name it); nothing was changed on any host", name, err, name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		closeHosts(clients)
		return nil, err
	}
	return clients, nil
}

// reachHosts opens a client for every host of a plan with `hosts:`, in
// parallel: the clients of the hosts that answer, and why each other one
// did not.
func reachHosts(ctx context.Context, plan *plans.Plan) (map[string]*docker.Client, map[string]error) {
	names := plan.HostNames()
	clients := make([]*docker.Client, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, hostReach)
			defer cancel()
			clients[i], errs[i] = docker.ConnectHost(ctx, plan.Hosts[name].URL, plan.HostOptions(name))
		})
	}
	wg.Wait()
	out, failed := map[string]*docker.Client{}, map[string]error{}
	for i, name := range names {
		if errs[i] != nil {
			failed[name] = errs[i]
		} else {
			out[name] = clients[i]
		}
	}
	return out, failed
}

func closeHosts(clients map[string]*docker.Client) {
	for _, c := range clients {
		c.Close()
	}
}

// engineOptions sets where the engine acts: the one Docker engine, or a
// client per host of a plan with `hosts:`.
func (h *headless) engineOptions(o plans.Options) plans.Options {
	if h.hosts == nil {
		o.Docker = h.cli
		return o
	}
	o.Hosts = map[string]plans.Docker{}
	for name, c := range h.hosts {
		o.Hosts[name] = c
	}
	for name, err := range h.lost {
		o.Hosts[name] = lostHost{url: h.plan.Hosts[name].URL, err: fmt.Errorf("%w: %w", plans.ErrHostUnreachable, err)}
	}
	return o
}

// onHosts is " on a, b" for a plan with hosts, "" otherwise.
func (h *headless) onHosts(names []string) string {
	if h.hosts == nil || len(names) == 0 {
		return ""
	}
	return " on " + strings.Join(names, ", ")
}

// answering names the hosts that answered, in name order.
func (h *headless) answering() []string {
	var names []string
	for _, name := range h.plan.HostNames() {
		if h.hosts[name] != nil {
			names = append(names, name)
		}
	}
	return names
}

// lostNote names each host that did not answer and why, for stderr.
func (h *headless) lostNote() string {
	var b strings.Builder
	for _, name := range h.plan.HostNames() {
		if err := h.lost[name]; err != nil {
			fmt.Fprintf(&b, "host %s is unreachable: %v\n", name, err)
		}
	}
	return b.String()
}

// lostHost stands for a host of the plan that did not answer when golive
// started: everything asked of it fails at once with why, so its services
// show as unreachable and nothing that needs its lock runs.
type lostHost struct {
	url string
	err error
}

func (l lostHost) Host() string                                    { return l.url }
func (l lostHost) ImageID(context.Context, string) (string, error) { return "", l.err }
func (l lostHost) Pull(context.Context, string, func(docker.PullProgress)) error {
	return l.err
}
func (l lostHost) Load(context.Context, string) ([]string, error) { return nil, l.err }
func (l lostHost) Inspect(context.Context, string) (*docker.Container, error) {
	return nil, l.err
}
func (l lostHost) List(context.Context, map[string]string) ([]docker.Container, error) {
	return nil, l.err
}
func (l lostHost) Create(context.Context, docker.Spec) (string, error) { return "", l.err }
func (l lostHost) Start(context.Context, string) error                 { return l.err }
func (l lostHost) Stop(context.Context, string, int) error             { return l.err }
func (l lostHost) Rename(context.Context, string, string) error        { return l.err }
func (l lostHost) Remove(context.Context, string) error                { return l.err }
func (l lostHost) EnsureNetwork(context.Context, string, map[string]string) error {
	return l.err
}
func (l lostHost) LastLines(context.Context, string, int) ([]string, error) { return nil, l.err }
func (l lostHost) Logs(context.Context, string, bool, docker.LogOptions) (*docker.LogStream, error) {
	return nil, l.err
}
func (l lostHost) TakeLock(context.Context, string, docker.LockInfo, map[string]string) (string, error) {
	return "", l.err
}
func (l lostHost) RemoveLock(context.Context, string) error { return l.err }
func (l lostHost) Lock(context.Context, string) (*docker.LockInfo, error) {
	return nil, l.err
}
func (l lostHost) CreateRecord(context.Context, string, map[string]string) error { return l.err }
func (l lostHost) Records(context.Context, map[string]string) ([]docker.Record, error) {
	return nil, l.err
}
func (l lostHost) RemoveRecord(context.Context, string) error { return l.err }

// Proxy is never reached: every step that drives a proxy runs under the
// lock, which a lost host refuses.
func (l lostHost) Proxy(string) *docker.Proxy { return nil }

// where names the engines the plan acts on, for messages.
func (h *headless) where() string {
	if h.hosts == nil {
		return h.cli.Host()
	}
	return "hosts " + strings.Join(h.plan.HostNames(), ", ")
}

// checkHosts tells whether every host of the plan answers.
func checkHosts(plan *plans.Plan) error {
	ctx, cancel := context.WithTimeout(context.Background(), hostReach+time.Second)
	defer cancel()
	clients, err := connectHosts(ctx, plan)
	if err != nil {
		return err
	}
	closeHosts(clients)
	return nil
}
