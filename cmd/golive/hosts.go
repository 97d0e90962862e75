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
	return o
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
