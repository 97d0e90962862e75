package report

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// HTML renders the report as one self-contained page: inline style and
// SVG charts, no external assets.
func (r *Report) HTML() (string, error) {
	var b strings.Builder
	err := page.Execute(&b, r.htmlData())
	return b.String(), err
}

type chart struct {
	Service string
	Width   int
	Bars    []bar
	Marks   []chartMark
	Total   int
	Peak    int
}

type bar struct {
	X, Y, H int
	Title   string
}

type chartMark struct {
	X, Y  int
	Label string
	Class string
}

// chartHeight is the height of a chart in pixels; charts are about
// chartWidth wide, with a bar per minute between 8 and 60 pixels wide.
const (
	chartHeight = 60
	chartWidth  = 720
)

func (r *Report) htmlData() map[string]any {
	from, to := r.minutes()
	barWidth := max(8, min(60, chartWidth/int(to-from+1)))
	var charts []chart
	for _, s := range r.Services {
		c := chart{Service: s.Name, Width: int(to-from+1) * barWidth}
		for m, n := range s.PerMinute {
			if m >= from && m <= to {
				c.Peak = max(c.Peak, n)
				c.Total += n
			}
		}
		for m := from; m <= to; m++ {
			n := s.PerMinute[m]
			if n == 0 || c.Peak == 0 {
				continue
			}
			h := max(2, n*(chartHeight-12)/c.Peak)
			c.Bars = append(c.Bars, bar{X: int(m-from) * barWidth, Y: chartHeight - h, H: h, Title: fmt.Sprintf("%s: %d error lines", minuteTime(m), n)})
		}
		for _, mk := range r.Marks {
			if m := mk.Time.Unix() / 60; mk.Service == s.Name && m >= from && m <= to {
				class, label, y := "deploy", "deploy "+hms(mk.Time), 10
				if mk.Label == "R" {
					class, label, y = "revert", "revert "+hms(mk.Time), 22
				}
				x := int(float64(mk.Time.Sub(time.Unix(from*60, 0))) / float64(time.Minute) * float64(barWidth))
				c.Marks = append(c.Marks, chartMark{X: x, Y: y, Label: label, Class: class})
			}
		}
		charts = append(charts, c)
	}
	return map[string]any{
		"R": r, "Charts": charts, "BarW": barWidth - 2, "From": minuteTime(from), "To": minuteTime(to),
		"Detect": optional(r.TimeToDetect, r.Detected, "no error line after a deploy"),
		"Revert": optional(r.TimeToRevert, r.Reverted, "not reverted"),
		"Total":  r.End.Sub(r.Start).Round(time.Second).String(),
	}
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"utc": utc, "hms": hms, "image": image, "run": shortRun, "result": resultText,
	"join": strings.Join,
	"around": func(s *Service, c Change) string {
		before, after := s.ErrorsAround(c)
		return fmt.Sprintf("%d → %d", before, after)
	},
	"dur": func(d time.Duration) string {
		if d == 0 {
			return ""
		}
		return d.Round(time.Millisecond).String()
	},
	"deref": func(p *int) string {
		if p == nil {
			return ""
		}
		return fmt.Sprint(*p)
	},
	"after": func(d time.Duration) string { return "+" + d.Round(100*time.Millisecond).String() },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Postmortem: {{.R.Project}} {{.R.Release}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1d1d1f;padding:0 1em}
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f6}code,pre{font-family:ui-monospace,monospace;font-size:12px}pre{background:#f6f6f8;padding:8px;overflow-x:auto}
.outcome-deployed{color:#1a7f37}.outcome-failed,.outcome-unfinished{color:#cf222e}.outcome-reverted{color:#8250df}
.note{background:#fff8c5;padding:6px 10px;border-left:4px solid #d4a72c}
svg{background:#fafafa;border:1px solid #eee}.bar{fill:#cf222e}.deploy{stroke:#0969da}.revert{stroke:#8250df}
.deploy text{fill:#0969da}.revert text{fill:#8250df}text{font-size:10px;stroke:none}.failed{color:#cf222e}
</style></head><body>
<h1>Postmortem: {{.R.Project}} {{.R.Release}}</h1>
<h2>Summary</h2>
<table>
<tr><th>Outcome</th><td class="outcome-{{.R.Outcome}}"><b>{{.R.Outcome}}</b></td></tr>
{{if .R.Failure}}<tr><th>What failed</th><td>{{.R.Failure}}</td></tr>{{end}}
<tr><th>Who</th><td>{{join .R.Actors ", "}}</td></tr>
<tr><th>When</th><td>{{utc .R.Start}} – {{utc .R.End}}</td></tr>
<tr><th>Total time</th><td>{{.Total}}</td></tr>
<tr><th>Time to detect the first error after a deploy</th><td>{{.Detect}}</td></tr>
<tr><th>Time to revert (first failure signal, else the apply's end → reverted)</th><td>{{.Revert}}</td></tr>
</table>
{{range .R.Notes}}<p class="note">{{.}}</p>{{end}}
<h2>Errors per minute</h2>
<p>{{.From}} to {{.To}} UTC; blue lines mark deploys, purple lines reverts.</p>
{{range .Charts}}<h3>{{.Service}} <small>({{.Total}} error lines)</small></h3>
<svg width="{{.Width}}" height="60" viewBox="0 0 {{.Width}} 60" style="overflow:visible;margin-right:110px" role="img" aria-label="error lines per minute of {{.Service}}">
{{range .Bars}}<rect class="bar" x="{{.X}}" y="{{.Y}}" width="{{$.BarW}}" height="{{.H}}"><title>{{.Title}}</title></rect>
{{end}}{{range .Marks}}<g class="{{.Class}}"><line x1="{{.X}}" y1="0" x2="{{.X}}" y2="60" stroke-width="2"/><text x="{{.X}}" y="{{.Y}}" dx="3">{{.Label}}</text></g>
{{end}}</svg>
{{end}}
<h2>Services</h2>
{{range .R.Services}}<h3>{{.Name}}</h3>
{{$svc := .}}{{if .Changes}}<table><tr><th>Time</th><th>Change</th><th>Before</th><th>After</th><th>Result</th><th>Error lines 5 min before → after</th></tr>
{{range .Changes}}<tr><td>{{hms .Time}}</td><td>{{.What}}</td><td>{{image .From .FromID}}</td><td>{{image .To .ToID}}</td><td>{{.Result}}</td><td>{{around $svc .}}</td></tr>
{{end}}</table>{{end}}
{{if .Health}}<p>Health: {{join .Health "; "}}</p>{{end}}
{{if .FirstErrors}}<p>First error lines after a new container started:</p><pre>{{range .FirstErrors}}{{after .After}}  {{.Line}}
{{end}}</pre>{{end}}
{{end}}
<h2>Steps</h2>
<table><tr><th>Run</th><th>#</th><th>Step</th><th>Command</th><th>Exit</th><th>Duration</th><th>Result</th></tr>
{{range .R.Steps}}<tr><td>{{run .Run}}</td><td>{{.N}}</td><td>{{.Name}}</td><td><code>{{.Command}}</code></td><td>{{deref .ExitCode}}</td><td>{{dur .Duration}}</td><td{{if eq .Result "failed"}} class="failed"{{end}}>{{result .}}</td></tr>
{{end}}</table>
{{range .R.Steps}}{{if and (eq .Result "failed") .Output}}<p>Last output of step {{.N}} ({{.Name}}):</p><pre>{{join .Output "\n"}}</pre>{{end}}{{end}}
<h2>Timeline</h2>
<table><tr><th>Time (UTC)</th><th>Actor</th><th>Event</th><th>Duration</th><th>Result</th><th>Detail</th></tr>
{{range .R.Timeline}}<tr><td>{{hms .Time}}</td><td>{{.Actor}}</td><td>{{.Event}}</td><td>{{dur .Duration}}</td><td>{{.Result}}</td><td>{{.Detail}}</td></tr>
{{end}}</table>
</body></html>
`))
