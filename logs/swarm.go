package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/golive/golive/docker"
)

// ServiceLogger is what a Swarm service source needs from its manager;
// *docker.Client provides it.
type ServiceLogger interface {
	ServiceLogs(ctx context.Context, service string, opts docker.LogOptions) (*docker.ServiceLogStream, error)
}

// How a Swarm service's stream is checked for nodes it stopped delivering:
// every serviceCheck, the lines of a node silent that long, older than
// serviceLag, are read again without following.
const (
	serviceCheck = 5 * time.Second
	serviceLag   = 2 * time.Second
	// stalledReads is how many reads without following in a row may stall
	// with nothing new before the service's log is given up on.
	stalledReads = 3
)

// lineStream is a service's log stream as the follower reads it.
type lineStream interface {
	Next(ctx context.Context) (docker.ServiceLogLine, error)
	Close() error
}

// openLines opens a service's log stream from since (zero: its whole
// history), following it or not.
type openLines func(ctx context.Context, since time.Time, follow bool) (lineStream, error)

// serviceFollower delivers a Swarm service's lines, one source per task
// (api.2@node1), each line once.
type serviceFollower struct {
	mu         sync.Mutex
	name       string
	opts       FollowOptions
	out        Appender
	open       openLines
	every, lag time.Duration        // serviceCheck and serviceLag
	ins        map[string]*Ingester // by source
	last       map[string]time.Time // newest line delivered, by task ID
	lastNode   map[string]time.Time // newest line delivered, by node
	inGap      map[string]bool      // nodes whose lines come from checks, since the gap line
	caught     bool                 // the history present at the start is read
	delivered  int                  // lines delivered so far
}

// caughtUp tells FollowOptions.CaughtUp, once, that the service's sources
// so far have read their history; sources that appear later are told as
// they appear.
func (f *serviceFollower) caughtUp() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.caught || f.opts.CaughtUp == nil {
		f.caught = true
		return
	}
	f.caught = true
	f.opts.CaughtUp(f.name)
	for source := range f.ins {
		f.opts.CaughtUp(source)
	}
}

// FollowService streams the lines of the Swarm service src.Service from
// every node, as sources named after the task and node (api.2@node1).
// Swarm's stream is known to stop delivering a node's lines while the
// others go on: a node silent for a while is read again without
// following, and what the stream skipped is delivered after a warning
// line that marks the gap. A stream that ends is opened again from the
// oldest node's last line; repeats are dropped.
func FollowService(ctx context.Context, api ServiceLogger, src Source, opts FollowOptions, out Appender) error {
	open := func(ctx context.Context, since time.Time, follow bool) (lineStream, error) {
		o := docker.LogOptions{Follow: follow, Since: timeArg(since)}
		if since.Equal(opts.Since) { // nothing read yet: only the last lines are wanted
			o.Tail = opts.Tail
		}
		return api.ServiceLogs(ctx, src.Service, o)
	}
	return newServiceFollower(src.Name, opts, out, open).follow(ctx)
}

func newServiceFollower(name string, opts FollowOptions, out Appender, open openLines) *serviceFollower {
	return &serviceFollower{name: name, opts: opts, out: out, open: open, every: serviceCheck, lag: serviceLag,
		ins: map[string]*Ingester{}, last: map[string]time.Time{}, lastNode: map[string]time.Time{}, inGap: map[string]bool{}}
}

func (f *serviceFollower) follow(ctx context.Context) error {
	since := f.opts.Since
	fruitless := 0 // reads without following in a row that stalled with nothing new
	defer f.caughtUp()
	for {
		sctx, cancel := context.WithCancel(ctx)
		stream, err := f.open(sctx, since, f.opts.Follow)
		if err != nil {
			cancel()
			return err
		}
		done := make(chan error, 1)
		go func() {
			for {
				l, err := stream.Next(sctx)
				if err != nil {
					done <- err
					return
				}
				f.deliver(l, false)
			}
		}()
		if !f.opts.Follow {
			before := f.count()
			stalled, err := f.untilStalled(ctx, done)
			cancel()
			stream.Close()
			if stalled {
				<-done
				fruitless++
				if f.count() > before {
					fruitless = 0
				}
				if fruitless == stalledReads {
					return errors.New("Swarm's log stream stopped before the end of the service's log (moby/moby#38640); " +
						"the lines it gave are printed: follow the logs instead, or read a task's container on its node")
				}
				since = f.resumeFrom(since)
				continue
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		f.caughtUp()
		ended, err := f.watch(ctx, done, since)
		cancel()
		stream.Close()
		if !ended {
			<-done // the reader has stopped: nothing is delivered after return
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !errors.Is(err, io.EOF) && !docker.IsConnectionLost(err) {
			return err
		}
		since = f.resumeFrom(since)
		if !sleep(ctx, pollInterval) {
			return nil
		}
	}
}

// untilStalled waits for a stream read without following to end (its
// error on done), or to deliver nothing new for f.every: Swarm's stream of
// what is already there is known to stop without ending.
func (f *serviceFollower) untilStalled(ctx context.Context, done chan error) (stalled bool, err error) {
	tick := time.NewTicker(f.every)
	defer tick.Stop()
	last := f.count()
	for {
		select {
		case err := <-done:
			return false, err
		case <-ctx.Done():
			return false, ctx.Err()
		case <-tick.C:
			n := f.count()
			if n == last {
				return true, nil
			}
			last = n
		}
	}
}

// count is how many lines were delivered.
func (f *serviceFollower) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.delivered
}

// watch checks the stream for silent nodes until it ends (ended, with its
// error from done) or ctx is done.
func (f *serviceFollower) watch(ctx context.Context, done chan error, since time.Time) (ended bool, err error) {
	tick := time.NewTicker(f.every)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return true, err
		case <-ctx.Done():
			return false, nil
		case now := <-tick.C:
			f.check(ctx, now, since)
		}
	}
}

// check reads the service's recent lines again and delivers those of
// nodes the follow stream has been silent on.
func (f *serviceFollower) check(ctx context.Context, now, since time.Time) {
	from := now.Add(-2 * f.every)
	if since.After(from) {
		from = since
	}
	ctx, cancel := context.WithTimeout(ctx, f.every)
	defer cancel()
	stream, err := f.open(ctx, from, false)
	if err != nil {
		return
	}
	defer stream.Close()
	for {
		l, err := stream.Next(ctx)
		if err != nil {
			return
		}
		if l.Time.After(now.Add(-f.lag)) {
			continue
		}
		f.mu.Lock()
		silent := now.Sub(f.lastNode[l.Node]) >= f.every
		f.mu.Unlock()
		if silent {
			f.deliver(l, true)
		}
	}
}

// deliver ingests a line unless its task's stream is past it already; the
// first recovered line (read again for a silent node) of a gap is
// preceded by a line that marks it.
func (f *serviceFollower) deliver(l docker.ServiceLogLine, recovered bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !l.Time.After(f.last[l.TaskID]) {
		return
	}
	source := f.source(l)
	in := f.ins[source]
	if in == nil {
		in = NewIngester(source, f.out, f.opts.Patterns, 0)
		in.Secrets = f.opts.Secrets
		f.ins[source] = in
		if f.caught && f.opts.CaughtUp != nil {
			f.opts.CaughtUp(source)
		}
	}
	if recovered && !f.inGap[l.Node] {
		f.inGap[l.Node] = true
		f.out.Append(source, "golive", l.Time, LevelWarn, false,
			fmt.Appendf(nil, "⋯ gap: Swarm's log stream stopped delivering the lines of node %s; the lines below were read again", l.Node))
	}
	stream := "stdout"
	if l.Stderr {
		stream = "stderr"
	}
	if !recovered {
		delete(f.inGap, l.Node)
	}
	in.Add(stream, l.Time, []byte(l.Text), 0)
	f.delivered++
	f.last[l.TaskID] = l.Time
	if l.Time.After(f.lastNode[l.Node]) {
		f.lastNode[l.Node] = l.Time
	}
}

// source names a line's task on its node: api.2@node1.
func (f *serviceFollower) source(l docker.ServiceLogLine) string {
	slot := l.Task
	if i := strings.LastIndexByte(l.Task, '.'); i >= 0 {
		slot = l.Task[i+1:]
	}
	return f.name + "." + slot + "@" + l.Node
}

// resumeFrom is where a reopened stream starts: the oldest node's last
// line, so no node loses lines (repeats are dropped).
func (f *serviceFollower) resumeFrom(since time.Time) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	from := time.Time{}
	for _, t := range f.lastNode {
		if from.IsZero() || t.Before(from) {
			from = t
		}
	}
	if from.IsZero() {
		return since
	}
	return from
}

// timeArg is a time as the engine's since parameter; "" for the beginning.
func timeArg(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return sinceArg(t.UnixNano())
}

// taskSource matches the source name of a Swarm task's lines: api.2@node1.
var taskSource = regexp.MustCompile(`^(.+)\.[0-9]+@[^@/]+$`)

// SourceService is the service a source's lines belong to: api for a
// Swarm task's source api.2@node1, the source itself otherwise.
func SourceService(source string) string {
	if m := taskSource.FindStringSubmatch(source); m != nil {
		return m[1]
	}
	return source
}
