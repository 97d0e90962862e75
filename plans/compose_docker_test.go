package plans_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/scratch"
	"github.com/golive/golive/plans"
)

// composeShop is the shop compose project on the real Docker engine under
// a unique name, its images loaded; what compose names after the project
// (networks, the volume) is removed when the test ends.
func composeShop(t *testing.T) (cli *docker.Client, project, dir string, webPort int) {
	cli = dockertest.Client(t)
	project = dockertest.Project(t, cli)
	dir = shopDir(t)
	path := filepath.Join(dir, "compose.yaml")
	data, err := os.ReadFile(path)
	must(t, err)
	text := strings.Replace(string(data), "name: shop", "name: "+project, 1)
	text = strings.Replace(text, "container_name: shop-web", "container_name: "+project+"-storefront", 1)
	must(t, os.WriteFile(path, []byte(text), 0o644))
	webPort = dockertest.FreePort(t)
	registry := "golive-test/" + project
	t.Setenv("REGISTRY", registry)
	t.Setenv("WEB_PORT", fmt.Sprint(webPort))
	t.Setenv("DB_PASSWORD", "from-the-shell")
	t.Setenv("QUEUE", "orders")
	refs := []string{registry + "/cache:1", registry + "/web:2", registry + "/worker:2"}
	for _, ref := range refs {
		dockertest.LoadDemoImage(t, cli, ref, scratch.Config{Env: []string{"VERSION=2", "LOG_EVERY=1s"}})
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		dockertest.Cleanup(cli, project)
		api, err := client.New(client.FromEnv)
		if err != nil {
			return
		}
		defer api.Close()
		for _, n := range []string{project + "_default", project + "_back"} {
			api.NetworkRemove(ctx, n, client.NetworkRemoveOptions{})
		}
		api.VolumeRemove(ctx, project+"_cache-data", client.VolumeRemoveOptions{Force: true})
		for _, ref := range refs {
			cli.RemoveImage(ctx, ref)
		}
	})
	return cli, project, dir, webPort
}

func TestImportedComposePlanDeploysContainersThatCarryTheComposeConfigurationOnRealDocker(t *testing.T) {
	cli, project, dir, webPort := composeShop(t)
	c, err := plans.LoadCompose(context.Background(), filepath.Join(dir, "compose.yaml"), plans.ComposeOptions{Dir: dir, KeepRefs: true})
	must(t, err)
	text, err := c.PlanText("2", "compose.yaml")
	must(t, err)
	planPath := filepath.Join(dir, "plan.yaml")
	must(t, os.WriteFile(planPath, text, 0o644))
	p, err := plans.Load(planPath)
	if err != nil {
		t.Fatalf("golive check of the imported plan: %v\n%s", err, text)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var mu sync.Mutex
	var ends []plans.Event
	opts := plans.Options{Docker: cli, Actor: "tester@ci", OnEvent: func(e plans.Event) {
		if e.Kind == plans.EvServiceEnd {
			mu.Lock()
			ends = append(ends, e)
			mu.Unlock()
		}
	}}
	if err := plans.NewEngine(p, opts).Apply(ctx); err != nil {
		t.Fatalf("apply: %v", err)
	}

	inspect := func(name string) *docker.Container {
		ct, err := cli.Inspect(ctx, name)
		if err != nil || ct == nil {
			t.Fatalf("container %s: %v", name, err)
		}
		return ct
	}
	cache, web, worker := inspect(project+"-cache"), inspect(project+"-storefront"), inspect(project+"-worker")
	checks := []struct {
		what      string
		got, want any
	}{
		{"cache runs its compose healthcheck and is healthy", cache.Health, "healthy"},
		{"cache healthcheck", strings.Join(cache.Spec.Healthcheck.Test, " "), "CMD /app healthcheck"},
		{"cache healthcheck retries", cache.Spec.Healthcheck.Retries, 3},
		{"cache entrypoint", strings.Join(cache.Spec.Entrypoint, " "), "/app"},
		{"cache named volume", strings.Join(cache.Spec.Binds, ","), project + "_cache-data:/data"},
		{"cache network", cache.Spec.Network, project + "_default"},
		{"cache stop_grace_period", cache.Spec.StopTimeout, 3},
		{"cache restart", cache.Spec.Restart, "unless-stopped"},
		{"web env from the shell", slices.Contains(web.Spec.Env, "DB_PASSWORD=from-the-shell"), true},
		{"web env_file through extends", slices.Contains(web.Spec.Env, "FEATURE_FLAGS=new-checkout"), true},
		{"web environment", slices.Contains(web.Spec.Env, "REDIS_URL=redis://cache:6379"), true},
		{"web label", web.Labels["team"], "storefront"},
		{"web network", web.Spec.Network, project + "_back"},
		{"web alias from compose", slices.Contains(web.Spec.Aliases, "shop-web"), true},
		{"web restart from extends", web.Spec.Restart, "on-failure"},
		{"web start_period", web.Spec.Healthcheck.StartPeriod, 2 * time.Second},
		{"worker command", strings.Join(worker.Spec.Cmd, " "), "--queue orders"},
		{"worker variable from the shell", slices.Contains(worker.Spec.Env, "QUEUE=orders"), true},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.what, tc.got, tc.want)
		}
	}
	if v := (&fixture{t: t}).version(webPort); v != "2" {
		t.Errorf("web on its compose port answers %q", v)
	}

	// The same compose file used directly (compose: compose.yaml) is the
	// same configuration: nothing is redeployed.
	direct := "project: " + project + "\nrelease: \"2\"\ncompose: compose.yaml\nservices:\n  worker: {health: {stable: 1s}}\n"
	must(t, os.WriteFile(filepath.Join(dir, "direct.yaml"), []byte(direct), 0o644))
	p2, err := plans.Load(filepath.Join(dir, "direct.yaml"))
	if err != nil {
		t.Fatalf("golive check of the compose: plan: %v", err)
	}
	ends = nil
	if err := plans.NewEngine(p2, opts).Apply(ctx); err != nil {
		t.Fatalf("apply with compose: %v", err)
	}
	for _, e := range ends {
		if e.Result != plans.ResultUnchanged {
			t.Errorf("service %s: %s (%s), want unchanged: the imported plan and compose: differ", e.Service, e.Result, e.Message)
		}
	}
	if len(ends) != 3 {
		t.Errorf("%d services deployed, want cache, web and worker", len(ends))
	}
}
