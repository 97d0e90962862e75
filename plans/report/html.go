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
	Service       string
	Width, Height int
	Band          int // height of the label rows above the bars
	Bottom, AxisY int // the bars' baseline and the axis labels' line
	Bars          []bar
	Marks         []chartMark
	Total         int
	From, To      string
}

type bar struct {
	X, Y, H int
	Title   string
}

type chartMark struct {
	X, TextX, Y int
	Anchor      string // start or end, so that no label runs past the chart
	Label       string
	Class       string
	left, right int // the label's extent, for laying out the rows
}

// Chart geometry in pixels: charts are about chartWidth wide, with bars
// between 6 and 40 pixels; labels take charWidth per character and sit on
// rows of labelRow pixels above the bars, a row further down whenever
// they would overlap.
const (
	chartHeight = 60
	chartWidth  = 720
	charWidth   = 6
	labelRow    = 12
)

func (r *Report) charts() []chart {
	win := r.chartWindow()
	n := win.Buckets()
	barWidth := max(6, min(40, chartWidth/max(n, 1)))
	var charts []chart
	for _, s := range r.Services {
		counts := r.counts(s, win)
		c := chart{Service: s.Name, Width: n * barWidth, From: hmsShort(win.From) + " UTC", To: hmsShort(win.To) + " UTC"}
		peak := 0
		for _, k := range counts {
			peak, c.Total = max(peak, k), c.Total+k
		}
		var rows []int // the right end of the last label on each row
		for _, mk := range r.Marks {
			if mk.Service != s.Name || win.Index(mk.Time) < 0 {
				continue
			}
			class, label := "deploy", "deploy "+hmsShort(mk.Time)
			switch mk.Label {
			case "R":
				class, label = "revert", "revert "+hmsShort(mk.Time)
			case "S":
				class, label = "switch", "switch "+hmsShort(mk.Time)
			}
			x := int(float64(mk.Time.Sub(win.From)) / float64(win.Bucket) * float64(barWidth))
			m := chartMark{X: x, Label: label, Class: class, Anchor: "start", TextX: x + 3}
			w := len(label) * charWidth
			m.left, m.right = x+3, x+3+w
			if m.right > c.Width {
				m.Anchor, m.TextX, m.left, m.right = "end", x-3, x-3-w, x-3
			}
			row := 0
			for row < len(rows) && rows[row]+charWidth > m.left {
				row++
			}
			if row == len(rows) {
				rows = append(rows, 0)
			}
			rows[row] = m.right
			m.Y = (row + 1) * labelRow
			c.Marks = append(c.Marks, m)
		}
		c.Band = len(rows)*labelRow + 4
		c.Bottom = c.Band + chartHeight
		c.AxisY = c.Bottom + labelRow
		c.Height = c.AxisY + 4
		for i, k := range counts {
			if k == 0 {
				continue
			}
			h := max(2, k*(chartHeight-4)/peak)
			from := win.From.Add(time.Duration(i) * win.Bucket)
			c.Bars = append(c.Bars, bar{X: i * barWidth, Y: c.Bottom - h, H: h, Title: fmt.Sprintf("%s–%s: %d error lines", hmsShort(from), hmsShort(from.Add(win.Bucket)), k)})
		}
		charts = append(charts, c)
	}
	return charts
}

func (r *Report) htmlData() map[string]any {
	win := r.chartWindow()
	n := win.Buckets()
	return map[string]any{
		"R": r, "Charts": r.charts(), "BarW": max(6, min(40, chartWidth/max(n, 1))) - 2, "Bucket": win.Bucket.String(),
		"Detect": optional(r.TimeToDetect, r.Detected, "no error line after a deploy"),
		"Revert": optional(r.TimeToRevert, r.Reverted, "not reverted"),
		"Impact": orText(r.Impact, "no service stopped serving"),
		"Total":  r.End.Sub(r.Start).Round(time.Second).String(),
		"Class":  strings.ReplaceAll(r.Outcome, " ", "-"),
	}
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"utc": utc, "hms": hms, "image": image, "run": shortRun, "result": resultText,
	"join":   strings.Join,
	"last":   func(lines []string) string { return lines[len(lines)-1] },
	"around": around, "probes": probes, "orText": orText, "switchWhat": switchWhat,
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
.outcome-deployed{color:#1a7f37}.outcome-failed,.outcome-unfinished,.outcome-revert-incomplete{color:#cf222e}.outcome-reverted{color:#8250df}
.note{background:#fff8c5;padding:6px 10px;border-left:4px solid #d4a72c}
svg{background:#fafafa;border:1px solid #eee}.bar{fill:#cf222e}.deploy{stroke:#0969da}.revert{stroke:#8250df}
.switch{stroke:#1a7f37}.deploy text{fill:#0969da}.revert text{fill:#8250df}.switch text{fill:#1a7f37}text{font-size:10px;stroke:none}.failed{color:#cf222e}
</style></head><body>
<h1>Postmortem: {{.R.Project}} {{.R.Release}}</h1>
<h2>Summary</h2>
<table>
<tr><th>Outcome</th><td class="outcome-{{.Class}}"><b>{{.R.Outcome}}</b></td></tr>
{{if .R.Failure}}<tr><th>What failed</th><td>{{.R.Failure}}</td></tr>{{end}}
<tr><th>Who</th><td>{{join .R.Actors ", "}}</td></tr>
<tr><th>When</th><td>{{utc .R.Start}} – {{utc .R.End}}</td></tr>
<tr><th>Total time</th><td>{{.Total}}</td></tr>
<tr><th>Time to detect the first error after a deploy</th><td>{{.Detect}}</td></tr>
<tr><th>Time to revert (first failure signal, else the apply's end → reverted)</th><td>{{.Revert}}</td></tr>
<tr><th>Not serving (its container stopped → the next one passed its health gate)</th><td>{{.Impact}}</td></tr>
{{if eq .R.Outcome "unfinished"}}<tr><th>Where it stood when the journal ends</th><td>{{.R.Phase}}</td></tr>{{end}}
</table>
{{range .R.Notes}}<p class="note">{{.}}</p>{{end}}
<h2>Error lines</h2>
<p>One bar per {{.Bucket}}; blue lines mark deploys, purple lines reverts.</p>
{{range .Charts}}<h3>{{.Service}} <small>({{.Total}} error lines)</small></h3>
<svg width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="error lines of {{.Service}}">
{{range .Bars}}<rect class="bar" x="{{.X}}" y="{{.Y}}" width="{{$.BarW}}" height="{{.H}}"><title>{{.Title}}</title></rect>
{{end}}{{$c := .}}{{range .Marks}}<g class="{{.Class}}"><line x1="{{.X}}" y1="{{.Y}}" x2="{{.X}}" y2="{{$c.Bottom}}" stroke-width="2"/><text x="{{.TextX}}" y="{{.Y}}" text-anchor="{{.Anchor}}">{{.Label}}</text></g>
{{end}}<text x="0" y="{{.AxisY}}">{{.From}}</text><text x="{{.Width}}" y="{{.AxisY}}" text-anchor="end">{{.To}}</text>
</svg>
{{end}}
<h2>Services</h2>
{{range .R.Services}}<h3>{{.Name}}</h3>
<p>Target {{orText .Target "—"}}; runs {{orText .Now "what it ran before (not changed)"}}; not serving: {{.Impact}}.</p>
{{$svc := .}}{{if .Changes}}<table><tr><th>Time</th><th>Change</th><th>Before</th><th>After</th><th>Result</th><th>Error lines 5 min before → after</th></tr>
{{range .Changes}}<tr><td>{{hms .Time}}</td><td>{{.What}}</td><td>{{image .From .FromID}}</td><td>{{image .To .ToID}}</td><td>{{.Result}}</td><td>{{around $svc .}}</td></tr>
{{end}}</table>{{end}}
{{with .SwitchRows}}<p>Traffic through the proxy (blue/green):</p><table><tr><th>Time</th><th>Switch</th><th>From</th><th>To</th><th>Took</th><th>The version it left</th></tr>
{{range .}}<tr><td>{{hms .Time}}</td><td>{{switchWhat .Back}}</td><td>{{image .From .FromID}}</td><td>{{image .To .ToID}}</td><td>{{dur .Took}}</td><td>{{.Left}}</td></tr>
{{end}}</table>{{end}}{{with .ProxyNow}}<p>{{.}}</p>{{end}}
{{if .Probes}}<p>Health: {{probes .Probes}}</p>{{end}}{{if .Tasks}}<p>Swarm tasks: {{.Tasks.Summary}}</p>{{end}}
{{if .FirstErrors}}<p>First error lines after a new container started:</p><pre>{{range .FirstErrors}}{{after .After}}  {{.Line}}
{{end}}</pre>{{end}}
{{end}}
<h2>Error gates</h2>
{{if .R.Gates}}<p>Each gate counts the error lines of a service's new container from its start; more than its threshold fails the gate and on_failure applies.</p>
<table><tr><th>Service</th><th>Apply</th><th>Watched (container, from → to)</th><th>Threshold</th><th>Decision</th></tr>
{{range .R.Gates}}<tr><td>{{.Service}}</td><td>{{run .Run}}</td><td>{{.Watched}}</td><td>{{.Threshold}}</td><td{{if eq .Result "failed"}} class="failed"{{end}}>{{.Decision}}</td></tr>
{{end}}</table>
{{range .R.Gates}}{{$g := .}}{{with .Tripped}}<p>The lines that tripped {{$g.Service}}'s gate:</p><pre>{{join . "\n"}}</pre>{{end}}{{end}}
{{else}}<p>No service had an error gate (health.errors).</p>
{{end}}<h2>Steps</h2>
<table><tr><th>Run</th><th>#</th><th>Step</th><th>Command</th><th>Exit</th><th>Duration</th><th>Result</th></tr>
{{range .R.Steps}}<tr><td>{{run .Run}}</td><td>{{.N}}</td><td>{{.Name}}</td><td><code>{{.Command}}</code></td><td>{{deref .ExitCode}}</td><td>{{dur .Duration}}</td><td{{if eq .Result "failed"}} class="failed"{{end}}>{{result .}}</td></tr>
{{end}}</table>
{{range .R.Steps}}{{if and (eq .State "failed") .Output}}<p>Last output of step {{.N}} ({{.Name}}):</p><pre>{{join .Output "\n"}}</pre>{{else if and (eq .Kind "verify") .Output}}<p>Step {{.N}} ({{.Name}}) verified: {{last .Output}}</p>{{end}}{{end}}
<h2>Timeline</h2>
<table><tr><th>Time (UTC)</th><th>Actor</th><th>Event</th><th>Duration</th><th>Result</th><th>Detail</th></tr>
{{range .R.Timeline}}<tr><td>{{hms .Time}}</td><td>{{.Actor}}</td><td>{{.Event}}</td><td>{{dur .Duration}}</td><td>{{.Result}}</td><td>{{.Detail}}</td></tr>
{{end}}</table>
</body></html>
`))
