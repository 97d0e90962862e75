package plans_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/plans"
)

// shopDir copies the shop compose files (compose.yaml, common.yaml for
// extends, app.env, .env) to a temporary folder.
func shopDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("testdata", "compose", "shop")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadComposeReadsTheShopAsDockerComposeDoes(t *testing.T) {
	dir := shopDir(t)
	c, err := plans.LoadCompose(context.Background(), filepath.Join(dir, "compose.yaml"), plans.ComposeOptions{Dir: dir, KeepRefs: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Project != "shop" {
		t.Errorf("project %q, want shop", c.Project)
	}
	var names, groups []string
	for _, s := range c.Services {
		names, groups = append(names, s.Name), append(groups, s.Group)
	}
	if want := []string{"cache", "web", "worker"}; !slices.Equal(names, want) {
		t.Errorf("services %v, want %v (builder has no image, debug is in an inactive profile)", names, want)
	}
	if want := []string{"cache", "web+worker", "web+worker"}; !slices.Equal(groups, want) {
		t.Errorf("groups %v, want one per depends_on layer %v", groups, want)
	}
	cache, web, worker := c.Services[0], c.Services[1], c.Services[2]
	checks := []struct {
		what      string
		got, want any
	}{
		{"image tag from .env", cache.Image, "golive-test/cache:1"},
		{"named volume gets the project prefix", strings.Join(cache.Volumes, ","), "shop_cache-data:/data"},
		{"default network", cache.Network, "shop_default"},
		{"stop_grace_period", cache.StopTimeout, 3 * time.Second},
		{"entrypoint", strings.Join(cache.Entrypoint, " "), "/app"},
		{"command", strings.Join(worker.Command, " "), "--queue orders"},
		{"healthcheck test", strings.Join(cache.Healthcheck.Test, " "), "CMD /app healthcheck"},
		{"healthcheck retries", cache.Healthcheck.Retries, 3},
		{"health gate waits for the healthcheck", cache.Health.Docker, true},
		{"port from .env", strings.Join(web.Ports, ","), "127.0.0.1:18480:8080"},
		{"env_file from extends, relative to the plan", web.EnvFile, "app.env"},
		{"stop_grace_period from extends", web.StopTimeout, 5 * time.Second},
		{"restart with a retry limit", web.Restart, "on-failure"},
		{"container_name", web.Container, "shop-web"},
		{"network", web.Network, "shop_back"},
		{"aliases", strings.Join(web.Aliases, ","), "shop-web"},
		{"labels", web.Labels["team"], "storefront"},
		{"a ${VAR} secret stays a reference", web.Env["DB_PASSWORD"], "${DB_PASSWORD}"},
		{"a plain value", web.Env["REDIS_URL"], "redis://cache:6379"},
		{"a variable without value comes from the environment", worker.Env["QUEUE"], "${QUEUE}"},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.what, tc.got, tc.want)
		}
	}
	warnings := []struct {
		line int
		has  string
	}{
		{39, "deploy.*"},
		{56, "cap_add is not honoured"},
		{57, "secrets"},
		{61, "builder has no image: left out"},
		{65, "debug is only in profiles debug"},
		{73, "top-level secrets"},
	}
	for _, w := range warnings {
		found := false
		for _, got := range c.Warnings {
			found = found || (got.Line == w.line && strings.Contains(got.Message, w.has))
		}
		if !found {
			t.Errorf("no warning %q at line %d; warnings:\n%v", w.has, w.line, c.Warnings)
		}
	}
}

func TestLoadComposeWithoutKeepRefsTakesValuesFromDotEnv(t *testing.T) {
	dir := shopDir(t)
	c, err := plans.LoadCompose(context.Background(), filepath.Join(dir, "compose.yaml"), plans.ComposeOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Services[1].Env["DB_PASSWORD"]; got != "s3cret-from-dotenv" {
		t.Errorf("DB_PASSWORD %q, want the value from .env", got)
	}
}

func TestLoadComposeActivatesCOMPOSE_PROFILES(t *testing.T) {
	t.Setenv("COMPOSE_PROFILES", "debug")
	dir := shopDir(t)
	c, err := plans.LoadCompose(context.Background(), filepath.Join(dir, "compose.yaml"), plans.ComposeOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range c.Services {
		names = append(names, s.Name)
	}
	if !slices.Contains(names, "debug") {
		t.Errorf("services %v lack debug, whose profile is active", names)
	}
}

func TestImportedPlanIsAValidPlanWithoutSecrets(t *testing.T) {
	dir := shopDir(t)
	c, err := plans.LoadCompose(context.Background(), filepath.Join(dir, "compose.yaml"), plans.ComposeOptions{Dir: dir, KeepRefs: true})
	if err != nil {
		t.Fatal(err)
	}
	text, err := c.PlanText("7.1", "compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(text), "s3cret") {
		t.Fatalf("the plan copies a secret from .env:\n%s", text)
	}
	if !strings.Contains(string(text), "#   compose.yaml:39:5: service web: deploy") {
		t.Errorf("the plan does not list the warnings with their lines:\n%s", text)
	}
	p, err := plans.Parse(filepath.Join(dir, "plan.yaml"), text)
	if err != nil {
		t.Fatalf("the imported plan does not check: %v\n%s", err, text)
	}
	if !slices.Equal(p.Secrets, []string{"DB_PASSWORD"}) {
		t.Errorf("secrets %v, want [DB_PASSWORD]", p.Secrets)
	}
	if !slices.Equal(p.Groups(), []string{"cache", "web+worker"}) {
		t.Errorf("groups %v", p.Groups())
	}
	web := p.Service("web")
	if web.Healthcheck == nil || web.Healthcheck.StartPeriod != 2*time.Second || !web.Health.Docker {
		t.Errorf("web healthcheck %+v health %+v", web.Healthcheck, web.Health)
	}
}

func TestPlanWithComposeOverridesGroupAndHealth(t *testing.T) {
	dir := shopDir(t)
	plan := `project: shop
release: "2"
compose: compose.yaml
services:
  worker:
    group: background
    health: {stable: 7s}
`
	p, err := plans.Parse(filepath.Join(dir, "plan.yaml"), []byte(plan))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"cache", "web+worker", "background"}; !slices.Equal(p.Groups(), want) {
		t.Errorf("groups %v, want %v", p.Groups(), want)
	}
	w := p.Service("worker")
	if w.Health.Stable != 7*time.Second || !w.Health.Docker {
		t.Errorf("worker health %+v: want stable 7s and still the docker check", w.Health)
	}
	if p.Service("web").Env["DB_PASSWORD"] != "s3cret-from-dotenv" {
		t.Errorf("compose: reads .env as docker compose does")
	}
	if len(p.ComposeWarnings) == 0 {
		t.Errorf("no compose warnings kept for check")
	}
}

func TestPlanWithComposeReportsProblemsWhereTheyAre(t *testing.T) {
	dir := shopDir(t)
	compose, err := os.ReadFile(filepath.Join(dir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(compose), "container_name: shop-web", "container_name: \"shop web\"", 1)
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, plan string
		want       []string
	}{
		{
			name: "a plan service may set only group and health",
			plan: "project: shop\nrelease: \"2\"\ncompose: compose.yaml\nservices:\n  web:\n    image: other:1\n  nosuch:\n    group: x\n",
			want: []string{
				"plan.yaml:6:12: service web: image comes from compose.yaml; change it there",
				"plan.yaml:7:3: service nosuch is not in compose.yaml (its services: cache, web, worker)",
				"compose.yaml:42:5: container name \"shop web\" may contain only",
			},
		},
		{
			name: "a compose file that does not load",
			plan: "project: shop\nrelease: \"2\"\ncompose: missing.yaml\n",
			want: []string{"plan.yaml:3:10: compose: "},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := plans.Parse(filepath.Join(dir, "plan.yaml"), []byte(tc.plan))
			var perr *plans.PlanError
			if !errors.As(err, &perr) {
				t.Fatalf("got %v, want a PlanError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in:\n%v", w, err)
				}
			}
		})
	}
}

// TestAComposePlanOfBuildOnlyServicesSaysWhyItHasNone: check names the
// compose warnings that left every service out, not only that none is left.
func TestAComposePlanOfBuildOnlyServicesSaysWhyItHasNone(t *testing.T) {
	dir := t.TempDir()
	compose := "services:\n  api:\n    build: ./api\n  web:\n    build: ./web\n"
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := plans.Parse(filepath.Join(dir, "plan.yaml"), []byte("project: shop\nrelease: \"2\"\ncompose: compose.yaml\n"))
	for _, w := range []string{
		"plan.yaml:3:10: compose: no service of compose.yaml can be deployed: ",
		"service api has no image: left out; golive deploys images and does not build them",
		"service web has no image: left out",
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
}
