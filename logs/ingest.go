package logs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
)

// Patterns mark a line's level beyond the built-in detection, as a plan's
// logs.errors and logs.warnings do.
type Patterns struct {
	Errors   []*regexp.Regexp
	Warnings []*regexp.Regexp
}

// CompilePatterns compiles error and warning expressions.
func CompilePatterns(errs, warns []string) (*Patterns, error) {
	p := &Patterns{}
	for _, s := range errs {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("error pattern %q: %w", s, err)
		}
		p.Errors = append(p.Errors, re)
	}
	for _, s := range warns {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("warning pattern %q: %w", s, err)
		}
		p.Warnings = append(p.Warnings, re)
	}
	return p, nil
}

func (p *Patterns) level(text []byte, l Level) Level {
	if p == nil {
		return l
	}
	for _, re := range p.Errors {
		if re.Match(text) {
			return LevelError
		}
	}
	if l < LevelWarn {
		for _, re := range p.Warnings {
			if re.Match(text) {
				return LevelWarn
			}
		}
	}
	return l
}

// Appender takes ingested lines: a Buffer, or a printer that streams them.
// text is only valid during the call.
type Appender interface {
	Append(source, stream string, t time.Time, level Level, cont bool, text []byte)
	AppendDropped(source string, t time.Time, n int)
}

// Ingester makes a source's raw lines safe, masks secrets, classifies
// them, groups multi-line entries and appends them to a buffer. One per
// source; not safe for concurrent use.
type Ingester struct {
	// Secrets, when set, are masked in every line before anything keeps it.
	Secrets *Secrets

	source   string
	buf      Appender
	patterns *Patterns
	maxLine  int
	groups   map[string]*Grouper // per stream: stdout and stderr interleave
	// stream and group are the last stream seen and its grouper: a source
	// writes runs of lines to one stream.
	stream  string
	group   *Grouper
	scratch []byte
	masked  []byte
}

// NewIngester feeds lines of source into buf (a *Buffer, usually); maxLine 0 means DefaultMaxLine.
func NewIngester(source string, buf Appender, patterns *Patterns, maxLine int) *Ingester {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	return &Ingester{source: source, buf: buf, patterns: patterns, maxLine: maxLine, groups: map[string]*Grouper{}}
}

// Add ingests one raw line (without its newline); cut is how many bytes
// of it a reader already dropped for being too long. A line of printable
// ASCII within the limit is used as it is, without a copy.
func (in *Ingester) Add(stream string, t time.Time, raw []byte, cut int) {
	text := raw
	if cut > 0 || len(raw) > in.maxLine || !printableASCII(raw) {
		in.scratch = Sanitize(in.scratch[:0], raw, in.maxLine)
		if cut > 0 {
			in.scratch = appendCut(in.scratch, cut)
		}
		text = in.scratch
	}
	if masked, ok := in.Secrets.Mask(text, in.masked); ok {
		text, in.masked = masked, masked
	}
	level := in.patterns.level(text, Classify(text))
	level, cont := in.grouper(stream).Group(text, level)
	in.buf.Append(in.source, stream, t, level, cont, text)
}

// grouper is the Grouper of a stream.
func (in *Ingester) grouper(stream string) *Grouper {
	if in.group != nil && stream == in.stream {
		return in.group
	}
	g := in.groups[stream]
	if g == nil {
		g = &Grouper{}
		in.groups[stream] = g
	}
	in.stream, in.group = stream, g
	return g
}

// LineReader splits a stream into lines without holding more than max
// bytes of any one: the rest of a longer line is read and counted, not kept.
type LineReader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// NewLineReader reads lines of at most max bytes (0: DefaultMaxLine) from r.
func NewLineReader(r io.Reader, max int) *LineReader {
	if max <= 0 {
		max = DefaultMaxLine
	}
	return &LineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Next returns the next line without its newline and how many bytes of it
// were cut. The slice is valid until the next call.
func (lr *LineReader) Next() ([]byte, int, error) {
	lr.buf = lr.buf[:0]
	cut := 0
	for {
		chunk, err := lr.r.ReadSlice('\n')
		room := lr.max - len(lr.buf)
		keep := chunk
		if n := len(keep); n > 0 && keep[n-1] == '\n' {
			keep = keep[:n-1]
		}
		if len(keep) > room {
			cut += len(keep) - room
			keep = keep[:room]
		}
		lr.buf = append(lr.buf, keep...)
		switch {
		case err == nil:
			return lr.buf, cut, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case len(lr.buf) > 0 || cut > 0:
			return lr.buf, cut, nil // a last line without a newline
		default:
			return nil, 0, err
		}
	}
}
