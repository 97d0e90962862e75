package plans

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/logs"
)

func TestErrorGateKeysAreValidatedWithTheirPosition(t *testing.T) {
	const head = "project: shop\nrelease: '1'\nservices:\n  api:\n    image: a\n    health:\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"neither max nor max_ratio", head + "      errors: {per: 1m}\n", "p.yaml:7:7: service api: health.errors needs max (error lines per window) or max_ratio (times the previous version's rate)"},
		{"negative max", head + "      errors: {max: -1}\n", "p.yaml:7:21: service api: health.errors.max is -1; expected a number of lines above 0"},
		{"negative ratio", head + "      errors:\n        max_ratio: -2\n", "p.yaml:8:20: service api: health.errors.max_ratio is -2; expected a factor above 0, like 3"},
		{"negative watch", head + "      errors: {max: 1, watch: -1m}\n", "p.yaml:7:7: service api: health.errors durations must not be negative"},
		{"unknown key", head + "      errors: {max: 1, window: 1m}\n", `unknown field "window"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("/x/p.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestErrorGateDefaultsToOneMinuteWindows(t *testing.T) {
	p, err := Parse("/x/p.yaml", []byte("project: shop\nrelease: '1'\nservices:\n  api: {image: a, health: {errors: {max_ratio: 3, watch: 5m}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if b := p.Services[0].Health.Errors; b.Per != time.Minute || b.MaxRatio != 3 || b.Watch != 5*time.Minute {
		t.Fatalf("budget = %+v", b)
	}
}

func TestErrorBudgetIsMaxOrARatioOfThePreviousRate(t *testing.T) {
	fiveMinutes := func(lines int) []int {
		s := make([]int, 300)
		s[0] = lines
		return s
	}
	tests := []struct {
		name   string
		budget ErrorBudget
		before []int
		want   int
	}{
		{"max alone is the budget", ErrorBudget{Max: 5, Per: time.Minute}, fiveMinutes(100), 5},
		{"a ratio of the previous lines per window", ErrorBudget{MaxRatio: 3, Per: time.Minute}, fiveMinutes(20), 12},
		{"a quiet previous version counts as one line per window", ErrorBudget{MaxRatio: 3, Per: time.Minute}, fiveMinutes(0), 3},
		{"max is a floor under the ratio", ErrorBudget{Max: 10, MaxRatio: 2, Per: time.Minute}, fiveMinutes(5), 10},
		{"a fractional budget rounds up", ErrorBudget{MaxRatio: 1.5, Per: 30 * time.Second}, fiveMinutes(30), 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorBudget(&tt.budget, tt.before); got != tt.want {
				t.Fatalf("budget = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestTheBudgetReadsAsTheCockpitShowsIt(t *testing.T) {
	g := ErrorGateStatus{Count: 3, Budget: 5, Per: time.Minute}
	if g.Text() != "errors 3/5 per 1m" {
		t.Fatal(g.Text())
	}
	if (ErrorGateStatus{Count: 1, Budget: 2, Per: 90 * time.Second}).Text() != "errors 1/2 per 1m30s" {
		t.Fatal("90s")
	}
}

func TestLogsAreFollowedFromBeforeTheDeployOnlyWhenARatioNeedsThePreviousRate(t *testing.T) {
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	for plan, want := range map[string]time.Time{
		"project: shop\nrelease: '1'\nservices:\n  api: {image: a, health: {errors: {max: 5}}}\n":       now,
		"project: shop\nrelease: '1'\nservices:\n  api: {image: a, health: {errors: {max_ratio: 3}}}\n": now.Add(-ratioBaseline),
	} {
		p, err := Parse("/x/p.yaml", []byte(plan))
		if err != nil {
			t.Fatal(err)
		}
		if got := p.FollowLogsFrom(now); !got.Equal(want) {
			t.Errorf("%s: from %s, want %s", plan, got, want)
		}
	}
}

// gateFixture is an engine with api's error gate open on container c1,
// fed lines through the log buffer as the follower feeds them.
type gateFixture struct {
	t     *testing.T
	e     *Engine
	buf   *logs.Buffer
	since time.Time
}

func newGateFixture(t *testing.T, budget string) *gateFixture {
	p, err := Parse("/x/p.yaml", []byte("project: shop\nrelease: '2'\nservices:\n  api: {image: a, group: backend, health: {errors: "+budget+"}}\n  web: {image: w, group: frontend}\n"))
	if err != nil {
		t.Fatal(err)
	}
	buf := logs.NewBuffer(0)
	e := NewEngine(p, Options{Logs: buf})
	t.Cleanup(e.Close)
	f := &gateFixture{t: t, e: e, buf: buf, since: time.Now()}
	e.startErrorGate(p.Services[0], "c1", f.since)
	t.Cleanup(func() { e.watchErrorGates(context.Background(), "backend", nil) })
	return f
}

// add appends a line at since+at, as the follower does.
func (f *gateFixture) add(source string, at time.Duration, level logs.Level, cont bool, text string) {
	f.buf.Append(source, "stdout", f.since.Add(at), level, cont, []byte(text))
}

// eventually waits until the gate has read its lines and cond holds.
func (f *gateFixture) eventually(what string, cond func() bool) {
	f.t.Helper()
	for end := time.Now().Add(time.Minute); !(len(f.gate().sub.C) == 0 && cond()); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			f.t.Fatalf("the gate never came to %s", what)
		}
	}
}

func (f *gateFixture) gate() *errorGate {
	f.e.gates.mu.Lock()
	defer f.e.gates.mu.Unlock()
	return f.e.gates.gates["c1"]
}

func TestAGateCountsTheErrorEntriesOfItsNewContainerOnly(t *testing.T) {
	f := newGateFixture(t, "{max: 2, per: 1m}")
	f.add("api", -time.Second, logs.LevelError, false, "the previous container's error")
	f.add("web", time.Second, logs.LevelError, false, "another service's error")
	f.add("api", time.Second, logs.LevelWarn, false, "a warning")
	f.add("api", 2*time.Second, logs.LevelError, false, "first error")
	f.add("api", 2*time.Second, logs.LevelError, true, "  its continuation")
	f.add("api", 3*time.Second, logs.LevelError, false, "second error")
	f.eventually("2 lines", func() bool { return f.gate().count() == 2 })
	if err := f.e.errorGateFailed("c1"); err != nil {
		t.Fatalf("within budget: %v", err)
	}
	f.add("api", 4*time.Second, logs.LevelError, false, "third error \x1b]0;title\x07")
	f.eventually("trip", func() bool { return f.e.errorGateFailed("c1") != nil })
	err := f.e.errorGateFailed("c1")
	var gerr *ErrorGateError
	if !errors.As(err, &gerr) || gerr.Count != 3 || len(gerr.Lines) != 3 || gerr.Lines[2] != "third error " ||
		strings.Contains(err.Error(), "previous container") || strings.Contains(err.Error(), "another service") {
		t.Fatalf("beyond budget: %v", err)
	}
	if err := f.e.watchErrorGates(context.Background(), "backend", nil); !errors.As(err, &gerr) {
		t.Fatalf("the group's end did not fail on the tripped gate: %v", err)
	}
}

func TestAGateWindowSlides(t *testing.T) {
	f := newGateFixture(t, "{max: 2, per: 1m}")
	for _, at := range []time.Duration{0, 30 * time.Second, 70 * time.Second, 100 * time.Second, 131 * time.Second} {
		f.add("api", at, logs.LevelError, false, "error")
	}
	f.eventually("the last line in", func() bool { return f.gate().count() == 2 })
	if err := f.e.errorGateFailed("c1"); err != nil || f.gate().count() != 2 {
		t.Fatalf("never more than 2 within a minute: %v (count %d)", err, f.gate().count())
	}
	if err := f.e.watchErrorGates(context.Background(), "backend", nil); err != nil {
		t.Fatal(err)
	}
}

func TestAGateSaysWhenLinesWereLostToIt(t *testing.T) {
	f := newGateFixture(t, "{max: 5}")
	f.buf.AppendDropped("api", f.since.Add(time.Second), 7)
	f.eventually("the marker read", func() bool { return strings.Contains(f.gate().budgetText(0), "not read") })
	if text := f.gate().budgetText(0); !strings.Contains(text, "7 log lines of the burst not read") {
		t.Fatal(text)
	}
}
