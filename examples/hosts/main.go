// Command hosts starts two extra Docker engines on this machine, the way
// golive's tests do (each in its own network namespace, with its own data
// root; the machine's own engine is left alone), so a person can try golive
// against several Docker hosts. It needs root.
//
//	go run ./examples/hosts start   # (re)start the engines, load the demo images, write one plan per engine
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
	var plans []string
	for _, e := range set.Engines {
		plan := filepath.Join(planDir, e.Name+".yaml")
		if err := os.WriteFile(plan, []byte(planFor(e)), 0o644); err != nil {
			return err
		}
		plans = append(plans, plan)
		fmt.Printf("  %s  %s  %s  (started in %s)\n", e.Name, e.TCP(), e.Unix(), e.StartTime.Round(time.Millisecond))
	}
	fmt.Printf("\nTry:  docker -H %s images\n", set.Engines[0].TCP())
	for _, p := range plans {
		fmt.Printf("      bin/golive %s\n", p)
	}
	fmt.Println("Stop: make clean-hosts")
	return nil
}

// planFor is the demo release (version 1 of api and web) aimed at one
// engine: ports published on the engine's own address, health checked there.
func planFor(e *engines.Engine) string {
	return fmt.Sprintf(`# The demo shop on engine %[1]s (written by go run ./examples/hosts start).
project: golive-hosts-demo
release: "1.0.0"
docker:
  host: %[2]s
services:
  api:
    image: golive-demo/api:1
    group: backend
    ports: ["18080:8080"]
    health: {http: "http://%[3]s:18080/health", timeout: 20s, stable: 1s}
  web:
    image: golive-demo/web:1
    group: frontend
    ports: ["18081:8080"]
    health: {http: "http://%[3]s:18081/health", timeout: 20s, stable: 1s}
`, e.Name, e.TCP(), e.Addr)
}

func stop() error {
	err := engines.Clean(prefix, "")
	return errors.Join(err, os.RemoveAll(planDir))
}
