// Package logs turns untrusted log output into safe, classified, bounded
// lines: sources (containers and files), sanitizing, level detection, ring
// buffers, counts and search. It never prints.
package logs

import (
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"unicode/utf8"
)

// DefaultMaxLine is the longest line kept; longer lines are cut with a marker.
const DefaultMaxLine = 16 << 10

// CRMark stands where a carriage return was inside a line, so text before it
// stays visible instead of being overwritten.
const CRMark = "␍"

const tabWidth = 8

// Sanitize appends to dst a copy of line that is safe to show on a terminal:
// escape sequences (CSI, OSC, DCS, SOS, PM, APC and the rest), C0 and C1
// control characters and bidi overrides are removed, tabs become spaces, an
// inner carriage return becomes CRMark, invalid UTF-8 becomes U+FFFD and
// output past max bytes (0: DefaultMaxLine) is cut with a visible marker.
// line must not contain '\n'.
func Sanitize(dst, line []byte, max int) []byte {
	if max <= 0 {
		max = DefaultMaxLine
	}
	if len(line) <= max && printableASCII(line) {
		return append(dst, line...) // the usual line: nothing to change
	}
	start := len(dst)
	col := 0
	// A trailing CR (CRLF line ends) is not content.
	for len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	i := 0
	for i < len(line) {
		if len(dst)-start >= max {
			return appendCut(dst, len(line)-i)
		}
		c := line[i]
		switch {
		case c >= 0x20 && c < 0x7f:
			// Copy the whole run of printable ASCII at once.
			j := i + 1
			for j < len(line) && line[j] >= 0x20 && line[j] < 0x7f {
				j++
			}
			if room := max - (len(dst) - start); j-i > room {
				dst = append(dst, line[i:i+room]...)
				return appendCut(dst, len(line)-i-room)
			}
			dst = append(dst, line[i:j]...)
			col += j - i
			i = j
		case c == '\t':
			n := tabWidth - col%tabWidth
			for k := 0; k < n; k++ {
				dst = append(dst, ' ')
			}
			col += n
			i++
		case c == '\r':
			dst = append(dst, CRMark...)
			col++
			i++
		case c == 0x1b:
			i = skipEscape(line, i)
		case c < 0x80:
			i++ // other C0 controls and DEL
		default:
			r, size := utf8.DecodeRune(line[i:])
			switch {
			case r == utf8.RuneError && size <= 1:
				dst = append(dst, "\uFFFD"...)
				col++
				i++
				continue
			case r >= 0x80 && r <= 0x9f: // C1 controls
			case isBidiControl(r):
			default:
				dst = append(dst, line[i:i+size]...)
				col++
			}
			i += size
		}
	}
	return dst
}

// printableASCII reports whether line is only printable ASCII (0x20–0x7E),
// which Sanitize keeps as it is. It tests eight bytes at a time, sixteen
// per step: a word has no byte outside the range when no byte is below
// 0x20 (subtracting 0x20 from each borrows into a high bit), none is 0x7F
// (adding 1 carries into one) and none has its high bit set.
func printableASCII(line []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	outside := func(x uint64) uint64 { return ((x-0x20*ones)&^x | (x + ones) | x) & highs }
	for len(line) >= 16 {
		if outside(binary.LittleEndian.Uint64(line))|outside(binary.LittleEndian.Uint64(line[8:])) != 0 {
			return false
		}
		line = line[16:]
	}
	if len(line) >= 8 {
		if outside(binary.LittleEndian.Uint64(line)) != 0 {
			return false
		}
		line = line[8:]
	}
	for _, c := range line {
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func appendCut(dst []byte, dropped int) []byte {
	dst = append(dst, " … [cut "...)
	dst = strconv.AppendInt(dst, int64(dropped), 10)
	return append(dst, " bytes]"...)
}

// skipEscape returns the index just past the escape sequence at line[i].
func skipEscape(line []byte, i int) int {
	i++ // ESC
	if i >= len(line) {
		return i
	}
	switch line[i] {
	case '[': // CSI: parameters and intermediates, then a final byte 0x40–0x7E
		for i++; i < len(line); i++ {
			switch b := line[i]; {
			case b >= 0x40 && b <= 0x7e:
				return i + 1
			case b == 0x1b: // a new sequence starts: this one was cut short
				return i
			}
		}
		return i
	case ']', 'P', 'X', '^', '_': // OSC, DCS, SOS, PM, APC: a string until ST or BEL
		for i++; i < len(line); i++ {
			if line[i] == 0x07 {
				return i + 1
			}
			if line[i] == 0x1b && i+1 < len(line) && line[i+1] == '\\' {
				return i + 2
			}
		}
		return i
	}
	// Other sequences: intermediates 0x20–0x2F, then one final byte.
	for i < len(line) && line[i] >= 0x20 && line[i] <= 0x2f {
		i++
	}
	if i < len(line) {
		i++
	}
	return i
}

// isBidiControl reports whether r can reorder displayed text.
func isBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// SanitizeString is Sanitize for a string, with the default limit.
func SanitizeString(s string) string {
	return string(Sanitize(nil, []byte(s), 0))
}

// Label is how a name from outside (a file's path, a container's name)
// is shown: as it is when it is UTF-8 and every character prints, else
// Go-quoted with its control characters and stray bytes escaped, so that
// it cannot drive the terminal (a lone 0x9B is a CSI to an 8-bit one) and
// two different names never show the same.
func Label(name string) string {
	if !utf8.ValidString(name) {
		return strconv.Quote(name)
	}
	for _, r := range name {
		if !strconv.IsPrint(r) {
			return strconv.Quote(name)
		}
	}
	return name
}

// LabelPathError is err with the path it names shown by Label.
func LabelPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return &os.PathError{Op: pe.Op, Path: Label(pe.Path), Err: pe.Err}
	}
	return err
}
