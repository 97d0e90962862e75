// Package report turns release journals into a postmortem document: a
// summary, a timeline, steps, services and a chart of error lines per
// minute, in Markdown or as one self-contained HTML file.
package report

import (
	"fmt"
	"os"
	"slices"
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

// Report is what a postmortem needs to know about a release.
type Report struct {
	Project, Release string
	Actors           []string
	Start, End       time.Time
	Outcome          string // deployed, failed, reverted, aborted, or "unfinished"
	Failure          string // what failed first, in one line
	TimeToDetect     time.Duration
	Detected         bool
	TimeToRevert     time.Duration // from the first failure signal (or the apply's end) to reverted
	Reverted         bool
	Timeline         []Row
	Steps            []Step
	Services         []*Service
	Marks            []Mark
	Notes            []string // malformed lines, journals cut short
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
type Step struct {
	Run      string
	N        int
	Name     string
	Kind     string
	Command  string
	ExitCode *int
	Duration time.Duration
	Result   string
	Error    string
	Output   []string // the last output lines, when the step failed
}

// Service is what happened to one service.
type Service struct {
	Name        string
	Changes     []Change
	Health      []string
	FirstErrors []ErrorLine
	PerMinute   map[int64]int // Unix minute → error-level lines
}

// Change is a service going from one image to another.
type Change struct {
	Time         time.Time
	What         string // deploy or revert
	From, FromID string
	To, ToID     string
	Result       string
}

// errorWindow is the span before and after a change whose error lines the
// report compares.
const errorWindow = 5 * time.Minute

// ErrorsAround counts a service's error lines in the errorWindow before a
// change and from its minute on, as the journals saw them.
func (s *Service) ErrorsAround(c Change) (before, after int) {
	m := c.Time.Unix() / 60
	span := int64(errorWindow / time.Minute)
	for minute, n := range s.PerMinute {
		switch {
		case minute >= m-span && minute < m:
			before += n
		case minute >= m && minute < m+span:
			after += n
		}
	}
	return before, after
}

// ErrorLine is an error-level line seen after a new container started.
type ErrorLine struct {
	Time  time.Time
	After time.Duration
	Line  string
}

// Mark is a deploy or revert on the chart.
type Mark struct {
	Time    time.Time
	Label   string // D for deploy, R for revert
	Service string
}

// outputKept is how many output lines of a failed step the report shows.
const outputKept = 10

// Build makes a report from journals, in time order across them.
func Build(journals []Journal) *Report {
	r := &Report{}
	var all []plans.Event
	perMinute := map[string]map[int64]int{} // per journal sum, across journals the max
	for _, j := range journals {
		for _, p := range j.Problems {
			r.Notes = append(r.Notes, fmt.Sprintf("%s line %d is not a journal record (%v); skipped", j.Path, p.Line, p.Err))
		}
		if note := cutShort(j); note != "" {
			r.Notes = append(r.Notes, note)
		}
		counts := map[string]map[int64]int{}
		for _, e := range j.Events {
			if e.Kind != plans.EvLogErrors {
				continue
			}
			t, err := time.Parse(time.RFC3339, e.Message)
			if err != nil {
				continue
			}
			for svc, n := range e.Counts {
				if counts[svc] == nil {
					counts[svc] = map[int64]int{}
				}
				counts[svc][t.Unix()/60] += n
			}
		}
		for svc, m := range counts {
			if perMinute[svc] == nil {
				perMinute[svc] = map[int64]int{}
			}
			for minute, n := range m {
				perMinute[svc][minute] = max(perMinute[svc][minute], n)
			}
		}
		all = append(all, j.Events...)
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].Time.Before(all[b].Time) })
	services := map[string]*Service{}
	service := func(name string) *Service {
		s := services[name]
		if s == nil {
			s = &Service{Name: name, PerMinute: perMinute[name]}
			services[name] = s
			r.Services = append(r.Services, s)
		}
		return s
	}
	for name := range perMinute {
		service(name)
	}
	steps := map[string]*Step{}
	var output = map[string][]string{}
	var firstSignal, applyEnded time.Time
	for _, e := range all {
		if r.Project == "" {
			r.Project, r.Release = e.Project, e.Release
		}
		if e.Actor != "" && !slices.Contains(r.Actors, e.Actor) {
			r.Actors = append(r.Actors, e.Actor)
		}
		if r.Start.IsZero() {
			r.Start = e.Time
		}
		r.End = e.Time
		key := fmt.Sprintf("%s/%d", e.Run, e.Step)
		switch e.Kind {
		case plans.EvStepStart:
			s := &Step{Run: e.Run, N: e.Step, Name: e.StepName, Kind: e.StepKind, Command: e.Command}
			steps[key] = s
			r.Steps = append(r.Steps, *s)
			output[key] = nil
		case plans.EvStepOutput:
			out := append(output[key], e.Line)
			if len(out) > outputKept {
				out = out[len(out)-outputKept:]
			}
			output[key] = out
		case plans.EvStepEnd:
			s := steps[key]
			if s == nil { // skipped steps never started
				s = &Step{Run: e.Run, N: e.Step, Name: e.StepName, Kind: e.StepKind}
				r.Steps = append(r.Steps, *s)
			}
			s.Result, s.Duration, s.ExitCode, s.Error = e.Result, ms(e.DurationMS), e.ExitCode, e.Error
			if e.Result == plans.ResultFailed {
				s.Output = output[key]
				if r.Failure == "" {
					r.Failure = fmt.Sprintf("step %d (%s): %s", e.Step, e.StepName, firstLine(e.Error))
				}
				if firstSignal.IsZero() {
					firstSignal = e.Time
				}
			}
			r.replaceStep(*s)
		case plans.EvServiceStart:
			s := service(e.Service)
			s.Changes = append(s.Changes, Change{Time: e.Time, What: "deploy", From: e.PrevImage, FromID: e.PrevImageID, To: e.Image, ToID: e.ImageID})
			r.Marks = append(r.Marks, Mark{Time: e.Time, Label: "D", Service: e.Service})
		case plans.EvServiceEnd:
			s := service(e.Service)
			if n := len(s.Changes); n > 0 && s.Changes[n-1].Result == "" {
				s.Changes[n-1].Result = e.Result
			}
		case plans.EvHealth:
			s := service(e.Service)
			h := fmt.Sprintf("%s %s", e.Time.UTC().Format("15:04:05"), e.Result)
			if e.Message != "" {
				h += ": " + e.Message
			}
			if e.Error != "" {
				h += ": " + firstLine(e.Error)
			}
			s.Health = append(s.Health, h)
		case plans.EvRevertService:
			s := service(e.Service)
			s.Changes = append(s.Changes, Change{Time: e.Time, What: "revert", From: e.Image, FromID: e.ImageID, To: e.PrevImage, ToID: e.PrevImageID, Result: e.Result})
			r.Marks = append(r.Marks, Mark{Time: e.Time, Label: "R", Service: e.Service})
		case plans.EvLogError:
			s := service(e.Service)
			s.FirstErrors = append(s.FirstErrors, ErrorLine{Time: e.Time, After: ms(e.DurationMS), Line: e.Line})
			if !r.Detected || ms(e.DurationMS) < r.TimeToDetect {
				r.TimeToDetect, r.Detected = ms(e.DurationMS), true
			}
			if firstSignal.IsZero() {
				firstSignal = e.Time
			}
		case plans.EvApplyEnd:
			r.Outcome, applyEnded = e.Result, e.Time
			if e.Result == string(plans.Reverted) && !firstSignal.IsZero() {
				r.TimeToRevert, r.Reverted = e.Time.Sub(firstSignal), true
			}
		case plans.EvRevertEnd:
			if e.Result == plans.ResultReverted {
				r.Outcome = "reverted"
				from := firstSignal
				if from.IsZero() {
					from = applyEnded // reverted by decision, not after a journaled failure
				}
				if !from.IsZero() && !r.Reverted {
					r.TimeToRevert, r.Reverted = e.Time.Sub(from), true
				}
			}
		}
		if row, ok := timelineRow(e); ok {
			r.Timeline = append(r.Timeline, row)
		}
	}
	if r.Outcome == "" {
		r.Outcome = "unfinished"
	}
	sort.Slice(r.Services, func(a, b int) bool { return r.Services[a].Name < r.Services[b].Name })
	return r
}

func (r *Report) replaceStep(s Step) {
	for i := range r.Steps {
		if r.Steps[i].Run == s.Run && r.Steps[i].N == s.N {
			r.Steps[i] = s
		}
	}
}

// cutShort says where a journal ends when an operation in it never ended.
func cutShort(j Journal) string {
	open := ""
	for _, e := range j.Events {
		switch e.Kind {
		case plans.EvApplyStart:
			open = "apply"
		case plans.EvRevertStart:
			if open == "" {
				open = "revert"
			}
		case plans.EvApplyEnd:
			open = ""
		case plans.EvRevertEnd:
			if open == "revert" {
				open = ""
			}
		}
	}
	if open == "" || len(j.Events) == 0 {
		return ""
	}
	last := j.Events[len(j.Events)-1]
	return fmt.Sprintf("%s ends at %s during an %s (last event: %s): the process stopped before it finished, so what ran after that is not recorded here",
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
	for _, s := range []string{e.Service, e.StepName, e.Image, e.Message, firstLine(e.Error), e.Line} {
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

// minutes is the span of minutes the chart covers, at most maxMinutes.
func (r *Report) minutes() (from, to int64) {
	from, to = r.Start.Unix()/60, r.End.Unix()/60
	for _, s := range r.Services {
		for m := range s.PerMinute {
			from, to = min(from, m), max(to, m)
		}
	}
	if to-from >= maxMinutes {
		from = to - maxMinutes + 1
	}
	if to-from < minMinutes-1 { // a short release still gets a readable chart, with its lead-up
		from = to - minMinutes + 1
	}
	return from, to
}

// minMinutes is the narrowest span a chart covers.
const minMinutes = 10

// maxMinutes bounds the chart's width.
const maxMinutes = 120
