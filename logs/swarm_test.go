package logs

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golive/golive/docker"
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

// fakeLines is a service's log stream: its lines, then (follow) it waits
// for Close, or ends.
type fakeLines struct {
	lines  []docker.ServiceLogLine
	follow bool
	closed chan struct{}
	once   sync.Once
}

func (s *fakeLines) Next(ctx context.Context) (docker.ServiceLogLine, error) {
	if len(s.lines) > 0 {
		l := s.lines[0]
		s.lines = s.lines[1:]
		return l, nil
	}
	if s.follow {
		select {
		case <-s.closed:
		case <-ctx.Done():
		}
	}
	return docker.ServiceLogLine{}, io.EOF
}

func (s *fakeLines) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

// TestAServiceStreamThatDropsANodeIsReadAgainBehindAGapLine: the follow
// stream delivers node1 only; the check reads node2's lines again and
// delivers them after a gap line, node1's lines once.
func TestAServiceStreamThatDropsANodeIsReadAgainBehindAGapLine(t *testing.T) {
	now := time.Now()
	line := func(slot int, node string, ago time.Duration, text string) docker.ServiceLogLine {
		return docker.ServiceLogLine{Time: now.Add(-ago), Task: fmt.Sprintf("shop-api.%d", slot), TaskID: fmt.Sprintf("t%d", slot), Node: node, Text: text}
	}
	node1 := []docker.ServiceLogLine{line(1, "node1", 3*time.Second, "a"), line(1, "node1", 2*time.Second, "b")}
	node2 := []docker.ServiceLogLine{line(2, "node2", 3*time.Second, "x"), line(2, "node2", 2*time.Second, "level=error y")}
	open := func(_ context.Context, _ time.Time, follow bool) (lineStream, error) {
		if follow {
			return &fakeLines{lines: slices.Clone(node1), follow: true, closed: make(chan struct{})}, nil
		}
		return &fakeLines{lines: slices.Concat(node1, node2), closed: make(chan struct{})}, nil
	}
	buf := NewBuffer(0)
	var mu sync.Mutex
	told := map[string]bool{}
	caughtUp := func(source string) {
		mu.Lock()
		defer mu.Unlock()
		told[source] = true
	}
	f := newServiceFollower("api", FollowOptions{Follow: true, CaughtUp: caughtUp}, buf, open)
	f.every, f.lag = 50*time.Millisecond, 10*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.follow(ctx) }()
	for deadline := time.Now().Add(5 * time.Second); buf.Count(&Filter{Source: "api.2@node2"}) < 3 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range buf.Window(0, 10, &Filter{Source: "api.2@node2"}) {
		got = append(got, l.Stream+" "+l.Text)
	}
	want := []string{"golive ⋯ gap: Swarm's log stream stopped delivering the lines of node node2; the lines below were read again", "stdout x", "stdout level=error y"}
	if !slices.Equal(got, want) {
		t.Fatalf("node2's source = %q\nwant %q", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range []string{"api", "api.1@node1", "api.2@node2"} {
		if !told[s] {
			t.Errorf("%s was never told caught up (told: %v): a printer with --tail would hold its lines", s, told)
		}
	}
	if n := buf.Count(&Filter{Source: "api.1@node1"}); n != 2 {
		t.Fatalf("node1's source has %d lines, want its 2 once", n)
	}
	if got := buf.Counts().PerSecond("api", LevelError, now.Add(-2*time.Second), 1); got[0] != 1 {
		t.Fatalf("api's error lines = %v, want node2's one under the service", got)
	}
}

// Swarm's stream of a service's log without following is known to stop
// without ending (moby/moby#38640): `golive logs --no-follow` of a
// service with 12 tasks hung with no output for ten minutes. A stalled
// read is opened again where it stopped; one that brings nothing new
// three times in a row ends with an error instead of waiting forever.
func TestAServiceReadWithoutFollowingThatStallsIsReadAgainOrFails(t *testing.T) {
	now := time.Now()
	line := func(ago time.Duration, text string) docker.ServiceLogLine {
		return docker.ServiceLogLine{Time: now.Add(-ago), Task: "shop-api.1", TaskID: "t1", Node: "node1", Text: text}
	}
	a, b, c := line(3*time.Second, "a"), line(2*time.Second, "b"), line(time.Second, "c")
	tests := []struct {
		name    string
		opens   [][]docker.ServiceLogLine // what each read gives before it stalls; the last one ends
		ends    bool
		want    []string
		wantErr string
	}{
		{"stalls once, then the rest", [][]docker.ServiceLogLine{{a, b}, {b, c}}, true, []string{"a", "b", "c"}, ""},
		{"stalls for good", [][]docker.ServiceLogLine{{a}, {a}}, false, []string{"a"}, "Swarm's log stream stopped before the end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opened := 0
			open := func(_ context.Context, _ time.Time, follow bool) (lineStream, error) {
				i := min(opened, len(tt.opens)-1)
				opened++
				stalls := i < len(tt.opens)-1 || !tt.ends
				return &fakeLines{lines: slices.Clone(tt.opens[i]), follow: stalls, closed: make(chan struct{})}, nil
			}
			buf := NewBuffer(0)
			f := newServiceFollower("api", FollowOptions{}, buf, open)
			f.every = 100 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := f.follow(ctx)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			var got []string
			for _, l := range buf.Window(0, 10, &Filter{Source: "api.1@node1"}) {
				got = append(got, l.Text)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("lines %q, want %q", got, tt.want)
			}
		})
	}
}
