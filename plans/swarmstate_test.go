package plans

import (
	"testing"
	"time"
)

func TestStateFoldsSwarmTasks(t *testing.T) {
	at := time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)
	tasks := func(update string, running, desired, updated int, nodes map[string]int) Event {
		c := map[string]int{"running": running, "desired": desired, "updated": updated}
		for n, k := range nodes {
			c["node:"+n] = k
		}
		return Event{Kind: EvSwarmTasks, Time: at, Service: "api", Result: update, Counts: c}
	}
	tests := []struct {
		name          string
		events        []Event
		text, summary string
		converged     bool
	}{
		{"updating", []Event{tasks("updating", 3, 4, 2, map[string]int{"n1": 2, "n2": 1})},
			"3/4 running · updated 2 of 4 · updating", "3/4 running · updated 2 of 4 · updating (n1 2, n2 1)", false},
		{"completed", []Event{tasks("completed", 4, 4, 4, map[string]int{"n1": 2, "n2": 1, "n3": 1})},
			"4/4 running", "4/4 running (n1 2, n2 1, n3 1)", true},
		{"paused, a task failed", []Event{
			tasks("updating", 2, 2, 0, map[string]int{"n1": 2}),
			{Kind: EvSwarmTask, Time: at, Service: "api", Message: "api.1@n2", Result: "failed", Error: "unhealthy container"},
			tasks("paused", 2, 2, 0, map[string]int{"n1": 2}),
		}, "2/2 running · updated 0 of 2 · paused", "2/2 running · updated 0 of 2 · paused (n1 2)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStateOf("shop", "1")
			for _, ev := range tt.events {
				s.Apply(ev)
			}
			svc := s.Service("api")
			if svc == nil || svc.Tasks == nil {
				t.Fatal("no tasks folded")
			}
			if got := svc.Tasks.Text(); got != tt.text {
				t.Errorf("Text = %q, want %q", got, tt.text)
			}
			if got := svc.Tasks.Summary(); got != tt.summary {
				t.Errorf("Summary = %q, want %q", got, tt.summary)
			}
			if got := svc.Tasks.Converged(); got != tt.converged {
				t.Errorf("Converged = %t", got)
			}
		})
	}
}

func TestPinnedID(t *testing.T) {
	for ref, want := range map[string]string{
		"shop/api:2@sha256:abc": "sha256:abc",
		"sha256:def":            "sha256:def",
		"shop/api:2":            "",
	} {
		if got := pinnedID(ref); got != want {
			t.Errorf("pinnedID(%q) = %q, want %q", ref, got, want)
		}
	}
}
