package logs

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
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

// logRotation is what a container source asks of Docker, when it can, to
// know how often the engine rotates a container's log.
type logRotation interface {
	LogRotation(ctx context.Context, id string) (int64, error)
}

// pollInterval is how often a source looks for a container that is not there yet.
const pollInterval = 250 * time.Millisecond

// ContainerOptions say what a container source reads.
type ContainerOptions struct {
	Follow bool      // keep reading new lines; otherwise return after what is there
	Since  time.Time // limits the first container's history (zero: all of it)
	// OnContainer sees each container the name moves to, before its lines
	// (its environment tells which secrets to mask).
	OnContainer func(*docker.Container)
	// CaughtUp is called once, when the history present at the start is read.
	CaughtUp func()
	// NoTimes reads without the engine's timestamps (lines get the time
	// they are read), which costs the engine about a fifth less; only
	// without Follow, where nothing needs de-duplicating.
	NoTimes bool
}

// FollowContainer streams the logs of the container named name. It follows
// the name, not a container: when a deploy or revert puts another container
// under that name, the stream moves to it and starts at its first line; a
// dropped stream reconnects from the last timestamp seen. A container that
// comes back under the name (a revert restarts the kept one) resumes after
// the last line already read.
//
// Lines are delivered once: the engine's follow stream repeats lines, and
// loses some when it rotates a log file during a burst; the source keeps
// the (time, stream) of what it delivered, drops repeats, and after each
// rotation's worth of output re-reads the range with a plain request and
// delivers what the stream skipped.
func FollowContainer(ctx context.Context, api ContainerLogs, name string, opts ContainerOptions, sink Sink) error {
	var mu sync.Mutex // serializes sink calls of the stream and of the checks
	caughtUp := func() {
		if opts.CaughtUp != nil {
			opts.CaughtUp()
			opts.CaughtUp = nil
		}
	}
	defer caughtUp()
	var cs *containerStream
	seen := map[string]int64{} // the newest line read of each container
	since := opts.Since
	for {
		ct, err := api.Inspect(ctx, name)
		if err != nil && ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if ct == nil {
			if !opts.Follow {
				return fmt.Errorf("no container named %s", name)
			}
			caughtUp()
			if !sleep(ctx, pollInterval) {
				return nil
			}
			continue
		}
		if cs == nil || ct.ID != cs.id {
			if cs != nil {
				seen[cs.id] = cs.last()
			}
			if opts.OnContainer != nil {
				opts.OnContainer(ct)
			}
			cs = &containerStream{api: api, name: name, id: ct.ID, tty: ct.TTY, sink: sink, mu: &mu, noTimes: opts.NoTimes && !opts.Follow}
			if !since.IsZero() {
				cs.confirmed = since.UnixNano() - 1
			}
			if t, ok := seen[ct.ID]; ok {
				cs.confirmed = t
			}
			if r, ok := api.(logRotation); ok && opts.Follow {
				cs.rotation, _ = r.LogRotation(ctx, ct.ID)
			}
			since = time.Time{}
			// The history first, with a plain request: it loses nothing.
			if err := cs.read(ctx, docker.LogOptions{Since: sinceArg(cs.confirmed)}, fromPlain); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				if docker.IsNotFound(err) {
					continue // removed between inspect and logs
				}
				return err
			}
			cs.settle()
		} else if !ct.Running {
			// Stopped: wait for it to run again or for another container to take the name.
			caughtUp()
			if !opts.Follow || !sleep(ctx, pollInterval) {
				return nil
			}
			continue
		}
		caughtUp()
		if !opts.Follow {
			return nil
		}
		if !ct.Running {
			continue
		}
		err = cs.follow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !docker.IsNotFound(err) {
			if !sleep(ctx, pollInterval) {
				return nil
			}
		}
		if !sleep(ctx, pollInterval/5) {
			return nil
		}
	}
}

// nameCheck is how often a followed stream checks that its container still has the name.
const nameCheck = time.Second

// watchName ends the stream (by moved) once another container has the followed name.
func (cs *containerStream) watchName(ctx context.Context, moved context.CancelFunc) {
	t := time.NewTicker(nameCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if ct, err := cs.api.Inspect(ctx, cs.name); err == nil && ct != nil && ct.ID != cs.id {
			moved()
			return
		}
	}
}

func sinceArg(ns int64) string {
	if ns <= 0 {
		return ""
	}
	return strconv.FormatInt(ns/1e9, 10) + "." + fmt.Sprintf("%09d", ns%1e9)
}

// jsonOverhead is about what the json-file driver adds to each line: the
// rotation size counts these bytes too.
const jsonOverhead = 64

// containerStream reads one container's log and delivers each line once.
type containerStream struct {
	api  ContainerLogs
	name string // the name followed: another container may take it while this one still runs
	id   string
	tty  bool
	sink Sink
	mu   *sync.Mutex // held while lines are delivered and the fields below change

	// Every line with a time up to confirmed was delivered; delivered holds
	// the keys (time<<1 | stderr) of the lines delivered after it, sorted.
	confirmed int64
	delivered []int64
	// filled holds the keys of lines a check delivered; unsorted, so that
	// filling a large skip costs no insertions into delivered.
	filled    map[int64]struct{}
	filledMax int64 // the largest key in filled

	rotation  int64         // the engine rotates the log every this many bytes (0: never)
	unchecked int64         // bytes delivered since the last check
	backwards bool          // the stream went back in time since the last check
	maxLag    time.Duration // how far the stream was behind its newest line's time since the last check
	lastLine  time.Time
	checking  bool      // a check runs
	retryAt   time.Time // a check that failed is tried again from then on
	checks    *sync.WaitGroup

	noTimes bool         // the requests ask for no timestamps
	stream  lineSplitter // of the request being read; a re-read has its own
	newest  int64        // the newest time a plain request delivered
}

// lineMode says what kind of stream a line comes from.
type lineMode int

const (
	fromFollow lineMode = iota // the follow stream: keys drop what it repeats
	fromPlain                  // a plain request: complete and in order
	fromCheck                  // a check's re-read: only what the follow stream skipped
)

// lineSplitter joins the parts of lines cut across chunks of a log stream.
type lineSplitter struct {
	tty   bool
	carry [3][]byte // per stream: a line not ended yet
	cut   [3]int
}

// last is the time of the newest line delivered.
func (cs *containerStream) last() int64 {
	last := max(cs.confirmed, cs.filledMax>>1)
	if n := len(cs.delivered); n > 0 {
		last = max(last, cs.delivered[n-1]>>1)
	}
	return last
}

// settle marks everything delivered so far as complete.
func (cs *containerStream) settle() { cs.settleTo(cs.last()) }

// settleTo marks everything up to time t as complete.
func (cs *containerStream) settleTo(t int64) {
	cs.confirmed = max(cs.confirmed, t)
	i, _ := slices.BinarySearch(cs.delivered, (cs.confirmed+1)<<1)
	cs.delivered = cs.delivered[:copy(cs.delivered, cs.delivered[i:])]
	clear(cs.filled)
	cs.filledMax = 0
	cs.unchecked, cs.backwards, cs.maxLag = 0, false, 0
}

// accept reports whether a line of the follow stream is new, and notes it.
func (cs *containerStream) accept(key int64) bool {
	if key>>1 <= cs.confirmed {
		return false
	}
	if _, found := cs.filled[key]; found {
		return false // a check delivered it already
	}
	n := len(cs.delivered)
	if n == 0 || key > cs.delivered[n-1] {
		cs.delivered = append(cs.delivered, key)
		return true
	}
	if key < cs.delivered[n-1] {
		cs.backwards = true // a reconnect repeats the line at its since: that is not going back
	}
	i, found := slices.BinarySearch(cs.delivered, key)
	if found {
		return false
	}
	cs.delivered = slices.Insert(cs.delivered, i, key)
	return true
}

// fill reports whether a line a check re-read is new, and notes it.
func (cs *containerStream) fill(key int64) bool {
	if key>>1 <= cs.confirmed {
		return false
	}
	if _, found := slices.BinarySearch(cs.delivered, key); found {
		return false
	}
	if _, found := cs.filled[key]; found {
		return false
	}
	if cs.filled == nil {
		cs.filled = map[int64]struct{}{}
	}
	cs.filled[key] = struct{}{}
	cs.filledMax = max(cs.filledMax, key)
	return true
}

// maxUnchecked bounds the keys kept for a log that never rotates.
const maxUnchecked = 1 << 16

// follow reads the follow stream from the newest line delivered until it
// ends, checking for lines it skipped as it goes.
func (cs *containerStream) follow(ctx context.Context) error {
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	cs.checks = &wg
	wg.Add(1)
	go func() { // a burst may end right after a skip: check once the stream is quiet
		defer wg.Done()
		t := time.NewTicker(pollInterval)
		defer t.Stop()
		for {
			select {
			case <-fctx.Done():
				return
			case <-t.C:
				cs.mu.Lock()
				if cs.unchecked > 0 && !cs.checking && time.Since(cs.lastLine) >= pollInterval && !time.Now().Before(cs.retryAt) {
					cs.check(fctx)
				}
				cs.mu.Unlock()
			}
		}
	}()
	wg.Add(1)
	go func() { // a blue/green switch gives the name to another container while this one runs on
		defer wg.Done()
		cs.watchName(fctx, cancel)
	}()
	err := cs.read(fctx, docker.LogOptions{Follow: true, Since: sinceArg(cs.last())}, fromFollow)
	cancel()
	wg.Wait()
	if ctx.Err() != nil {
		return err
	}
	// The stream ended: check what it delivered since the last check.
	cs.mu.Lock()
	cs.checks = nil
	from, n, run := cs.startCheck()
	cs.mu.Unlock()
	if run {
		cs.recheck(ctx, from, n)
	}
	return err
}

// lagRisk is how far behind the newest line's time the engine's follow
// stream must be for a rotation to lose lines: it loses what it had not
// read of the file rotated away, and keeping up it loses nothing (it only
// repeats some lines, which the keys drop). A burst fills and rotates a
// 1 MB file in tens of milliseconds, so a lag of that size already loses
// a whole file (200 ms let a burst lose one to three files in CI).
const lagRisk = 20 * time.Millisecond

// due reports whether the range since the last check should be checked now.
func (cs *containerStream) due() bool {
	return cs.unchecked > 0 && !cs.checking && !cs.lastLine.Before(cs.retryAt) &&
		(cs.backwards || (cs.rotation > 0 && cs.unchecked >= cs.rotation) || len(cs.delivered) > maxUnchecked)
}

// check starts, in the background, a check of the range since the last
// one. Called with mu held.
func (cs *containerStream) check(ctx context.Context) {
	from, n, run := cs.startCheck()
	if !run {
		return
	}
	cs.checks.Add(1)
	go func() {
		defer cs.checks.Done()
		cs.recheck(ctx, from, n)
	}()
}

// startCheck settles the range since the last check when the follow
// stream cannot have skipped lines in it (it neither went back in time nor
// lagged), and otherwise says where a re-read must reach back to and how
// many lines to ask for first. Called with mu held.
func (cs *containerStream) startCheck() (from int64, n int, run bool) {
	if cs.unchecked == 0 {
		return 0, 0, false
	}
	if cs.maxLag < lagRisk || (cs.rotation == 0 && !cs.backwards) {
		cs.settle()
		return 0, 0, false
	}
	cs.checking = true
	// Enough for what was delivered and a little more; after a skip, the
	// first re-read does not reach back far enough and a bigger one follows.
	return cs.confirmed, len(cs.delivered) + len(cs.delivered)/4 + 1000, true
}

// recheck re-reads the newest lines with plain requests, reaching back
// to from, and delivers what the follow stream skipped; the follow stream
// goes on meanwhile, so that it does not fall further behind.
func (cs *containerStream) recheck(ctx context.Context, from int64, n int) {
	newest, done := from, false
	for ; ; n *= 4 {
		first, lines, last, err := cs.reread(ctx, n)
		if err != nil {
			break
		}
		newest = max(newest, last)
		if lines < n || first <= from || n > 1<<24 {
			done = true
			break
		}
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.checking = false
	if !done {
		cs.retryAt = time.Now().Add(time.Second) // the next check or reconnect tries again
		return
	}
	cs.settleTo(newest)
}

// reread reads the newest n lines without following and delivers those
// not delivered yet; it returns the times of the first and last lines
// and how many lines came.
func (cs *containerStream) reread(ctx context.Context, n int) (first int64, lines int, last int64, err error) {
	stream, err := cs.api.Logs(ctx, cs.id, cs.tty, docker.LogOptions{Tail: n, Timestamps: true})
	if err != nil {
		return 0, 0, 0, err
	}
	defer stream.Close()
	first = -1
	seen := func(ts int64) {
		if first < 0 {
			first = ts
		}
		last = max(last, ts)
		lines++
	}
	line := func(s docker.Stream, data []byte, cut int) { cs.line(s, data, cut, fromCheck, seen) }
	split := lineSplitter{tty: cs.tty}
	for {
		s, chunk, err := stream.Next()
		if err != nil {
			if ctx.Err() != nil {
				return 0, 0, 0, ctx.Err()
			}
			cs.mu.Lock()
			split.rest(line)
			cs.mu.Unlock()
			return first, lines, last, nil
		}
		cs.mu.Lock()
		split.split(s, chunk, line)
		cs.mu.Unlock()
	}
}

// read reads one request's stream to its end.
func (cs *containerStream) read(ctx context.Context, opts docker.LogOptions, mode lineMode) error {
	opts.Timestamps = !cs.noTimes
	stream, err := cs.api.Logs(ctx, cs.id, cs.tty, opts)
	if err != nil {
		return err
	}
	defer stream.Close()
	line := func(s docker.Stream, data []byte, cut int) { cs.line(s, data, cut, mode, nil) }
	cs.mu.Lock()
	cs.stream = lineSplitter{tty: cs.tty}
	if mode == fromPlain {
		// What a plain request returns is complete: no keys to keep.
		cs.settle()
		cs.newest = cs.confirmed
		defer func() {
			cs.mu.Lock()
			cs.confirmed = cs.newest
			cs.mu.Unlock()
		}()
	}
	cs.mu.Unlock()
	for {
		s, chunk, err := stream.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			cs.mu.Lock()
			cs.stream.rest(line)
			cs.mu.Unlock()
			return nil
		}
		cs.mu.Lock()
		cs.stream.split(s, chunk, line)
		if mode == fromFollow {
			cs.lastLine = time.Now()
			if lag := cs.lastLine.Sub(time.Unix(0, cs.last())); lag > cs.maxLag {
				cs.maxLag = lag
			}
			if cs.due() {
				cs.check(ctx)
			}
		}
		cs.mu.Unlock()
	}
}

// split calls line for every complete line of a chunk of stream s,
// keeping the start of a line that continues in the next chunk.
func (ls *lineSplitter) split(s docker.Stream, data []byte, line func(s docker.Stream, data []byte, cut int)) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			ls.partial(s, data)
			return
		}
		if len(ls.carry[s]) == 0 {
			line(s, data[:i], 0)
		} else {
			ls.partial(s, data[:i])
			line(s, ls.carry[s], ls.cut[s])
			ls.carry[s], ls.cut[s] = ls.carry[s][:0], 0
		}
		data = data[i+1:]
	}
}

// partial keeps the start of a line that continues in the next chunk,
// up to DefaultMaxLine bytes.
func (ls *lineSplitter) partial(s docker.Stream, data []byte) {
	if len(ls.carry[s]) > 0 && !ls.tty {
		data = stripTimestamp(data) // the engine stamps each part of a long line
	}
	room := max(DefaultMaxLine+64-len(ls.carry[s]), 0)
	if len(data) > room {
		ls.cut[s] += len(data) - room
		data = data[:room]
	}
	ls.carry[s] = append(ls.carry[s], data...)
}

// rest calls line for the lines left without a newline when a stream ends.
func (ls *lineSplitter) rest(line func(s docker.Stream, data []byte, cut int)) {
	for s := range ls.carry {
		if len(ls.carry[s]) > 0 {
			line(docker.Stream(s), ls.carry[s], ls.cut[s])
			ls.carry[s], ls.cut[s] = ls.carry[s][:0], 0
		}
	}
}

func stripTimestamp(data []byte) []byte {
	if sp := bytes.IndexByte(data, ' '); sp > 0 {
		if _, ok := parseTimestamp(data[:sp]); ok {
			return data[sp+1:]
		}
	}
	return data
}

// line delivers one complete line if it is new; seen, when set, is told
// of its time. Called with mu held.
func (cs *containerStream) line(s docker.Stream, data []byte, cut int, mode lineMode, seen func(int64)) {
	ts := int64(-1)
	if sp := bytes.IndexByte(data, ' '); sp > 0 && !cs.noTimes {
		if t, ok := parseTimestamp(data[:sp]); ok {
			ts, data = t, data[sp+1:]
		}
	}
	if ts < 0 {
		ts = time.Now().UnixNano()
	}
	if seen != nil {
		seen(ts)
	}
	key := ts << 1
	if s == docker.Stderr {
		key |= 1
	}
	switch mode {
	case fromPlain:
		if ts <= cs.confirmed {
			return
		}
		cs.newest = max(cs.newest, ts)
	case fromCheck:
		if !cs.fill(key) {
			return
		}
	default:
		if !cs.accept(key) {
			return
		}
	}
	cs.unchecked += int64(len(data) + jsonOverhead)
	if len(data) > DefaultMaxLine {
		cut += len(data) - DefaultMaxLine
		data = data[:DefaultMaxLine]
	}
	name := "stdout"
	if s == docker.Stderr {
		name = "stderr"
	}
	cs.sink(name, time.Unix(0, ts), data, cut)
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
