package tui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// goneEngine is an engine whose lock holder's process is gone.
type goneEngine struct{ *fakeEngine }

func (goneEngine) Interrupted(context.Context) (string, error) {
	return "root@vm's process 4242 is gone: the apply was interrupted", nil
}

// TestWatchSaysWhenTheDeployersProcessIsGone checks the lock's holder in a
// command, in watch only, and shows what happened and how to finish.
func TestWatchSaysWhenTheDeployersProcessIsGone(t *testing.T) {
	for _, readOnly := range []bool{false, true} {
		m, eng, _ := newTestModel(t, testPlan, readOnly)
		m.cfg.Engine = goneEngine{eng}
		cmd := m.checkHolder()
		if !readOnly {
			if cmd != nil {
				t.Error("the operator's cockpit checks the lock's holder")
			}
			continue
		}
		m = send(m, tea.WindowSizeMsg{Width: 160, Height: 30}, cmd())
		want := "root@vm's process 4242 is gone: the apply was interrupted; finish it with golive revert /srv/shop/plan.yaml"
		if got := strings.Join(strings.Fields(plain(m)), " "); !strings.Contains(got, want) {
			t.Errorf("watch does not say %q:\n%s", want, plain(m))
		}
	}
}
