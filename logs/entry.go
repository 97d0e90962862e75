package logs

import "bytes"

// Grouper joins the lines of a multi-line entry — a Go panic and its
// goroutine dump, a Python traceback, a Java or Node stack trace — to the
// line that started it, so they carry its level. One Grouper per source.
type Grouper struct {
	level     Level // level of the entry being continued
	traceback bool  // inside a Python traceback: the next unindented line ends it
	goDump    bool  // inside a Go panic or goroutine dump
}

// Group returns the level a line should carry and whether it continues
// the previous line's entry; level is what Classify said of the line alone.
func (g *Grouper) Group(line []byte, level Level) (Level, bool) {
	if g.continues(line) {
		if g.level == LevelNone {
			g.level = level
		}
		if level > g.level && level == LevelError {
			g.level = level // "Traceback" under an unlabelled line makes the entry an error
		}
		return g.level, true
	}
	g.level = level
	g.traceback = bytes.HasPrefix(line, []byte("Traceback (most recent call last)"))
	g.goDump = bytes.HasPrefix(line, []byte("panic: ")) || bytes.HasPrefix(line, []byte("fatal error: "))
	return level, false
}

func (g *Grouper) continues(line []byte) bool {
	if len(line) == 0 {
		return g.goDump // a goroutine dump has blank lines between its parts
	}
	indented := line[0] == ' ' || line[0] == '\t'
	trimmed := bytes.TrimLeft(line, " \t")
	switch {
	case bytes.HasPrefix(line, []byte("Traceback (most recent call last)")) && g.level == LevelError:
		g.traceback = true
		return true
	case g.traceback:
		if !indented {
			g.traceback = false // the exception line closes the traceback
		}
		return true
	case indented && (bytes.HasPrefix(trimmed, []byte("at ")) || bytes.HasPrefix(trimmed, []byte("... "))):
		return true
	case bytes.HasPrefix(line, []byte("Caused by: ")), bytes.HasPrefix(line, []byte("Suppressed: ")):
		return true
	case g.level == LevelError && isExceptionLine(line):
		return true
	case bytes.HasPrefix(line, []byte("goroutine ")) && bytes.HasSuffix(line, []byte(":")):
		g.goDump = true
		return true
	case g.goDump:
		if indented || bytes.HasSuffix(line, []byte(")")) || bytes.HasPrefix(line, []byte("created by ")) || bytes.HasPrefix(line, []byte("exit status ")) || bytes.HasPrefix(line, []byte("[signal ")) {
			return true
		}
		g.goDump = false
		return false
	}
	return indented && g.level >= LevelWarn && len(trimmed) > 0
}

// isExceptionLine reports whether a line starts with a qualified exception
// name such as java.lang.IllegalStateException: or pkg.errors.QueryError.
func isExceptionLine(line []byte) bool {
	name := line
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name = line[:i]
	}
	return bytes.IndexByte(name, ' ') < 0 && bytes.IndexByte(name, '.') > 0 &&
		(bytes.HasSuffix(name, []byte("Exception")) || bytes.HasSuffix(name, []byte("Error")))
}
