package plans

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/golive/golive/logs"
)

// The error gate: a service with health.errors has its new container's
// error-level lines counted from its start until its group's watch ends;
// more than the budget within one window fails the gate with the lines
// that tripped it, and on_failure applies.

// EvErrorGate reports a service's error budget filling up (Current lines
// of Total per DurationMS), and its end: Result ok, or failed with Error.
const EvErrorGate = "health.errors"

const (
	// ratioBaseline is how far back the previous version's error rate is
	// measured for max_ratio.
	ratioBaseline = 5 * time.Minute
	// trippedShown is how many of the lines that tripped a gate its error names.
	trippedShown = 5
	// gateReportEvery spaces the journaled updates of a filling budget.
	gateReportEvery = time.Second
)

// ErrorGateError says a new container logged more error lines than its budget.
type ErrorGateError struct {
	Service string
	Count   int
	Budget  int
	Per     time.Duration
	Lines   []string // the latest lines of the window that tripped it
}

func (e *ErrorGateError) Error() string {
	return fmt.Sprintf("error gate: %d error lines within %s (budget %d per %s); the lines that tripped it:\n  %s",
		e.Count, shortDuration(e.Per), e.Budget, shortDuration(e.Per), strings.Join(e.Lines, "\n  "))
}

// trippedLines are the lines an ErrorGateError's text names, one a line
// below its first.
func trippedLines(text string) []string {
	_, rest, ok := strings.Cut(text, "\n")
	if !ok {
		return nil
	}
	var lines []string
	for _, l := range strings.Split(rest, "\n") {
		lines = append(lines, strings.TrimPrefix(l, "  "))
	}
	return lines
}

// errorGate counts the error lines of one new container.
type errorGate struct {
	e      *Engine
	svc    *Service
	source string // the service's log source: service@host on a host of the plan
	id     string
	since  time.Time
	budget int
	per    time.Duration
	sub    *logs.Subscription
	done   chan struct{}

	mu         sync.Mutex
	window     []logs.Line // the error lines within per of the latest
	tripped    *ErrorGateError
	missed     int       // lines lost to the gate in a flood, or by the follower
	reported   int       // the count last published
	reportedAt time.Time // when
}

// errorGates are the gates open during an apply, by container ID.
type errorGates struct {
	mu    sync.Mutex
	gates map[string]*errorGate
}

// startErrorGate opens the error gate of a service whose new container
// id started at since. Without health.errors, or without the logs
// followed (Options.Logs), there is none.
func (e *Engine) startErrorGate(svc *Service, id string, since time.Time) {
	b := svc.Health.Errors
	if b == nil {
		return
	}
	if e.opts.Logs == nil {
		e.Emit(Event{Kind: EvErrorGate, Run: e.currentRun(), Service: svc.Name, ContainerID: id, Result: ResultSkipped,
			Message: "error gate off: this engine does not follow the logs"})
		return
	}
	g := &errorGate{e: e, svc: svc, source: Placement(svc.Name, e.host), id: id, since: since, per: b.Per, done: make(chan struct{}), reported: -1}
	g.budget = errorBudget(b, e.opts.Logs.Counts().PerSecond(g.source, logs.LevelError, since, int(ratioBaseline/time.Second)))
	g.sub = e.opts.Logs.Subscribe(4096)
	go g.read()
	e.gates.mu.Lock()
	if e.gates.gates == nil {
		e.gates.gates = map[string]*errorGate{}
	}
	e.gates.gates[id] = g
	e.gates.mu.Unlock()
	g.check()
}

// FollowLogsFrom is where a log follower started now should begin for
// this plan: ratioBaseline earlier when an error gate's max_ratio needs
// the previous version's rate, else now.
func (p *Plan) FollowLogsFrom(now time.Time) time.Time {
	for _, s := range p.Services {
		if b := s.Health.Errors; b != nil && b.MaxRatio > 0 {
			return now.Add(-ratioBaseline)
		}
	}
	return now
}

// errorBudget is the number of error lines allowed per window: max, or
// max_ratio times the previous version's lines per window measured over
// before (per-second counts), that rate counting as at least one line.
func errorBudget(b *ErrorBudget, before []int) int {
	if b.MaxRatio == 0 {
		return b.Max
	}
	n := 0
	for _, c := range before {
		n += c
	}
	rate := max(float64(n)*float64(b.Per)/float64(time.Duration(len(before))*time.Second), 1)
	return max(int(math.Ceil(b.MaxRatio*rate)), b.Max)
}

func (g *errorGate) read() {
	defer close(g.done)
	for l := range g.sub.C {
		// A marker of lost lines: the subscription's own (no Seq: any
		// source), or one the follower put in for this service.
		if l.Dropped > 0 && !l.Time.Before(g.since) && (l.Seq == 0 || l.Source == g.source) {
			g.mu.Lock()
			g.missed += l.Dropped
			g.mu.Unlock()
			continue
		}
		if l.Source != g.source || l.Level != logs.LevelError || l.Cont || l.Dropped > 0 || l.Time.Before(g.since) {
			continue
		}
		g.mu.Lock()
		g.window = append(g.window, l)
		drop := 0
		for drop < len(g.window) && l.Time.Sub(g.window[drop].Time) >= g.per {
			drop++
		}
		g.window = g.window[drop:]
		if len(g.window) > g.budget && g.tripped == nil {
			g.tripped = &ErrorGateError{Service: g.svc.Name, Count: len(g.window), Budget: g.budget, Per: g.per}
			for _, t := range g.window[max(0, len(g.window)-trippedShown):] {
				g.tripped.Lines = append(g.tripped.Lines, logs.SanitizeString(t.Text))
			}
		}
		g.mu.Unlock()
	}
}

// check publishes the budget when it changed (at most every
// gateReportEvery) and says whether the gate tripped.
func (g *errorGate) check() error {
	now := time.Now()
	g.mu.Lock()
	count, tripped := len(g.window), g.tripped
	changed := count != g.reported && now.Sub(g.reportedAt) >= gateReportEvery
	if changed {
		g.reported, g.reportedAt = count, now
	}
	g.mu.Unlock()
	if tripped != nil {
		return tripped
	}
	if changed {
		g.e.Emit(Event{Kind: EvErrorGate, Run: g.e.currentRun(), Service: g.svc.Name, ContainerID: g.id,
			Current: int64(count), Total: int64(g.budget), DurationMS: ms(g.per), Message: g.budgetText(count)})
	}
	return nil
}

func (g *errorGate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.window)
}

func (g *errorGate) budgetText(count int) string {
	text := fmt.Sprintf("errors %d/%d per %s", count, g.budget, shortDuration(g.per))
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.missed > 0 {
		text += fmt.Sprintf(" (%d log lines of the burst not read: the count may be low)", g.missed)
	}
	return text
}

func (g *errorGate) stop() {
	g.sub.Close()
	<-g.done
}

// errorGateFailed is the health wait's hook: it fails when the error
// gate of container id tripped.
func (e *Engine) errorGateFailed(id string) error {
	e.gates.mu.Lock()
	g := e.gates.gates[id]
	e.gates.mu.Unlock()
	if g == nil {
		return nil
	}
	return g.check()
}

// watchErrorGates ends the error gates of a group's services: when the
// group deployed (err is nil), after the longest health.errors.watch of
// its services, during which a tripped gate fails the group. Every gate
// reports how it ended.
func (e *Engine) watchErrorGates(ctx context.Context, group string, err error) error {
	var gates []*errorGate
	var watch time.Duration
	e.gates.mu.Lock()
	for id, g := range e.gates.gates {
		if g.svc.Group == group {
			gates = append(gates, g)
			watch = max(watch, g.svc.Health.Errors.Watch)
			delete(e.gates.gates, id)
		}
	}
	e.gates.mu.Unlock()
	if len(gates) == 0 {
		return err
	}
	if err == nil && watch > 0 {
		err = e.watchGates(ctx, gates, watch)
	}
	for _, g := range gates {
		g.stop()
		ev := Event{Kind: EvErrorGate, Run: e.currentRun(), Service: g.svc.Name, ContainerID: g.id, Current: int64(len(g.window)),
			Total: int64(g.budget), DurationMS: ms(g.per), Result: ResultOK, Message: g.budgetText(len(g.window))}
		if g.tripped != nil {
			ev.Current, ev.Message = int64(g.tripped.Count), g.budgetText(g.tripped.Count)
			ev.Result, ev.Error = ResultFailed, g.tripped.Error()
			if err == nil {
				err = fmt.Errorf("%s: %w", g.svc.Name, g.tripped)
			}
		}
		e.Emit(ev)
	}
	return err
}

// watchGates keeps a deployed group's gates open for watch.
func (e *Engine) watchGates(ctx context.Context, gates []*errorGate, watch time.Duration) error {
	for _, g := range gates {
		e.Emit(Event{Kind: EvErrorGate, Run: e.currentRun(), Service: g.svc.Name, ContainerID: g.id, Current: int64(g.count()),
			Total: int64(g.budget), DurationMS: ms(g.per), Message: fmt.Sprintf("watching its error lines for %s", shortDuration(watch))})
	}
	end := time.After(watch)
	tick := time.NewTicker(DefaultInterval)
	defer tick.Stop()
	for {
		var errs []error
		for _, g := range gates {
			if err := g.check(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", g.svc.Name, err))
			}
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-e.cutSignal():
			return e.cutErr()
		case <-end:
			return nil
		case <-tick.C:
		}
	}
}

// shortDuration writes 1m rather than 1m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
