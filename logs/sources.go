package logs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/golive/golive/docker"
)

// Sink receives a source's raw lines: stream, time, the line and how many
// bytes of it were cut. Sources call it from one goroutine at a time.
type Sink func(stream string, t time.Time, line []byte, cut int)

// ContainerLogs is what a container source needs from Docker; *docker.Client provides it.
type ContainerLogs interface {
	Inspect(ctx context.Context, nameOrID string) (*docker.Container, error)
	Logs(ctx context.Context, id string, tty bool, opts docker.LogOptions) (*docker.LogStream, error)
}

// pollInterval is how often a source looks for a container that is not there yet.
const pollInterval = 250 * time.Millisecond

// FollowContainer streams the logs of the container named name. It follows
// the name, not a container: when a deploy or revert puts another container
// under that name, the stream moves to it and starts at its first line; a
// dropped stream reconnects from the last timestamp seen. Without follow
// it returns after what is there now. since limits the first container's
// history (zero: all of it). A container that comes back under the name (a
// revert restarts the kept one) resumes after the last line already read.
func FollowContainer(ctx context.Context, api ContainerLogs, name string, follow bool, since time.Time, sink Sink) error {
	var mu sync.Mutex
	locked := func(stream string, t time.Time, line []byte, cut int) {
		mu.Lock()
		defer mu.Unlock()
		sink(stream, t, line, cut)
	}
	var curID string
	var last time.Time
	seen := map[string]time.Time{} // the newest line read of each container
	for {
		ct, err := api.Inspect(ctx, name)
		if err != nil && ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if ct == nil {
			if !follow {
				return fmt.Errorf("no container named %s", name)
			}
			if !sleep(ctx, pollInterval) {
				return nil
			}
			continue
		}
		if ct.ID != curID {
			if curID != "" {
				seen[curID] = last
			}
			curID, last = ct.ID, since
			if t, ok := seen[curID]; ok {
				last = t
			}
			since = time.Time{}
		} else if !ct.Running {
			// Stopped: wait for it to run again or for another container to take the name.
			if !follow || !sleep(ctx, pollInterval) {
				return nil
			}
			continue
		}
		opts := docker.LogOptions{Follow: follow, Timestamps: true}
		if !last.IsZero() {
			opts.Since = fmt.Sprintf("%d.%09d", last.Unix(), last.Nanosecond())
		}
		stream, err := api.Logs(ctx, ct.ID, ct.TTY, opts)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if docker.IsNotFound(err) {
				continue // removed between inspect and logs
			}
			return err
		}
		from := last
		var wg sync.WaitGroup
		var newest [2]time.Time
		for i, part := range []struct {
			name string
			r    io.Reader
		}{{"stdout", stream.Stdout}, {"stderr", stream.Stderr}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				newest[i] = readTimestamped(part.r, part.name, from, locked)
			}()
		}
		wg.Wait()
		stream.Close()
		for _, t := range newest {
			if t.After(last) {
				last = t
			}
		}
		if !follow || ctx.Err() != nil {
			return nil
		}
		if !sleep(ctx, pollInterval/5) {
			return nil
		}
	}
}

// readTimestamped reads "TIMESTAMP line" records, skipping those not newer
// than after (already delivered before a reconnect), and returns the
// newest timestamp read.
func readTimestamped(r io.Reader, stream string, after time.Time, sink Sink) time.Time {
	lr := NewLineReader(r, DefaultMaxLine)
	newest := after
	for {
		line, cut, err := lr.Next()
		if err != nil {
			return newest
		}
		t := time.Now()
		if sp := bytes.IndexByte(line, ' '); sp > 0 {
			if ts, perr := time.Parse(time.RFC3339Nano, string(line[:sp])); perr == nil {
				t, line = ts, line[sp+1:]
			}
		}
		if !after.IsZero() && !t.After(after) {
			continue
		}
		if t.After(newest) {
			newest = t
		}
		sink(stream, t, line, cut)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
