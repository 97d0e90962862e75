package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/golive/golive/logs"
)

func TestFollowingLogPaneMovesAtMostOncePerGapInAFloodAndAtOnceWhenCalm(t *testing.T) {
	m, _, buf := newTestModel(t, testPlan, false)
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	in := logs.NewIngester("api", buf, nil, 0)
	n := 0
	add := func(k int) {
		for i := 0; i < k; i++ {
			in.Add("stdout", clock.Add(time.Duration(n)*time.Millisecond), []byte(fmt.Sprintf("line %04d", n)), 0)
			n++
		}
	}
	shows := func(m Model, i int) bool { return strings.Contains(plain(m), fmt.Sprintf("line %04d", i)) }
	t0 := time.Now()
	add(500)
	m = send(m, frameMsg(t0))
	if !shows(m, 499) {
		t.Fatalf("the first frame does not show the newest line:\n%s", plain(m))
	}
	for _, step := range []struct {
		name  string
		lines int
		at    time.Duration
		moves bool
	}{
		{"a flood 40 ms later waits", 500, 40 * time.Millisecond, false},
		{"the flood is drawn once the gap has passed", 0, logFrameGap, true},
		{"more flood right after waits again", 500, logFrameGap + 40*time.Millisecond, false},
		{"the waiting flood is drawn a gap later", 0, 2 * logFrameGap, true},
		{"a calm line is drawn at once", 1, 2*logFrameGap + 10*time.Millisecond, true},
	} {
		add(step.lines)
		m = send(m, frameMsg(t0.Add(step.at)))
		if shows(m, n-1) != step.moves {
			t.Fatalf("%s: newest line shown %v, want %v:\n%s", step.name, !step.moves, step.moves, plain(m))
		}
	}
	m = send(m, press("up"))
	add(3)
	m = send(m, press("G"))
	if !shows(m, n-1) {
		t.Fatalf("G does not show the newest line at once:\n%s", plain(m))
	}
}
