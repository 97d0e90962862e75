package logs

import (
	"sync"
	"time"
)

// DefaultPerSource is how many lines a buffer keeps for each source.
const DefaultPerSource = 10000

// Line is one log line ready to show.
type Line struct {
	Seq     uint64 // arrival order across all sources
	Time    time.Time
	Source  string
	Stream  string // stdout, stderr or file
	Level   Level
	Cont    bool // continues the entry of the line before it
	Dropped int  // a marker standing for this many lines lost here
	Text    string
}

// Buffer keeps the most recent lines of every source in bounded rings and
// a merged view in time order. Memory stays flat however long it runs: a
// ring reuses its slots, and a chatty source only pushes out its own lines.
type Buffer struct {
	mu        sync.RWMutex
	perSource int
	rings     []*ring
	bySource  map[string]int
	merged    []ref // every kept line, oldest first by time then arrival
	stale     int   // refs in merged whose line a ring has overwritten
	seq       uint64
	counts    *Counts
	subs      []*Subscription
}

type entry struct {
	seq     uint64
	time    int64
	stream  string
	level   Level
	cont    bool
	dropped int
	text    []byte
}

type ring struct {
	name    string
	entries []entry
	next    uint64 // how many lines the source has ever added
}

func (r *ring) oldest() uint64 {
	if n := uint64(len(r.entries)); r.next > n {
		return r.next - n
	}
	return 0
}

type ref struct {
	src   int
	local uint64
	time  int64
}

// NewBuffer makes a buffer keeping perSource lines per source (0: DefaultPerSource).
func NewBuffer(perSource int) *Buffer {
	if perSource <= 0 {
		perSource = DefaultPerSource
	}
	return &Buffer{perSource: perSource, bySource: map[string]int{}, counts: NewCounts()}
}

// Counts are the buffer's per-source, per-level totals and rates.
func (b *Buffer) Counts() *Counts { return b.counts }

// Sources lists the source names in the order they first appeared.
func (b *Buffer) Sources() []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	names := make([]string, len(b.rings))
	for i, r := range b.rings {
		names[i] = r.name
	}
	return names
}

// Append adds a line; text is copied. It never blocks on a slow subscriber.
func (b *Buffer) Append(source, stream string, t time.Time, level Level, cont bool, text []byte) {
	b.append(source, stream, t, level, cont, 0, text)
}

// AppendDropped adds a marker saying n lines of source were lost here.
func (b *Buffer) AppendDropped(source string, t time.Time, n int) {
	b.append(source, "", t, LevelNone, false, n, nil)
}

func (b *Buffer) append(source, stream string, t time.Time, level Level, cont bool, dropped int, text []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	src, ok := b.bySource[source]
	if !ok {
		src = len(b.rings)
		b.bySource[source] = src
		b.rings = append(b.rings, &ring{name: source, entries: make([]entry, b.perSource)})
	}
	r := b.rings[src]
	local := r.next
	r.next++
	if local >= uint64(len(r.entries)) {
		b.stale++ // the slot's previous line leaves the merged view
	}
	b.seq++
	e := &r.entries[local%uint64(len(r.entries))]
	e.seq, e.time, e.stream, e.level, e.cont, e.dropped = b.seq, t.UnixNano(), stream, level, cont, dropped
	e.text = append(e.text[:0], text...)
	b.insert(ref{src: src, local: local, time: e.time})
	if dropped == 0 {
		b.counts.Add(SourceService(source), level, t)
	}
	if len(b.subs) > 0 {
		line := b.line(src, e)
		for _, s := range b.subs {
			s.offer(line)
		}
	}
}

// maxReorder bounds how far back a late line is sorted into the merged view.
const maxReorder = 512

// insert puts a ref into the merged view in time order. Lines nearly
// always arrive in order, so this is an append; a late line moves back.
func (b *Buffer) insert(x ref) {
	if b.stale > 0 && b.stale >= len(b.merged)/2 {
		b.compact()
	}
	i := len(b.merged)
	for steps := 0; i > 0 && steps < maxReorder && b.merged[i-1].time > x.time; steps++ {
		i--
	}
	b.merged = append(b.merged, ref{})
	copy(b.merged[i+1:], b.merged[i:])
	b.merged[i] = x
}

// compact drops refs to overwritten lines, in place.
func (b *Buffer) compact() {
	kept := b.merged[:0]
	for _, x := range b.merged {
		if b.valid(x) {
			kept = append(kept, x)
		}
	}
	clear(b.merged[len(kept):])
	b.merged, b.stale = kept, 0
}

func (b *Buffer) valid(x ref) bool { return x.local >= b.rings[x.src].oldest() }

func (b *Buffer) entry(x ref) *entry {
	r := b.rings[x.src]
	return &r.entries[x.local%uint64(len(r.entries))]
}

func (b *Buffer) line(src int, e *entry) Line {
	return Line{Seq: e.seq, Time: time.Unix(0, e.time), Source: b.rings[src].name, Stream: e.stream,
		Level: e.level, Cont: e.cont, Dropped: e.dropped, Text: string(e.text)}
}

// Seq is the arrival number of the newest line (0: none yet).
func (b *Buffer) Seq() uint64 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.seq
}

// CountNewer is how many lines matching f arrived after the line with
// arrival number seq: what a paused view adds to its offset to stay put.
func (b *Buffer) CountNewer(seq uint64, f *Filter) int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	n, older := 0, 0
	for i := len(b.merged) - 1; i >= 0 && older <= maxReorder; i-- {
		x := b.merged[i]
		if !b.valid(x) {
			continue
		}
		e := b.entry(x)
		if e.seq <= seq {
			older++
			continue
		}
		if f.match(b.rings[x.src].name, e) {
			n++
		}
	}
	return n
}

// Len is how many lines the buffer holds.
func (b *Buffer) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.merged) - b.stale
}

// Window returns up to n lines matching f, oldest first, that end offset
// matching lines before the newest one (offset 0: the newest lines). It
// reads only what it returns and what it skips, so a view renders only
// what is visible.
func (b *Buffer) Window(offset, n int, f *Filter) []Line {
	return b.WindowAt(0, offset, n, f)
}

// WindowAt is Window as the buffer stood when its newest line was the one
// with arrival number seq (0: now), so a view can hold still for a moment
// while lines flood in.
func (b *Buffer) WindowAt(seq uint64, offset, n int, f *Filter) []Line {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]Line, 0, n)
	for i := len(b.merged) - 1; i >= 0 && len(out) < n; i-- {
		x := b.merged[i]
		if !b.valid(x) {
			continue
		}
		e := b.entry(x)
		if seq > 0 && e.seq > seq {
			continue
		}
		if !f.match(b.rings[x.src].name, e) {
			continue
		}
		if offset > 0 {
			offset--
			continue
		}
		out = append(out, b.line(x.src, e))
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Count is how many lines match f.
func (b *Buffer) Count(f *Filter) int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	n := 0
	for _, x := range b.merged {
		if b.valid(x) && f.match(b.rings[x.src].name, b.entry(x)) {
			n++
		}
	}
	return n
}

// Find returns the offset (as Window counts it, among lines matching f) of
// the nearest line matching want, older than offset when older is set and
// newer otherwise.
func (b *Buffer) Find(offset int, f, want *Filter, older bool) (int, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	pos := -1
	found := -1
	for i := len(b.merged) - 1; i >= 0; i-- {
		x := b.merged[i]
		if !b.valid(x) {
			continue
		}
		e := b.entry(x)
		name := b.rings[x.src].name
		if !f.match(name, e) {
			continue
		}
		pos++
		if !want.match(name, e) {
			continue
		}
		if older && pos > offset {
			return pos, true
		}
		if !older && pos < offset {
			found = pos // keep going: the nearest newer one has the largest pos below offset
		}
		if !older && pos >= offset {
			break
		}
	}
	return found, found >= 0
}

// Subscription delivers lines as they are appended. A subscriber that
// falls behind loses lines, and receives a marker line saying how many.
type Subscription struct {
	C       <-chan Line
	c       chan Line
	dropped int
	b       *Buffer
}

// Subscribe starts delivering new lines through a channel of size n.
func (b *Buffer) Subscribe(n int) *Subscription {
	c := make(chan Line, n)
	s := &Subscription{C: c, c: c, b: b}
	b.mu.Lock()
	b.subs = append(b.subs, s)
	b.mu.Unlock()
	return s
}

// Close stops the subscription and closes its channel.
func (s *Subscription) Close() {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	for i, x := range s.b.subs {
		if x == s {
			s.b.subs = append(s.b.subs[:i], s.b.subs[i+1:]...)
			close(s.c)
			return
		}
	}
}

func (s *Subscription) offer(l Line) {
	if s.dropped > 0 {
		select {
		case s.c <- Line{Time: l.Time, Source: l.Source, Dropped: s.dropped}:
			s.dropped = 0
		default:
			s.dropped++
			return
		}
	}
	select {
	case s.c <- l:
	default:
		s.dropped++
	}
}
