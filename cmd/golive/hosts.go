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
	names := plan.HostNames()
	clients := make([]*docker.Client, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, hostReach)
			defer cancel()
			c, err := docker.ConnectHost(ctx, plan.Hosts[name].URL, plan.HostOptions(name))
			if err != nil {
				errs[i] = fmt.Errorf("host %s cannot be reached: %w\n  start its Docker engine or fix its URL under hosts:, or remove %s from hosts: (and from the services that name it); nothing was changed on any host", name, err, name)
				return
			}
			clients[i] = c
		})
	}
	wg.Wait()
	out := map[string]*docker.Client{}
	for i, c := range clients {
		if c != nil {
			out[names[i]] = c
		}
	}
	if err := errors.Join(errs...); err != nil {
		closeHosts(out)
		return nil, err
	}
	return out, nil
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
