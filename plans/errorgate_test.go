package plans

import (
	"strings"
	"testing"
	"time"
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
