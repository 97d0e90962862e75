package logs

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
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
		return docker.NewLogStream(strings.NewReader(""), true, nil), nil
	}
	batch := d.batches[0]
	d.batches = d.batches[1:]
	return docker.NewLogStream(strings.NewReader(batch), true, nil), nil
}

func stamp(s int) string {
	return time.Date(2026, 11, 25, 21, 0, s, 0, time.UTC).Format(time.RFC3339Nano)
}

func TestFollowContainerResumesADroppedStreamFromTheLastTimestamp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d := &droppingDocker{cancel: cancel, batches: []string{
		stamp(1) + " a\n" + stamp(2) + " b\n",
		stamp(2) + " b\n" + stamp(3) + " c\n", // the daemon sends again what came at the resume time
	}}
	var got []string
	err := FollowContainer(ctx, d, "shop-api", ContainerOptions{Follow: true}, func(_ string, _ time.Time, line []byte, _ int) {
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

// skippingDocker plays the engine's json-file follow stream during a
// burst with rotation: it skips whole ranges and goes back to repeat
// others, while plain requests return everything.
type skippingDocker struct {
	mu      sync.Mutex
	base    time.Time // the time of line 0
	keepsUp bool      // the follow stream is not behind: it skips nothing
	all     []int     // the sequence numbers in the log, in order
	follows int
	tails   []int
	cancel  context.CancelFunc
}

func (d *skippingDocker) Inspect(context.Context, string) (*docker.Container, error) {
	return &docker.Container{ID: "c1", Running: true}, nil
}

func (d *skippingDocker) LogRotation(context.Context, string) (int64, error) { return 64 << 10, nil }

func seqTime(base time.Time, i int) time.Time { return base.Add(time.Duration(i) * time.Microsecond) }

// frames writes seqs as the engine does: one multiplexed frame per line,
// odd numbers on stderr.
func frames(base time.Time, seqs []int) io.Reader {
	var b bytes.Buffer
	for _, i := range seqs {
		line := fmt.Sprintf("%s level=info msg=\"burst\" seq=%d\n", seqTime(base, i).Format(time.RFC3339Nano), i)
		hdr := [8]byte{1}
		if i%2 == 1 {
			hdr[0] = 2
		}
		binary.BigEndian.PutUint32(hdr[4:], uint32(len(line)))
		b.Write(hdr[:])
		b.WriteString(line)
	}
	return &b
}

func (d *skippingDocker) Logs(_ context.Context, _ string, _ bool, opts docker.LogOptions) (*docker.LogStream, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case opts.Tail > 0:
		d.tails = append(d.tails, opts.Tail)
		return docker.NewLogStream(frames(d.base, d.all[max(0, len(d.all)-opts.Tail):]), false, nil), nil
	case !opts.Follow:
		return docker.NewLogStream(frames(d.base, d.all[:10]), false, nil), nil
	}
	d.follows++
	if d.follows > 1 {
		d.cancel()
		return docker.NewLogStream(frames(d.base, nil), false, nil), nil
	}
	var seqs []int
	for i := 10; i < len(d.all); i++ {
		switch {
		case d.keepsUp:
			seqs = append(seqs, i)
		case i >= 1000 && i < 4000: // skipped by a rotation
		case i >= 6000 && i < 9000: // skipped, then part of it repeated
		default:
			seqs = append(seqs, i)
		}
		if i == 12000 { // a rotation repeats lines
			for j := 11000; j <= 12000; j++ {
				seqs = append(seqs, j)
			}
		}
	}
	return docker.NewLogStream(frames(d.base, seqs), false, nil), nil
}

func TestFollowContainerFillsWhatTheEngineFollowStreamSkippedAndDropsRepeats(t *testing.T) {
	for _, c := range []struct {
		name    string
		base    time.Time
		keepsUp bool
		rereads bool
	}{
		{"a stream far behind the newest line skips and is re-read", time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC), false, true},
		{"a stream keeping up only repeats, and nothing is re-read", time.Time{}, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.base.IsZero() {
				c.base = time.Now().Add(time.Minute) // written just now: ahead, so that a slow test run does not lag
			}
			ctx, cancel := context.WithCancel(context.Background())
			d := &skippingDocker{cancel: cancel, base: c.base, keepsUp: c.keepsUp}
			for i := 0; i < 20000; i++ {
				d.all = append(d.all, i)
			}
			got := map[int]int{}
			streams := map[string]int{}
			err := FollowContainer(ctx, d, "shop-api", ContainerOptions{Follow: true}, func(stream string, ts time.Time, line []byte, _ int) {
				var n int
				fmt.Sscanf(string(line[bytes.LastIndexByte(line, '=')+1:]), "%d", &n)
				got[n]++
				streams[stream]++
				if !ts.Equal(seqTime(c.base, n)) {
					t.Errorf("line %d has time %v", n, ts)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			for i := range d.all {
				if got[i] != 1 {
					t.Fatalf("line %d delivered %d times (%d distinct lines; rereads of %v)", i, got[i], len(got), d.tails)
				}
			}
			if streams["stdout"] != 10000 || streams["stderr"] != 10000 {
				t.Fatalf("streams %v", streams)
			}
			if (len(d.tails) > 0) != c.rereads {
				t.Fatalf("re-reads of %v lines", d.tails)
			}
		})
	}
}

// plainDocker answers a plain request, with timestamps only when asked.
type plainDocker struct{ asked []bool }

func (d *plainDocker) Inspect(context.Context, string) (*docker.Container, error) {
	return &docker.Container{ID: "c1", TTY: true}, nil
}

func (d *plainDocker) Logs(_ context.Context, _ string, _ bool, opts docker.LogOptions) (*docker.LogStream, error) {
	d.asked = append(d.asked, opts.Timestamps)
	body := "2026-11-25T10:00:00Z app started\nready\n"
	if opts.Timestamps {
		body = stamp(1) + " 2026-11-25T10:00:00Z app started\n" + stamp(2) + " ready\n"
	}
	return docker.NewLogStream(strings.NewReader(body), true, nil), nil
}

func TestFollowContainerWithoutTimesKeepsALineThatStartsWithATime(t *testing.T) {
	for _, noTimes := range []bool{false, true} {
		d := &plainDocker{}
		var got []string
		err := FollowContainer(context.Background(), d, "shop-api", ContainerOptions{NoTimes: noTimes}, func(_ string, _ time.Time, line []byte, _ int) {
			got = append(got, string(line))
		})
		if err != nil {
			t.Fatal(err)
		}
		if s := strings.Join(got, "|"); s != "2026-11-25T10:00:00Z app started|ready" || len(d.asked) != 1 || d.asked[0] == noTimes {
			t.Fatalf("NoTimes %v: lines %q, timestamps asked %v", noTimes, s, d.asked)
		}
	}
}
