package logs

import "bytes"

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
// Python, Celery, nginx, MySQL, Redis…), an HTTP access line's status,
// then whole upper-case level words. A word inside a message whose format
// already gave a level does not override it.
func Classify(line []byte) Level {
	line = bytes.TrimLeft(line, " ")
	if len(line) == 0 {
		return LevelNone
	}
	if line[0] == '{' {
		if l, ok := jsonLevel(line); ok {
			return l
		}
	}
	if l, ok := logfmtLevel(line); ok {
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
	case "ERROR", "ERR", "FATAL", "CRITICAL", "CRIT", "PANIC", "EMERG", "EMERGENCY", "ALERT", "SEVERE", "FAILURE":
		return LevelError, true
	case "WARN", "WARNING":
		return LevelWarn, true
	case "INFO", "NOTICE", "LOG", "INFORMATION":
		return LevelInfo, true
	case "DEBUG", "TRACE", "VERBOSE", "FINE", "FINER", "FINEST", "DBG", "TRC":
		return LevelDebug, true
	}
	return LevelNone, false
}

var jsonKeys = [][]byte{[]byte(`"level"`), []byte(`"lvl"`), []byte(`"severity"`), []byte(`"log.level"`), []byte(`"levelname"`), []byte(`"loglevel"`)}

// jsonLevel reads a level field of a JSON object line, as a name or as a
// pino/bunyan number.
func jsonLevel(line []byte) (Level, bool) {
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

// logfmtLevel reads level=… or lvl=… at the start of the line or after a space.
func logfmtLevel(line []byte) (Level, bool) {
	for _, key := range [][]byte{[]byte("level="), []byte("lvl="), []byte("severity=")} {
		for off := 0; ; {
			i := bytes.Index(line[off:], key)
			if i < 0 {
				break
			}
			i += off
			if i == 0 || line[i-1] == ' ' {
				v := line[i+len(key):]
				if len(v) > 0 && v[0] == '"' {
					v = v[1:]
				}
				end := 0
				for end < len(v) && isAlnum(v[end]) {
					end++
				}
				return levelWord(v[:end])
			}
			off = i + len(key)
		}
	}
	return LevelNone, false
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
	if len(line) > 5 && bytes.IndexByte([]byte("IWEF"), line[0]) >= 0 && isDigits(line[1:5]) {
		return klogLevel(line[0]), true
	}
	// Ruby Logger: E, [2024-… #1]  ERROR -- : …
	if len(line) > 3 && line[1] == ',' && line[2] == ' ' && line[3] == '[' && bytes.IndexByte([]byte("DIWEFA"), line[0]) >= 0 {
		if line[0] == 'D' {
			return LevelDebug, true
		}
		return klogLevel(line[0]), true
	}
	// Python logging's default: ERROR:name:message
	if i := bytes.IndexByte(line, ':'); i > 2 && i < 9 && isUpper(line[:i]) {
		if l, ok := levelWord(line[:i]); ok {
			return l, true
		}
	}
	// A bracketed level near the start: nginx [error], MySQL [ERROR], Celery [… ERROR/MainProcess], env_logger [… ERROR crate]
	if i := bytes.IndexByte(line, '['); i >= 0 && i < 40 {
		rest := line[i+1:]
		end := bytes.IndexByte(rest, ']')
		if end > 0 && end < 80 {
			inside := rest[:end]
			for len(inside) > 0 {
				w, after := nextWord(inside)
				if l, ok := levelWord(w); ok && (isUpper(w) || len(inside) == len(rest[:end])) {
					return l, true
				}
				inside = after
			}
		}
	}
	// Lower-case "error:" as the first word after a timestamp: Go's log, git, many CLIs.
	rest := skipTimestamp(line)
	if n := leadingLetters(rest); n > 0 && n < len(rest) && rest[n] == ':' {
		switch string(rest[:n]) {
		case "error", "err", "fatal", "panic", "critical":
			return LevelError, true
		case "warning", "warn":
			return LevelWarn, true
		}
	}
	// Stack-trace starts: Python tracebacks, Go panics, exceptions (Error: …, ValueError: …).
	if bytes.HasPrefix(line, []byte("Traceback (most recent call last)")) || bytes.HasPrefix(line, []byte("panic: ")) {
		return LevelError, true
	}
	if i := bytes.Index(line, []byte(": ")); i > 0 && bytes.IndexByte(line[:i], ' ') < 0 &&
		(bytes.HasSuffix(line[:i], []byte("Error")) || bytes.HasSuffix(line[:i], []byte("Exception"))) {
		return LevelError, true
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
	i := bytes.Index(line, []byte(" HTTP/"))
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

// wordLevel finds the first upper-case level word anywhere in the line.
func wordLevel(line []byte) Level {
	for rest := line; len(rest) > 0; {
		var w []byte
		w, rest = nextWord(rest)
		if len(w) >= 3 && isUpper(w) {
			if l, ok := levelWord(w); ok {
				return l
			}
		}
	}
	return LevelNone
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
