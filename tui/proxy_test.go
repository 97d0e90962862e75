package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/golive/golive/plans"
)

// Events of the test plan's web going blue/green through the proxy: its
// new version starts beside the old one, passes its gate, and the proxy
// switches to it, keeping the old one warm for five minutes.
var (
	webV1       = "registry.example.com/shop/web:2.3.1"
	webSwitched = []plans.Event{
		{Kind: plans.EvServiceStart, Run: "r1", Service: "web", Group: "frontend", Image: web, PrevImage: webV1, PrevImageID: "sha256:9f8e7d6c5b4a", Time: clock.Add(-40 * time.Second)},
		{Kind: plans.EvServiceChange, Action: plans.ActionBeside, Run: "r1", Service: "web", Image: web, ImageID: "sha256:77aa88bb99cc", ContainerID: "c2", PrevContainerID: "c1", Time: clock.Add(-38 * time.Second)},
		{Kind: plans.EvHealth, Service: "web", Result: plans.ResultOK, Time: clock.Add(-36 * time.Second)},
		{Kind: plans.EvServiceChange, Action: plans.ActionSwitched, Run: "r1", Service: "web", Image: web, ImageID: "sha256:77aa88bb99cc", ContainerID: "c2", PrevContainerID: "c1", DurationMS: 267, KeepWarmMS: 300000, Time: clock.Add(-35 * time.Second)},
		{Kind: plans.EvServiceEnd, Run: "r1", Service: "web", Image: web, ImageID: "sha256:77aa88bb99cc", Result: plans.ResultDeployed, Time: clock.Add(-35 * time.Second)},
	}
	webDeployed = seq(applyStarted, webSwitched, stepsEnd(1, 4, plans.ResultOK), plans.Event{Kind: plans.EvApplyEnd, Run: "r1", Result: string(plans.Deployed), Time: clock.Add(-30 * time.Second)})
)

var proxyPhases = []struct {
	name  string
	build func(Model) Model
}{
	{"proxied_deployed_warm", func(m Model) Model {
		return send(m, preloaded, opDoneMsg{op: opPreload}, press("D"), webDeployed, opDoneMsg{op: opApply})
	}},
	{"proxied_canary", func(m Model) Model {
		m = send(m, preloaded, opDoneMsg{op: opPreload}, press("D"))
		return send(m, seq(applyStarted, webSwitched[:3], plans.Event{Kind: plans.EvServiceChange, Action: plans.ActionCanary, Run: "r1", Service: "web", Image: web, Current: 10, DurationMS: 120000, Time: clock.Add(-20 * time.Second)}))
	}},
	{"proxied_paused", func(m Model) Model {
		m = send(m, preloaded, opDoneMsg{op: opPreload}, press("D"))
		return send(m, seq(applyStarted, webSwitched, plans.Event{Kind: plans.EvRoute, Action: plans.ActionPaused, Run: "r1", Service: "web", Group: "frontend", Result: plans.ResultOK, Time: clock.Add(-12 * time.Second)}))
	}},
	{"proxied_maintenance", func(m Model) Model {
		m = send(m, preloaded, opDoneMsg{op: opPreload}, press("D"))
		return send(m, seq(applyStarted, webSwitched, plans.Event{Kind: plans.EvRoute, Action: plans.ActionMaintenance, Run: "r1", Service: "web", Group: "frontend", Result: plans.ResultOK, Time: clock.Add(-75 * time.Second)}))
	}},
	{"proxied_misrouted", func(m Model) Model {
		m = send(m, preloaded, opDoneMsg{op: opPreload}, press("D"), webDeployed, opDoneMsg{op: opApply})
		services := slices.Clone(m.services)
		for i := range services {
			if services[i].Service == "web" {
				services[i].Traffic = "the proxy sends its traffic to shop-web.warm-until-20241120T031500Z (" + webV1 + ", c1), not to shop-web: an apply or revert was cut short between its switch and its renames; `golive revert plan.yaml` finishes it"
			}
		}
		return send(m, statusMsg{services: services})
	}},
}

func TestProxiedServiceViewGoldens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, ph := range proxyPhases {
			t.Run(fmt.Sprintf("%s_%dx%d", ph.name, size[0], size[1]), func(t *testing.T) {
				m, _, _ := newTestModel(t, testPlan, false)
				m = ph.build(send(m, tea.WindowSizeMsg{Width: size[0], Height: size[1]}))
				out := m.View().Content
				checkFits(t, out, size[0], size[1])
				golden.RequireEqual(t, []byte(out))
			})
		}
	}
}

// TestTheProxiedServiceLineTellsWhatTheStateAndTheClockSay reads each fact
// from the plain screen, in the cockpit and in watch, which fold the same events.
func TestTheProxiedServiceLineTellsWhatTheStateAndTheClockSay(t *testing.T) {
	tests := []struct {
		name     string
		phase    int
		after    time.Duration // the clock moved on by
		readOnly bool
		want     []string
		wantNot  []string
	}{
		{"the new version takes the traffic and the old one is warm", 0, 0, false,
			[]string{"web → web:2.4.0 via proxy · web:2.3.1 warm 4:25: R switches back at once · switched 35s ago in 267ms", "not serving:  web 0s (blue/green)"}, nil},
		{"the countdown follows the clock", 0, time.Minute, false, []string{"web:2.3.1 warm 3:25"}, nil},
		{"no warm version once its time is up", 0, 5 * time.Minute, false, []string{"web → web:2.4.0 via proxy"}, []string{"warm"}},
		{"watch shows the same", 0, 0, true, []string{"web:2.3.1 warm 4:25", "web 0s (blue/green)"}, nil},
		{"a canary tells its share and time left", 1, 0, false, []string{"canary 10% of the traffic, 1:40 left"}, nil},
		{"a paused route is told as such", 2, 0, false, []string{"⏸ web PAUSED: new requests wait in the proxy since"}, nil},
		{"a proxy that sends the traffic elsewhere is told as such", 4, 0, false, []string{"⚠ web: the proxy sends its traffic to shop-web.warm-until-"}, nil},
		{"a route in maintenance is told as such", 3, 0, false, []string{"⏸ web IN MAINTENANCE: visitors get the maintenance page since", "(1m)"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, _ := newTestModel(t, testPlan, tt.readOnly)
			m = send(m, tea.WindowSizeMsg{Width: 160, Height: 48})
			if tt.readOnly {
				ph := proxyPhases[tt.phase].name
				if ph != "proxied_deployed_warm" {
					t.Fatal("watch is checked on the deployed phase")
				}
				m = send(m, webDeployed)
			} else {
				m = proxyPhases[tt.phase].build(m)
			}
			m.cfg.Now = func() time.Time { return clock.Add(tt.after) }
			out := plain(m)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("the screen lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("the screen says %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestRWhileTheOldVersionIsWarmSaysItSwitchesBackAtOnce(t *testing.T) {
	tests := []struct {
		name    string
		phase   int
		reverts func(Model) bool
	}{
		{"after the apply: a revert", 0, func(m Model) bool { return m.running == opRevert }},
		{"during the apply: stop it and revert", 2, func(m Model) bool { return m.stopping }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, _ := newTestModel(t, testPlan, false)
			m = proxyPhases[tt.phase].build(send(m, tea.WindowSizeMsg{Width: 80, Height: 24}))
			next, cmd := m.Update(press("R"))
			m = next.(Model)
			if cmd == nil || !tt.reverts(m) {
				t.Fatalf("R did not revert (running %q, stopping %v)", m.running, m.stopping)
			}
			if want := "R: web switches back at once to web:2.3.1 (warm 4:25)"; !strings.Contains(plain(m), want) {
				t.Errorf("the status lacks %q:\n%s", want, plain(m))
			}
		})
	}
}

func TestTheSparklineMarksTheSwitch(t *testing.T) {
	m, _, _ := newTestModel(t, testPlan, false)
	m = proxyPhases[0].build(send(m, tea.WindowSizeMsg{Width: 160, Height: 48}))
	for _, row := range strings.Split(plain(m), "\n") {
		if strings.Contains(row, "web:2.4.0") && strings.Contains(row, "frontend") {
			if !strings.Contains(row, "|") {
				t.Errorf("no switch mark in the web row: %q", row)
			}
			return
		}
	}
	t.Fatalf("no web row:\n%s", plain(m))
}

// TestWhatAVerifyStepVerifiedStaysInSight: the demo's request counter is
// a verify step; its last line (none failed) stays under it once it ended.
func TestWhatAVerifyStepVerifiedStaysInSight(t *testing.T) {
	plan := strings.Replace(testPlan, "  - confirm:", "  - verify: sh requests.sh show\n  - confirm:", 1)
	m, _, _ := newTestModel(t, plan, false)
	m = send(m, tea.WindowSizeMsg{Width: 160, Height: 48}, preloaded, opDoneMsg{op: opPreload}, press("D"))
	m = send(m, seq(applyStarted, stepsEnd(1, 3, plans.ResultOK), plans.Event{Kind: plans.EvStepStart, Run: "r1", Step: 4},
		plans.Event{Kind: plans.EvStepOutput, Run: "r1", Step: 4, Line: "67 requests through the proxy, 0 failed"}, stepsEnd(4, 4, plans.ResultOK)))
	if want := "└ 67 requests through the proxy, 0 failed"; !strings.Contains(plain(m), want) {
		t.Errorf("the screen lacks %q:\n%s", want, plain(m))
	}
}
