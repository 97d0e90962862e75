package logs

import (
	"testing"
	"time"
)

func TestSourceService(t *testing.T) {
	tests := map[string]string{
		"api.2@node1":          "api",
		"shop.api.12@glt2e1":   "shop.api",
		"api":                  "api",
		"logs/app.log":         "logs/app.log",
		"api@node1":            "api@node1",
		"/var/log/a.1@b/c.log": "/var/log/a.1@b/c.log",
	}
	for in, want := range tests {
		if got := SourceService(in); got != want {
			t.Errorf("SourceService(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestATasksErrorLinesCountUnderItsService(t *testing.T) {
	b := NewBuffer(0)
	now := time.Unix(1_700_000_000, 0)
	b.Append("api.1@node1", "stdout", now, LevelError, false, []byte("boom"))
	b.Append("api.2@node2", "stdout", now, LevelError, false, []byte("boom"))
	if got := b.Counts().PerSecond("api", LevelError, now, 1); len(got) != 1 || got[0] != 2 {
		t.Fatalf("errors of api per second = %v, want [2]", got)
	}
}
