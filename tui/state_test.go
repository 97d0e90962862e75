package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
	"github.com/golive/golive/plans/report"
)

// journalCases are journals the real engine wrote, one per way a release ends.
var journalCases = []struct {
	name  string
	paths []string
	phase plans.Phase
}{
	{"deployed", []string{"../plans/testdata/journals/deployed.jsonl"}, plans.PhaseDeployed},
	{"failed and reverted", []string{"../plans/testdata/journals/failed-reverted.jsonl"}, plans.PhaseReverted},
	{"failed and left", []string{"../plans/testdata/journals/failed-stop.jsonl"}, plans.PhaseFailed},
	{"reverted by hand", []string{"../plans/testdata/journals/deployed.jsonl", "../plans/testdata/journals/manual-revert.jsonl"}, plans.PhaseReverted},
	{"revert incomplete", []string{"../plans/testdata/journals/revert-incomplete.jsonl"}, plans.PhaseRevertIncomplete},
	{"cut short", []string{"../plans/report/testdata/cut-short.jsonl"}, plans.PhaseDeploying},
	{"demo broken release", []string{"../plans/report/testdata/broken-release.jsonl"}, plans.PhaseReverted},
}

// journalPlan is a plan of the journals' project and release with the
// services they name, as the operator's plan file would be.
func journalPlan(t *testing.T, events []plans.Event) *plans.Plan {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "project: %s\nrelease: %q\nservices:\n", events[0].Project, events[0].Release)
	seen := map[string]bool{}
	for _, ev := range events {
		if ev.Service != "" && !seen[ev.Service] {
			seen[ev.Service] = true
			fmt.Fprintf(&b, "  %s: {image: %s}\n", ev.Service, "example/"+ev.Service+":2")
		}
	}
	p, err := plans.Parse("/srv/plan.yaml", []byte(b.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	return p
}

// TestOneJournalOnePhaseInTheCockpitWatchAndReport folds each recorded
// journal in the operator's cockpit, in watch and in the report: all
// three say the same phase (the headless summary is checked in cmd/golive).
func TestOneJournalOnePhaseInTheCockpitWatchAndReport(t *testing.T) {
	for _, tt := range journalCases {
		t.Run(tt.name, func(t *testing.T) {
			journals, err := report.ReadJournals(tt.paths)
			if err != nil {
				t.Fatal(err)
			}
			var events []plans.Event
			for _, j := range journals {
				events = append(events, j.Events...)
			}
			if got := report.Build(journals).Phase; got != tt.phase {
				t.Errorf("report: %s, want %s", got, tt.phase)
			}
			plan := journalPlan(t, events)
			for _, readOnly := range []bool{false, true} {
				m := New(Config{Engine: &fakeEngine{plan: plan}, Bridge: NewBridge(), Logs: logs.NewBuffer(0), ReadOnly: readOnly, Now: func() time.Time { return clock }})
				m = send(m, tea.WindowSizeMsg{Width: 120, Height: 40}, bridgeMsg{events: events}, opDoneMsg{op: opPreload})
				if m.Phase() != tt.phase {
					t.Errorf("read-only %v: %s, want %s", readOnly, m.Phase(), tt.phase)
				}
				if got, want := m.state.ImpactSummary(), report.Build(journals).LatestImpact; got != want {
					t.Errorf("read-only %v: not serving %q, the report %q", readOnly, got, want)
				}
			}
		})
	}
}
