// Package report turns release journals into a postmortem document: a
// summary, a timeline, steps, services and a chart of error lines per
// minute, in Markdown or as one self-contained HTML file.
package report

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/golive/golive/plans"
)

// Journal is one journal file as read.
type Journal struct {
	Path     string
	Events   []plans.Event
	Problems []plans.JournalProblem
}

// ReadJournals reads journal files; unreadable lines are kept as problems.
func ReadJournals(paths []string) ([]Journal, error) {
	var out []Journal
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		events, problems, err := plans.ReadJournal(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("journal %s: %w", p, err)
		}
		out = append(out, Journal{Path: p, Events: events, Problems: problems})
	}
	return out, nil
}

// Report is what a postmortem needs to know about a release. Its figures
// come from plans.State, the fold the cockpit, watch and the CLI share.
type Report struct {
	Project, Release string
	Actors           []string
	Start, End       time.Time
	Outcome          string      // the phase the journals end in, or "unfinished"
	Phase            plans.Phase // where the release stands at the journals' end
	Failure          string      // what failed first, in one line
	TimeToDetect     time.Duration
	Detected         bool
	TimeToRevert     time.Duration // from the first failure signal (or the apply's end) to reverted
	Reverted         bool
	Impact           string // per service, how long it was not serving (per apply when several)
	LatestImpact     string // the same for the latest apply and its revert, as the cockpit, watch and CLI tell it
	Timeline         []Row
	Steps            []Step
	Services         []*Service
	Marks            []Mark
	Gates            []Gate   // every error gate of the release, in the order they opened
	Notes            []string // malformed lines, journals cut short
	state            *plans.State
}

// Row is one line of the timeline.
type Row struct {
	Time     time.Time
	Actor    string
	Event    string
	Duration time.Duration
	Result   string
	Detail   string
}

// Step is one step of one apply.
type Step = plans.StepState

// Service is what happened to one service.
type Service struct {
	*plans.ServiceStatus
	End   time.Time // the journals' end, for windows still open
	state *plans.State
}

// Change is a service going from one image to another.
type Change = plans.Change

// Gate is one error gate (health.errors): the new container of Service
// whose error lines it counted, its threshold and its decision.
type Gate struct {
	Service string
	plans.ErrorGateStatus
}

// Watched is what the gate counted: its container's error lines, from
// when it opened to its decision (or the journal's end).
func (g Gate) Watched() string {
	return fmt.Sprintf("%s, %s → %s (%s)", shortID(g.Container), hms(g.From), hms(g.To), g.To.Sub(g.From).Round(100*time.Millisecond))
}

// Decision is how the gate ended, in one line.
func (g Gate) Decision() string {
	switch g.Result {
	case plans.ResultFailed:
		return fmt.Sprintf("failed: %d error lines within %s, over its budget of %d", g.Count, g.Window(), g.Budget)
	case plans.ResultOK:
		return fmt.Sprintf("ok: %d error lines within %s when it ended", g.Count, g.Window())
	case "":
		return fmt.Sprintf("still open when the journal ends: %d error lines within %s", g.Count, g.Window())
	}
	return g.Result + ": " + firstLine(g.Detail)
}

// errorWindow is the span before and after a change whose error lines the
// report compares.
const errorWindow = 5 * time.Minute

// ErrorsAround counts a service's error lines in the errorWindow before a
// change and in the one from it on, from the journaled time of each line;
// exact is false for journals that have only minute counts.
func (s *Service) ErrorsAround(c Change) (before, after int, exact bool) {
	return s.state.ErrorsAround(s.Name, c.Time, errorWindow)
}

// Impact is how long the service was not serving, in words.
func (s *Service) Impact() string {
	if len(s.Unavailable) == 0 && s.Proxied() {
		return "0s, the proxy switched its traffic (blue/green)"
	}
	if len(s.Unavailable) == 0 {
		return "kept serving"
	}
	several := len(s.state.ImpactRuns()) > 1
	var parts []string
	for _, u := range s.Unavailable {
		cause := u.Cause
		if several {
			cause += " of apply " + orText(u.Run, "?")
		}
		part := fmt.Sprintf("%s from %s (%s)", u.Duration(s.End).Round(100*time.Millisecond), hms(u.From), cause)
		if u.Open {
			part += ", still not serving when the journal ends"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

// SwitchRow is one switch of a service's traffic by the proxy, with what
// became of the version it left.
type SwitchRow struct {
	plans.Switch
	Left string
}

// SwitchRows are the service's switches in order; Left says, from the
// switches after it and the warm version the journal ends with, whether
// the old version stayed warm and how that ended.
func (s *Service) SwitchRows() []SwitchRow {
	var rows []SwitchRow
	for i, sw := range s.Switches {
		row := SwitchRow{Switch: sw, Left: "not kept warm"}
		switch {
		case sw.Back:
			row.Left = "removed by the revert"
		case i+1 < len(s.Switches) && s.Switches[i+1].Back:
			next := s.Switches[i+1]
			row.Left = fmt.Sprintf("warm; the revert switched back to it at %s, %s after this switch", hms(next.Time), next.Time.Sub(sw.Time).Round(100*time.Millisecond))
		case i+1 < len(s.Switches):
			row.Left = "left by the next switch at " + hms(s.Switches[i+1].Time)
		case !s.Warm.Until.IsZero() && s.Warm.Until.After(s.End):
			row.Left = "warm until " + hms(s.Warm.Until) + ", after the journal ends"
		case !s.Warm.Until.IsZero():
			row.Left = "kept warm until " + hms(s.Warm.Until)
		}
		rows = append(rows, row)
	}
	return rows
}

// ProxyNow says how the proxy treats the service's traffic when the
// journals end, when it is not simply passed to one version: a canary's
// share or a held route; "" otherwise.
func (s *Service) ProxyNow() string {
	var parts []string
	if c := s.Canary; c.Percent > 0 {
		parts = append(parts, fmt.Sprintf("a canary takes %d%% of its traffic since %s (for %s)", c.Percent, hms(c.Since), c.For))
	}
	switch r := s.Route; r.Hold {
	case plans.ActionPaused:
		parts = append(parts, "its requests are held (paused) since "+hms(r.Since))
	case plans.ActionMaintenance:
		parts = append(parts, "it is in maintenance (the proxy answers with its maintenance page) since "+hms(r.Since))
	}
	if len(parts) == 0 {
		return ""
	}
	return "When the journal ends, " + strings.Join(parts, "; ") + "."
}

// startedRelease is a release the journals hold, with its first event.
type startedRelease struct {
	project, release, actor string
	start                   time.Time
}

// releasesIn lists the releases that events (in time order) belong to,
// oldest first by their first event.
func releasesIn(events []plans.Event) []startedRelease {
	var out []startedRelease
	seen := map[[2]string]bool{}
	for _, e := range events {
		key := [2]string{e.Project, e.Release}
		if e.Release == "" || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, startedRelease{project: e.Project, release: e.Release, actor: e.Actor, start: e.Time})
	}
	return out
}

// impactPerRun says how long each service was not serving, per apply (and
// its revert) when the journals hold several, then in all.
func impactPerRun(st *plans.State) string {
	runs := st.ImpactRuns()
	if len(runs) < 2 {
		return st.ImpactSummary()
	}
	var parts []string
	for _, run := range runs {
		parts = append(parts, fmt.Sprintf("apply %s: %s", orText(run, "?"), st.ImpactOf(run)))
	}
	return strings.Join(parts, "; ") + "; in all: " + st.ImpactOf("")
}

// ErrorLine is an error-level line seen after a new container started.
type ErrorLine = plans.ErrorLine

// Mark is a deploy, revert or switch on the chart.
type Mark struct {
	Time    time.Time
	Label   string // D for deploy, R for revert, S for a switch of the proxy
	Service string
}

// Build makes a report from journals, folding their events in time order.
func Build(journals []Journal) *Report {
	r := &Report{}
	var all []plans.Event
	for _, j := range journals {
		for _, p := range j.Problems {
			r.Notes = append(r.Notes, fmt.Sprintf("%s line %d is not a journal record (%v); skipped", j.Path, p.Line, p.Err))
		}
		if note := cutShort(j); note != "" {
			r.Notes = append(r.Notes, note)
		}
		all = append(all, j.Events...)
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].Time.Before(all[b].Time) })
	releases := releasesIn(all)
	st := plans.NewState(nil)
	if n := len(releases); n > 0 {
		st = plans.NewStateOf(releases[n-1].project, releases[n-1].release)
	}
	for _, e := range all {
		st.Apply(e)
		if row, ok := timelineRow(e); ok && st.Follows(e) {
			r.Timeline = append(r.Timeline, row)
		}
	}
	r.state = st
	if len(releases) > 1 {
		var others []string
		for _, rel := range releases[:len(releases)-1] {
			others = append(others, fmt.Sprintf("release %s of %s (started %s by %s)", rel.release, rel.project, rel.start.UTC().Format("2006-01-02 15:04:05 UTC"), orText(rel.actor, "?")))
		}
		r.Notes = append(r.Notes, fmt.Sprintf("the journals also hold %s; this report is of the newest, release %s, only: report another from its own journals",
			strings.Join(others, ", "), st.Release))
	}
	r.Project, r.Release, r.Actors, r.Start, r.End = st.Project, st.Release, st.Actors, st.Start, st.End
	r.Phase, r.Outcome = st.Phase(), string(st.Phase())
	if st.Running() {
		r.Outcome = "unfinished"
	}
	r.Failure = st.FirstFailure()
	if r.Failure == "" && st.Error != "" && r.Phase != plans.PhaseReverted {
		r.Failure = firstLine(st.Error)
	}
	r.Steps = st.Steps
	r.Impact, r.LatestImpact = impactPerRun(st), st.ImpactSummary()
	for _, svc := range st.Services {
		r.Services = append(r.Services, &Service{ServiceStatus: svc, End: st.End, state: st})
		for _, e := range svc.FirstErrors {
			if !r.Detected || e.After < r.TimeToDetect {
				r.TimeToDetect, r.Detected = e.After, true
			}
		}
		for _, c := range svc.Changes {
			label := "D"
			if c.What == "revert" {
				label = "R"
			}
			r.Marks = append(r.Marks, Mark{Time: c.Time, Label: label, Service: svc.Name})
		}
		for _, sw := range svc.Switches {
			r.Marks = append(r.Marks, Mark{Time: sw.Time, Label: "S", Service: svc.Name})
		}
	}
	for _, svc := range st.Services {
		for _, g := range svc.ErrorGates {
			r.Gates = append(r.Gates, Gate{Service: svc.Name, ErrorGateStatus: g})
		}
		if g := svc.ErrorGate; g.Result == "" && g.Per > 0 {
			r.Gates = append(r.Gates, Gate{Service: svc.Name, ErrorGateStatus: g})
		}
	}
	sort.SliceStable(r.Gates, func(a, b int) bool { return r.Gates[a].From.Before(r.Gates[b].From) })
	sort.Slice(r.Services, func(a, b int) bool { return r.Services[a].Name < r.Services[b].Name })
	sort.SliceStable(r.Marks, func(a, b int) bool { return r.Marks[a].Time.Before(r.Marks[b].Time) })
	if !st.RevertedAt.IsZero() {
		from := st.FirstSignal
		if from.IsZero() || from.After(st.RevertedAt) {
			from = st.ApplyEnded // reverted by decision, not after a journaled failure
		}
		if !from.IsZero() && !from.After(st.RevertedAt) {
			r.TimeToRevert, r.Reverted = st.RevertedAt.Sub(from), true
		}
	}
	return r
}

// cutShort says where a journal ends when an operation in it never ended.
func cutShort(j Journal) string {
	open := ""
	for _, e := range j.Events {
		switch e.Kind {
		case plans.EvApplyStart:
			open = "an apply"
		case plans.EvRevertStart:
			if open == "" {
				open = "a revert"
			}
		case plans.EvApplyEnd:
			open = ""
		case plans.EvRevertEnd:
			if open == "a revert" {
				open = ""
			}
		}
	}
	if open == "" || len(j.Events) == 0 {
		return ""
	}
	last := j.Events[len(j.Events)-1]
	return fmt.Sprintf("%s ends at %s during %s (last event: %s): the process stopped before it finished, so what ran after that is not recorded here",
		j.Path, last.Time.UTC().Format("2006-01-02 15:04:05 UTC"), open, last.Kind)
}

// timelineRow turns an event into a timeline row; step output, pull
// progress and per-minute counts are left to their own sections.
func timelineRow(e plans.Event) (Row, bool) {
	switch e.Kind {
	case plans.EvStepOutput, plans.EvPreloadProgress, plans.EvLogErrors:
		return Row{}, false
	}
	row := Row{Time: e.Time, Actor: e.Actor, Event: e.Kind, Duration: ms(e.DurationMS), Result: e.Result}
	var detail []string
	for _, s := range []string{e.Service, e.StepName, e.Image, e.Message, plans.OperatorStopped(firstLine(e.Error)), e.Line} {
		if s != "" {
			detail = append(detail, s)
		}
	}
	if e.Step > 0 {
		detail = append([]string{fmt.Sprintf("step %d", e.Step)}, detail...)
	}
	if e.ExitCode != nil {
		detail = append(detail, fmt.Sprintf("exit %d", *e.ExitCode))
	}
	row.Detail = strings.Join(detail, " · ")
	return row, true
}

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// chartBuckets are the widths a chart's bars may have; the finest that
// keeps the chart within maxBuckets is used.
var chartBuckets = []time.Duration{10 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute,
	2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour}

// maxBuckets bounds how many bars a chart has.
const maxBuckets = 60

// chartLead is how far before the first change and after the last the chart reaches.
const chartLead = 5 * time.Minute

// Window is the span a chart covers and the width of each of its bars.
type Window struct {
	From, To time.Time
	Bucket   time.Duration
}

// Buckets is how many bars the window has.
func (w Window) Buckets() int { return int(w.To.Sub(w.From) / w.Bucket) }

// Index is the bar a time falls in, or -1 outside the window.
func (w Window) Index(t time.Time) int {
	if t.Before(w.From) || !t.Before(w.To) {
		return -1
	}
	return int(t.Sub(w.From) / w.Bucket)
}

// chartWindow frames the release: from chartLead before its first change
// to chartLead after its last (its start and end without a change), at
// the finest bar width that fits. Bars are a minute or wider when a
// journal has only minute counts.
func (r *Report) chartWindow() Window {
	first, last := r.Start, r.End
	if len(r.Marks) > 0 {
		first, last = r.Marks[0].Time, r.Marks[len(r.Marks)-1].Time
	}
	from, to := first.Add(-chartLead), last.Add(chartLead)
	exact := true
	for _, s := range r.Services {
		if _, ok := r.state.ErrorTimes(s.Name); !ok {
			exact = false
		}
	}
	for _, b := range chartBuckets {
		if !exact && b < time.Minute {
			continue
		}
		if int(to.Sub(from)/b) < maxBuckets || b == chartBuckets[len(chartBuckets)-1] {
			w := Window{From: from.Truncate(b), Bucket: b}
			w.To = to.Truncate(b).Add(b)
			return w
		}
	}
	return Window{}
}

// counts is a service's error lines per bar of the window.
func (r *Report) counts(s *Service, w Window) []int {
	out := make([]int, w.Buckets())
	if times, exact := r.state.ErrorTimes(s.Name); exact {
		for _, t := range times {
			if i := w.Index(t); i >= 0 {
				out[i]++
			}
		}
		return out
	}
	for m, n := range r.state.ErrorsPerMinute(s.Name) {
		if i := w.Index(time.Unix(m*60, 0)); i >= 0 {
			out[i] += n
		}
	}
	return out
}
