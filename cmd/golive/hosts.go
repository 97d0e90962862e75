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
	for name, l := range h.late {
		o.Hosts[name] = l
	}
	return o
}

// reachOrLater connects to every host of the plan that answers, and stands
// a lateHost for each other one.
func (h *headless) reachOrLater(ctx context.Context) {
	h.hosts, h.lost = reachHosts(ctx, h.plan)
	h.late = map[string]*lateHost{}
	for name, err := range h.lost {
		h.late[name] = newLateHost(h.plan.Hosts[name].URL, h.plan.HostOptions(name), err)
	}
}

// closeAll closes the clients of every host, the late ones included.
func (h *headless) closeAll() {
	closeHosts(h.hosts)
	for _, l := range h.late {
		l.Close()
	}
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

// lateHost stands for a host of the plan that did not answer when golive
// started. Until it answers, everything asked of it fails at once with why
// (ErrHostUnreachable), so its services show as unreachable and nothing
// that needs its lock runs; it is connected again when asked, at most once
// every retryEvery, so a cockpit or watch left open picks the host up when
// it comes back (its rows, its logs, `p`, D and R).
type lateHost struct {
	url  string
	opts docker.HostOptions

	mu         sync.Mutex
	cli        *docker.Client
	err        error     // why the last try failed
	tried      time.Time // when it was made
	connecting bool
}

// retryEvery is how long a lost host is left alone after a failed try.
const retryEvery = 3 * time.Second

func newLateHost(url string, opts docker.HostOptions, err error) *lateHost {
	return &lateHost{url: url, opts: opts, err: fmt.Errorf("%w: %w", plans.ErrHostUnreachable, err), tried: time.Now()}
}

// client is the host's client once it answers; the last failure while a
// try is under way or was made within retryEvery.
func (l *lateHost) client(ctx context.Context) (*docker.Client, error) {
	l.mu.Lock()
	if l.cli != nil || l.connecting || time.Since(l.tried) < retryEvery {
		defer l.mu.Unlock()
		return l.cli, l.err
	}
	l.connecting = true
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, hostReach)
	cli, err := docker.ConnectHost(ctx, l.url, l.opts)
	cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.connecting, l.tried = false, time.Now()
	if err != nil {
		l.err = fmt.Errorf("%w: %w", plans.ErrHostUnreachable, err)
		return nil, l.err
	}
	l.cli, l.err = cli, nil
	return cli, nil
}

// Close closes the host's client, if it ever answered.
func (l *lateHost) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cli != nil {
		l.cli.Close()
	}
}

func (l *lateHost) Host() string { return l.url }
func (l *lateHost) ImageID(ctx context.Context, ref string) (string, error) {
	c, err := l.client(ctx)
	if err != nil {
		return "", err
	}
	return c.ImageID(ctx, ref)
}
func (l *lateHost) Pull(ctx context.Context, ref string, progress func(docker.PullProgress)) error {
	c, err := l.client(ctx)
	if err != nil {
		return err
	}
	return c.Pull(ctx, ref, progress)
}
func (l *lateHost) Load(ctx context.Context, path string) ([]string, error) {
	c, err := l.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.Load(ctx, path)
}
func (l *lateHost) Inspect(ctx context.Context, name string) (*docker.Container, error) {
	c, err := l.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.Inspect(ctx, name)
}
func (l *lateHost) List(ctx context.Context, labels map[string]string) ([]docker.Container, error) {
	c, err := l.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.List(ctx, labels)
}
func (l *lateHost) Create(ctx context.Context, spec docker.Spec) (string, error) {
	c, err := l.client(ctx)
	if err != nil {
		return "", err
	}
	return c.Create(ctx, spec)
}
func (l *lateHost) Start(ctx context.Context, id string) error {
	c, err := l.client(ctx)
	if err != nil {
		return err
	}
	return c.Start(ctx, id)
}
func (l *lateHost) Stop(ctx context.Context, id string, timeout int) error {
	c, err := l.client(ctx)
	if err != nil {
		return err
	}
	return c.Stop(ctx, id, timeout)
}
func (l *lateHost) Rename(ctx context.Context, id, name string) error {
	c, err := l.client(ctx)
	if err != nil {
		return err
	}
	return c.Rename(ctx, id, name)
}
func (l *lateHost) Remove(ctx context.Context, id string) error {
	c, err := l.client(ctx)
	if err != nil {
		return err
	}
	return c.Remove(ctx, id)
}
func (l *lateHost) EnsureNetwork(ctx context.Context, name string, labels map[string]string) error {
	c, err := l.client(ctx)
	if err != nil {
		return err
	}
	return c.EnsureNetwork(ctx, name, labels)
}
func (l *lateHost) LastLines(ctx context.Context, id string, n int) ([]string, error) {
	c, err := l.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.LastLines(ctx, id, n)
}
func (l *lateHost) Logs(ctx context.Context, id string, follow bool, opts docker.LogOptions) (*docker.LogStream, error) {
	c, err := l.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.Logs(ctx, id, follow, opts)
}
func (l *lateHost) TakeLock(ctx context.Context, name string, info docker.LockInfo, labels map[string]string) (string, error) {
	c, err := l.client(ctx)
	if err != nil {
		return "", err
	}
	return c.TakeLock(ctx, name, info, labels)
}
func (l *lateHost) RemoveLock(ctx context.Context, id string) error {
	c, err := l.client(ctx)
	if err != nil {
		return err
	}
	return c.RemoveLock(ctx, id)
}
func (l *lateHost) Lock(ctx context.Context, name string) (*docker.LockInfo, error) {
	c, err := l.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.Lock(ctx, name)
}
func (l *lateHost) CreateRecord(ctx context.Context, name string, labels map[string]string) error {
	c, err := l.client(ctx)
	if err != nil {
		return err
	}
	return c.CreateRecord(ctx, name, labels)
}
func (l *lateHost) Records(ctx context.Context, labels map[string]string) ([]docker.Record, error) {
	c, err := l.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.Records(ctx, labels)
}
func (l *lateHost) RemoveRecord(ctx context.Context, name string) error {
	c, err := l.client(ctx)
	if err != nil {
		return err
	}
	return c.RemoveRecord(ctx, name)
}

// Proxy is the host's proxy once it answers. Before, it is never reached:
// every step that drives a proxy runs under the lock, which a lost host
// refuses.
func (l *lateHost) Proxy(name string) *docker.Proxy {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cli == nil {
		return nil
	}
	return l.cli.Proxy(name)
}

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
