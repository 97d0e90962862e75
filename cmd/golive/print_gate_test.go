package main

import (
	"testing"

	"github.com/golive/golive/plans"
)

func TestHeadlessApplyPrintsHowEachErrorGateEnded(t *testing.T) {
	tests := []struct {
		name string
		ev   plans.Event
		want string
	}{
		{"the budget filling up is the cockpit's", plans.Event{Service: "api", Message: "errors 3/5 per 1m"}, ""},
		{"a watch window is announced", plans.Event{Service: "api", Message: "watching its error lines for 10m"}, "  api: watching its error lines for 10m"},
		{"a gate that held", plans.Event{Service: "api", Result: plans.ResultOK, Message: "errors 3/5 per 1m"}, "  api: errors 3/5 per 1m"},
		{"a tripped gate names the lines", plans.Event{Service: "api", Result: plans.ResultFailed, Message: "errors 6/5 per 1m", Error: "error gate: 6 error lines within 1m (budget 5 per 1m); the lines that tripped it:\n  boom"},
			"  ✗ api: errors 6/5 per 1m: error gate: 6 error lines within 1m (budget 5 per 1m); the lines that tripped it:\n      boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ev.Kind = plans.EvErrorGate
			if got := formatEvent(tt.ev, 3); got != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
