package logs

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golive/golive/docker"
)

// droppingDocker is a container whose log stream drops after each batch,
// as a daemon restart or a network cut does. The real engine cannot be
// made to drop a stream on demand; replacement and TTY streams are tested
// against it in logs_docker_test.go.
type droppingDocker struct {
	mu      sync.Mutex
	batches []string // one stream's content per Logs call
	since   []string // the Since of each call
	cancel  context.CancelFunc
}

func (d *droppingDocker) Inspect(context.Context, string) (*docker.Container, error) {
	return &docker.Container{ID: "c1", Running: true, TTY: true}, nil
}

func (d *droppingDocker) Logs(_ context.Context, _ string, _ bool, opts docker.LogOptions) (*docker.LogStream, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.since = append(d.since, opts.Since)
	if len(d.batches) == 0 {
		d.cancel()
		return docker.NewLogStream(strings.NewReader(""), strings.NewReader(""), nil), nil
	}
	batch := d.batches[0]
	d.batches = d.batches[1:]
	return docker.NewLogStream(strings.NewReader(batch), strings.NewReader(""), nil), nil
}

func TestFollowContainerResumesADroppedStreamFromTheLastTimestamp(t *testing.T) {
	ts := func(s int) string { return time.Date(2026, 11, 25, 21, 0, s, 0, time.UTC).Format(time.RFC3339Nano) }
	ctx, cancel := context.WithCancel(context.Background())
	d := &droppingDocker{cancel: cancel, batches: []string{
		ts(1) + " a\n" + ts(2) + " b\n",
		ts(2) + " b\n" + ts(3) + " c\n", // the daemon sends again what came at the resume time
	}}
	var got []string
	err := FollowContainer(ctx, d, "shop-api", true, time.Time{}, func(_ string, _ time.Time, line []byte, _ int) {
		got = append(got, string(line))
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(got, " "); s != "a b c" {
		t.Fatalf("lines %q: lost or repeated", s)
	}
	want := fmt.Sprintf("%d.%09d", time.Date(2026, 11, 25, 21, 0, 2, 0, time.UTC).Unix(), 0)
	if len(d.since) < 2 || d.since[0] != "" || d.since[1] != want {
		t.Fatalf("Since of each reconnect: %q, want the second to be %s", d.since, want)
	}
}
