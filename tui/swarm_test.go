package tui

import (
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

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
