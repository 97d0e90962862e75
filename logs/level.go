package logs

import (
	"bytes"
	"unicode/utf8"
)

// Level is how severe a log line is.
type Level uint8

// Levels, from "nothing says" up.
const (
	LevelNone Level = iota
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
)

var levelNames = [...]string{"none", "debug", "info", "warn", "error"}

func (l Level) String() string { return levelNames[l] }

// ParseLevel reads a level name as `golive logs` and plans write it.
func ParseLevel(s string) (Level, bool) {
	for i, n := range levelNames {
		if n == s {
			return Level(i), true
		}
	}
	return LevelNone, false
}

// Classify says which level a sanitized line carries. It tries, in order:
// JSON fields, logfmt, a syslog PRI, well-known formats (klog, Ruby,
// Python, .NET, Celery, nginx, Apache, MySQL, the heads of Go, Rust, Java
// and Node crashes…), Redis, an HTTP access line's status, then whole
// upper-case level words (abbreviations such as ERRO, EROR, ERR, WRN
// included). A word inside a message whose format already gave a level
// does not override it. Only a line that says so is an error: a level word
// glued to a name (NO_ERROR, LOG_LEVEL=ERROR, /ERROR/) or named as a
// setting ("log level to ERROR") is not one.
func Classify(line []byte) Level {
	line = bytes.TrimLeft(line, " ")
	if len(line) == 0 {
		return LevelNone
	}
	if line[0] == '{' {
		if l, ok := jsonLevel(line); ok {
			return l
		}
	} else if l, ok := logfmtLevel(line); ok {
		return l
	}
	if line[0] == '<' {
		if l, ok := syslogLevel(line); ok {
			return l
		}
	}
	if l, ok := prefixLevel(line); ok {
		return l
	}
	if l, ok := redisLevel(line); ok {
		return l
	}
	if l, ok := httpStatusLevel(line); ok {
		return l
	}
	return wordLevel(line)
}

// levelWord maps a level word (any case) to its level.
func levelWord(w []byte) (Level, bool) {
	if len(w) < 3 || len(w) > 11 {
		return LevelNone, false
	}
	var buf [11]byte
	for i, c := range w {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(w)]) {
	// Abbreviations: logrus and charmbracelet/log (ERRO FATA PANI DEBU
	// TRAC), log15 and geth (EROR DBUG TRCE), zerolog console (ERR FTL PNC
	// WRN INF DBG TRC), Serilog (VRB), zap (DPANIC).
	case "ERROR", "ERR", "ERRO", "EROR", "FATAL", "FATA", "FATL", "FTL", "CRITICAL", "CRIT",
		"PANIC", "PANI", "PNC", "DPANIC", "EMERG", "EMERGENCY", "ALERT", "SEVERE", "FAILURE":
		return LevelError, true
	case "WARN", "WARNING", "WRN":
		return LevelWarn, true
	case "INFO", "INF", "NOTICE", "NOTE", "LOG", "INFORMATION":
		return LevelInfo, true
	case "DEBUG", "DEBU", "DBUG", "DBG", "TRACE", "TRAC", "TRCE", "TRC", "VERBOSE", "VRB", "FINE", "FINER", "FINEST":
		return LevelDebug, true
	}
	return LevelNone, false
}

var jsonKeys = [][]byte{[]byte(`"level"`), []byte(`"lvl"`), []byte(`"severity"`), []byte(`"log.level"`), []byte(`"levelname"`), []byte(`"loglevel"`), []byte(`"@l"`)}

// jsonLevel reads a level field of a JSON object line, as a name or as a
// pino/bunyan number, or MongoDB's one-letter "s".
func jsonLevel(line []byte) (Level, bool) {
	if hasPrefix(line, `{"t":{"$date"`) {
		if i := bytes.Index(line, []byte(`"s":"`)); i > 0 && i+5 < len(line) {
			switch line[i+5] {
			case 'F', 'E':
				return LevelError, true
			case 'W':
				return LevelWarn, true
			case 'I':
				return LevelInfo, true
			case 'D':
				return LevelDebug, true
			}
		}
	}
	for _, key := range jsonKeys {
		i := bytes.Index(line, key)
		if i < 0 {
			continue
		}
		v := bytes.TrimLeft(line[i+len(key):], " ")
		if len(v) == 0 || v[0] != ':' {
			continue
		}
		v = bytes.TrimLeft(v[1:], " ")
		if len(v) > 0 && v[0] == '"' {
			end := bytes.IndexByte(v[1:], '"')
			if end < 0 {
				continue
			}
			return levelWord(v[1 : 1+end])
		}
		n := 0
		for _, c := range v {
			if c < '0' || c > '9' {
				break
			}
			n = n*10 + int(c-'0')
		}
		switch {
		case n >= 50:
			return LevelError, true
		case n >= 40:
			return LevelWarn, true
		case n >= 30:
			return LevelInfo, true
		case n > 0:
			return LevelDebug, true
		}
	}
	return LevelNone, false
}

// logfmtLevel reads level=…, lvl=… or severity=… at the start of the
// line or after a space.
func logfmtLevel(line []byte) (Level, bool) {
	for off := 0; ; {
		eq := bytes.IndexByte(line[off:], '=')
		if eq < 0 {
			return LevelNone, false
		}
		eq += off
		key := eq
		for key > 0 && line[key-1] >= 'a' && line[key-1] <= 'z' {
			key--
		}
		if key == 0 || line[key-1] == ' ' {
			switch string(line[key:eq]) {
			case "level", "lvl", "severity":
				v := line[eq+1:]
				if len(v) > 0 && v[0] == '"' {
					v = v[1:]
				}
				end := 0
				for end < len(v) && isAlnum(v[end]) {
					end++
				}
				return levelWord(v[:end])
			}
		}
		off = eq + 1
	}
}

// syslogLevel reads a syslog PRI such as <11>: severity is PRI mod 8.
func syslogLevel(line []byte) (Level, bool) {
	n, i := 0, 1
	for ; i < len(line) && i < 5 && line[i] >= '0' && line[i] <= '9'; i++ {
		n = n*10 + int(line[i]-'0')
	}
	if i == 1 || i >= len(line) || line[i] != '>' {
		return LevelNone, false
	}
	switch sev := n % 8; {
	case sev <= 3:
		return LevelError, true
	case sev == 4:
		return LevelWarn, true
	case sev <= 6:
		return LevelInfo, true
	}
	return LevelDebug, true
}

// prefixLevel knows line starts of common formats.
func prefixLevel(line []byte) (Level, bool) {
	// klog: E1128 12:00:00.000000 …
	if len(line) > 9 && bytes.IndexByte([]byte("IWEF"), line[0]) >= 0 && isDigits(line[1:5]) &&
		line[5] == ' ' && isDigits(line[6:8]) && line[8] == ':' {
		return klogLevel(line[0]), true
	}
	// Ruby Logger: E, [2024-… #1]  ERROR -- : …
	if len(line) > 3 && line[1] == ',' && line[2] == ' ' && line[3] == '[' && bytes.IndexByte([]byte("DIWEFA"), line[0]) >= 0 {
		if line[0] == 'D' {
			return LevelDebug, true
		}
		return klogLevel(line[0]), true
	}
	if l, ok := dotnetLevel(line); ok {
		return l, true
	}
	if l, ok := markLevel(line); ok {
		return l, true
	}
	// Python logging's default: ERROR:name:message
	if i := bytes.IndexByte(line[:min(len(line), 9)], ':'); i > 2 && isUpper(line[:i]) {
		if l, ok := levelWord(line[:i]); ok {
			return l, true
		}
	}
	if l, ok := bracketsLevel(line); ok {
		return l, true
	}
	// A lower-case level as the first word after a timestamp: Go's log,
	// winston, git, many CLIs. Go's net/http logs a handler's panic so.
	rest := skipTimestamp(line)
	if n := leadingLetters(rest); n > 0 && n < len(rest) && rest[n] == ':' {
		switch string(rest[:n]) {
		case "error", "err", "fatal", "panic", "critical":
			if !isNilValue(rest[n+1:]) { // err: <nil> says there was none
				return LevelError, true
			}
		case "warning", "warn":
			return LevelWarn, true
		case "info", "notice":
			return LevelInfo, true
		case "debug", "trace", "verbose":
			return LevelDebug, true
		}
	}
	if httpPanic(rest) {
		return LevelError, true
	}
	if f, after := nextField(line); len(f) < 20 && leadingLetters(f) > 0 && httpPanic(skipTimestamp(after)) { // after a log.SetPrefix word
		return LevelError, true
	}
	if crashHead(line) {
		return LevelError, true
	}
	// Exceptions: Error: …, ValueError: …, java.lang.IllegalStateException: …
	if name := exceptionHead(line); name != nil && isExceptionName(name) {
		return LevelError, true
	}
	if l, ok := phpLevel(line); ok {
		return l, true
	}
	if warningName(line) {
		return LevelWarn, true
	}
	return LevelNone, false
}

// httpPanic reports whether a line (after its timestamp) is Go's net/http
// or x/net/http2 reporting a handler's panic.
func httpPanic(rest []byte) bool {
	return hasPrefix(rest, "http: panic serving ") || hasPrefix(rest, "http2: panic serving ")
}

// isNilValue reports whether a field's value says there is nothing: <nil>, nil, null, none.
func isNilValue(v []byte) bool {
	switch string(bytes.TrimSpace(v)) {
	case "<nil>", "nil", "null", "none", "None":
		return true
	}
	return false
}

// marks are the line starts markLevel knows.
var marks = []struct {
	prefix string
	level  Level
}{
	{"⨯ ", LevelError}, {"✖ ", LevelError}, {"✗ ", LevelError}, {"❌ ", LevelError}, {"⚠ ", LevelWarn},
	{"Internal Server Error: ", LevelError}, {"Not Found: ", LevelWarn}, {"Bad Request: ", LevelWarn},
}

// markLevel reads the markers that CLIs and dev servers put first: yarn's
// "error Command failed…", Next.js's " ⨯ Error: …" and " ⚠ …", Django's
// "Internal Server Error: /path".
func markLevel(line []byte) (Level, bool) {
	if c := line[0]; c < utf8.RuneSelf && c != 'I' && c != 'N' && c != 'B' && c != 'e' && c != 'w' && c != 'i' {
		return LevelNone, false
	}
	for _, m := range marks {
		if hasPrefix(line, m.prefix) {
			return m.level, true
		}
	}
	// yarn: a lower-case level word, a space, then a sentence (a warning
	// may start with a package name).
	if n := leadingLetters(line); n+1 < len(line) && line[n] == ' ' && line[n+1] != ' ' {
		sentence := line[n+1] >= 'A' && line[n+1] <= 'Z'
		switch string(line[:n]) {
		case "error":
			if sentence {
				return LevelError, true
			}
		case "warning":
			return LevelWarn, true
		case "info":
			if sentence {
				return LevelInfo, true
			}
		}
	}
	return LevelNone, false
}

// phpLevel reads PHP's own messages, alone or after a bracketed date:
// "[25-Nov-2026 23:10:28 UTC] PHP Fatal error:  Uncaught …".
func phpLevel(line []byte) (Level, bool) {
	if line[0] == '[' {
		if end := bytes.IndexByte(line, ']'); end > 0 {
			line = bytes.TrimLeft(line[end+1:], " ")
		}
	}
	if !hasPrefix(line, "PHP ") {
		return LevelNone, false
	}
	rest := line[len("PHP "):]
	for _, m := range []struct {
		prefix string
		level  Level
	}{
		{"Fatal error:", LevelError}, {"Parse error:", LevelError}, {"Recoverable fatal error:", LevelError},
		{"Warning:", LevelWarn}, {"Deprecated:", LevelWarn}, {"Notice:", LevelInfo},
	} {
		if hasPrefix(rest, m.prefix) {
			return m.level, true
		}
	}
	return LevelNone, false
}

// warningName reports whether one of a line's first fields names a
// warning's type, as Python's warnings and Node print them:
// "/app/clock.py:12: DeprecationWarning: …", "(node:1) [DEP0040] DeprecationWarning: …".
func warningName(line []byte) bool {
	rest := line
	if len(rest) > 120 {
		rest = rest[:120]
	}
	if !bytes.Contains(rest, []byte("Warning:")) {
		return false
	}
	for n := 0; n < 4 && len(rest) > 0; n++ {
		var f []byte
		f, rest = nextField(rest)
		if len(f) > len("Warning:") && f[0] >= 'A' && f[0] <= 'Z' && bytes.HasSuffix(f, []byte("Warning:")) {
			return true
		}
	}
	return false
}

// exceptionHead returns what precedes the ": " that ends a line's first
// word (or its first word and a bracketed code, as Node's Error
// [ERR_X]: …), or nil.
func exceptionHead(line []byte) []byte {
	sp := bytes.IndexByte(line, ' ')
	switch {
	case sp > 1 && line[sp-1] == ':':
		return line[:sp-1]
	case sp > 0 && sp+1 < len(line) && line[sp+1] == '[':
		if end := bytes.Index(line[sp:], []byte("]: ")); end > 0 {
			return line[:sp+end+1]
		}
	}
	return nil
}

// crashHead reports whether a line starts a crash report: a Python
// traceback, a Go panic or fatal error, a Rust panic, an uncaught Java
// exception, Node's "file:line" above an uncaught exception, an Elixir
// exception, or a qualified exception name alone.
func crashHead(line []byte) bool {
	if bytes.IndexByte(line, ' ') < 0 {
		return nodeCrashHead(line) || (bytes.IndexByte(line, '.') > 0 && isExceptionName(line))
	}
	switch {
	case hasPrefix(line, "Traceback (most recent call last)"),
		hasPrefix(line, "panic: "),
		hasPrefix(line, "fatal error: "),
		hasPrefix(line, "Exception in thread \""):
		return true
	case hasPrefix(line, "thread '"):
		return bytes.Contains(line, []byte(" panicked at "))
	case hasPrefix(line, "** ("):
		end := bytes.IndexByte(line, ')')
		return end > 4 && isExceptionName(line[4:end])
	}
	return false
}

// nodeCrashHead reports whether a line is the "where" line Node prints
// above an uncaught exception: /app/src/orders.js:42 or
// node:internal/process/promises:391.
func nodeCrashHead(line []byte) bool {
	if len(line) < 4 || bytes.IndexByte(line, ' ') >= 0 {
		return false
	}
	colon := bytes.LastIndexByte(line, ':')
	if colon <= 0 || !isDigits(line[colon+1:]) {
		return false
	}
	file := line[:colon]
	if hasPrefix(file, "node:") {
		return true
	}
	if file[0] != '/' && !hasPrefix(file, "file:///") {
		return false
	}
	for _, ext := range [][]byte{[]byte(".js"), []byte(".mjs"), []byte(".cjs"), []byte(".ts")} {
		if bytes.HasSuffix(file, ext) {
			return true
		}
	}
	return false
}

// isExceptionName reports whether name is an exception's type: Error,
// ValueError, java.lang.IllegalStateException, Error [ERR_MODULE_NOT_FOUND].
// A field named lastError or retryOnError is not one.
func isExceptionName(name []byte) bool {
	if sp := bytes.IndexByte(name, ' '); sp > 0 && sp+1 < len(name) && name[sp+1] == '[' && name[len(name)-1] == ']' &&
		bytes.IndexByte(name[sp+1:], ' ') < 0 {
		name = name[:sp] // Node's error code
	}
	if len(name) == 0 || bytes.IndexByte(name, ' ') >= 0 || bytes.IndexByte(name, '\t') >= 0 {
		return false
	}
	last := name[bytes.LastIndexByte(name, '.')+1:]
	if len(last) == 0 || last[0] < 'A' || last[0] > 'Z' {
		return false
	}
	return bytes.HasSuffix(last, []byte("Error")) || bytes.HasSuffix(last, []byte("Exception"))
}

// dotnetLevel reads the .NET console logger's "fail: Category[EventId]".
func dotnetLevel(line []byte) (Level, bool) {
	if len(line) < 8 || line[4] != ':' || line[5] != ' ' || line[len(line)-1] != ']' || bytes.IndexByte(line[6:], ' ') >= 0 {
		return LevelNone, false
	}
	switch string(line[:4]) {
	case "fail", "crit":
		return LevelError, true
	case "warn":
		return LevelWarn, true
	case "info":
		return LevelInfo, true
	case "dbug", "trce":
		return LevelDebug, true
	}
	return LevelNone, false
}

// bracketsLevel reads a bracketed level among the first brackets of a
// line: nginx [error], MySQL [ERROR], Apache [proxy:error], structlog
// [info     ], Serilog [10:00:00 ERR], Celery [… ERROR/MainProcess],
// env_logger [… ERROR crate].
func bracketsLevel(line []byte) (Level, bool) {
	off := 0
	for n := 0; n < 3; n++ {
		i := bytes.IndexByte(line[off:], '[')
		if i < 0 || off+i >= 80 {
			break
		}
		rest := line[off+i+1:]
		end := bytes.IndexByte(rest, ']')
		if end < 0 || end >= 80 {
			break
		}
		if l, ok := bracketLevel(bytes.TrimRight(rest[:end], " ")); ok {
			return l, true
		}
		off += i + 1 + end + 1
	}
	return LevelNone, false
}

// bracketLevel finds a level in one bracket's content: an upper-case
// level word anywhere, or a level word of any case that is the whole
// content or follows a module name and a colon (a trailing number, as in
// Apache's trace1, is allowed).
func bracketLevel(inside []byte) (Level, bool) {
	for i := 0; i < len(inside); {
		if !isLetter(inside[i]) {
			i++
			continue
		}
		j := i
		for j < len(inside) && isLetter(inside[j]) {
			j++
		}
		w := inside[i:j]
		k := j
		for k < len(inside) && inside[k] >= '0' && inside[k] <= '9' {
			k++
		}
		glued := (i > 0 && inside[i-1] == '_') || (j < len(inside) && inside[j] == '_')
		whole := k == len(inside) && (i == 0 || inside[i-1] == ':')
		if !glued && (isUpper(w) || whole) {
			if l, ok := levelWord(w); ok {
				return l, true
			}
		}
		i = j
	}
	return LevelNone, false
}

func klogLevel(c byte) Level {
	switch c {
	case 'E', 'F', 'A':
		return LevelError
	case 'W':
		return LevelWarn
	}
	return LevelInfo
}

// redisLevel reads Redis's "pid:role dd Mon yyyy hh:mm:ss.mmm X message"
// where X is . (debug), - (verbose), * (notice) or # (warning).
func redisLevel(line []byte) (Level, bool) {
	i := 0
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	if i == 0 || i+3 > len(line) || line[i] != ':' || bytes.IndexByte([]byte("MSCX"), line[i+1]) < 0 || line[i+2] != ' ' {
		return LevelNone, false
	}
	rest := line[i+3:]
	for k := 0; k < 4; k++ { // day, month, year, time
		_, rest = nextField(rest)
	}
	sym, _ := nextField(rest)
	if len(sym) != 1 {
		return LevelNone, false
	}
	switch sym[0] {
	case '#':
		return LevelWarn, true
	case '*':
		return LevelInfo, true
	case '.', '-':
		return LevelDebug, true
	}
	return LevelNone, false
}

// httpStatusLevel reads the status of an access log line: "GET / HTTP/1.1" 503.
func httpStatusLevel(line []byte) (Level, bool) {
	i := indexHTTP(line)
	if i < 0 {
		return LevelNone, false
	}
	rest := line[i+6:]
	q := bytes.IndexByte(rest, '"')
	if q < 0 || q > 5 {
		return LevelNone, false
	}
	rest = bytes.TrimLeft(rest[q+1:], " ")
	if len(rest) < 3 || !isDigits(rest[:3]) || (len(rest) > 3 && rest[3] != ' ') {
		return LevelNone, false
	}
	switch rest[0] {
	case '5':
		return LevelError, true
	case '4':
		return LevelWarn, true
	}
	return LevelInfo, true
}

// indexHTTP is the index of the first " HTTP/" in line, or -1. It looks
// for "HTTP/" and then the space: a search led by the rarer 'H' runs
// through the line at once, where one led by a space stops at each word.
func indexHTTP(line []byte) int {
	for off := 1; off < len(line); {
		i := bytes.Index(line[off:], []byte("HTTP/"))
		if i < 0 {
			return -1
		}
		if line[off+i-1] == ' ' {
			return off + i - 1
		}
		off += i + 1
	}
	return -1
}

// wordLevel finds the first upper-case level word anywhere in the line
// that stands on its own: not glued to a name or a path (NO_ERROR,
// ERROR_COUNT, /ERROR/, log.ERROR), not a key or a value (ERROR=0,
// LOG_LEVEL=ERROR), and not a level being named ("log level to ERROR").
func wordLevel(line []byte) Level {
	for i := 0; i < len(line); i++ {
		// Only an upper-case letter that starts a word can start a level
		// word: the loop does no more for other bytes.
		if line[i]-'A' > 'Z'-'A' || (i > 0 && isLetter(line[i-1])) {
			continue
		}
		j := i + 1
		for j < len(line) && line[j]-'A' <= 'Z'-'A' {
			j++
		}
		if j < len(line) && isLetter(line[j]) {
			i = j // the word goes on in lower case
			continue
		}
		if j-i >= 3 && standsAlone(line, i, j) {
			prev1, start := wordBefore(line, i)
			prev2, _ := wordBefore(line, start)
			if !namesLevel(prev1) && !namesLevel(prev2) {
				if l, ok := levelWord(line[i:j]); ok {
					return l
				}
			}
		}
		i = j
	}
	return LevelNone
}

// wordBefore returns the last run of letters in line[:i] and where it starts.
func wordBefore(line []byte, i int) ([]byte, int) {
	end := i
	for end > 0 && !isLetter(line[end-1]) {
		end--
	}
	start := end
	for start > 0 && isLetter(line[start-1]) {
		start--
	}
	return line[start:end], start
}

// standsAlone reports whether line[i:j] is a word of its own rather than
// part of a name, path, number or key=value pair.
func standsAlone(line []byte, i, j int) bool {
	if i > 0 {
		switch c := line[i-1]; {
		case c == '.' && j < len(line) && line[j] == ':':
			// Monolog's channel.LEVEL: (production.ERROR:, php.WARNING:)
		case c >= '0' && c <= '9', c == '_', c == '.', c == '/', c == '=', c == '-', c == '\\', c == '$', c == '@', c == '#':
			return false
		}
	}
	if j < len(line) {
		switch c := line[j]; {
		case c == '_', c == '=':
			return false
		case (c == '.' || c == '-' || c == '/') && j+1 < len(line) && isAlnum(line[j+1]):
			return false
		}
	}
	return true
}

// namesLevel reports whether a word is "level" (LEVEL, loglevel…): the
// words after it name a level rather than have one.
func namesLevel(w []byte) bool {
	const level = "level"
	if len(w) < len(level) {
		return false
	}
	for k, c := range w[len(w)-len(level):] {
		if c|0x20 != level[k] {
			return false
		}
	}
	return true
}

// nextWord returns the first run of letters in b and what follows it.
func nextWord(b []byte) ([]byte, []byte) {
	i := 0
	for i < len(b) && !isLetter(b[i]) {
		i++
	}
	j := i
	for j < len(b) && isLetter(b[j]) {
		j++
	}
	return b[i:j], b[j:]
}

// nextField returns the first space-separated field and what follows it.
func nextField(b []byte) ([]byte, []byte) {
	b = bytes.TrimLeft(b, " ")
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return b, nil
	}
	return b[:i], b[i:]
}

// skipTimestamp skips leading fields made of digits and date punctuation.
func skipTimestamp(b []byte) []byte {
	for {
		f, rest := nextField(b)
		if len(f) == 0 || !isDateLike(f) {
			return bytes.TrimLeft(b, " ")
		}
		b = rest
	}
}

func isDateLike(f []byte) bool {
	digits := 0
	for _, c := range f {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '-' || c == ':' || c == '.' || c == '/' || c == 'T' || c == 'Z' || c == '+' || c == ',':
		default:
			return false
		}
	}
	return digits >= 2
}

func leadingLetters(b []byte) int {
	n := 0
	for n < len(b) && isLetter(b[n]) {
		n++
	}
	return n
}

// hasPrefix is bytes.HasPrefix for a literal prefix: its first byte,
// compared inline, turns most lines away before a comparison call.
func hasPrefix(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && b[0] == prefix[0] && string(b[:len(prefix)]) == prefix
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isAlnum(c byte) bool  { return isLetter(c) || (c >= '0' && c <= '9') }

func isUpper(b []byte) bool {
	for _, c := range b {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return len(b) > 0
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}
