package tui

import (
	"fmt"

	"github.com/golive/golive/plans"
)

// swarmCells are a Swarm service's STATE and HEALTH cells, 10 and 9
// columns wide: its tasks running of those desired, and where Swarm's
// update stands (↻ 2/4 while it replaces tasks, ✓ 4/4 once every task
// runs the new spec, ✗ paused when a task failed).
func (m Model) swarmCells(t plans.SwarmTasks) (state, health string) {
	st := m.styles
	state = fmt.Sprintf("%-10s", fmt.Sprintf("%d/%d run", t.Running, t.Desired))
	if t.Running == t.Desired {
		state = st.OK.Render(state)
	} else {
		state = st.Warn.Render(state)
	}
	progress := fmt.Sprintf("%d/%d", t.Updated, t.Desired)
	switch t.Update {
	case "updating", "rollback_started":
		health = st.Status.Render(fmt.Sprintf("%-9s", "↻ "+progress))
	case "paused", "rollback_paused":
		health = st.Error.Render(fmt.Sprintf("%-9s", "✗ paused"))
	default:
		health = fmt.Sprintf("%-9s", progress)
		if t.Converged() {
			health = st.OK.Render(fmt.Sprintf("%-9s", "✓ "+progress))
		}
	}
	return state, health
}
