package logs

import "bytes"

// Grouper joins the lines of a multi-line entry to the line that started
// it, so that every line carries the entry's level: a Go panic or
// net/http panic and its goroutine dump, a Python traceback and its
// chained exceptions, a Java or .NET exception and its frames, a Node
// crash report, a Rust panic with its message and backtrace, PostgreSQL's
// DETAIL/HINT/STATEMENT/CONTEXT lines, and indented lines under a head
// line. One Grouper per stream.
type Grouper struct {
	level Level     // level of the entry being continued
	kind  entryKind // what the entry is, when its lines follow a known shape
}

// entryKind is the shape of the entry being continued.
type entryKind uint8

const (
	plainEntry  entryKind = iota
	pyTraceback           // inside a Python traceback: the next unindented line ends it
	pyChain               // after a Python exception line: a chained traceback may follow
	goDump                // a Go panic or goroutine dump
	zapStack              // a zap console line with its stack: bare Go function names and indented files
	rustMessage           // the line after "thread '…' panicked at …:" is the panic message
	rustPanic             // after a Rust panic's message: notes and a backtrace
	nodeCrash             // Node's report of an uncaught exception, up to "Node.js vX"
	pgEntry               // a PostgreSQL message: DETAIL, HINT… lines follow
)

// Group returns the level a line should carry and whether it continues
// the previous line's entry; level is what Classify said of the line alone.
func (g *Grouper) Group(line []byte, level Level) (Level, bool) {
	if g.continues(line, level) {
		if g.level == LevelNone {
			g.level = level
		}
		return g.level, true
	}
	g.level = level
	g.kind = headKind(line, level)
	return level, false
}

// headKind says what shape of entry a line that starts one opens.
func headKind(line []byte, level Level) entryKind {
	switch {
	case len(line) == 0 || level == LevelNone:
		return plainEntry
	case hasPrefix(line, "Traceback (most recent call last)"):
		return pyTraceback
	case hasPrefix(line, "panic: "), hasPrefix(line, "fatal error: "):
		return goDump
	case hasPrefix(line, "thread '"):
		if line[len(line)-1] == ':' {
			return rustMessage
		}
		return rustPanic
	case level == LevelError && nodeCrashHead(line):
		return nodeCrash
	case level >= LevelWarn && bytes.IndexByte(line[:min(len(line), 40)], '\t') > 0:
		return zapStack // zap's console encoder puts a tab after the time
	}
	return plainEntry
}

func (g *Grouper) continues(line []byte, level Level) bool {
	if len(line) == 0 {
		// A goroutine dump, a chained traceback and a Node crash report
		// have blank lines between their parts.
		return g.kind == goDump || g.kind == pyChain || g.kind == nodeCrash
	}
	indented := line[0] == ' ' || line[0] == '\t'
	switch g.kind {
	case pyTraceback:
		if !indented {
			g.kind = pyChain // the exception line closes the traceback
		}
		return true
	case pyChain:
		switch {
		case hasPrefix(line, "Traceback (most recent call last)"):
			g.kind = pyTraceback
			return true
		case indented, hasPrefix(line, "During handling of the above exception"),
			hasPrefix(line, "The above exception was the direct cause"),
			hasPrefix(line, "LINE "), pgField(line):
			return true // and a database driver's LINE/DETAIL lines under the exception
		}
	case goDump:
		if indented || goDumpLine(line) {
			return true
		}
	case zapStack:
		if indented || goFuncName(line) {
			return true
		}
	case rustMessage:
		g.kind = rustPanic
		return true
	case rustPanic:
		if indented || hasPrefix(line, "note: ") || hasPrefix(line, "stack backtrace:") || closing(line) {
			return true
		}
	case nodeCrash:
		if hasPrefix(line, "Node.js v") {
			g.kind = plainEntry // the last line of the report
			return true
		}
		if indented || closing(line) || level == LevelError || line[0] == '[' {
			return true
		}
	case pgEntry:
		if indented || pgField(line) {
			return true // a DETAIL or STATEMENT goes on on indented lines
		}
	}
	g.kind = plainEntry
	trimmed := line
	for len(trimmed) > 0 && (trimmed[0] == ' ' || trimmed[0] == '\t') {
		trimmed = trimmed[1:]
	}
	switch {
	case g.level == LevelError && hasPrefix(line, "Traceback (most recent call last)"):
		g.kind = pyTraceback
		return true
	case indented && (hasPrefix(trimmed, "at ") || hasPrefix(trimmed, "... ")):
		return true
	case hasPrefix(line, "Caused by: "), hasPrefix(line, "Suppressed: "):
		return true
	case hasPrefix(line, "goroutine ") && bytes.HasSuffix(line, []byte(":")):
		g.kind = goDump
		return true
	case g.level < LevelWarn:
		// what follows only goes on an entry that warns or fails
	case isExceptionLine(trimmed), hasPrefix(line, "** ("):
		return true // an exception logged with its message, even at warn
	case hasPrefix(line, "Stack trace:"), hasPrefix(line, "[stacktrace]"), phpFrame(line), string(line) == `"}`:
		return true // PHP's and Laravel's stack traces
	}
	// An indented line under a head line is part of its message unless
	// it says a level of its own.
	if indented && g.level != LevelNone && len(trimmed) > 0 && (level == LevelNone || level == g.level) {
		return true
	}
	if g.level != LevelNone && level == LevelNone && pgField(line) {
		g.kind = pgEntry // PostgreSQL's DETAIL, HINT… after the message they explain
		return true
	}
	return g.level != LevelNone && closing(line)
}

// isExceptionLine reports whether a line starts with a qualified exception
// name such as java.lang.IllegalStateException: or pkg.errors.QueryError.
func isExceptionLine(line []byte) bool {
	name := line
	if sp := bytes.IndexByte(line, ' '); sp >= 0 {
		if sp < 2 || line[sp-1] != ':' {
			return false
		}
		name = line[:sp-1]
	}
	return bytes.IndexByte(name, '.') > 0 && isExceptionName(name)
}

// phpFrame reports whether a line is a frame of a PHP stack trace: "#0 {main}".
func phpFrame(line []byte) bool {
	n := 1
	for n < len(line) && line[n] >= '0' && line[n] <= '9' {
		n++
	}
	return line[0] == '#' && n > 1 && n < len(line) && line[n] == ' '
}

// goDumpLine reports whether an unindented line belongs to a goroutine
// dump: a goroutine header, a function call line, or one of the runtime's
// notes.
func goDumpLine(line []byte) bool {
	for _, p := range []string{"goroutine ", "created by ", "exit status ", "[signal ", "...additional frames elided...", "PC=", "signal arrived during "} {
		if hasPrefix(line, p) {
			return true
		}
	}
	// main.(*api).order(0xc00012a000, {0x7b1f38, 0xc0001b6000}) or panic({…})
	open := bytes.IndexByte(line, '(')
	return open > 0 && line[len(line)-1] == ')' && bytes.IndexByte(line[:open], ' ') < 0
}

// goFuncName reports whether a line is a bare Go function name as zap
// prints its stack: main.(*handler).charge, net/http.HandlerFunc.ServeHTTP.
func goFuncName(line []byte) bool {
	if !isLetter(line[0]) || bytes.IndexByte(line, '.') < 0 {
		return false
	}
	for _, c := range line {
		if !isAlnum(c) && bytes.IndexByte([]byte("_./*()[]-~"), c) < 0 {
			return false
		}
	}
	return line[len(line)-1] != '.'
}

// closing reports whether a line only closes a bracket opened above it,
// as the end of an error object Node prints after a stack.
func closing(line []byte) bool {
	return len(line) == 1 && (line[0] == '}' || line[0] == ']' || line[0] == ')')
}

// pgFields are the lines PostgreSQL writes after a message's first line.
var pgFields = [][]byte{[]byte("DETAIL"), []byte("HINT"), []byte("STATEMENT"), []byte("CONTEXT"), []byte("QUERY"), []byte("LOCATION")}

// pgPrefixMax bounds where PostgreSQL's severity word is looked for: its
// log_line_prefix (time, pid, user, database) comes before it.
const pgPrefixMax = 120

// pgWord returns the upper-case word that precedes PostgreSQL's ":  "
// (a colon and two spaces) in a line, as in "… [42] ERROR:  …".
func pgWord(line []byte) []byte {
	if len(line) > pgPrefixMax {
		line = line[:pgPrefixMax]
	}
	i := bytes.Index(line, []byte(":  "))
	if i <= 0 {
		return nil
	}
	j := i
	for j > 0 && line[j-1] >= 'A' && line[j-1] <= 'Z' {
		j--
	}
	if j == i || (j > 0 && line[j-1] != ' ') {
		return nil
	}
	return line[j:i]
}

// pgField reports whether a line is a DETAIL, HINT, STATEMENT… line.
func pgField(line []byte) bool {
	w := pgWord(line)
	for _, f := range pgFields {
		if bytes.Equal(w, f) {
			return true
		}
	}
	return false
}
