package tui

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

// TestSwarmServicesShowTasksAndUpdateProgress: a Swarm service's row says
// how many tasks run of those desired and how far Swarm's update is.
func TestSwarmServicesShowTasksAndUpdateProgress(t *testing.T) {
	tasks := func(service, update string, running, desired, updated int) plans.Event {
		return plans.Event{Kind: plans.EvSwarmTasks, Run: "r1", Service: service, Result: update,
			Counts: map[string]int{"running": running, "desired": desired, "updated": updated, "node:node1": running}}
	}
	m, _, _ := newTestModel(t, testPlan, false)
	m = send(m, tea.WindowSizeMsg{Width: 80, Height: 24}, preloaded, opDoneMsg{op: opPreload}, press("D"))
	m = send(m, seq(applyStarted, plans.Event{Kind: plans.EvStepStart, Run: "r1", Step: 1}, stepsEnd(1, 1, plans.ResultOK),
		plans.Event{Kind: plans.EvStepStart, Run: "r1", Step: 2},
		tasks("api", "updating", 3, 4, 2), tasks("web", "completed", 2, 2, 2)))
	checkFits(t, m.View().Content, 80, 24)
	golden.RequireEqual(t, []byte(m.View().Content))
}

// TestSwarmTaskSourcesKeepTheirNodeAt160Columns: the log pane used to cut
// api.10@glt245e1c9a0 to api.10@glt245…, hiding the node.
func TestSwarmTaskSourcesKeepTheirNodeAt160Columns(t *testing.T) {
	m, _, buf := newTestModel(t, testPlan, false)
	for i, src := range []string{"api.10@glt245e1c9a0", "api.2@glt245e1c9a1", "shop-worker.3@glt245e1c9a0"} {
		buf.Append(src, "stdout", clock.Add(time.Duration(i)*time.Second), logs.LevelInfo, false, []byte("level=info msg=\"served\""))
	}
	m = send(m, tea.WindowSizeMsg{Width: 160, Height: 48})
	out := m.View().Content
	checkFits(t, out, 160, 48)
	golden.RequireEqual(t, []byte(out))
}
