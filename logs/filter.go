package logs

import (
	"bytes"
	"regexp"
)

// Filter selects lines. The zero Filter (or nil) selects every line.
type Filter struct {
	Source   string         // only this source ("" for all)
	MinLevel Level          // only lines at least this severe
	Text     string         // only lines containing this substring
	Regexp   *regexp.Regexp // only lines matching this expression
	Invert   bool           // select the lines Text and Regexp do not
}

// Match reports whether f selects l.
func (f *Filter) Match(l Line) bool {
	return f.match(l.Source, &entry{level: l.Level, dropped: l.Dropped, text: []byte(l.Text)})
}

func (f *Filter) match(source string, e *entry) bool {
	if f == nil {
		return true
	}
	if f.Source != "" && source != f.Source {
		return false
	}
	if e.dropped > 0 {
		return true // markers of lost lines always show
	}
	if e.level < f.MinLevel {
		return false
	}
	if f.Text == "" && f.Regexp == nil {
		return true
	}
	hit := (f.Text == "" || bytes.Contains(e.text, []byte(f.Text))) && (f.Regexp == nil || f.Regexp.Match(e.text))
	return hit != f.Invert
}
