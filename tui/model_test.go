package tui

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

var clock = time.Date(2026, 11, 25, 21, 30, 0, 0, time.UTC)

// fakeEngine stands in for the release engine in unit tests; the real one
// is driven by the end-to-end test in cmd/golive.
type fakeEngine struct {
	plan   *plans.Plan
	mu     sync.Mutex
	ops    []string
	events []plans.Event
}

func (f *fakeEngine) Plan() *plans.Plan { return f.plan }
func (f *fakeEngine) record(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, op)
	return nil
}
func (f *fakeEngine) Preload(context.Context) error { return f.record("preload") }
func (f *fakeEngine) Apply(context.Context) error   { return f.record("apply") }
func (f *fakeEngine) Revert(context.Context) error  { return f.record("revert") }
func (f *fakeEngine) Status(context.Context) ([]plans.ServiceState, error) {
	return nil, nil
}
func (f *fakeEngine) StopApply()           { f.record("stop") }
func (f *fakeEngine) Mask(s string) string { return strings.ReplaceAll(s, "hunter22", "****") }
func (f *fakeEngine) Emit(ev plans.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, ev)
}

const testPlan = `project: shop
release: 2.4.0
services:
  api: {image: registry.example.com/shop/api:2.4.0, group: backend}
  web: {image: registry.example.com/shop/web:2.4.0, group: frontend}
steps:
  - name: Back up the database
    run: ./backup
  - deploy: backend
  - deploy: frontend
  - confirm: QA regression pass done?
`

func newTestModel(t testing.TB, plan string, readOnly bool) (Model, *fakeEngine, *logs.Buffer) {
	t.Helper()
	p, err := plans.Parse("/srv/shop/plan.yaml", []byte(plan))
	if err != nil {
		t.Fatal(err)
	}
	eng := &fakeEngine{plan: p}
	buf := logs.NewBuffer(0)
	lines := []struct{ src, text string }{
		{"api", `level=info msg="request method=GET path=/api/orders status=200 duration_ms=12"`},
		{"web", `127.0.0.1 - - [25/Nov/2026:21:29:50 +0000] "GET /checkout HTTP/1.1" 200 5123`},
		{"api", `level=warn msg="slow request path=/api/cart duration_ms=1843"`},
		{"api", `level=error msg="query failed: Unknown column 'orders.discount_code' in 'field list'"`},
		{"web", `127.0.0.1 - - [25/Nov/2026:21:29:55 +0000] "GET /api/orders HTTP/1.1" 502 157`},
		{"api", `level=info msg="connected to db with password hunter22"`},
	}
	for i, l := range lines {
		in := logs.NewIngester(l.src, buf, nil, 0)
		in.Add("stdout", clock.Add(time.Duration(i-len(lines))*time.Second), []byte(l.text), 0)
	}
	m := New(Config{Engine: eng, Bridge: NewBridge(), Logs: buf, Host: "unix:///var/run/docker.sock", Operator: "alice@ops1 (ssh from 10.0.0.7)", ReadOnly: readOnly, Now: func() time.Time { return clock }})
	m.services = []plans.ServiceState{
		{Service: "api", Group: "backend", Image: "registry.example.com/shop/api:2.3.1", ImageID: "sha256:1a2b3c4d5e6f", Target: "registry.example.com/shop/api:2.4.0", State: "running", Health: "healthy"},
		{Service: "web", Group: "frontend", Image: "registry.example.com/shop/web:2.3.1", ImageID: "sha256:9f8e7d6c5b4a", Target: "registry.example.com/shop/web:2.4.0", State: "running"},
	}
	return m, eng, buf
}

// send feeds messages through Update, like the program does.
func send(m Model, msgs ...tea.Msg) Model {
	for _, msg := range msgs {
		next, _ := m.Update(msg)
		m = next.(Model)
	}
	return m
}

// events delivers engine events; like the engine, it stamps a time on each.
func events(evs ...plans.Event) bridgeMsg {
	for i := range evs {
		if evs[i].Time.IsZero() {
			evs[i].Time = clock
		}
	}
	return bridgeMsg{events: evs}
}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

// Events of the test plan's release, as the engine would send them.
var (
	api, web  = "registry.example.com/shop/api:2.4.0", "registry.example.com/shop/web:2.4.0"
	apiV1     = "registry.example.com/shop/api:2.3.1"
	preloaded = events(plans.Event{Kind: plans.EvPreloadStart, Time: clock.Add(-time.Minute)},
		plans.Event{Kind: plans.EvPreloadImage, Image: api, ImageID: "sha256:55aa66bb77cc", Result: plans.ResultPulled, Time: clock.Add(-time.Minute)},
		plans.Event{Kind: plans.EvPreloadImage, Image: web, ImageID: "sha256:77aa88bb99cc", Result: plans.ResultPresent, Time: clock.Add(-time.Minute)},
		plans.Event{Kind: plans.EvPreloadEnd, Result: plans.ResultOK, Time: clock.Add(-time.Minute)})
	applyStarted  = plans.Event{Kind: plans.EvApplyStart, Run: "r1", Time: clock.Add(-40 * time.Second), Actor: "alice@ops1"}
	apiDeployed   = []plans.Event{{Kind: plans.EvServiceStart, Run: "r1", Service: "api", Image: api, PrevImage: apiV1, Time: clock.Add(-30 * time.Second)}, {Kind: plans.EvServiceChange, Action: plans.ActionStopped, Run: "r1", Service: "api", Time: clock.Add(-29 * time.Second)}, {Kind: plans.EvServiceChange, Action: plans.ActionStarted, Run: "r1", Service: "api", Image: api, Time: clock.Add(-28 * time.Second)}}
	apiUnhealthy  = plans.Event{Kind: plans.EvHealth, Service: "api", Result: plans.ResultFailed, Error: "not healthy within 30s: GET http://127.0.0.1:8080/health: 503", Time: clock.Add(-20 * time.Second)}
	backendFailed = plans.Event{Kind: plans.EvStepEnd, Run: "r1", Step: 2, Result: plans.ResultFailed, Error: "api: not healthy within 30s: GET http://127.0.0.1:8080/health: 503", Time: clock.Add(-20 * time.Second)}
)

func stepsEnd(from, to int, result string) []plans.Event {
	var out []plans.Event
	for i := from; i <= to; i++ {
		code := 0
		ev := plans.Event{Kind: plans.EvStepEnd, Run: "r1", Step: i, Result: result}
		if result == plans.ResultOK {
			ev.DurationMS = int64(i) * 900
		}
		if i == 1 && result == plans.ResultOK {
			ev.ExitCode = &code
		}
		out = append(out, ev)
	}
	return out
}

func seq(parts ...any) bridgeMsg {
	var out []plans.Event
	for _, p := range parts {
		switch p := p.(type) {
		case plans.Event:
			out = append(out, p)
		case []plans.Event:
			out = append(out, p...)
		}
	}
	return events(out...)
}

// phases brings a model into each phase the header can show.
var phases = []struct {
	name  string
	build func(m Model) Model
}{
	{"preloading", func(m Model) Model {
		return send(m, events(plans.Event{Kind: plans.EvPreloadStart},
			plans.Event{Kind: plans.EvPreloadProgress, Image: api, Layer: "a1", Current: 3 << 20, Total: 8 << 20},
			plans.Event{Kind: plans.EvPreloadImage, Image: web, ImageID: "sha256:77aa88bb99cc", Result: plans.ResultPresent}))
	}},
	{"ready", func(m Model) Model { return send(m, preloaded, opDoneMsg{op: opPreload}) }},
	{"preload_failed", func(m Model) Model {
		return send(m, preloadFailed, opDoneMsg{op: opPreload, err: fmt.Errorf("pull x: not found")})
	}},
	{"deploying", func(m Model) Model {
		m = send(m, preloaded, opDoneMsg{op: opPreload}, press("D"))
		return send(m, seq(applyStarted, plans.Event{Kind: plans.EvLockAcquired, Actor: "alice@ops1"},
			plans.Event{Kind: plans.EvStepStart, Run: "r1", Step: 1}, stepsEnd(1, 1, plans.ResultOK),
			plans.Event{Kind: plans.EvStepStart, Run: "r1", Step: 2}, plans.Event{Kind: plans.EvStepOutput, Run: "r1", Step: 2, Line: "api: started shop-api"}))
	}},
	{"stable_window", func(m Model) Model {
		// web (whose image has no HEALTHCHECK, so the table shows golive's
		// gate) passed its first check 1 s ago and stays under watch for 3 s.
		m = send(m, preloaded, opDoneMsg{op: opPreload}, press("D"))
		return send(m, seq(applyStarted, plans.Event{Kind: plans.EvStepStart, Run: "r1", Step: 1}, stepsEnd(1, 2, plans.ResultOK),
			plans.Event{Kind: plans.EvStepStart, Run: "r1", Step: 3},
			plans.Event{Kind: plans.EvServiceStart, Run: "r1", Service: "web", Image: web, Time: clock.Add(-3 * time.Second)},
			plans.Event{Kind: plans.EvWindow, Run: "r1", Service: "web", DurationMS: 3000, Time: clock.Add(-time.Second)}))
	}},
	{"deployed", func(m Model) Model {
		m = send(m, preloaded, opDoneMsg{op: opPreload}, press("D"))
		m = send(m, seq(applyStarted, apiDeployed, plans.Event{Kind: plans.EvHealth, Service: "api", Result: plans.ResultOK, Time: clock.Add(-16 * time.Second)},
			plans.Event{Kind: plans.EvServiceEnd, Run: "r1", Service: "api", Image: api, Result: plans.ResultDeployed},
			plans.Event{Kind: plans.EvServiceEnd, Run: "r1", Service: "web", Image: web, Result: plans.ResultUnchanged},
			stepsEnd(1, 4, plans.ResultOK), plans.Event{Kind: plans.EvApplyEnd, Run: "r1", Result: string(plans.Deployed)}))
		return send(m, opDoneMsg{op: opApply})
	}},
	{"failed", func(m Model) Model {
		m = send(m, preloaded, opDoneMsg{op: opPreload}, press("D"))
		m = send(m, seq(applyStarted, stepsEnd(1, 1, plans.ResultOK), apiDeployed, apiUnhealthy, plans.Event{Kind: plans.EvServiceEnd, Run: "r1", Service: "api", Image: api, Result: plans.ResultFailed},
			backendFailed, stepsEnd(3, 4, plans.ResultSkipped),
			plans.Event{Kind: plans.EvApplyEnd, Run: "r1", Result: string(plans.Failed), Error: "step 2 (Deploy backend): api: not healthy within 30s\nleft as it is"}))
		return send(m, opDoneMsg{op: opApply, err: fmt.Errorf("step 2 (Deploy backend): api: not healthy within 30s\nleft as it is")})
	}},
	{"failed_and_reverted", func(m Model) Model {
		m = send(m, preloaded, opDoneMsg{op: opPreload}, press("D"))
		m = send(m, seq(applyStarted, stepsEnd(1, 1, plans.ResultOK), apiDeployed, apiUnhealthy, plans.Event{Kind: plans.EvServiceEnd, Run: "r1", Service: "api", Image: api, Result: plans.ResultFailed},
			backendFailed, stepsEnd(3, 4, plans.ResultSkipped), plans.Event{Kind: plans.EvRevertStart, Run: "r1", Message: "1 services"},
			plans.Event{Kind: plans.EvHealth, Service: "api", Result: plans.ResultOK, Time: clock.Add(-17 * time.Second)},
			plans.Event{Kind: plans.EvRevertService, Run: "r1", Service: "api", Image: api, PrevImage: apiV1, PrevImageID: "sha256:1a2b3c4d5e6f", Result: plans.ResultReverted},
			plans.Event{Kind: plans.EvRevertEnd, Run: "r1", Result: plans.ResultReverted},
			plans.Event{Kind: plans.EvApplyEnd, Run: "r1", Result: string(plans.Reverted), Error: "step 2 (Deploy backend): api: not healthy within 30s\nreverted"}))
		return send(m, opDoneMsg{op: opApply, err: fmt.Errorf("step 2 (Deploy backend): api: not healthy within 30s\nreverted")})
	}},
	{"reverting", func(m Model) Model {
		return send(m, preloaded, opDoneMsg{op: opPreload}, press("R"), events(plans.Event{Kind: plans.EvRevertStart, Time: clock.Add(-3 * time.Second), Message: "2 services"}))
	}},
	{"reverted", func(m Model) Model {
		return send(m, preloaded, opDoneMsg{op: opPreload}, press("R"), events(plans.Event{Kind: plans.EvRevertStart}, plans.Event{Kind: plans.EvRevertEnd, Result: plans.ResultReverted}), opDoneMsg{op: opRevert})
	}},
	{"confirm", func(m Model) Model {
		m = send(m, preloaded, opDoneMsg{op: opPreload}, press("D"), events(applyStarted))
		return send(m, bridgeMsg{asks: []*question{{text: "QA regression pass done?", reply: make(chan bool, 1)}}})
	}},
}

func TestViewGoldens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, ph := range phases {
			t.Run(fmt.Sprintf("%s_%dx%d", ph.name, size[0], size[1]), func(t *testing.T) {
				m, _, _ := newTestModel(t, testPlan, false)
				m = send(m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				m = ph.build(m)
				out := m.View().Content
				checkFits(t, out, size[0], size[1])
				golden.RequireEqual(t, []byte(out))
			})
		}
	}
}

func TestViewGoldensReadOnlyAndTooSmall(t *testing.T) {
	m, _, _ := newTestModel(t, testPlan, true)
	m = send(m, tea.WindowSizeMsg{Width: 80, Height: 24}, events(plans.Event{Kind: plans.EvApplyStart, Time: clock.Add(-12 * time.Second)},
		plans.Event{Kind: plans.EvLockAcquired, Actor: "bob@ops2"}, plans.Event{Kind: plans.EvStepStart, Step: 1}))
	t.Run("watch_80x24", func(t *testing.T) { golden.RequireEqual(t, []byte(m.View().Content)) })
	small := send(m, tea.WindowSizeMsg{Width: 60, Height: 20})
	t.Run("too_small_60x20", func(t *testing.T) { golden.RequireEqual(t, []byte(small.View().Content)) })
}

// checkFits fails when a frame is wider or taller than the terminal.
func checkFits(t *testing.T, out string, w, h int) {
	t.Helper()
	rows := strings.Split(out, "\n")
	if len(rows) > h {
		t.Errorf("%d rows for a %d-row terminal", len(rows), h)
	}
	for i, r := range rows {
		if n := ansi.StringWidth(r); n > w {
			t.Errorf("row %d is %d wide: %q", i, n, ansi.Strip(r))
		}
	}
}

func plain(m Model) string { return ansi.Strip(m.View().Content) }

func TestKeysThatCannotActSayWhy(t *testing.T) {
	tests := []struct {
		name  string
		setup func(Model) Model
		key   string
		want  string
	}{
		{"deploy during preload", func(m Model) Model { return m }, "D", "D: preload is still running (0 of 2 images ready)"},
		{"deploy after a failed preload", func(m Model) Model {
			return send(m, preloadFailed, opDoneMsg{op: opPreload, err: fmt.Errorf("pull x: not found")})
		}, "D", "D: preload failed, so nothing can be deployed (p retries): pull x: not found"},
		{"retry a preload that did not fail", func(m Model) Model { return send(m, preloaded, opDoneMsg{op: opPreload}) }, "p", "p: the preload did not fail; nothing to retry"},
		{"deploy while deploying", func(m Model) Model { return send(m, preloaded, opDoneMsg{op: opPreload}, press("D")) }, "D", "D: the apply is running"},
		{"revert during preload", func(m Model) Model { return m }, "R", "R: wait for the preload to finish"},
		{"revert while stopping to revert", func(m Model) Model { return send(m, preloaded, opDoneMsg{op: opPreload}, press("D"), press("R")) }, "R", "R: already stopping the release to revert"},
		{"revert while reverting", func(m Model) Model {
			return send(m, preloaded, opDoneMsg{op: opPreload}, press("D"), events(applyStarted, plans.Event{Kind: plans.EvRevertStart, Run: "r1"}))
		}, "R", "R: the release is already reverting"},
		{"follow a newer release in the operator's cockpit", func(m Model) Model { return m }, "L", ""},
		{"next match without a search", func(m Model) Model { return m }, "n", "n/N: no search yet; press / to search"},
		{"source that does not exist", func(m Model) Model { return m }, "7", "there is no source 7 (there are 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, _ := newTestModel(t, testPlan, false)
			m = send(tt.setup(send(m, tea.WindowSizeMsg{Width: 100, Height: 30})), press(tt.key))
			if !strings.Contains(plain(m), tt.want) {
				t.Fatalf("status does not say %q:\n%s", tt.want, plain(m))
			}
		})
	}
}

var preloadFailed = events(plans.Event{Kind: plans.EvPreloadStart}, plans.Event{Kind: plans.EvPreloadEnd, Result: plans.ResultFailed, Error: "pull x: not found"})

func TestDeployAndRevertActAtOnceAndTheEngineJournalsThem(t *testing.T) {
	m, eng, _ := newTestModel(t, testPlan, false)
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30}, preloaded, opDoneMsg{op: opPreload})
	next, cmd := m.Update(press("D"))
	m = next.(Model)
	if m.Phase() != plans.PhaseDeploying || cmd == nil || len(eng.events) != 0 {
		t.Fatalf("phase %s after D, %d events written by Update", m.Phase(), len(eng.events))
	}
	runCmd(cmd)
	m = send(m, events(applyStarted, plans.Event{Kind: plans.EvApplyEnd, Run: "r1", Result: string(plans.Deployed)}), opDoneMsg{op: opApply})
	next, cmd = m.Update(press("R"))
	m = next.(Model)
	if m.Phase() != plans.PhaseReverting || len(eng.events) != 1 {
		t.Fatalf("phase %s after R, %d events", m.Phase(), len(eng.events))
	}
	runCmd(cmd)
	if len(eng.events) != 2 || !strings.Contains(eng.events[0].Message, "pressed D") || !strings.Contains(eng.events[1].Message, "pressed R") {
		t.Fatalf("journaled: %+v", eng.events)
	}
	if strings.Join(eng.ops, ",") != "apply,revert" {
		t.Fatalf("engine ran %v", eng.ops)
	}
}

// runCmd runs a command and the commands it batches, returning their messages.
func runCmd(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if batch, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range batch {
			out = append(out, runCmd(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}

func TestAFailedPreloadIsRetriedWithP(t *testing.T) {
	m, eng, _ := newTestModel(t, testPlan, false)
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30}, preloadFailed, opDoneMsg{op: opPreload, err: fmt.Errorf("pull x: not found")})
	if m.Phase() != plans.PhasePreloadFailed {
		t.Fatalf("phase %s after a failed preload", m.Phase())
	}
	next, cmd := m.Update(press("p"))
	m = next.(Model)
	if m.Phase() != plans.PhasePreloading || cmd == nil {
		t.Fatalf("phase %s after p", m.Phase())
	}
	runCmd(cmd)
	if m = send(m, preloaded, opDoneMsg{op: opPreload}); m.Phase() != plans.PhaseReady || len(eng.ops) != 1 {
		t.Fatalf("phase %s, engine ran %v", m.Phase(), eng.ops)
	}
}

func TestPlanConfirmAsksFirstAndNamesWhatWillChange(t *testing.T) {
	m, eng, _ := newTestModel(t, "confirm: true\n"+testPlan, false)
	m = send(m, tea.WindowSizeMsg{Width: 120, Height: 30}, preloaded, opDoneMsg{op: opPreload}, press("D"))
	if !strings.Contains(plain(m), "Deploy 2.4.0: api api:2.3.1→api:2.4.0, web web:2.3.1→web:2.4.0?") || m.running != "" {
		t.Fatalf("no question:\n%s", plain(m))
	}
	m = send(m, press("c"))
	if m.running != "" || !strings.Contains(plain(m), "apply not started") {
		t.Fatal("n did not cancel")
	}
	m = send(m, press("D"))
	next, cmd := m.Update(press("y"))
	runCmd(cmd)
	if m = next.(Model); m.running != opApply || len(eng.events) != 1 || eng.events[0].Message != "confirmed apply" {
		t.Fatalf("y did not start: op %q, events %+v", m.running, eng.events)
	}
}

func TestAPendingQuestionLeavesEveryLogKeyWorkingAndEscNeverAnswers(t *testing.T) {
	m, _, _ := newTestModel(t, testPlan, false)
	q := &question{text: "QA regression pass done?", reply: make(chan bool, 1)}
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30}, preloaded, opDoneMsg{op: opPreload}, press("D"), bridgeMsg{asks: []*question{q}})
	m = send(m, press("x"))
	if v := plain(m); m.asking == nil || !m.logs.errors || !strings.Contains(v, "errors only") || !strings.Contains(v, "? QA regression pass done?") || !strings.Contains(v, "y yes · c no") {
		t.Fatalf("x with a question pending:\n%s", v)
	}
	m = send(m, press("x"), press("/"), press("o"), press("r"), press("d"), press("enter"), press("n"), press("N"), press("esc"), press("e"), press("E"))
	if m.asking == nil || m.logs.search != "" || len(q.reply) != 0 {
		t.Fatalf("search, n/N, esc, e/E answered or lost the question (search %q)", m.logs.search)
	}
	next, cmd := m.Update(press("y"))
	runCmd(cmd)
	if yes := <-q.reply; !yes || next.(Model).asking != nil {
		t.Fatal("y did not answer yes")
	}
	if v := plain(send(next.(Model), press("c"))); !strings.Contains(v, "c: no question is waiting for an answer") {
		t.Fatalf("c without a question:\n%s", v)
	}
}

func TestStatusMessagesExpireAndAKeyClearsThem(t *testing.T) {
	m, _, _ := newTestModel(t, testPlan, false)
	now := clock
	m.cfg.Now = func() time.Time { return now }
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30}, press("7"))
	if !strings.Contains(plain(m), "there is no source 7") {
		t.Fatal("no status")
	}
	now = now.Add(statusTTL)
	if strings.Contains(plain(m), "there is no source 7") {
		t.Fatal("the status outlived statusTTL")
	}
	now = clock
	m = send(m, press("7"), press("w"))
	if strings.Contains(plain(m), "there is no source 7") {
		t.Fatal("the next key did not clear the status")
	}
}

func TestEWhileFollowingGoesToTheLatestError(t *testing.T) {
	m, _, buf := newTestModel(t, testPlan, false)
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	in := logs.NewIngester("api", buf, nil, 0)
	in.Add("stdout", clock, []byte("level=error msg=latest"), 0)
	in.Add("stdout", clock.Add(time.Millisecond), []byte("level=info msg=after"), 0)
	m = send(m, frameMsg(clock), press("e"))
	if m.logs.follow || m.logs.offset != 1 {
		t.Fatalf("e while following: follow %v, offset %d\n%s", m.logs.follow, m.logs.offset, plain(m))
	}
}

func TestHelpListsTheSourcesWithTheirNumberKeys(t *testing.T) {
	m, _, _ := newTestModel(t, testPlan, false)
	v := plain(send(m, tea.WindowSizeMsg{Width: 160, Height: 48}, press("?")))
	if !strings.Contains(v, "1 api") || !strings.Contains(v, "2 web") || !strings.Contains(v, "0 all sources") {
		t.Fatalf("help:\n%s", v)
	}
}

func TestQuitIsRefusedWhileAReleaseRunsUnlessAskedTwice(t *testing.T) {
	m, eng, _ := newTestModel(t, testPlan, false)
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30}, preloaded, opDoneMsg{op: opPreload}, press("D"))
	cancelled := false
	m.opCancel = func() { cancelled = true }
	next, cmd := m.Update(press("q"))
	m = next.(Model)
	if cmd != nil || !strings.Contains(plain(m), "press q again") {
		t.Fatalf("first q: %s", plain(m))
	}
	next, cmd = m.Update(press("q"))
	m = next.(Model)
	runCmd(cmd)
	if !cancelled || !strings.Contains(eng.events[len(eng.events)-1].Message, "pressed q twice") {
		t.Fatal("second q did not stop the operation and journal it")
	}
	_, cmd = m.Update(opDoneMsg{op: opApply, err: context.Canceled})
	if msgs := runCmd(cmd); len(msgs) != 1 || msgs[0] != tea.Quit() {
		t.Fatalf("no quit after the operation stopped: %v", msgs)
	}
}

func TestReadOnlyViewCannotDeployRevertOrAnswer(t *testing.T) {
	m, eng, _ := newTestModel(t, testPlan, true)
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30}, events(plans.Event{Kind: plans.EvLockAcquired, Actor: "bob@ops2"}), press("D"))
	if !strings.Contains(plain(m), "read-only: bob@ops2 deploys; this view cannot deploy") {
		t.Fatal(plain(m))
	}
	m = send(m, press("R"))
	if !strings.Contains(plain(m), "this view cannot revert") || len(eng.ops) > 0 || m.running != "" {
		t.Fatal("read-only view acted")
	}
	m = send(m, events(plans.Event{Kind: plans.EvConfirmAsk, Actor: "bob@ops2", Message: "QA done?"}), press("y"))
	if !strings.Contains(plain(m), "read-only: only bob@ops2 can answer") {
		t.Fatal("read-only view took an answer")
	}
}

func TestReadOnlyViewFollowsTheDeployersJournal(t *testing.T) {
	m, _, _ := newTestModel(t, testPlan, true)
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	if m.Phase() != plans.PhaseReady || !strings.Contains(plain(m), "READ-ONLY · no release running") {
		t.Fatalf("phase %s:\n%s", m.Phase(), plain(m))
	}
	m = send(m, events(plans.Event{Kind: plans.EvPlanLoaded}, plans.Event{Kind: plans.EvApplyStart, Time: clock},
		plans.Event{Kind: plans.EvLockAcquired, Actor: "bob@ops2"}, plans.Event{Kind: plans.EvPreloadStart}))
	if m.Phase() != plans.PhaseDeploying || !strings.Contains(plain(m), "READ-ONLY · bob@ops2 is deploying") {
		t.Fatalf("phase %s:\n%s", m.Phase(), plain(m))
	}
	m = send(m, events(plans.Event{Kind: plans.EvPreloadEnd, Result: plans.ResultOK}, plans.Event{Kind: plans.EvConfirmAsk, Actor: "bob@ops2", Message: "QA done?"}))
	if !strings.Contains(plain(m), "bob@ops2 is asked: QA done?") {
		t.Fatal(plain(m))
	}
	m = send(m, events(plans.Event{Kind: plans.EvApplyEnd, Result: "reverted"}, plans.Event{Kind: plans.EvLockReleased}))
	if m.Phase() != plans.PhaseReverted {
		t.Fatalf("phase %s", m.Phase())
	}
}

func TestLogViewPausesOnScrollKeepsItsPlaceAndResumes(t *testing.T) {
	m, _, buf := newTestModel(t, testPlan, false)
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	in := logs.NewIngester("api", buf, nil, 0)
	for i := 0; i < 200; i++ {
		in.Add("stdout", clock.Add(time.Duration(i)*time.Millisecond), []byte(fmt.Sprintf("line %03d", i)), 0)
	}
	m = send(m, frameMsg(clock), press("up"), press("up"))
	view := plain(m)
	if !strings.Contains(view, "paused") || strings.Contains(view, "line 199") || !strings.Contains(view, "line 197") {
		t.Fatalf("after scrolling up:\n%s", view)
	}
	for i := 200; i < 210; i++ {
		in.Add("stdout", clock.Add(time.Duration(i)*time.Millisecond), []byte(fmt.Sprintf("line %03d", i)), 0)
	}
	m = send(m, frameMsg(clock))
	if v := plain(m); strings.Contains(v, "line 209") || !strings.Contains(v, "line 197") || !strings.Contains(v, "+10 new below") {
		t.Fatalf("a paused view moved:\n%s", v)
	}
	m = send(m, press("G"))
	if v := plain(m); !strings.Contains(v, "line 209") || !strings.Contains(v, "following") {
		t.Fatalf("G did not resume:\n%s", v)
	}
}

func TestLogViewErrorNavigationFilterAndSearch(t *testing.T) {
	m, _, _ := newTestModel(t, testPlan, false)
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	m = send(m, press("x"))
	if v := plain(m); strings.Contains(v, "slow request") || !strings.Contains(v, "Unknown column") || !strings.Contains(v, "errors only") {
		t.Fatalf("x:\n%s", v)
	}
	m = send(m, press("x"), press("E"))
	if m.logs.follow || m.logs.offset != 1 {
		t.Fatalf("E went to offset %d", m.logs.offset)
	}
	m = send(m, press("F"), press("!"), press("G"), press("E"), press("T"), press("enter"))
	if v := plain(m); strings.Contains(v, `"GET /checkout`) || !strings.Contains(v, "filter !GET") {
		t.Fatalf("inverted filter:\n%s", v)
	}
	m = send(m, press("esc"), press("/"), press("o"), press("r"), press("d"), press("e"), press("r"), press("s"), press("enter"))
	if !strings.Contains(plain(m), "search orders") {
		t.Fatalf("search:\n%s", plain(m))
	}
	m = send(m, press("2"))
	if v := plain(m); strings.Contains(v, "Unknown column") || !strings.Contains(v, "source web") {
		t.Fatalf("source focus:\n%s", v)
	}
	if v := plain(send(m, press("0"))); strings.Contains(v, "source web") {
		t.Fatal("0 did not show all sources")
	}
}

func TestSecretsAreMaskedOnScreen(t *testing.T) {
	m, _, _ := newTestModel(t, testPlan, false)
	v := plain(send(m, tea.WindowSizeMsg{Width: 120, Height: 30}))
	if strings.Contains(v, "hunter22") || !strings.Contains(v, "password ****") {
		t.Fatalf("secret on screen:\n%s", v)
	}
}

// failedAndReverted is an apply whose health gate failed and that
// on_failure: revert put back, as the engine and the journal tell it.
var failedAndReverted = seq(plans.Event{Kind: plans.EvPlanLoaded, Project: "shop", Release: "2.4.0"}, applyStarted,
	plans.Event{Kind: plans.EvLockAcquired, Actor: "alice@ops1"}, stepsEnd(1, 1, plans.ResultOK), apiDeployed, apiUnhealthy,
	plans.Event{Kind: plans.EvServiceEnd, Run: "r1", Service: "api", Image: api, Result: plans.ResultFailed},
	backendFailed, stepsEnd(3, 4, plans.ResultSkipped), plans.Event{Kind: plans.EvRevertStart, Run: "r1", Message: "1 services"},
	plans.Event{Kind: plans.EvHealth, Service: "api", Result: plans.ResultOK, Time: clock.Add(-17 * time.Second)},
	plans.Event{Kind: plans.EvRevertService, Run: "r1", Service: "api", Image: api, PrevImage: apiV1, PrevImageID: "sha256:1a2b3c4d5e6f", Result: plans.ResultReverted},
	plans.Event{Kind: plans.EvRevertEnd, Run: "r1", Result: plans.ResultReverted},
	plans.Event{Kind: plans.EvLockReleased, Result: plans.ResultOK},
	plans.Event{Kind: plans.EvApplyEnd, Run: "r1", Result: string(plans.Reverted), Error: "step 2 (Deploy backend): api: not healthy\nreverted: every changed service runs its previous image again"})

func TestAFailedAndRevertedApplySaysRevertedInTheCockpitAndInWatch(t *testing.T) {
	for _, readOnly := range []bool{false, true} {
		m, _, _ := newTestModel(t, testPlan, readOnly)
		m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
		if !readOnly {
			m = send(m, preloaded, opDoneMsg{op: opPreload}, press("D"))
		}
		m = send(m, failedAndReverted)
		if !readOnly {
			m = send(m, opDoneMsg{op: opApply, err: fmt.Errorf("step 2 (Deploy backend): api: not healthy")})
		}
		v := plain(m)
		if m.Phase() != plans.PhaseReverted || !strings.Contains(v, "services now: api api:2.3.1 (reverted) · web unchanged") ||
			!strings.Contains(v, "not serving:  api 12s (deploy)") || !strings.Contains(v, "failed, then reverted: step 2 (Deploy backend)") {
			t.Errorf("read-only %v: phase %s:\n%s", readOnly, m.Phase(), v)
		}
	}
}

func TestWatchFollowsItsReleaseAndSwitchesToANewerOneOnL(t *testing.T) {
	m, _, _ := newTestModel(t, testPlan, true)
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	at := func(ev plans.Event, release string, sec int) plans.Event {
		ev.Project, ev.Release, ev.Actor, ev.Time = "shop", release, "bob@ops2", clock.Add(time.Duration(sec)*time.Second)
		return ev
	}
	m = send(m, events(
		at(plans.Event{Kind: plans.EvApplyStart, Run: "r1"}, "2.4.0", -60),
		at(plans.Event{Kind: plans.EvApplyEnd, Run: "r1", Result: string(plans.Deployed)}, "2.4.0", -50),
		at(plans.Event{Kind: plans.EvPlanLoaded}, "2.4.1", -20),
		at(plans.Event{Kind: plans.EvApplyStart, Run: "r2"}, "2.4.1", -20),
		at(plans.Event{Kind: plans.EvLockAcquired}, "2.4.1", -20),
		at(plans.Event{Kind: plans.EvStepEnd, Run: "r2", Step: 1, StepName: "Migrate", Result: plans.ResultFailed, Error: "exit 3"}, "2.4.1", -10),
		at(plans.Event{Kind: plans.EvRevertStart, Run: "r2", Message: "2 services"}, "2.4.1", -9),
		plans.Event{Kind: plans.EvApplyStart, Project: "other", Release: "9"},
	))
	v := plain(m)
	if m.Phase() != plans.PhaseDeployed || strings.Contains(v, "reverting") || strings.Contains(v, "Migrate") || !strings.Contains(v, "release 2.4.1 started at") || !strings.Contains(v, "by bob@ops2: L follows it") {
		t.Fatalf("release 2.4.0 mixed with 2.4.1: phase %s\n%s", m.Phase(), v)
	}
	m = send(m, press("L"))
	if v := plain(m); m.Phase() != plans.PhaseReverting || !strings.Contains(v, "shop 2.4.1") || !strings.Contains(v, "✗1") || strings.Contains(v, "L follows it") {
		t.Fatalf("after L: phase %s\n%s", m.Phase(), v)
	}
}

type marks struct{ labels []string }

func (r *marks) Resize(int, int)     {}
func (r *marks) Marker(label string) { r.labels = append(r.labels, label) }

func TestQAfterTheLastEventQuitsOnceTheEngineReturnsAndMarksIt(t *testing.T) {
	m, _, _ := newTestModel(t, testPlan, false)
	rec := &marks{}
	m.cfg.Recorder = rec
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30}, preloaded, opDoneMsg{op: opPreload}, press("R"),
		events(plans.Event{Kind: plans.EvRevertStart}, plans.Event{Kind: plans.EvRevertEnd, Result: plans.ResultReverted}))
	next, cmd := m.Update(press("q"))
	if m = next.(Model); cmd != nil || m.Phase() != plans.PhaseReverted || !strings.Contains(plain(m), "finishing") {
		t.Fatalf("q after the last event: phase %s\n%s", m.Phase(), plain(m))
	}
	_, cmd = m.Update(opDoneMsg{op: opRevert})
	var quit bool
	for _, msg := range runSequence(cmd) {
		quit = quit || msg == tea.Quit()
	}
	if !quit || strings.Join(rec.labels, ",") != "revert done" {
		t.Fatalf("quit %v, marks %v", quit, rec.labels)
	}
}

// runSequence runs a command, and the commands of a sequence in order.
func runSequence(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	var out []tea.Msg
	switch v := msg.(type) {
	case tea.BatchMsg:
		for _, c := range v {
			out = append(out, runSequence(c)...)
		}
	default:
		if cmds, ok := sequenceCmds(msg); ok {
			for _, c := range cmds {
				out = append(out, runSequence(c)...)
			}
			return out
		}
		out = append(out, msg)
	}
	return out
}

// sequenceCmds are the commands of a tea.Sequence message.
func sequenceCmds(msg tea.Msg) ([]tea.Cmd, bool) {
	v := reflect.ValueOf(msg)
	if !v.IsValid() || v.Kind() != reflect.Slice || v.Type().Elem() != reflect.TypeOf(tea.Cmd(nil)) {
		return nil, false
	}
	cmds := make([]tea.Cmd, v.Len())
	for i := range cmds {
		cmds[i] = v.Index(i).Interface().(tea.Cmd)
	}
	return cmds, true
}

func TestErrorAndSearchJumpsSayWhereTheyAre(t *testing.T) {
	m, _, _ := newTestModel(t, testPlan, false)
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30}, press("e"))
	if v := plain(m); !strings.Contains(v, "error 2/2") {
		t.Fatalf("e while following:\n%s", v)
	}
	if v := plain(send(m, press("E"))); !strings.Contains(v, "error 1/2") {
		t.Fatalf("E:\n%s", v)
	}
	m = send(m, press("G"), press("/"), press("G"), press("E"), press("T"), press("enter"))
	if v := plain(m); !strings.Contains(v, "match 3/3") {
		t.Fatalf("search:\n%s", v)
	}
	if v := plain(send(m, press("N"))); !strings.Contains(v, "match 2/3") {
		t.Fatalf("N:\n%s", v)
	}
}

func TestAnApplyTheOperatorStoppedSaysSoNotFailed(t *testing.T) {
	stopped := seq(plans.Event{Kind: plans.EvPlanLoaded, Project: "shop", Release: "2.4.0"}, applyStarted,
		plans.Event{Kind: plans.EvLockAcquired, Actor: "alice@ops1"}, stepsEnd(1, 1, plans.ResultOK), apiDeployed,
		plans.Event{Kind: plans.EvStepEnd, Run: "r1", Step: 2, Result: plans.ResultFailed, Error: "context canceled"},
		stepsEnd(3, 4, plans.ResultSkipped), plans.Event{Kind: plans.EvRevertStart, Run: "r1", Message: "1 services"},
		plans.Event{Kind: plans.EvRevertService, Run: "r1", Service: "api", Image: api, PrevImage: apiV1, PrevImageID: "sha256:1a2b3c4d5e6f", Result: plans.ResultReverted},
		plans.Event{Kind: plans.EvRevertEnd, Run: "r1", Result: plans.ResultReverted},
		plans.Event{Kind: plans.EvLockReleased, Result: plans.ResultOK},
		plans.Event{Kind: plans.EvApplyEnd, Run: "r1", Result: string(plans.Reverted), Error: "step 2 (Deploy backend): context canceled"})
	m, _, _ := newTestModel(t, testPlan, true)
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30}, stopped)
	v := plain(m)
	if !strings.Contains(v, "stopped by the operator, then reverted: step 2 (Deploy backend)") || strings.Contains(v, "failed, then reverted") {
		t.Errorf("an apply stopped by the operator and reverted:\n%s", v)
	}
}
