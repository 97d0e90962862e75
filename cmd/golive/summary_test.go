package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/golive/golive/plans"
	"github.com/golive/golive/plans/report"
)

// TestTheHeadlessSummarySaysTheReportsPhase prints recorded journals as the
// headless CLI does: its closing summary names the phase the report (and
// the cockpit and watch, tested in tui) derive, what runs and the impact.
func TestTheHeadlessSummarySaysTheReportsPhase(t *testing.T) {
	tests := []struct {
		paths []string
		want  []string
	}{
		{[]string{"../../plans/testdata/journals/failed-reverted.jsonl"}, []string{": REVERTED\n", "services now: api golive-test/gltest-a248cd8f-api:1 (reverted), web not changed", "not serving: api 5.3s (deploy)"}},
		{[]string{"../../plans/testdata/journals/deployed.jsonl"}, []string{": DEPLOYED\n", "not serving: api 700ms (deploy), web 600ms (deploy)"}},
		{[]string{"../../plans/testdata/journals/failed-stop.jsonl"}, []string{": FAILED\n", "still not serving"}},
		{[]string{"../../plans/testdata/journals/revert-incomplete.jsonl"}, []string{": REVERT INCOMPLETE\n", "api golive-test/gltest-a248cd8f-api:2 (failed)"}},
	}
	for _, tt := range tests {
		journals, err := report.ReadJournals(tt.paths)
		if err != nil {
			t.Fatal(err)
		}
		events := journals[0].Events
		plan, err := plans.Parse("/srv/plan.yaml", []byte(fmt.Sprintf("project: %s\nrelease: %q\nservices:\n  api: {image: a:2}\n  web: {image: w:2}\n", events[0].Project, events[0].Release)))
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		h := &headless{plan: plan, stdout: &out}
		for _, ev := range events {
			h.print(ev)
		}
		h.summary()
		_, summary, _ := strings.Cut(out.String(), "\n"+plan.Project+" "+plan.Release+": ")
		phase := strings.ToUpper(string(report.Build(journals).Phase))
		if !strings.HasPrefix(summary, phase+"\n") {
			t.Errorf("%s: summary %q, report phase %s", tt.paths[0], summary, phase)
		}
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: the summary lacks %q:\n%s", tt.paths[0], w, summary)
			}
		}
	}
}
