package report

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
)

// The journals were written by the real engine against the real Docker
// engine: those in testdata by the demo plans before actions and per-line
// error times were journaled (a release whose health gate failed and was
// reverted automatically, a release deployed then reverted by a second
// command, a journal cut short by a crash with a damaged line; proxy-*:
// `make demo`'s frontend switched blue/green through kamal-proxy, then
// switched back by `golive revert`), those in
// ../testdata/journals by plans.TestStateOfEveryOutcome.
var cases = []struct {
	name     string
	journals []string
	want     []string // facts a reader must find
}{
	{"broken_release", []string{"testdata/broken-release.jsonl"}, []string{
		"| Outcome | **reverted** |",
		"| What failed | step 3 (Deploy backend): api: not healthy within 8s",
		"| Time to detect the first error after a deploy | 400ms |",
		"| Time to revert (first failure signal, else the apply's end → reverted) | 10.9s |",
		"| Not serving (its container stopped → the next one passed its health gate) | api 11.5s (deploy) |",
		"| deploy | golive-demo/api:1 (a56eb22a6f46) | golive-demo/api:2 (3f29f568c03a) | failed | ≈ 0 → 2 (whole minutes) |",
		"Unknown column 'orders.discount_code'",
		"| 4 | Deploy frontend | — |  |  | skipped |",
	}},
	{"apply_then_revert", []string{"testdata/apply-2.0.0.jsonl", "testdata/revert-2.0.0.jsonl"}, []string{
		"| Outcome | **reverted** |",
		"| confirm.answer |",
		"| lock.acquired |",
		"### web",
		"| Time to revert (first failure signal, else the apply's end → reverted) | 25.7s |",
	}},
	{"cut_short", []string{"testdata/cut-short.jsonl"}, []string{
		"line 12 is not a journal record",
		"ends at 2026-11-25 15:53:09 UTC during an apply (last event: service.deploy.end)",
		"| Outcome | **unfinished** |",
		"| Where it stood when the journal ends | deploying |",
		"still not serving when the journal ends",
	}},
	{"stopped_at_confirm", []string{"testdata/stopped-at-confirm.jsonl"}, []string{
		"| What failed | step 7 (Confirm: QA regression pass done?): stopped by the operator |",
		"| step.end | 12.949s | failed | step 7 · Confirm: QA regression pass done? · stopped by the operator |",
		"| apply.end | 1m7.127s | reverted | step 7 (Confirm: QA regression pass done?): stopped by the operator |",
	}},
	{"revert_cut_short", []string{"testdata/revert-cut-short.jsonl"}, []string{
		"ends at 2026-11-26 07:38:07 UTC during a revert (last event: revert.start)",
		"| Outcome | **unfinished** |",
		"| Where it stood when the journal ends | reverting |",
	}},
	{"failed_and_reverted", []string{"../testdata/journals/failed-reverted.jsonl"}, []string{
		"| Outcome | **reverted** |",
		"| Not serving (its container stopped → the next one passed its health gate) | api 5.3s (deploy) |",
		"| deploy | golive-test/gltest-a248cd8f-api:1 (b0da155e52a6) | golive-test/gltest-a248cd8f-api:2 (a53a11174512) | failed | 0 → 30 |",
		"| revert | golive-test/gltest-a248cd8f-api:2 (a53a11174512) | golive-test/gltest-a248cd8f-api:1 (b0da155e52a6) | reverted | 30 → 0 |",
		"| 004701 | 1 | Migrate | `echo migrating` | 0 | 4ms | ok |",
		"### web\n\nTarget golive-test/gltest-a248cd8f-web:2; runs what it ran before (not changed); not serving: kept serving.",
		"one character per 15s",
	}},
	{"deployed_then_reverted_by_hand", []string{"../testdata/journals/deployed.jsonl", "../testdata/journals/manual-revert.jsonl"}, []string{
		"| Outcome | **reverted** |",
		"| Time to revert (first failure signal, else the apply's end → reverted) | 3.8s |",
		"| api 1.5s (deploy, revert), web 1.4s (deploy, revert) |",
		"| deployed | 0 → 11 |",
		"| reverted | 11 → 0 |",
		"| 4 | Verify: true | `true` | 0 |",
	}},
	{"failed_and_left", []string{"../testdata/journals/failed-stop.jsonl"}, []string{
		"| Outcome | **failed** |",
		"| Time to revert (first failure signal, else the apply's end → reverted) | not reverted |",
		"api 3.9s (deploy, still not serving)",
	}},
	{"error_gate_tripped", []string{"../testdata/journals/error-gate-tripped.jsonl"}, []string{
		"| Outcome | **reverted** |",
		"| api | 041406 | 499d388054f1, 04:14:07.071 → 04:14:10.550 (3.5s) | more than 3 error lines within 1m | failed: 4 error lines within 1m, over its budget of 3 |",
		"The lines that tripped api's gate:",
	}},
	{"error_gate_ok", []string{"../testdata/journals/error-gate-ok.jsonl"}, []string{
		"| Outcome | **deployed** |",
		"| api | 041355 | 300a5e2c77a3, 04:13:56.094 → 04:13:58.534 (2.4s) | more than 50 error lines within 1m | ok: 4 error lines within 1m when it ended |",
		"| web | 041355 | f9a2dec78c23, 04:13:58.870 → 04:14:01.509 (2.6s) | more than 50 error lines within 1m | ok: 0 error lines within 1m when it ended |",
	}},
	{"blue_green_then_switched_back", []string{"testdata/proxy-apply-2.0.0.jsonl", "testdata/proxy-revert-2.0.0.jsonl"}, []string{
		"| Outcome | **reverted** |",
		"web 0s (blue/green)",
		"Target golive-demo/web:2; runs golive-demo/web:1; not serving: 0s, the proxy switched its traffic (blue/green).",
		"| 05:30:52.554 | to the new version | golive-demo/web:1 (d4714c491241) | golive-demo/web:2 (557c05c86be1) | 126ms | warm; the revert switched back to it at 05:30:58.544, 6s after this switch |",
		"| 05:30:58.544 | back (revert) | golive-demo/web:2 (557c05c86be1) | golive-demo/web:1 (d4714c491241) | 353ms | removed by the revert |",
		"`S` a switch of the proxy",
		"Step 6 (Verify: sh requests.sh show) verified: 88 requests through the proxy, 0 failed",
	}},
	{"revert_incomplete", []string{"../testdata/journals/revert-incomplete.jsonl"}, []string{
		"| Outcome | **revert incomplete** |",
		"| What failed | revert api: the previous container is gone",
		"| revert | golive-test/gltest-a248cd8f-web:2 (7ea66155c69f) | golive-test/gltest-a248cd8f-web:1 (63024a55ef64) | reverted |",
		"No service had an error gate (health.errors).",
	}},
}

func TestReportsOfRealJournals(t *testing.T) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			journals, err := ReadJournals(tt.journals)
			if err != nil {
				t.Fatal(err)
			}
			r := Build(journals)
			md := r.Markdown()
			for _, want := range tt.want {
				if !strings.Contains(md, want) {
					t.Errorf("the report lacks %q", want)
				}
			}
			t.Run("md", func(t *testing.T) { golden.RequireEqual(t, []byte(md)) })
			html, err := r.HTML()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(html, "http://") && strings.Contains(html, "<script") || strings.Contains(html, `src="http`) || strings.Contains(html, `href="http`) {
				t.Error("the HTML report loads external assets")
			}
			t.Run("html", func(t *testing.T) { golden.RequireEqual(t, []byte(html)) })
		})
	}
}

// TestAReportOfSeveralReleasesTellsOfTheNewestAndNamesEveryOther folds the
// journals of three releases (2.0.1, then 2.0.0, and an older 1.9.0 made
// from 2.0.1's): the report is of the one started last, and its note
// names both others.
func TestAReportOfSeveralReleasesTellsOfTheNewestAndNamesEveryOther(t *testing.T) {
	journals, err := ReadJournals([]string{"testdata/apply-2.0.0.jsonl", "testdata/broken-release.jsonl", "testdata/broken-release.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range journals[2].Events {
		ev := &journals[2].Events[i]
		ev.Release, ev.Time = "1.9.0", ev.Time.Add(-time.Hour)
	}
	r := Build(journals)
	md := r.Markdown()
	if r.Release != "2.0.0" ||
		!strings.Contains(md, "the journals also hold release 1.9.0 of golive-demo (started 2026-11-25 14:53:00 UTC by ") ||
		!strings.Contains(md, ", release 2.0.1 of golive-demo (started 2026-11-25 15:53:00 UTC by ") ||
		!strings.Contains(md, "this report is of the newest, release 2.0.0, only") {
		t.Fatalf("release %s:\n%s", r.Release, md)
	}
}

func TestHTMLEscapesWhatTheJournalSays(t *testing.T) {
	journals, err := ReadJournals([]string{"testdata/broken-release.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	journals[0].Events[0].Message = `<script>alert(1)</script>`
	html, err := Build(journals).HTML()
	if err != nil || strings.Contains(html, "<script>alert") {
		t.Fatalf("unescaped journal text in the HTML report (%v)", err)
	}
}

func TestChartsFrameTheReleaseAndTheirLabelsNeitherOverlapNorClip(t *testing.T) {
	for _, tt := range cases {
		journals, err := ReadJournals(tt.journals)
		if err != nil {
			t.Fatal(err)
		}
		r := Build(journals)
		win := r.chartWindow()
		if win.Buckets() > maxBuckets || len(r.Marks) > 0 && (win.Index(r.Marks[0].Time.Add(-4*time.Minute)) < 0 || win.Index(r.Marks[len(r.Marks)-1].Time.Add(4*time.Minute)) < 0) {
			t.Errorf("%s: window %v does not frame the changes with their lead-up and aftermath", tt.name, win)
		}
		for _, c := range r.charts() {
			for i, a := range c.Marks {
				if a.left < 0 || a.right > c.Width {
					t.Errorf("%s: label %q (%d–%d) leaves the %d-wide chart", tt.name, a.Label, a.left, a.right, c.Width)
				}
				for _, b := range c.Marks[:i] {
					if a.Y == b.Y && a.left < b.right && b.left < a.right {
						t.Errorf("%s: labels %q and %q overlap", tt.name, a.Label, b.Label)
					}
				}
			}
		}
	}
}
