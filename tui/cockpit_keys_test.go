package tui

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

func TestRDuringAnApplyStopsItAndRevertsWhatItChanged(t *testing.T) {
	m, eng, _ := newTestModel(t, testPlan, false)
	m = send(m, tea.WindowSizeMsg{Width: 80, Height: 24}, preloaded, opDoneMsg{op: opPreload}, press("D"), seq(applyStarted, apiDeployed))
	q := &question{text: "QA regression pass done?", reply: make(chan bool, 1)}
	m = send(m, bridgeMsg{asks: []*question{q}})
	next, cmd := m.Update(press("R"))
	m = next.(Model)
	if !m.stopping || m.asking != nil || len(eng.ops) != 0 {
		t.Fatalf("after R: stopping %v, question %v, engine ran %v in Update", m.stopping, m.asking, eng.ops)
	}
	runCmd(cmd)
	if strings.Join(eng.ops, ",") != "stop" {
		t.Fatalf("engine ran %v", eng.ops)
	}
	if v := plain(m); !strings.Contains(v, "DEPLOYING") || !strings.Contains(v, "stopping the release to revert…") {
		t.Fatalf("header:\n%s", v)
	}
	t.Run("stopping_80x24", func(t *testing.T) { golden.RequireEqual(t, []byte(m.View().Content)) })
	m = send(m, events(plans.Event{Kind: plans.EvRevertStart, Run: "r1", Message: "1 services"}))
	if v := plain(m); m.Phase() != plans.PhaseReverting || strings.Contains(v, "stopping the release") {
		t.Fatalf("once the revert started:\n%s", v)
	}
	m = send(m, events(plans.Event{Kind: plans.EvRevertEnd, Run: "r1", Result: plans.ResultReverted},
		plans.Event{Kind: plans.EvApplyEnd, Run: "r1", Result: string(plans.Reverted), Error: "stopped"}), opDoneMsg{op: opApply})
	if m.Phase() != plans.PhaseReverted || m.stopping {
		t.Fatalf("phase %s, stopping %v", m.Phase(), m.stopping)
	}
}

func TestRDuringAnApplyAsksFirstWithConfirmAndNothingElseIsBlocked(t *testing.T) {
	m, eng, _ := newTestModel(t, "confirm: true\n"+testPlan, false)
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30}, preloaded, opDoneMsg{op: opPreload}, press("D"), press("y"), seq(applyStarted, apiDeployed))
	eng.ops = nil
	m = send(m, press("R"))
	if v := plain(m); m.pending != opStop || !strings.Contains(v, "? Stop the release where it is and revert what it changed?") {
		t.Fatalf("R with confirm:\n%s", v)
	}
	m = send(m, press("x"), press("/"), press("o"), press("r"), press("enter"), press("esc"), press("e"))
	if m.pending != opStop || m.stopping || !m.logs.errors || len(eng.ops) != 0 {
		t.Fatalf("log keys or Esc answered the question: pending %q, stopping %v, errors only %v", m.pending, m.stopping, m.logs.errors)
	}
	m = send(m, press("c"))
	if m.pending != "" || m.stopping || !strings.Contains(plain(m), "the release goes on") {
		t.Fatalf("c:\n%s", plain(m))
	}
	m = send(m, press("R"))
	next, cmd := m.Update(press("y"))
	runCmd(cmd)
	if !next.(Model).stopping || strings.Join(eng.ops, ",") != "stop" {
		t.Fatalf("y: stopping %v, engine ran %v", next.(Model).stopping, eng.ops)
	}
}

func TestTheErrorBudgetFillsUpBesideEachService(t *testing.T) {
	m, _, _ := newTestModel(t, testPlan, false)
	m = send(m, tea.WindowSizeMsg{Width: 80, Height: 24}, preloaded, opDoneMsg{op: opPreload}, press("D"), seq(applyStarted, apiDeployed,
		plans.Event{Kind: plans.EvErrorGate, Run: "r1", Service: "api", Current: 3, Total: 5, DurationMS: 60000, Message: "errors 3/5 per 1m"}))
	v := plain(m)
	if !strings.Contains(v, "3/5 per 1m") {
		t.Fatalf("no budget beside api:\n%s", v)
	}
	checkFits(t, m.View().Content, 80, 24)
	t.Run("error_budget_80x24", func(t *testing.T) { golden.RequireEqual(t, []byte(m.View().Content)) })
	roomy := send(m, tea.WindowSizeMsg{Width: 160, Height: 48})
	checkFits(t, roomy.View().Content, 160, 48)
	t.Run("error_budget_160x48", func(t *testing.T) { golden.RequireEqual(t, []byte(roomy.View().Content)) })
	m = send(m, events(plans.Event{Kind: plans.EvErrorGate, Run: "r1", Service: "api", Current: 6, Total: 5, DurationMS: 60000, Result: plans.ResultFailed, Error: "error gate: 6 error lines"}))
	if v := plain(m); !strings.Contains(v, "✗ 6/5 per 1m") {
		t.Fatalf("a tripped gate:\n%s", v)
	}
}

func TestTCyclesTimestampsShortColumnAndAsLogged(t *testing.T) {
	m, _, buf := newTestModel(t, testPlan, false)
	in := logs.NewIngester("api", buf, nil, 0)
	in.Add("stdout", clock, []byte(`time=2026-11-25T21:29:59.771Z level=info msg="cache warm"`), 0)
	m = send(m, tea.WindowSizeMsg{Width: 80, Height: 24}, frameMsg(clock))
	if v := plain(m); !strings.Contains(v, `time=21:29:59.77 level=info msg="cache warm"`) {
		t.Fatalf("short:\n%s", v)
	}
	t.Run("times_short_80x24", func(t *testing.T) { golden.RequireEqual(t, []byte(m.View().Content)) })
	m = send(m, press("t"))
	want := clock.Local().Format("15:04:05.00") + ` api level=info msg="cache warm"`
	if v := plain(m); !strings.Contains(v, want) || !strings.Contains(v, "time column") {
		t.Fatalf("column, want %q:\n%s", want, v)
	}
	m = send(m, press("t"))
	if v := plain(m); !strings.Contains(v, "time=2026-11-25T21:29:59.771Z") || !strings.Contains(v, "times as logged") {
		t.Fatalf("as logged:\n%s", v)
	}
	if m = send(m, press("t")); m.logs.times != timesShort {
		t.Fatal("t does not come back to short")
	}
}

func TestInputPlaceholdersAreReadable(t *testing.T) {
	m, _, _ := newTestModel(t, testPlan, false)
	m = send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	for key, want := range map[string]string{"/": "search the logs", "F": "text to keep, !text to hide"} {
		if v := plain(send(m, press(key))); !strings.Contains(v, want) {
			t.Errorf("%s: placeholder %q not shown:\n%s", key, want, v)
		}
	}
}

func TestSSavesWhatTheFilterShowsMaskedAndSanitizedToANewFile(t *testing.T) {
	m, _, buf := newTestModel(t, testPlan, false)
	m.cfg.SaveDir = t.TempDir()
	in := logs.NewIngester("api", buf, nil, 0)
	in.Add("stderr", clock, []byte("level=error msg=\"token hunter22 rejected\" \x1b]0;PWNED\x07"), 0)
	m = send(m, tea.WindowSizeMsg{Width: 80, Height: 24}, frameMsg(clock), press("1"), press("x"))
	next, cmd := m.Update(press("s"))
	if cmd == nil || next.(Model).status != "" {
		t.Fatal("s did not make a command")
	}
	entries, _ := os.ReadDir(m.cfg.SaveDir)
	if len(entries) != 0 {
		t.Fatal("Update wrote a file")
	}
	msgs := runCmd(cmd)
	saved, ok := msgs[0].(savedMsg)
	if !ok || saved.err != nil || saved.lines != 2 {
		t.Fatalf("saved: %+v", msgs)
	}
	m = send(next.(Model), saved)
	if v := plain(m); !strings.Contains(v, "saved 2 lines to "+filepath.Dir(saved.path)[:20]) {
		t.Fatalf("status:\n%s", v)
	}
	data, err := os.ReadFile(saved.path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if strings.Count(text, "\n") != 2 || !strings.Contains(text, "Unknown column") || !strings.Contains(text, "token **** rejected") ||
		strings.Contains(text, "hunter22") || strings.Contains(text, "\x1b") || strings.Contains(text, "web") {
		t.Fatalf("saved file:\n%q", text)
	}
	fi, _ := os.Stat(saved.path)
	mask := syscall.Umask(0)
	syscall.Umask(mask)
	if fi.Mode().Perm() != 0o666&^os.FileMode(mask) {
		t.Fatalf("mode %v, want 0666 less the umask %o", fi.Mode().Perm(), mask)
	}
	if left, _ := filepath.Glob(filepath.Join(m.cfg.SaveDir, ".*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	if again := runCmd(cmd)[0].(savedMsg); again.err == nil || !strings.Contains(again.String(), "could not save") {
		t.Fatalf("a second save in the same second replaced the file: %v", again)
	}
}

func TestASearchWhoseOnlyMatchIsTheNewestLineSaysWhereItIs(t *testing.T) {
	m, _, _ := newTestModel(t, testPlan, false)
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30}, press("/"))
	for _, r := range "CONNECTED TO" {
		m = send(m, press(string(r)))
	}
	if v := plain(send(m, press("enter"))); !strings.Contains(v, "match 1/1") {
		t.Fatalf("no position for a match on the bottom line:\n%s", v)
	}
}
