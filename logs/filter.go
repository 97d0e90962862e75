package logs

import (
	"bytes"
	"regexp"
	"unicode"
	"unicode/utf8"
)

// Filter selects lines. The zero Filter (or nil) selects every line.
// Text matches regardless of case, as the cockpit highlights a search
// with (?i), so that what is highlighted is what n/N jump to and count.
type Filter struct {
	Source   string         // only this source ("" for all)
	MinLevel Level          // only lines at least this severe
	Text     string         // only lines containing this text, in any case
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
	hit := (f.Text == "" || containsFold(e.text, f.Text)) && (f.Regexp == nil || f.Regexp.Match(e.text))
	return hit != f.Invert
}

// containsFold reports whether text contains sub under Unicode simple case
// folding, the folding of a (?i) regular expression, without allocating.
func containsFold(text []byte, sub string) bool {
	first, _ := utf8.DecodeRuneInString(sub)
	if f := unicode.SimpleFold(first); first < utf8.RuneSelf && f < utf8.RuneSelf && unicode.SimpleFold(f) == first {
		// The first rune and its other case are ASCII and nothing else
		// folds to them: jump from one to the next with IndexByte.
		a, b := byte(first), byte(f)
		for i := 0; i < len(text); i++ {
			j := bytes.IndexByte(text[i:], a)
			if b != a {
				end := len(text)
				if j >= 0 {
					end = i + j
				}
				if k := bytes.IndexByte(text[i:end], b); k >= 0 {
					j = k
				}
			}
			if j < 0 {
				return false
			}
			i += j
			if hasPrefixFold(text[i:], sub) {
				return true
			}
		}
		return false
	}
	// The ASCII runes that can start a match (K also starts with the Kelvin sign).
	a, b := rune(-1), rune(-1)
	for r := first; ; {
		if r < utf8.RuneSelf {
			a, b = r, a
		}
		if r = unicode.SimpleFold(r); r == first {
			break
		}
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf && rune(c) != a && rune(c) != b {
			i++ // the common case: an ASCII byte that cannot start a match
			continue
		}
		if hasPrefixFold(text[i:], sub) {
			return true
		}
		_, n := utf8.DecodeRune(text[i:])
		i += n
	}
	return false
}

// hasPrefixFold reports whether text starts with prefix under simple folding.
func hasPrefixFold(text []byte, prefix string) bool {
	for _, want := range prefix {
		if len(text) == 0 {
			return false
		}
		got, n := rune(text[0]), 1
		if got >= utf8.RuneSelf {
			got, n = utf8.DecodeRune(text)
		}
		if !equalFold(got, want) {
			return false
		}
		text = text[n:]
	}
	return true
}

func equalFold(a, b rune) bool {
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		return 'a' <= (a|0x20) && (a|0x20) <= 'z' && a|0x20 == b|0x20
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}
