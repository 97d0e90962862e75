package logs

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitizeLeavesNothingThatCanChangeTheTerminal(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text", "GET /api 200", "GET /api 200"},
		{"OSC 52 clipboard write", "a\x1b]52;c;cGF3bmVk\x07b", "ab"},
		{"OSC 0 title with ST", "a\x1b]0;owned\x1b\\b", "ab"},
		{"OSC 2 title", "\x1b]2;title\x07text", "text"},
		{"CSI clear screen", "x\x1b[2Jy\x1b[H", "xy"},
		{"SGR colour", "\x1b[1;31mERROR\x1b[0m db", "ERROR db"},
		{"DCS", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab"},
		{"APC", "a\x1b_Gf=100;AAAA\x1b\\b", "ab"},
		{"SOS", "a\x1bXhidden\x1b\\b", "ab"},
		{"PM", "a\x1b^hidden\x1b\\b", "ab"},
		{"unterminated OSC hides nothing after a newline", "a\x1b]52;c;AAAA", "a"},
		{"charset designation", "a\x1b(Bb", "ab"},
		{"C1 CSI as UTF-8", "a\u009b2Jb", "a2Jb"},
		{"C1 OSC as UTF-8", "a\u009d0;t\u009cb", "a0;tb"},
		{"raw 8-bit C1 byte", "a\x9b2Jb", "a\uFFFD2Jb"},
		{"bell and backspace", "ab\x08\x08cd\x07", "abcd"},
		{"carriage return cannot hide text", "ERROR: disk full\rINFO: all good", "ERROR: disk full" + CRMark + "INFO: all good"},
		{"CRLF line end", "done\r", "done"},
		{"bidi override", "user\u202eexe.pdf", "userexe.pdf"},
		{"bidi isolates", "a\u2066b\u2069c", "abc"},
		{"tab expanded", "a\tb", "a       b"},
		{"invalid UTF-8", "caf\xe9", "caf\uFFFD"},
		{"unicode kept", "naïve ✓ 日本", "naïve ✓ 日本"},
		{"DEL and NUL", "a\x7f\x00b", "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SanitizeString(tt.in); got != tt.want {
				t.Fatalf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSanitizeCutsLongLinesWithAMarker(t *testing.T) {
	got := Sanitize(nil, bytes.Repeat([]byte("x"), 100), 40)
	if string(got) != strings.Repeat("x", 40)+" … [cut 60 bytes]" {
		t.Fatalf("got %q", got)
	}
}

// safe reports whether s holds no control byte and no bidi control.
func safe(s []byte) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || isBidiControl(r) || (r == utf8.RuneError && size == 1) {
			return false
		}
		i += size
	}
	return true
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"\x1b]52;c;x\x07", "\x1b[2J", "\x1bP\x1b\\", "a\rb", "\u202e", "\xff\xfe", "\t\t"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		line := bytes.ReplaceAll(in, []byte("\n"), nil)
		out := Sanitize(nil, line, 256)
		if !safe(out) {
			t.Fatalf("Sanitize(%q) = %q holds a control character", line, out)
		}
		if !utf8.Valid(out) {
			t.Fatalf("Sanitize(%q) = %q is not valid UTF-8", line, out)
		}
		if len(out) > 256+len(" … [cut 99999999999 bytes]") {
			t.Fatalf("output of %d bytes past the limit", len(out))
		}
	})
}

// printableASCII tests eight bytes at once: every byte value, at every
// place of a word and of the tail after it, must be judged as one at a
// time would.
func TestPrintableASCIIAgreesWithAByteByByteTest(t *testing.T) {
	line := []byte(strings.Repeat("a", 16+8+7)) // both words of a step, a word alone, a tail
	for pos := range line {
		for v := 0; v < 256; v++ {
			line[pos] = byte(v)
			want := v >= 0x20 && v < 0x7f
			if got := printableASCII(line); got != want {
				t.Fatalf("byte %#x at %d: got %v, want %v", v, pos, got, want)
			}
			if v >= 0x20 && v < 0x7f {
				continue
			}
			for _, next := range []byte{0x00, 0x1f, 0x20, 0x7e, 0x7f, 0xff} { // borrows and carries into the next byte
				if pos+1 < len(line) {
					line[pos+1] = next
					if printableASCII(line) {
						t.Fatalf("byte %#x at %d before %#x: judged printable", v, pos, next)
					}
					line[pos+1] = 'a'
				}
			}
		}
		line[pos] = 'a'
	}
}

func TestLabelEscapesWhatCouldDriveTheTerminal(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"/var/log/app.log", "/var/log/app.log"},
		{"journal é.log", "journal é.log"},
		{"\x1b]0;HACK\a\x1b[31mred.log", `"\x1b]0;HACK\a\x1b[31mred.log"`},
		{"a\u202eexe.log", `"a\u202eexe.log"`},
		{"two\nlines", `"two\nlines"`},
		{"bad\x9b2J.log", `"bad\x9b2J.log"`}, // a raw 8-bit CSI byte, not UTF-8
		{"caf\xe9.log", `"caf\xe9.log"`},     // a name in Latin-1
	} {
		if got := Label(c.name); got != c.want {
			t.Errorf("Label(%q) = %s, want %s", c.name, got, c.want)
		}
	}
}
