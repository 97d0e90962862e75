package logs

import (
	"sync"
	"time"
)

// History lengths kept by Counts.
const (
	SecondsKept = 600 // ten minutes of per-second counts
	MinutesKept = 180 // three hours of per-minute counts
)

// Counts keeps, per source (a Swarm task's lines under their service:
// SourceService) and level, a total and rate histories per
// second and per minute, in fixed memory.
type Counts struct {
	mu      sync.Mutex
	sources map[string]*sourceCounts
}

type sourceCounts struct {
	total   [LevelError + 1]int
	seconds series
	minutes series
}

// series is a ring of buckets, each stamped with the period it counts.
type series struct {
	stamp []int64
	n     [][LevelError + 1]int
}

func newSeries(size int) series {
	return series{stamp: make([]int64, size), n: make([][LevelError + 1]int, size)}
}

func (s *series) add(period int64, level Level) {
	i := int(period % int64(len(s.stamp)))
	if s.stamp[i] != period {
		s.stamp[i], s.n[i] = period, [LevelError + 1]int{}
	}
	s.n[i][level]++
}

func (s *series) get(period int64, level Level) int {
	i := int(period % int64(len(s.stamp)))
	if period < 0 || s.stamp[i] != period {
		return 0
	}
	return s.n[i][level]
}

// NewCounts makes empty counts.
func NewCounts() *Counts { return &Counts{sources: map[string]*sourceCounts{}} }

// Add counts one line.
func (c *Counts) Add(source string, level Level, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sc := c.sources[source]
	if sc == nil {
		sc = &sourceCounts{seconds: newSeries(SecondsKept), minutes: newSeries(MinutesKept)}
		c.sources[source] = sc
	}
	sc.total[level]++
	sec := t.Unix()
	sc.seconds.add(sec, level)
	sc.minutes.add(sec/60, level)
}

// Total is how many lines of source had level ("" source: all sources).
func (c *Counts) Total(source string, level Level) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for name, sc := range c.sources {
		if source == "" || name == source {
			n += sc.total[level]
		}
	}
	return n
}

// PerSecond returns the counts of level for source over the n seconds up
// to and including now's second, oldest first (n at most SecondsKept).
func (c *Counts) PerSecond(source string, level Level, now time.Time, n int) []int {
	return c.history(source, level, now.Unix(), min(n, SecondsKept), func(sc *sourceCounts) *series { return &sc.seconds })
}

// PerMinute is PerSecond by minutes (n at most MinutesKept).
func (c *Counts) PerMinute(source string, level Level, now time.Time, n int) []int {
	return c.history(source, level, now.Unix()/60, min(n, MinutesKept), func(sc *sourceCounts) *series { return &sc.minutes })
}

func (c *Counts) history(source string, level Level, last int64, n int, pick func(*sourceCounts) *series) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]int, n)
	for name, sc := range c.sources {
		if source != "" && name != source {
			continue
		}
		s := pick(sc)
		for i := range out {
			out[i] += s.get(last-int64(n-1-i), level)
		}
	}
	return out
}
