package tui

// How the log view shows times (t cycles through them).
type timeMode int

const (
	timesShort  timeMode = iota // timestamps inside lines shortened to 23:01:28.77
	timesColumn                 // timestamps inside lines hidden; Docker's time in a column
	timesLogged                 // lines exactly as logged
)

func (t timeMode) next() timeMode { return (t + 1) % 3 }

func (t timeMode) String() string {
	return [...]string{"times short", "time column", "times as logged"}[t]
}

// rewriteTimes shortens each RFC 3339 or ISO 8601 timestamp in a log line
// (2026-11-26T23:01:28.771Z, 2026-11-26 23:01:28,771+01:00) to its clock
// time with hundredths (23:01:28.77), or, with hide, removes it together
// with a key= right before it and a space after it. A byte scan: lines
// without a date are returned as they are, without allocating.
func rewriteTimes(s string, hide bool) string {
	var out []byte
	last, changed := 0, false
	for i := 0; i+19 <= len(s); i++ {
		if !digit(s[i]) || (i > 0 && digit(s[i-1])) {
			continue
		}
		end, clock := timestampAt(s, i)
		if end < 0 {
			continue
		}
		start := i
		if hide {
			if k := keyBefore(s, i); k >= last {
				start = k
			}
			if i > 0 && s[i-1] == '"' && end < len(s) && s[end] == '"' {
				end++
			}
			if end < len(s) && (s[end] == ' ' || s[end] == ',') {
				end++
			}
		}
		changed = true
		out = append(out, s[last:start]...)
		if !hide {
			out = append(out, clock...)
		}
		last, i = end, end-1
	}
	if !changed {
		return s
	}
	return string(append(out, s[last:]...))
}

// timestampAt reads a timestamp starting at i: where it ends and its
// short clock form, or -1.
func timestampAt(s string, i int) (int, string) {
	const shape = "dddd-dd-dd_dd:dd:dd"
	for j := range len(shape) {
		c := s[i+j]
		switch shape[j] {
		case 'd':
			if !digit(c) {
				return -1, ""
			}
		case '_':
			if c != 'T' && c != ' ' {
				return -1, ""
			}
		default:
			if c != shape[j] {
				return -1, ""
			}
		}
	}
	end := i + len(shape)
	clock := s[i+11 : end]
	if end+1 < len(s) && (s[end] == '.' || s[end] == ',') && digit(s[end+1]) {
		frac := end + 1
		for end = frac; end < len(s) && digit(s[end]); end++ {
		}
		clock += "." + s[frac:min(frac+2, end)]
	}
	switch {
	case end < len(s) && s[end] == 'Z':
		end++
	case end+2 < len(s) && (s[end] == '+' || s[end] == '-') && digit(s[end+1]) && digit(s[end+2]):
		z := end + 3
		if z < len(s) && s[z] == ':' {
			z++
		}
		if z+1 < len(s) && digit(s[z]) && digit(s[z+1]) {
			end = z + 2
		}
	}
	return end, clock
}

// keyBefore is where a key= (or "key":") right before position i starts, or -1.
func keyBefore(s string, i int) int {
	j := i
	if j > 0 && s[j-1] == '"' {
		j--
	}
	if j == 0 || (s[j-1] != '=' && s[j-1] != ':') {
		return -1
	}
	j--
	if j > 0 && s[j-1] == '"' {
		j--
	}
	k := j
	for k > 0 && (letter(s[k-1]) || s[k-1] == '_' || s[k-1] == '@') {
		k--
	}
	if k == j {
		return -1
	}
	if k > 0 && s[k-1] == '"' {
		k--
	}
	return k
}

func digit(c byte) bool  { return c >= '0' && c <= '9' }
func letter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
