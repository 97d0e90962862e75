package plans_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/moby/moby/client"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/scratch"
	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
	"github.com/golive/golive/plans/report"
)

// fixture is one test's project on the real Docker engine, with demo
// images api:1, api:2, web:1 and web:2 loaded under unique names.
type fixture struct {
	t       *testing.T
	cli     *docker.Client
	project string
	dir     string
	apiPort int
	webPort int
	events  []plans.Event
	mu      sync.Mutex
}

func newFixture(t *testing.T) *fixture {
	cli := dockertest.Client(t)
	f := &fixture{t: t, cli: cli, project: dockertest.Project(t, cli), dir: t.TempDir(),
		apiPort: dockertest.FreePort(t), webPort: dockertest.FreePort(t)}
	for _, img := range []struct{ ref, role, version string }{{"api:1", "api", "1"}, {"api:2", "api", "2"}, {"web:1", "web", "1"}, {"web:2", "web", "2"}} {
		dockertest.LoadDemoImage(t, cli, f.image(img.ref), scratch.Config{Env: []string{"VERSION=" + img.version, "ROLE=" + img.role, "LOG_EVERY=200ms"}})
	}
	return f
}

func (f *fixture) image(ref string) string { return dockertest.ImageRef(f.project, ref) }

// planVars fill the plan template.
type planVars struct {
	Project, Release, OnFailure string
	API, Web                    string // image references
	APIPort, WebPort            int
	APIEnv                      string // extra env entries for api, YAML flow style
	APIRestart                  string
	Stable, Timeout             string
	Extra                       string // appended at the end of the plan
}

var planTemplate = template.Must(template.New("plan").Parse(`project: {{.Project}}
release: "{{.Release}}"
on_failure: {{.OnFailure}}
services:
  api:
    image: {{.API}}
    group: backend
    ports: ["127.0.0.1:{{.APIPort}}:8080"]
    env: {ROLE: api{{.APIEnv}}}
    restart: {{.APIRestart}}
    health: {http: "http://127.0.0.1:{{.APIPort}}/health", timeout: {{.Timeout}}, stable: {{.Stable}}, interval: 100ms}
  web:
    image: {{.Web}}
    group: frontend
    ports: ["127.0.0.1:{{.WebPort}}:8080"]
    health: {tcp: "127.0.0.1:{{.WebPort}}", timeout: {{.Timeout}}, stable: {{.Stable}}, interval: 100ms}
{{.Extra}}`))

// plan writes a plan for version v ("1" or "2") and loads it.
func (f *fixture) plan(v string, change func(*planVars)) *plans.Plan {
	f.t.Helper()
	vars := planVars{Project: f.project, Release: v, OnFailure: "revert", API: f.image("api:" + v), Web: f.image("web:" + v),
		APIPort: f.apiPort, WebPort: f.webPort, Stable: "300ms", Timeout: "15s", APIRestart: "unless-stopped"}
	if change != nil {
		change(&vars)
	}
	var b strings.Builder
	if err := planTemplate.Execute(&b, vars); err != nil {
		f.t.Fatal(err)
	}
	path := filepath.Join(f.dir, "plan-"+v+".yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		f.t.Fatal(err)
	}
	p, err := plans.Load(path)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// engine returns an engine that journals under the fixture's state folder.
func (f *fixture) engine(p *plans.Plan, opts plans.Options) (*plans.Engine, *plans.Journal) {
	f.t.Helper()
	state := filepath.Join(f.dir, ".golive")
	j, err := plans.CreateJournal(state, p.Project, p.Release, time.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { j.Close() })
	opts.Docker, opts.Journal, opts.StateDir, opts.Actor = f.cli, j, state, "tester@ci"
	opts.OnEvent = func(e plans.Event) {
		f.mu.Lock()
		f.events = append(f.events, e)
		f.mu.Unlock()
	}
	return plans.NewEngine(p, opts), j
}

func (f *fixture) apply(p *plans.Plan) error {
	e, _ := f.engine(p, plans.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return e.Apply(ctx)
}

func (f *fixture) revert(p *plans.Plan) error {
	e, _ := f.engine(p, plans.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return e.Revert(ctx)
}

func (f *fixture) revertAnswering(p *plans.Plan, yes bool) error {
	e, _ := f.engine(p, plans.Options{Asker: answer(yes)})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return e.Revert(ctx)
}

// version asks the service over HTTP which version answers.
func (f *fixture) version(port int) string {
	f.t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/version", port))
	if err != nil {
		return "down"
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

func (f *fixture) container(name string) *docker.Container {
	f.t.Helper()
	ct, err := f.cli.Inspect(context.Background(), name)
	if err != nil {
		f.t.Fatal(err)
	}
	return ct
}

func (f *fixture) eventsOf(kind string) []plans.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []plans.Event
	for _, e := range f.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// eachService checks the events of a kind, which every service of the
// fixture (api and web) must have: a check over no events cannot pass.
func (f *fixture) eachService(kind string, check func(plans.Event)) {
	f.t.Helper()
	evs := f.eventsOf(kind)
	var services []string
	for _, e := range evs {
		services = append(services, e.Service)
		check(e)
	}
	slices.Sort(services)
	if strings.Join(services, ",") != "api,web" {
		f.t.Fatalf("%s events for services %v, want api and web", kind, services)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestApplyDeploysBackendThenFrontendAndRevertBringsBackTheKeptContainers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	if a, w := f.version(f.apiPort), f.version(f.webPort); a != "1" || w != "1" {
		t.Fatalf("after v1: api %s, web %s", a, w)
	}
	v1api, v1web := f.container(f.project+"-api").ID, f.container(f.project+"-web").ID

	f.events = nil
	p2 := f.plan("2", nil)
	must(t, f.apply(p2))
	if a, w := f.version(f.apiPort), f.version(f.webPort); a != "2" || w != "2" {
		t.Fatalf("after v2: api %s, web %s", a, w)
	}
	// The frontend starts once the backend passed its first check (its
	// stable window runs on meanwhile); each ends deployed.
	var order []string
	for _, e := range f.events {
		if e.Kind == plans.EvServiceStart || e.Kind == plans.EvWindow || e.Kind == plans.EvServiceEnd && e.Service == "web" {
			order = append(order, e.Service+":"+e.Kind)
		}
	}
	if got := strings.Join(order, " "); got != "api:service.deploy.start api:service.window web:service.deploy.start web:service.window web:service.deploy.end" {
		t.Fatalf("deploy order: %s", got)
	}
	f.eachService(plans.EvServiceEnd, func(ev plans.Event) {
		if ev.Result != plans.ResultDeployed {
			t.Fatalf("%s ended %s", ev.Service, ev.Result)
		}
	})
	prev := f.container(f.project + "-api.prev")
	if prev == nil || prev.ID != v1api || prev.Running {
		t.Fatalf("the previous api container is not kept stopped: %+v", prev)
	}
	cur := f.container(f.project + "-api")
	if cur.Labels[plans.LabelPrevID] != v1api || cur.Labels[plans.LabelRelease] != "2" || cur.Labels[plans.LabelPrevImageID] != prev.ImageID {
		t.Fatalf("labels of the new container: %v", cur.Labels)
	}

	f.events = nil
	must(t, f.apply(p2))
	f.eachService(plans.EvServiceEnd, func(e plans.Event) {
		if e.Result != plans.ResultUnchanged {
			t.Fatalf("re-apply changed %s: %+v", e.Service, e)
		}
	})
	if f.container(f.project+"-api").ID != cur.ID {
		t.Fatal("re-apply replaced an unchanged container")
	}

	must(t, f.revert(p2))
	if a, w := f.version(f.apiPort), f.version(f.webPort); a != "1" || w != "1" {
		t.Fatalf("after revert: api %s, web %s", a, w)
	}
	if f.container(f.project+"-api").ID != v1api || f.container(f.project+"-web").ID != v1web {
		t.Fatal("revert did not restart the kept containers")
	}
	f.eachService(plans.EvRevertService, func(e plans.Event) {
		if e.Result != plans.ResultReverted || !strings.Contains(e.Message, "restarted the kept container") {
			t.Fatalf("revert of %s: %+v", e.Service, e)
		}
	})
	run := f.eventsOf(plans.EvRevertStart)[0].Run
	err := f.revert(p2)
	if !errors.Is(err, plans.ErrNothingToRevert) || !strings.Contains(err.Error(), "the latest apply ("+run+", release 2) was already reverted by tester@ci") {
		t.Fatalf("second revert: %v", err)
	}
}

// revertOrder reverts v2 of a plan with extra settings and returns the
// services in the order their revert ended, and the revert's start message.
func revertOrder(t *testing.T, extra string) (*fixture, []plans.Event, string) {
	f := newFixture(t)
	set := func(v *planVars) { v.Extra = extra }
	must(t, f.apply(f.plan("1", set)))
	p2 := f.plan("2", set)
	must(t, f.apply(p2))
	f.events = nil
	must(t, f.revert(p2))
	// api's gate is an HTTP check: it answers at once. web's is a TCP
	// connect, which Docker's port proxy accepts before the app listens.
	if a := f.version(f.apiPort); a != "1" {
		t.Fatalf("after revert: api %s", a)
	}
	dockertest.WaitFor(t, "web to answer as version 1 after the revert", func() bool { return f.version(f.webPort) == "1" })
	return f, f.eventsOf(plans.EvRevertService), f.eventsOf(plans.EvRevertStart)[0].Message
}

func TestRevertRestoresEveryServiceAtOnceByDefault(t *testing.T) {
	t.Parallel()
	f, services, msg := revertOrder(t, "")
	if len(services) != 2 || !strings.Contains(msg, "2 services, order parallel") {
		t.Fatalf("revert: %q, %d services", msg, len(services))
	}
	// No stable window: each service counts as back at its first passing check.
	f.eachService(plans.EvHealth, func(e plans.Event) {
		if e.DurationMS >= 300 {
			t.Fatalf("%s waited %dms: a stable window was applied", e.Service, e.DurationMS)
		}
	})
}

func TestRevertOrderGroupsGoesBackOneGroupAtATimeFrontendFirst(t *testing.T) {
	t.Parallel()
	f, services, msg := revertOrder(t, "revert: {order: groups, stable: 500ms}")
	var order []string
	for _, e := range services {
		order = append(order, e.Service)
	}
	if got := strings.Join(order, ","); got != "web,api" || !strings.Contains(msg, "order groups") {
		t.Fatalf("revert order %s (%q), want the frontend first", got, msg)
	}
	f.eachService(plans.EvHealth, func(e plans.Event) {
		if e.DurationMS < 500 {
			t.Fatalf("%s back after %dms, before revert.stable", e.Service, e.DurationMS)
		}
	})
}

// TestRevertJudgesThePreviousVersionByItsOwnGate: v2 moves api to another
// port and health URL and sets a stable window longer than its timeout.
// Judged by v2's gate, v1 would fail; the revert must succeed, and a second
// revert must not go further back and remove the services.
func TestRevertJudgesThePreviousVersionByItsOwnGate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	v1port := f.apiPort
	f.apiPort = dockertest.FreePort(t)
	p2 := f.plan("2", func(v *planVars) { v.APIEnv = ", UNHEALTHY: 'true'"; v.Timeout = "2s" })
	err := f.apply(p2)
	var aerr *plans.ApplyError
	if !errors.As(err, &aerr) || aerr.Outcome != plans.Reverted || aerr.Revert != nil {
		t.Fatalf("apply v2: %v", err)
	}
	if f.version(v1port) != "1" || f.version(f.webPort) != "1" {
		t.Fatalf("after the automatic revert: api %s, web %s", f.version(v1port), f.version(f.webPort))
	}
	err = f.revert(p2)
	if !errors.Is(err, plans.ErrNothingToRevert) {
		t.Fatalf("revert after a reverted apply: %v", err)
	}
	if f.version(v1port) != "1" || f.container(f.project+"-web") == nil {
		t.Fatal("a retried revert took v1 down")
	}
}

func TestRevertRecreatesFromThePreviousImageIDWhenTheKeptContainerIsGoneAndTheTagMoved(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	must(t, f.apply(f.plan("1", nil)))
	must(t, f.apply(f.plan("2", nil)))
	for _, name := range []string{"-api.prev", "-web.prev"} {
		must(t, f.cli.Remove(ctx, f.project+name))
	}
	// The tag api:1 now points at version 2: revert must go by image ID.
	must(t, f.cli.Tag(ctx, f.image("api:2"), f.image("api:1")))
	must(t, f.revert(f.plan("2", nil)))
	if a, w := f.version(f.apiPort), f.version(f.webPort); a != "1" || w != "1" {
		t.Fatalf("after revert: api %s, web %s", a, w)
	}
	f.eachService(plans.EvRevertService, func(e plans.Event) {
		if !strings.Contains(e.Message, "recreated from image") {
			t.Fatalf("%s: %s", e.Service, e.Message)
		}
	})
}

func TestFailingHealthGateWithOnFailureStopLeavesItForRevertLater(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	p := f.plan("2", func(v *planVars) { v.OnFailure, v.APIEnv, v.Timeout = "stop", ", UNHEALTHY: 'true'", "2s" })
	err := f.apply(p)
	var aerr *plans.ApplyError
	if !errors.As(err, &aerr) || aerr.Outcome != plans.Failed {
		t.Fatalf("apply: %v", err)
	}
	for _, want := range []string{"step 1 (Deploy backend): api: not healthy within 2s: GET http://", "503 Service Unavailable", "`golive revert " + p.Path + "` puts the previous images back", "services now:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
	if a, w := f.version(f.apiPort), f.version(f.webPort); a != "2" || w != "1" {
		t.Fatalf("after the failed apply: api %s, web %s (want 2 left as it is, and the frontend untouched)", a, w)
	}
	if skipped := f.eventsOf(plans.EvStepEnd); skipped[len(skipped)-1].Result != plans.ResultSkipped {
		t.Fatalf("the frontend step was not reported skipped: %+v", skipped[len(skipped)-1])
	}
	must(t, f.revert(p))
	if a := f.version(f.apiPort); a != "1" {
		t.Fatalf("after revert: api %s", a)
	}
}

func TestFailingHealthGateRevertsAutomatically(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	err := f.apply(f.plan("2", func(v *planVars) { v.APIEnv, v.Timeout = ", UNHEALTHY: 'true'", "2s" }))
	var aerr *plans.ApplyError
	if !errors.As(err, &aerr) || aerr.Outcome != plans.Reverted || aerr.Revert != nil {
		t.Fatalf("apply: %v", err)
	}
	if a, w := f.version(f.apiPort), f.version(f.webPort); a != "1" || w != "1" {
		t.Fatalf("after the automatic revert: api %s, web %s", a, w)
	}
	// The journal this release wrote makes a postmortem that says what happened.
	paths, err := plans.Journals(filepath.Join(f.dir, ".golive"))
	must(t, err)
	journals, err := report.ReadJournals(paths[len(paths)-1:])
	must(t, err)
	r := report.Build(journals)
	if r.Outcome != "reverted" || !strings.Contains(r.Failure, "api: not healthy within 2s") || !r.Reverted || len(r.Notes) > 0 {
		t.Fatalf("report: outcome %s, failure %q, reverted %v, notes %v", r.Outcome, r.Failure, r.Reverted, r.Notes)
	}
}

func TestCrashAfterStartIsCaughtByTheStableWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	err := f.apply(f.plan("2", func(v *planVars) { v.APIEnv, v.Stable = ", CRASH_AFTER: 1s", "4s" }))
	var aerr *plans.ApplyError
	if !errors.As(err, &aerr) || aerr.Outcome != plans.Reverted {
		t.Fatalf("apply: %v", err)
	}
	for _, want := range []string{"api: container crashed", "panic: runtime error"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
	if a := f.version(f.apiPort); a != "1" {
		t.Fatalf("after the revert: api %s", a)
	}
}

func TestMissingImageFailsPreloadBeforeAnyContainerIsTouched(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	before := f.container(f.project + "-api").ID
	err := f.apply(f.plan("2", func(v *planVars) { v.API = "127.0.0.1:9/golive/none:1" }))
	if err == nil || !strings.Contains(err.Error(), "preload failed, no container was touched") || !strings.Contains(err.Error(), "127.0.0.1:9/golive/none:1") {
		t.Fatalf("apply: %v", err)
	}
	var aerr *plans.ApplyError
	if errors.As(err, &aerr) {
		t.Fatalf("a preload failure was treated as a failed release: %v", err)
	}
	if f.container(f.project+"-api").ID != before || f.version(f.apiPort) != "1" {
		t.Fatal("a failed preload touched the running service")
	}
	if lock, _ := f.cli.Lock(context.Background(), "golive-lock-"+f.project); lock != nil {
		t.Fatalf("the lock was left: %+v", lock)
	}
}

func TestPreloadPullsFromARegistryAndLoadsASaveTarball(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := dockertest.Registry(t)
	pulled := reg + "/" + f.project + "/api:3"
	dockertest.Push(t, pulled, scratch.Config{Env: []string{"VERSION=3", "ROLE=api"}})
	t.Cleanup(func() { f.cli.RemoveImage(context.Background(), pulled) })
	loaded := f.image("web:3")
	img, err := scratch.Image(dockertest.DemoBinary(t), scratch.Config{Env: []string{"VERSION=3", "ROLE=web"}})
	must(t, err)
	tarball, err := os.Create(filepath.Join(f.dir, "images.tar"))
	must(t, err)
	must(t, scratch.WriteTarball(tarball, map[string]v1.Image{loaded: img}))
	must(t, tarball.Close())
	t.Cleanup(func() { f.cli.RemoveImage(context.Background(), loaded) })

	p := f.plan("3", func(v *planVars) { v.API, v.Web, v.Extra = pulled, loaded, "preload: {load: [images.tar]}\n" })
	e, _ := f.engine(p, plans.Options{})
	must(t, e.Preload(context.Background()))
	results := map[string]string{}
	for _, ev := range f.eventsOf(plans.EvPreloadImage) {
		results[ev.Image] = ev.Result
	}
	if results[pulled] != plans.ResultPulled || results[loaded] != plans.ResultPresent {
		t.Fatalf("preload results: %v", results)
	}
	if len(f.eventsOf(plans.EvPreloadProgress)) == 0 {
		t.Fatal("no pull progress was reported")
	}
	if f.container(f.project+"-api") != nil {
		t.Fatal("preload created a container")
	}
	must(t, f.apply(p))
	if a, w := f.version(f.apiPort), f.version(f.webPort); a != "3" || w != "3" {
		t.Fatalf("after apply: api %s, web %s", a, w)
	}
}

type answer bool

func (a answer) Confirm(context.Context, string) (bool, error) { return bool(a), nil }

func TestStepsRunInOrderAndSecretsNeverReachTheJournal(t *testing.T) {
	f := newFixture(t)
	t.Setenv("GOLIVE_TEST_SECRET", "s3cr3t-value")
	steps := `secrets: [GOLIVE_TEST_SECRET]
steps:
  - name: Back up
    run: echo "backup with $GOLIVE_TEST_SECRET" && echo warn >&2
  - name: Migrate
    before: test -n "$GOLIVE_PROJECT"
    run: printf 'migrated\033]52;c;cGF3bmVk\007 ok\n'
    after: "true"
  - deploy: backend
  - deploy: frontend
  - verify: exit 0
  - confirm: QA done?
`
	p := f.plan("1", func(v *planVars) { v.Extra = steps })
	e, j := f.engine(p, plans.Options{Asker: answer(true)})
	must(t, e.Apply(context.Background()))
	var titles []string
	for _, ev := range f.eventsOf(plans.EvStepEnd) {
		titles = append(titles, fmt.Sprintf("%d:%s", ev.Step, ev.Result))
	}
	if got := strings.Join(titles, " "); got != "1:ok 2:ok 3:ok 4:ok 5:ok 6:ok" {
		t.Fatalf("steps: %s", got)
	}
	var lines []string
	for _, ev := range f.eventsOf(plans.EvStepOutput) {
		lines = append(lines, ev.Phase+"/"+ev.Stream+": "+ev.Line)
	}
	if got := strings.Join(lines, " | "); !strings.Contains(got, "run/stdout: backup with ****") || !strings.Contains(got, "run/stdout: migrated ok") {
		t.Fatalf("step output: %s", got)
	}
	raw, err := os.ReadFile(j.Path())
	must(t, err)
	if strings.Contains(string(raw), "s3cr3t-value") || strings.Contains(string(raw), "\x1b") {
		t.Fatal("the journal holds a secret or an escape sequence")
	}
	events, problems, err := plans.ReadJournal(strings.NewReader(string(raw)))
	if err != nil || len(problems) > 0 || len(events) < 10 {
		t.Fatalf("journal: %d events, problems %v, %v", len(events), problems, err)
	}
	for _, ev := range events {
		if ev.Time.IsZero() || ev.Actor != "tester@ci" || ev.Kind == "" {
			t.Fatalf("journal event lacks time, actor or event: %+v", ev)
		}
	}
}

func TestFailingStepSkipsTheRestAndDecliningAConfirmFailsTheRelease(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	p := f.plan("2", func(v *planVars) {
		v.Extra = "steps:\n  - deploy: backend\n  - confirm: Looks good?\n  - deploy: frontend\n"
	})
	e, _ := f.engine(p, plans.Options{Asker: answer(false)})
	err := e.Apply(context.Background())
	var aerr *plans.ApplyError
	if !errors.As(err, &aerr) || aerr.Outcome != plans.Reverted || !errors.Is(err, plans.ErrDeclined) {
		t.Fatalf("apply: %v", err)
	}
	if a, w := f.version(f.apiPort), f.version(f.webPort); a != "1" || w != "1" {
		t.Fatalf("after declining: api %s, web %s", a, w)
	}
	p = f.plan("2", func(v *planVars) { v.Extra = "steps:\n  - run: exit 7\n  - deploy: backend\n  - deploy: frontend\n" })
	e, _ = f.engine(p, plans.Options{})
	err = e.Apply(context.Background())
	var exit *plans.ExitError
	if !errors.As(err, &exit) || exit.Code != 7 || !errors.As(err, &aerr) || !aerr.Unchanged || !strings.Contains(err.Error(), "nothing was changed, so there was nothing to revert") {
		t.Fatalf("apply with a failing step: %v", err)
	}
}

func TestApplyRefusesToStartOverAHalfDeployedService(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	_, err := f.cli.Create(context.Background(), docker.Spec{Name: f.project + "-api.next", Image: f.image("api:2"),
		Labels: map[string]string{plans.LabelProject: f.project, plans.LabelRun: "x", plans.LabelActor: "crashed@ops"}})
	must(t, err)
	p := f.plan("2", nil)
	err = f.apply(p)
	if err == nil || !strings.Contains(err.Error(), "service api is half-deployed") || !strings.Contains(err.Error(), "run `golive revert "+p.Path) {
		t.Fatalf("apply: %v", err)
	}
}

func TestApplyJournalsTheFirstErrorLinesAfterADeployAndErrorsPerMinute(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	p := f.plan("2", func(v *planVars) { v.APIEnv, v.Stable = ", ERROR_RATE: '1', LOG_EVERY: 50ms", "1s" })
	buf := logs.NewBuffer(0)
	e, _ := f.engine(p, plans.Options{Logs: buf})
	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan error, 1)
	go func() { followed <- e.FollowLogs(ctx, buf, time.Now()) }()
	must(t, e.Apply(context.Background()))
	cancel()
	must(t, <-followed)
	e.Close()
	firsts := f.eventsOf(plans.EvLogError)
	if len(firsts) != 3 || firsts[0].Service != "api" || !strings.Contains(firsts[0].Line, "Unknown column 'orders.discount_code'") {
		t.Fatalf("first error lines: %+v", firsts)
	}
	total := 0
	for _, ev := range f.eventsOf(plans.EvLogErrors) {
		total += ev.Counts["api"]
	}
	if total < 3 {
		t.Fatalf("errors per minute recorded %d api errors", total)
	}
	if n := buf.Counts().Total("api", logs.LevelError); n < total {
		t.Fatalf("buffer counted %d errors, journal %d", n, total)
	}
}

func TestRevertRemovesAServiceThatDidNotExistBefore(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.plan("1", nil)
	must(t, f.apply(p))
	// Nobody to ask: nothing is removed.
	if err := f.revert(p); !errors.Is(err, plans.ErrRemovalNotConfirmed) || !strings.Contains(err.Error(), "--yes") || f.version(f.apiPort) != "1" {
		t.Fatalf("revert without an operator: %v", err)
	}
	if err := f.revertAnswering(p, false); !errors.Is(err, plans.ErrDeclined) || f.version(f.apiPort) != "1" {
		t.Fatalf("revert declined: %v", err)
	}
	must(t, f.revertAnswering(p, true))
	for _, name := range []string{"-api", "-web", "-api.prev", "-web.prev"} {
		if f.container(f.project+name) != nil {
			t.Fatalf("%s is still there after reverting its first deploy", f.project+name)
		}
	}
	f.eachService(plans.EvRevertService, func(e plans.Event) {
		if !strings.Contains(e.Message, "did not exist before") {
			t.Fatalf("%s: %s", e.Service, e.Message)
		}
	})
}

func TestAPortTakenOnTheHostFailsTheStartAndIsReverted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	// web moves to a port another process holds
	err = f.apply(f.plan("2", func(v *planVars) { v.WebPort = port }))
	var aerr *plans.ApplyError
	if !errors.As(err, &aerr) || aerr.Outcome != plans.Reverted || !strings.Contains(err.Error(), "already in use on the Docker host") {
		t.Fatalf("apply: %v", err)
	}
	if a, w := f.version(f.apiPort), f.version(f.webPort); a != "1" || w != "1" {
		t.Fatalf("after the revert: api %s, web %s", a, w)
	}
}

// TestFixingForwardAfterACrashKeepsTheLastHealthyVersionToRevertTo: a
// release that crashed and was left (on_failure: stop) never became what
// runs, so the next apply replaces it and still reverts to the version
// before it.
func TestFixingForwardAfterACrashKeepsTheLastHealthyVersionToRevertTo(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	v1 := f.container(f.project + "-api").ID
	crash := func(v *planVars) {
		v.OnFailure, v.APIEnv, v.APIRestart, v.Stable = "stop", ", CRASH_AFTER: 500ms", "no", "3s"
	}
	var aerr *plans.ApplyError
	if err := f.apply(f.plan("2", crash)); !errors.As(err, &aerr) || aerr.Outcome != plans.Failed {
		t.Fatalf("crashing apply: %v", err)
	}
	if ct := f.container(f.project + "-api"); ct == nil || ct.Running {
		t.Fatalf("the crashed container should be left stopped: %+v", ct)
	}
	must(t, f.apply(f.plan("2", nil))) // the fix
	if f.version(f.apiPort) != "2" {
		t.Fatal("the fix did not deploy")
	}
	if prev := f.container(f.project + "-api.prev"); prev == nil || prev.ID != v1 {
		t.Fatalf("the kept container is %+v, want v1's %s", prev, v1)
	}
	must(t, f.revert(f.plan("2", nil)))
	if f.version(f.apiPort) != "1" || f.container(f.project+"-api").ID != v1 {
		t.Fatal("revert did not go back to v1")
	}
}

func TestServicesJoinTheirNetworkUnderTheirNameAndKeepItThroughARevert(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	network := f.project + "-net"
	p1 := f.plan("1", nil)
	for _, s := range p1.Services {
		s.Network = network
	}
	must(t, f.apply(p1))
	ct := f.container(f.project + "-api")
	if len(ct.Networks) != 1 || ct.Networks[0] != network || !slices.Contains(ct.Spec.Aliases, "api") {
		t.Fatalf("networks %v, aliases %v", ct.Networks, ct.Spec.Aliases)
	}
	p2 := f.plan("2", nil)
	for _, s := range p2.Services {
		s.Network = network
	}
	must(t, f.apply(p2))
	must(t, f.cli.Remove(context.Background(), f.project+"-api.prev")) // force the recreate path
	must(t, f.revert(p2))
	ct = f.container(f.project + "-api")
	if f.version(f.apiPort) != "1" || len(ct.Networks) != 1 || ct.Networks[0] != network || !slices.Contains(ct.Spec.Aliases, "api") {
		t.Fatalf("after a recreating revert: networks %v, aliases %v", ct.Networks, ct.Spec.Aliases)
	}
}

func TestContainerConfigFollowsThePlanAndAChangedConfigRedeploys(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, os.MkdirAll(filepath.Join(f.dir, "data"), 0o755))
	must(t, os.WriteFile(filepath.Join(f.dir, "api.env"), []byte("# api settings\nFEATURE_X=on\nexport DB_USER=\"shop\"\n"), 0o644))
	p := f.plan("1", nil)
	api := p.Service("api")
	api.EnvFile, api.Volumes, api.Command = "api.env", []string{"./data:/data:ro"}, plans.Command{"--verbose"}
	api.Labels, api.StopTimeout = map[string]string{"team": "payments"}, 3*time.Second
	must(t, f.apply(p))
	spec := f.container(f.project + "-api").Spec
	checks := map[string]bool{
		"env_file":     slices.Contains(spec.Env, "FEATURE_X=on") && slices.Contains(spec.Env, "DB_USER=shop"),
		"env":          slices.Contains(spec.Env, "ROLE=api"),
		"volume":       slices.Contains(spec.Binds, filepath.Join(f.dir, "data")+":/data:ro"),
		"command":      slices.Equal(spec.Cmd, []string{"--verbose"}),
		"label":        spec.Labels["team"] == "payments",
		"stop_timeout": spec.StopTimeout == 3,
		"restart":      spec.Restart == "unless-stopped",
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("%s not applied: %+v", what, spec)
		}
	}
	id := f.container(f.project + "-api").ID
	must(t, f.apply(p))
	if f.container(f.project+"-api").ID != id {
		t.Fatal("an unchanged config was redeployed")
	}
	api.Env["FEATURE_Y"] = "on"
	must(t, f.apply(p))
	if f.container(f.project+"-api").ID == id {
		t.Fatal("a changed env was not deployed")
	}
	// An unchanged but unhealthy service fails the release instead of passing as done.
	api.Health.HTTP = fmt.Sprintf("http://127.0.0.1:%d/missing", f.apiPort)
	api.Health.Timeout = time.Second
	if err := f.apply(p); err == nil || !strings.Contains(err.Error(), "unchanged, but not healthy within 1s") {
		t.Fatalf("re-apply with a failing gate: %v", err)
	}
}

func TestHealthGatesByCommandAndByTheImagesHealthcheck(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	checked := f.image("api:3")
	dockertest.LoadDemoImage(t, f.cli, checked, scratch.Config{Env: []string{"VERSION=3", "ROLE=api"}, Healthcheck: []string{"/app", "healthcheck"}})
	tests := []struct {
		name    string
		image   string
		health  plans.Health
		env     map[string]string
		wantErr string
	}{
		{"a command on the operator's machine passes", f.image("api:1"), plans.Health{Cmd: plans.Command{"sh", "-c", "exit 0"}}, nil, ""},
		{"a failing command fails the gate", f.image("api:1"), plans.Health{Cmd: plans.Command{"false"}}, nil, "not healthy within 2s: false: exit status 1"},
		{"the image's HEALTHCHECK passes", checked, plans.Health{Docker: true}, nil, ""},
		{"unhealthy by the image's HEALTHCHECK fails before the timeout", checked, plans.Health{Docker: true, Timeout: time.Minute}, map[string]string{"UNHEALTHY": "true"}, "the image's HEALTHCHECK reports unhealthy after"},
		{"an image without HEALTHCHECK is named", f.image("api:1"), plans.Health{Docker: true}, nil, "the image has no HEALTHCHECK; health.docker needs one"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := f.plan("1", func(v *planVars) { v.OnFailure = "stop" })
			p.Service("api").Env["CASE"] = fmt.Sprint(i) // a new config: every case deploys
			api := p.Service("api")
			api.Image, api.Health.HTTP, api.Health.Cmd, api.Health.Docker = tt.image, "", tt.health.Cmd, tt.health.Docker
			api.Health.Timeout = 2 * time.Second
			if tt.image == checked && tt.wantErr == "" {
				api.Health.Timeout = 15 * time.Second // the engine runs its first check after an interval
			}
			if tt.health.Timeout > 0 {
				api.Health.Timeout = tt.health.Timeout
			}
			for k, v := range tt.env {
				api.Env[k] = v
			}
			p.Services = p.Services[:1]
			p.Steps = nil
			err := f.apply(p)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestAFailedRevertCanBeRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	// An image of its own: other tests on the engine load identical ones,
	// which would keep the image ID alive after its tag is removed.
	apiV1 := []string{"VERSION=1", "ROLE=api", "LOG_EVERY=200ms", "TEST_PROJECT=" + f.project}
	dockertest.LoadDemoImage(t, f.cli, f.image("api:1"), scratch.Config{Env: apiV1})
	must(t, f.apply(f.plan("1", nil)))
	p2 := f.plan("2", nil)
	must(t, f.apply(p2))
	// The kept api container and its image are gone: api cannot go back.
	must(t, f.cli.Remove(ctx, f.project+"-api.prev"))
	must(t, f.cli.RemoveImage(ctx, f.image("api:1")))
	err := f.revert(p2)
	if err == nil || !strings.Contains(err.Error(), "is no longer on the Docker host; the service was left as it is: pull that image by digest and run revert again") {
		t.Fatalf("revert without the previous image: %v", err)
	}
	if f.version(f.webPort) != "1" || f.version(f.apiPort) != "2" {
		t.Fatal("web should be reverted and api left running v2, not taken down")
	}
	// The image is back: revert again finishes the job.
	dockertest.LoadDemoImage(t, f.cli, f.image("api:1"), scratch.Config{Env: apiV1})
	must(t, f.revert(p2))
	if f.version(f.apiPort) != "1" {
		t.Fatal("the second revert did not bring api back")
	}
}

// TestARevertWhoseOldVersionCannotStartPutsTheNewOneBack: v2 moved api to
// another host port, and v1's port is now taken: the revert must not leave
// api down on both ports. It puts v2 back, says so, and a later revert
// finishes once the port is free.
func TestARevertWhoseOldVersionCannotStartPutsTheNewOneBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	v1port := f.apiPort
	f.apiPort = dockertest.FreePort(t)
	p2 := f.plan("2", nil)
	must(t, f.apply(p2))
	taken, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", v1port))
	must(t, err)
	err = f.revert(p2)
	var rerr *plans.RevertError
	if !errors.As(err, &rerr) || !strings.Contains(err.Error(), "the previous version could not start") || !strings.Contains(err.Error(), "the new version was put back, runs again and passed its health gate") ||
		!strings.Contains(err.Error(), "golive revert "+p2.Path) {
		t.Fatalf("revert with v1's port taken: %v", err)
	}
	if f.version(f.apiPort) != "2" || f.version(f.webPort) != "1" {
		t.Fatalf("api answers %s on its v2 port, web %s", f.version(f.apiPort), f.version(f.webPort))
	}
	if ends := f.eventsOf(plans.EvRevertEnd); ends[len(ends)-1].Result != plans.ResultIncomplete {
		t.Fatalf("revert.end: %+v", ends[len(ends)-1])
	}
	taken.Close()
	must(t, f.revert(p2))
	if f.version(v1port) != "1" || f.container(f.project+"-api.next") != nil || f.container(f.project+"-api.prev") != nil {
		t.Fatal("the finishing revert did not bring v1 back cleanly")
	}
}

// TestAReleaseWhoseLockIsBrokenStopsBeforeItsNextChange breaks the lock
// while the first step runs, as `golive unlock --force` from another
// machine would: the release must change nothing and not revert.
func TestAReleaseWhoseLockIsBrokenStopsBeforeItsNextChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	before := f.container(f.project + "-api").ID
	p2 := f.plan("2", func(v *planVars) {
		v.Extra = "steps:\n  - run: sleep 1\n  - deploy: backend\n  - deploy: frontend\n"
	})
	go func() {
		for {
			if held, _ := f.cli.Lock(context.Background(), p2.LockName()); held != nil {
				f.cli.ReleaseLock(context.Background(), p2.LockName())
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	err := f.apply(p2)
	var lost *plans.LockLostError
	var aerr *plans.ApplyError
	if !errors.As(err, &lost) || !errors.As(err, &aerr) || aerr.Outcome != plans.Failed || !strings.Contains(err.Error(), "nothing was reverted") {
		t.Fatalf("apply after its lock was broken: %v", err)
	}
	if f.container(f.project+"-api").ID != before || f.container(f.project+"-api.next") != nil || len(f.eventsOf(plans.EvRevertStart)) > 0 {
		t.Fatal("the release changed something after its lock was broken")
	}
}

// TestServicesOfOneGroupSharingANewNetworkCreateItOnce: engine 20.10
// creates duplicates when services create their network in parallel.
func TestServicesOfOneGroupSharingANewNetworkCreateItOnce(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("counting networks needs the docker CLI")
	}
	f := newFixture(t)
	network := f.project + "-net"
	p := f.plan("1", nil)
	for _, s := range p.Services {
		s.Network, s.Group = network, "default"
	}
	must(t, f.apply(p))
	out, err := exec.Command("docker", "network", "ls", "-q", "--filter", "name=^"+network+"$").Output()
	must(t, err)
	if n := len(strings.Fields(string(out))); n != 1 {
		t.Fatalf("%d networks named %s", n, network)
	}
}

// TestStopApplyStopsARunningApplyAndRevertsItEvenWithOnFailureStop is the
// cockpit's "stop and revert" against the real engine.
func TestStopApplyStopsARunningApplyAndRevertsItEvenWithOnFailureStop(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.apply(f.plan("1", nil)))
	p2 := f.plan("2", func(v *planVars) { v.OnFailure = "stop"; v.APIEnv = ", UNHEALTHY: 'true'" })
	e, _ := f.engine(p2, plans.Options{})
	f.events = nil
	go func() {
		for len(f.eventsOf(plans.EvServiceChange)) < 3 { // created, stopped v1, started
			time.Sleep(20 * time.Millisecond)
		}
		e.StopApply()
	}()
	err := e.Apply(context.Background())
	var aerr *plans.ApplyError
	if !errors.As(err, &aerr) || aerr.Outcome != plans.Reverted || f.version(f.apiPort) != "1" {
		t.Fatalf("stopped apply: %v (api answers %s)", err, f.version(f.apiPort))
	}
}

// TestADuplicateNetworkIsReportedWithTheCommandThatCleansItUp: engine 20.10
// accepts two networks of one name, after which Docker cannot tell which
// one a container joins.
func TestADuplicateNetworkIsReportedWithTheCommandThatCleansItUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	network := f.project + "-net"
	api, err := client.New(client.FromEnv)
	must(t, err)
	defer api.Close()
	ctx := context.Background()
	var ids []string
	for range 2 {
		res, err := api.NetworkCreate(ctx, network, client.NetworkCreateOptions{Labels: map[string]string{plans.LabelProject: f.project}})
		must(t, err)
		ids = append(ids, res.ID)
	}
	t.Cleanup(func() {
		for _, id := range ids {
			api.NetworkRemove(context.Background(), id, client.NetworkRemoveOptions{})
		}
	})
	p := f.plan("1", nil)
	for _, s := range p.Services {
		s.Network = network
	}
	err = f.apply(p)
	if err == nil || !strings.Contains(err.Error(), "network "+network+" exists 2 times") || !strings.Contains(err.Error(), "docker network rm ") {
		t.Fatalf("apply with a duplicate network: %v", err)
	}
}
