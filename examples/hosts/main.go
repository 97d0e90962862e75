// Command hosts starts two extra Docker engines on this machine, the way
// golive's tests do (each in its own network namespace, with its own data
// root; the machine's own engine is left alone), so a person can try golive
// against several Docker hosts. It needs root.
//
//	go run ./examples/hosts start   # (re)start the engines, load the demo images, write one plan across them (versions 1 and 2)
//	go run ./examples/hosts stop    # stop them and remove everything they made
//
// `make demo-hosts` and `make clean-hosts` run these.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golive/golive/docker/dockertest/engines"
)

// prefix names the demo's namespaces, links and folders, apart from the tests' own.
const prefix = "gld"

// planDir is where start writes one plan per engine (git ignores .golive/).
var planDir = filepath.Join("examples", "hosts", ".golive")

// demoImages are what examples/demo/mkimages loads into the machine's engine.
var demoImages = []string{"golive-demo/api:1", "golive-demo/api:2", "golive-demo/web:1", "golive-demo/web:2"}

func main() {
	if len(os.Args) != 2 || (os.Args[1] != "start" && os.Args[1] != "stop") {
		fmt.Fprintln(os.Stderr, "usage: go run ./examples/hosts start|stop")
		os.Exit(2)
	}
	if err := engines.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "hosts: %v: run it with sudo\n", err)
		os.Exit(1)
	}
	var err error
	if os.Args[1] == "start" {
		err = start()
	} else {
		err = stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hosts:", err)
		os.Exit(1)
	}
}

func start() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := engines.Config{Count: 2, Prefix: prefix, Slot: 213, Detach: true}
	set, err := engines.Start(ctx, cfg)
	if errors.Is(err, engines.ErrSlotInUse) {
		cfg.Slot = 0 // 10.213.0.0/16 is taken here: any free range will do
		set, err = engines.Start(ctx, cfg)
	}
	if err != nil {
		return err
	}
	if err := set.LoadImages(ctx, demoImages...); err != nil {
		set.Stop()
		return fmt.Errorf("%w (build the demo images first: go run ./examples/demo/mkimages)", err)
	}
	if err := os.MkdirAll(planDir, 0o755); err != nil {
		return err
	}
	fmt.Printf("%d Docker engines run in network namespaces (files under %s):\n", len(set.Engines), filepath.Dir(set.Engines[0].Dir))
	for _, e := range set.Engines {
		fmt.Printf("  %s  %s  %s  (started in %s)\n", e.Name, e.TCP(), e.Unix(), e.StartTime.Round(time.Millisecond))
	}
	var plans []string
	for _, v := range []string{"1", "2"} {
		plan := filepath.Join(planDir, "release-"+v+".yaml")
		if err := os.WriteFile(plan, []byte(planFor(set.Engines, v)), 0o644); err != nil {
			return err
		}
		plans = append(plans, plan)
	}
	fmt.Printf("\nOne plan across both engines, versions 1 and 2:\n")
	for _, p := range plans {
		fmt.Printf("      bin/golive %s\n", p)
	}
	fmt.Printf("Try:  docker -H %s ps\n", set.Engines[0].TCP())
	fmt.Println("Stop: make clean-hosts")
	return nil
}

// planFor is the demo release at version v across the engines, named
// app1, app2, …: api rolls out one engine at a time, web everywhere at
// once; each gate probes its own engine's address ({host}).
func planFor(set []*engines.Engine, v string) string {
	var hosts strings.Builder
	for i, e := range set {
		fmt.Fprintf(&hosts, "  app%d: %s\n", i+1, e.TCP())
	}
	return fmt.Sprintf(`# The demo shop across %[1]d engines (written by go run ./examples/hosts start).
project: golive-hosts-demo
release: "%[2]s.0.0"
hosts:
%[3]sservices:
  api:
    image: golive-demo/api:%[2]s
    group: backend
    ports: ["18080:8080"]
    rollout: {batch: 1, pause: 5s}
    health: {http: "http://{host}:18080/health", timeout: 20s, stable: 1s}
  web:
    image: golive-demo/web:%[2]s
    group: frontend
    ports: ["18081:8080"]
    health: {http: "http://{host}:18081/health", timeout: 20s, stable: 1s}
`, len(set), v, hosts.String())
}

func stop() error {
	err := engines.Clean(prefix, "")
	return errors.Join(err, os.RemoveAll(planDir))
}
