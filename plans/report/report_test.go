package report

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"
)

// The journals in testdata were written by the real engine against the real
// Docker engine, running the demo plans: a release whose health gate failed
// and was reverted automatically, a release deployed and then reverted by a
// second command, and a journal cut short by a crash with a damaged line.
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
		"| deploy | golive-demo/api:1 (a56eb22a6f46) | golive-demo/api:2 (3f29f568c03a) | failed | 0 → 2 |",
		"| revert | golive-demo/api:2 (3f29f568c03a) | golive-demo/api:1 (a56eb22a6f46) | reverted | 0 → 2 |",
		"Unknown column 'orders.discount_code'",
		"| 4 | Deploy frontend | — |  | 0s | skipped |",
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
