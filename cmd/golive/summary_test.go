package main

import (
	"fmt"
	"os"
	"path/filepath"
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
		if impact := report.Build(journals).LatestImpact; impact != "" && !strings.Contains(summary, "not serving: "+impact+"\n") {
			t.Errorf("%s: the report says not serving %q, the summary:\n%s", tt.paths[0], impact, summary)
		}
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: the summary lacks %q:\n%s", tt.paths[0], w, summary)
			}
		}
	}
}

// TestAHeadlessRevertTellsTheImpactOfTheApplyItReverts reverts, headless,
// an apply whose process was killed: the summary starts from the journals
// so far and tells the same not-serving figure as the report of both.
func TestAHeadlessRevertTellsTheImpactOfTheApplyItReverts(t *testing.T) {
	paths := []string{"../../plans/testdata/journals/killed-apply.jsonl", "../../plans/testdata/journals/revert-after-kill.jsonl"}
	journals, err := report.ReadJournals(paths)
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	if err := os.MkdirAll(plans.JournalDir(state), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(plans.JournalDir(state), "p-1-20261126T014251Z.jsonl"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	events := journals[1].Events
	plan, err := plans.Parse("/srv/plan.yaml", []byte(fmt.Sprintf("project: %s\nrelease: %q\nservices:\n  api: {image: a:2}\n  web: {image: w:2}\n", events[0].Project, events[0].Release)))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	h := &headless{plan: plan, stdout: &out, opts: options{state: state}}
	h.foldHistory()
	for _, ev := range events {
		h.print(ev)
	}
	h.summary()
	want := report.Build(journals).LatestImpact
	if want == "" || !strings.Contains(out.String(), "not serving: "+want+"\n") {
		t.Errorf("the report says %q; the headless revert:\n%s", want, out.String())
	}
}

// TestRevertedLineSaysWhatTheRevertDid: a revert that removed the service
// an earlier apply created used to say it runs its previous image again.
func TestRevertedLineSaysWhatTheRevertDid(t *testing.T) {
	rolledBack := &plans.ServiceStatus{Name: "api", Result: plans.ResultReverted, NowID: "sha256:1"}
	removed := &plans.ServiceStatus{Name: "worker", Result: plans.ResultReverted}
	untouched := &plans.ServiceStatus{Name: "web"}
	for _, c := range []struct {
		name     string
		services []*plans.ServiceStatus
		want     string
	}{
		{"previous images", []*plans.ServiceStatus{rolledBack, untouched},
			"reverted: every service changed by the latest apply runs its previous image again and passed its own health gate"},
		{"a created service", []*plans.ServiceStatus{removed, untouched},
			"reverted: removed worker, which the latest apply created (nothing ran before it)"},
		{"both", []*plans.ServiceStatus{rolledBack, removed},
			"reverted: every service changed by the latest apply runs its previous image again and passed its own health gate; removed worker, which that apply created"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := revertedLine(&plans.State{Services: c.services}); got != c.want {
				t.Fatalf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}
