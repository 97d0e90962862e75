package main

import (
	"strings"
	"testing"

	"github.com/golive/golive/plans"
)

// TestHeadlessRevertRetriesPrintOneLineThenTheLastTry: the automatic revert
// tried again while the engine does not answer says so once, with until
// when, then shows only its last try.
func TestHeadlessRevertRetriesPrintOneLineThenTheLastTry(t *testing.T) {
	try := func(result string) []plans.Event {
		return []plans.Event{
			{Kind: plans.EvRevertStart, Run: "r1", Message: "1 service"},
			{Kind: plans.EvRevertService, Service: "api", Result: result, Message: "try " + result},
			{Kind: plans.EvRevertEnd, Run: "r1", Result: map[string]string{plans.ResultFailed: plans.ResultIncomplete, plans.ResultOK: plans.ResultReverted}[result]},
		}
	}
	retry := plans.Event{Kind: plans.EvRevertRetry, Run: "r1", Message: "the Docker engine does not answer; trying the revert again until 05:50:12 (next try in 1s)"}
	tests := []struct {
		name   string
		events [][]plans.Event
		want   []string
	}{
		{"no retry: every line", [][]plans.Event{try(plans.ResultOK)},
			[]string{"revert of apply r1", "↩ api", "revert reverted", "apply failed"}},
		{"retried until it worked", [][]plans.Event{try(plans.ResultFailed), {retry}, try(plans.ResultFailed), {retry}, try(plans.ResultFailed), {retry}, try(plans.ResultOK)},
			[]string{"revert of apply r1", "✗ revert api", "revert incomplete", "until 05:50:12", "revert of apply r1", "try ok", "revert reverted", "apply failed"}},
		{"retried in vain", [][]plans.Event{try(plans.ResultFailed), {retry}, try(plans.ResultFailed), {retry}, try(plans.ResultFailed)},
			[]string{"revert of apply r1", "✗ revert api", "revert incomplete", "until 05:50:12", "revert of apply r1", "✗ revert api", "revert incomplete", "apply failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			h := &headless{plan: &plans.Plan{}, stdout: &out}
			for _, evs := range tt.events {
				for _, ev := range evs {
					h.print(ev)
				}
			}
			h.print(plans.Event{Kind: plans.EvApplyEnd, Result: plans.ResultFailed})
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(tt.want), out.String())
			}
			for i, w := range tt.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("line %d %q should say %q:\n%s", i+1, lines[i], w, out.String())
				}
			}
		})
	}
}
