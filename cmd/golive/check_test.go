package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/scratch"
)

func TestCheckWarnsAboutImagesNeitherOnTheEngineNorInTheirRegistry(t *testing.T) {
	docker := dockertest.Client(t)
	project := dockertest.Project(t, docker)
	reg := dockertest.Registry(t)
	local := dockertest.ImageRef(project, "api:1")
	dockertest.LoadDemoImage(t, docker, local, scratch.Config{Env: []string{"VERSION=1"}})
	pushed := reg + "/" + project + "/web:1"
	dockertest.Push(t, pushed, scratch.Config{Env: []string{"VERSION=1"}})
	t.Cleanup(func() { docker.RemoveImage(context.Background(), pushed) })
	missing := reg + "/" + project + "/web:2"
	offline := fmt.Sprintf("127.0.0.1:%d/%s/db:1", dockertest.FreePort(t), project)
	plan := writeFile(t, t.TempDir(), "plan.yaml", fmt.Sprintf(`project: %s
release: '1'
services:
  api: {image: %s}
  web: {image: %s}
  worker: {image: %s}
  cron: {image: %s}
  db: {image: %s}
`, project, local, pushed, missing, missing, offline))
	code, out, errout := cli(t, "check", plan)
	if code != exitOK || !strings.Contains(out, "plan ok") {
		t.Fatalf("exit %d: %s%s", code, out, errout)
	}
	want := fmt.Sprintf("warning: image %s (services worker, cron) is neither on the engine nor in its registry (manifest unknown: Unknown manifest): build and push it, or fix its name and tag\n", missing) +
		fmt.Sprintf("warning: image %s (service db) is not on the engine and its registry could not be asked (Get \"http://%s/v2/\": dial tcp %s: connect: connection refused): apply will pull it, or preload it\n", offline, strings.Split(offline, "/")[0], strings.Split(offline, "/")[0])
	if errout != want {
		t.Fatalf("stderr:\n%s\nwant:\n%s", errout, want)
	}
}

func TestCheckWithoutAnEngineSaysItCouldNotCheckTheImages(t *testing.T) {
	plan := writeFile(t, t.TempDir(), "plan.yaml", "project: shop\nrelease: '1'\ndocker: {host: 'unix:///nonexistent/docker.sock'}\nservices: {api: {image: a}}\n")
	code, out, errout := cli(t, "check", plan)
	if code != exitOK || !strings.Contains(out, "plan ok") || !strings.HasPrefix(errout, "warning: could not check that the images exist: cannot reach the Docker engine at unix:///nonexistent/docker.sock") {
		t.Fatalf("exit %d: %s%s", code, out, errout)
	}
}

func TestCheckOfHostilePlansIsQuickSafeAndExits2(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.env")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	bomb := "project: lol\nrelease: '1'\nservices:\n  api:\n    image: a\n    labels:\n      a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
	for i, c := range "bcdefghi" {
		prev := string("abcdefghi"[i])
		bomb += fmt.Sprintf("      %c: &%c [%s]\n", c, c, strings.TrimSuffix(strings.Repeat("*"+prev+",", 9), ","))
	}
	tests := []struct {
		name, plan, want string
	}{
		{"a billion laughs", bomb, "aliases expand to more than 10000 values"},
		{"100,000-deep nesting", "project: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000), "the plan has more than 100000 YAML tokens"},
		{"an env_file that is a FIFO", "project: x\nrelease: '1'\nservices: {api: {image: a, env_file: fifo.env}}\n", "not a regular file (it is a named pipe)"},
		{"a release that climbs out of journal/", "project: x\nrelease: ../../etc/x\nservices: {api: {image: a}}\n", `release "../../etc/x" may contain only letters`},
		{"escape sequences in project and release", "project: \"\\e]2;owned\\a\"\nrelease: \"\\e[2J\"\nservices: {api: {image: a}}\n", `project "\x1b]2;owned\a" may contain only letters`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := writeFile(t, dir, "plan.yaml", tt.plan)
			start := time.Now()
			code, out, errout := cli(t, "check", plan)
			if code != exitUsage || !strings.Contains(errout, tt.want) {
				t.Fatalf("exit %d: %s%s", code, out, errout)
			}
			if strings.ContainsAny(out+errout, "\x1b\a") {
				t.Fatalf("raw control characters reached the terminal: %q", errout)
			}
			t.Logf("refused in %s", time.Since(start))
		})
	}
}

// TestCheckOfASwarmPlanOnAnEngineOutsideASwarmFails: check said "plan ok"
// and every apply then failed with the engine's "This node is not a swarm
// manager". The machine's engine here is in no swarm.
func TestCheckOfASwarmPlanOnAnEngineOutsideASwarmFails(t *testing.T) {
	docker := dockertest.Client(t)
	project := dockertest.Project(t, docker)
	plan := writeFile(t, t.TempDir(), "plan.yaml", fmt.Sprintf(`project: %s
release: '1'
docker: {host: %q, swarm: true}
services:
  api: {image: %s, replicas: 1}
`, project, docker.Host(), dockertest.ImageRef(project, "api:1")))
	code, out, errout := cli(t, "check", plan)
	if code != exitEnvironment || !strings.Contains(errout, "is not a Swarm manager; it is not in a swarm (inactive): run `docker swarm init` there") {
		t.Fatalf("check of a Swarm plan on an engine in no swarm: exit %d, want %d naming it:\n%s%s", code, exitEnvironment, out, errout)
	}
}
