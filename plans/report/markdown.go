package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/golive/golive/plans"
)

// Markdown renders the report for a wiki page.
func (r *Report) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Postmortem: %s %s\n\n", r.Project, r.Release)
	w("## Summary\n\n")
	w("| | |\n|---|---|\n")
	w("| Outcome | **%s** |\n", r.Outcome)
	if r.Failure != "" {
		w("| What failed | %s |\n", cell(r.Failure))
	}
	w("| Who | %s |\n", cell(strings.Join(r.Actors, ", ")))
	w("| When | %s – %s |\n", utc(r.Start), utc(r.End))
	w("| Total time | %s |\n", r.End.Sub(r.Start).Round(time.Second))
	w("| Time to detect the first error after a deploy | %s |\n", optional(r.TimeToDetect, r.Detected, "no error line after a deploy"))
	w("| Time to revert (first failure signal, else the apply's end → reverted) | %s |\n", optional(r.TimeToRevert, r.Reverted, "not reverted"))
	w("| Not serving (its container stopped → the next one passed its health gate) | %s |\n", cell(orText(r.Impact, "no service stopped serving")))
	if r.Outcome == "unfinished" {
		w("| Where it stood when the journal ends | %s |\n", r.Phase)
	}
	for _, n := range r.Notes {
		w("\n> **Note:** %s\n", n)
	}

	w("\n## Error lines\n\n")
	win := r.chartWindow()
	w("From %s to %s UTC, one character per %s; `D` marks a deploy, `R` a revert, `*` both in one character%s.\n\n```\n", hmsShort(win.From), hmsShort(win.To), win.Bucket, r.switchLegend())
	for _, s := range r.Services {
		counts := r.counts(s, win)
		total := 0
		for _, n := range counts {
			total += n
		}
		w("%-12s %s  %d error lines\n", s.Name, sparkline(counts), total)
		marks := []rune(strings.Repeat(" ", len(counts)))
		switches := []rune(strings.Repeat(" ", len(counts))) // a line of their own: a switch follows its deploy within seconds
		for _, mk := range r.Marks {
			i := win.Index(mk.Time)
			switch {
			case mk.Service != s.Name || i < 0:
			case mk.Label == "S":
				switches[i] = 'S'
			case marks[i] != ' ' && marks[i] != []rune(mk.Label)[0]:
				marks[i] = '*'
			default:
				marks[i] = []rune(mk.Label)[0]
			}
		}
		for _, line := range [][]rune{marks, switches} {
			if strings.TrimSpace(string(line)) != "" {
				w("%-12s %s\n", "", strings.TrimRight(string(line), " "))
			}
		}
	}
	w("```\n")

	w("\n## Services\n")
	for _, s := range r.Services {
		w("\n### %s\n\n", s.Name)
		w("Target %s; runs %s; not serving: %s.\n", orText(s.Target, "—"), orText(s.Now, "what it ran before (not changed)"), s.Impact())
		if len(s.Changes) > 0 {
			w("\n| Time | Change | Before | After | Result | Error lines 5 min before → after |\n|---|---|---|---|---|---|\n")
			for _, c := range s.Changes {
				w("| %s | %s | %s | %s | %s | %s |\n", hms(c.Time), c.What, image(c.From, c.FromID), image(c.To, c.ToID), c.Result, around(s, c))
			}
		}
		if rows := s.SwitchRows(); len(rows) > 0 {
			w("\nTraffic through the proxy (blue/green):\n\n| Time | Switch | From | To | Took | The version it left |\n|---|---|---|---|---|---|\n")
			for _, sw := range rows {
				w("| %s | %s | %s | %s | %s | %s |\n", hms(sw.Time), switchWhat(sw.Back), image(sw.From, sw.FromID), image(sw.To, sw.ToID), sw.Took.Round(time.Millisecond), sw.Left)
			}
		}
		if now := s.ProxyNow(); now != "" {
			w("\n%s\n", cell(now))
		}
		if len(s.Probes) > 0 {
			w("\nHealth: %s\n", cell(probes(s.Probes)))
		}
		if s.Tasks != nil {
			w("\nSwarm tasks: %s\n", cell(s.Tasks.Summary()))
		}
		if len(s.FirstErrors) > 0 {
			w("\nFirst error lines after a new container started:\n\n```\n")
			for _, e := range s.FirstErrors {
				w("+%s  %s\n", e.After.Round(100*time.Millisecond), e.Line)
			}
			w("```\n")
		}
	}

	w("\n## Error gates\n\n")
	if len(r.Gates) == 0 {
		w("No service had an error gate (health.errors).\n")
	} else {
		w("Each gate counts the error lines of a service's new container from its start; more than its threshold fails the gate and on_failure applies.\n\n")
		w("| Service | Apply | Watched (container, from → to) | Threshold | Decision |\n|---|---|---|---|---|\n")
		for _, g := range r.Gates {
			w("| %s | %s | %s | %s | %s |\n", g.Service, shortRun(g.Run), g.Watched(), g.Threshold(), cell(g.Decision()))
		}
		for _, g := range r.Gates {
			if len(g.Tripped) > 0 {
				w("\nThe lines that tripped %s's gate:\n\n```\n%s\n```\n", g.Service, strings.Join(g.Tripped, "\n"))
			}
		}
	}

	w("\n## Steps\n\n| Run | # | Step | Command | Exit | Duration | Result |\n|---|---|---|---|---|---|---|\n")
	for _, s := range r.Steps {
		exit := ""
		if s.ExitCode != nil {
			exit = fmt.Sprint(*s.ExitCode)
		}
		command := "—"
		if s.Command != "" {
			command = "`" + cell(s.Command) + "`"
		}
		w("| %s | %d | %s | %s | %s | %s | %s |\n", shortRun(s.Run), s.N, cell(s.Name), command, exit, duration(s.Duration), cell(resultText(s)))
	}
	for _, s := range r.Steps {
		switch {
		case s.State == "failed" && len(s.Output) > 0:
			w("\nLast output of step %d (%s):\n\n```\n%s\n```\n", s.N, s.Name, strings.Join(s.Output, "\n"))
		case s.Kind == plans.StepVerify && len(s.Output) > 0:
			w("\nStep %d (%s) verified: %s\n", s.N, cell(s.Name), cell(s.Output[len(s.Output)-1]))
		}
	}

	w("\n## Timeline\n\n| Time (UTC) | Actor | Event | Duration | Result | Detail |\n|---|---|---|---|---|---|\n")
	for _, row := range r.Timeline {
		d := ""
		if row.Duration > 0 {
			d = row.Duration.Round(time.Millisecond).String()
		}
		w("| %s | %s | %s | %s | %s | %s |\n", hms(row.Time), cell(row.Actor), row.Event, d, row.Result, cell(row.Detail))
	}
	return b.String()
}

// switchLegend names the switch mark when a chart has one.
func (r *Report) switchLegend() string {
	for _, mk := range r.Marks {
		if mk.Label == "S" {
			return ", `S` a switch of the proxy"
		}
	}
	return ""
}

// switchWhat names a switch: the deploy's or the revert's.
func switchWhat(back bool) string {
	if back {
		return "back (revert)"
	}
	return "to the new version"
}

func resultText(s Step) string {
	result := orText(s.Result, "not finished")
	if s.Error != "" {
		return result + ": " + firstLine(s.Error)
	}
	return result
}

// around is a change's error lines before → after; "≈" marks counts of
// whole minutes, from journals without the time of each line.
func around(s *Service, c Change) string {
	before, after, exact := s.ErrorsAround(c)
	if !exact {
		return fmt.Sprintf("≈ %d → %d (whole minutes)", before, after)
	}
	return fmt.Sprintf("%d → %d", before, after)
}

// probes lists health gate results: "15:53:09 failed: …; 15:53:12 ok: …".
func probes(ps []plans.Probe) string {
	var out []string
	for _, p := range ps {
		text := p.Time.UTC().Format("15:04:05") + " " + p.Result
		if p.Detail != "" {
			text += ": " + p.Detail
		}
		out = append(out, text)
	}
	return strings.Join(out, "; ")
}

// duration is blank for a step that did not run.
func duration(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.Round(time.Millisecond).String()
}

func orText(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "`", "'").Replace(s)
}

func image(ref, id string) string {
	if ref == "" && id == "" {
		return "—"
	}
	return fmt.Sprintf("%s (%s)", ref, shortID(id))
}

// shortID is an image or container ID as docker ps shows it: 12 hex digits.
func shortID(id string) string {
	short := strings.TrimPrefix(id, "sha256:")
	if len(short) > 12 {
		short = short[:12]
	}
	return short
}

func shortRun(run string) string {
	if len(run) >= 15 {
		return run[9:15] // HHMMSS of the run ID
	}
	return run
}

func optional(d time.Duration, ok bool, none string) string {
	if !ok {
		return none
	}
	return d.Round(100 * time.Millisecond).String()
}

func utc(t time.Time) string      { return t.UTC().Format("2006-01-02 15:04:05 UTC") }
func hms(t time.Time) string      { return t.UTC().Format("15:04:05.000") }
func hmsShort(t time.Time) string { return t.UTC().Format("15:04:05") }

// sparkline draws counts as bars scaled to their maximum; a space is zero.
func sparkline(counts []int) string {
	bars := []rune("▁▂▃▄▅▆▇█")
	peak := 0
	for _, c := range counts {
		peak = max(peak, c)
	}
	var b strings.Builder
	for _, c := range counts {
		if c == 0 {
			b.WriteRune('·')
			continue
		}
		b.WriteRune(bars[(c*7+peak-1)/peak])
	}
	return b.String()
}
