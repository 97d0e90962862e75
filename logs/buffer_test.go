package logs

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func texts(lines []Line) string {
	var s []string
	for _, l := range lines {
		if l.Dropped > 0 {
			s = append(s, fmt.Sprintf("<%d dropped>", l.Dropped))
			continue
		}
		s = append(s, l.Text)
	}
	return strings.Join(s, " ")
}

func TestBufferKeepsTheNewestLinesOfEachSourceInTimeOrder(t *testing.T) {
	b := NewBuffer(3)
	b.Append("api", "stdout", t0.Add(1*time.Second), LevelInfo, false, []byte("a1"))
	b.Append("web", "stdout", t0.Add(2*time.Second), LevelInfo, false, []byte("w2"))
	b.Append("api", "stdout", t0.Add(3*time.Second), LevelError, false, []byte("a3"))
	// A late line sorts in by time.
	b.Append("web", "stdout", t0.Add(500*time.Millisecond), LevelInfo, false, []byte("w0"))
	if got := texts(b.Window(0, 10, nil)); got != "w0 a1 w2 a3" {
		t.Fatalf("merged view = %s", got)
	}
	// A chatty source pushes out only its own lines.
	for i := 4; i < 10; i++ {
		b.Append("api", "stdout", t0.Add(time.Duration(i)*time.Second), LevelInfo, false, []byte(fmt.Sprintf("a%d", i)))
	}
	if got := texts(b.Window(0, 10, nil)); got != "w0 w2 a7 a8 a9" {
		t.Fatalf("after a flood = %s", got)
	}
	if b.Len() != 5 {
		t.Fatalf("Len = %d", b.Len())
	}
	if got := texts(b.Window(1, 2, nil)); got != "a7 a8" {
		t.Fatalf("window at offset 1 = %s", got)
	}
}

func TestFilterSearchAndErrorNavigation(t *testing.T) {
	b := NewBuffer(100)
	for i, s := range []string{"INFO start", "ERROR db down", "INFO retry", "WARN slow", "ERROR db down again", "INFO ok"} {
		b.Append("api", "stdout", t0.Add(time.Duration(i)*time.Second), Classify([]byte(s)), false, []byte(s))
	}
	tests := []struct {
		name string
		f    *Filter
		want string
	}{
		{"errors only", &Filter{MinLevel: LevelError}, "ERROR db down ERROR db down again"},
		{"substring", &Filter{Text: "db"}, "ERROR db down ERROR db down again"},
		{"inverted substring", &Filter{Text: "db", Invert: true}, "INFO start INFO retry WARN slow INFO ok"},
		{"regexp", &Filter{Regexp: regexp.MustCompile(`^(WARN|INFO) (s|r)`)}, "INFO start INFO retry WARN slow"},
		{"other source", &Filter{Source: "web"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := texts(b.Window(0, 10, tt.f)); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	errs := &Filter{MinLevel: LevelError}
	off, ok := b.Find(0, nil, errs, true) // previous error from the newest line
	if !ok || off != 1 {
		t.Fatalf("previous error at %d %v", off, ok)
	}
	off, ok = b.Find(off, nil, errs, true)
	if !ok || off != 4 {
		t.Fatalf("the error before that at %d %v", off, ok)
	}
	if _, ok = b.Find(off, nil, errs, true); ok {
		t.Fatal("found an error older than the oldest")
	}
	if off, ok = b.Find(4, nil, errs, false); !ok || off != 1 {
		t.Fatalf("next error at %d %v", off, ok)
	}
	if b.Count(errs) != 2 || b.Counts().Total("api", LevelError) != 2 {
		t.Fatal("counts")
	}
}

func TestSlowSubscriberGetsAMarkerWhereLinesWereLost(t *testing.T) {
	b := NewBuffer(100)
	sub := b.Subscribe(2)
	for i := 0; i < 6; i++ {
		b.Append("api", "stdout", t0, LevelInfo, false, []byte(fmt.Sprint(i)))
	}
	var got []Line
	got = append(got, <-sub.C, <-sub.C)
	b.Append("api", "stdout", t0, LevelInfo, false, []byte("6"))
	b.Append("api", "stdout", t0, LevelInfo, false, []byte("7"))
	sub.Close()
	for l := range sub.C {
		got = append(got, l)
	}
	if s := texts(got); s != "0 1 <4 dropped> 6" {
		t.Fatalf("subscriber saw %s", s)
	}
}

func TestCountsKeepRatesPerSecondAndMinute(t *testing.T) {
	c := NewCounts()
	c.Add("api", LevelError, t0)
	c.Add("api", LevelError, t0.Add(2*time.Second))
	c.Add("api", LevelError, t0.Add(2*time.Second))
	c.Add("web", LevelError, t0.Add(61*time.Second))
	if got := fmt.Sprint(c.PerSecond("api", LevelError, t0.Add(3*time.Second), 4)); got != "[1 0 2 0]" {
		t.Fatalf("per second = %s", got)
	}
	if got := fmt.Sprint(c.PerMinute("", LevelError, t0.Add(90*time.Second), 2)); got != "[3 1]" {
		t.Fatalf("per minute = %s", got)
	}
	// A bucket reused after the history wrapped starts from zero.
	c.Add("api", LevelError, t0.Add(SecondsKept*time.Second))
	if got := fmt.Sprint(c.PerSecond("api", LevelError, t0.Add(SecondsKept*time.Second), 1)); got != "[1]" {
		t.Fatalf("wrapped bucket = %s", got)
	}
}

func TestLineReaderCutsAHugeLineWithoutHoldingIt(t *testing.T) {
	huge := bytes.Repeat([]byte("x"), 10<<20)
	in := append(append([]byte("before\n"), huge...), []byte("\nafter")...)
	lr := NewLineReader(bytes.NewReader(in), 1024)
	var got []string
	for {
		line, cut, err := lr.Next()
		if err != nil {
			break
		}
		got = append(got, fmt.Sprintf("%d+%d", len(line), cut))
	}
	if s := strings.Join(got, " "); s != "6+0 1024+10484736 5+0" {
		t.Fatalf("lines = %s", s)
	}
	if cap(lr.buf) > 64<<10 {
		t.Fatalf("the reader held %d bytes", cap(lr.buf))
	}
}

func TestIngesterGroupsPerStreamAndAppliesPlanPatterns(t *testing.T) {
	b := NewBuffer(100)
	p, err := CompilePatterns([]string{`Unknown column`}, []string{`deprecated`})
	if err != nil {
		t.Fatal(err)
	}
	in := NewIngester("api", b, p, 0)
	in.Add("stdout", t0, []byte(`level=info msg="query failed: Unknown column 'x'"`), 0)
	in.Add("stdout", t0, []byte("using deprecated API"), 0)
	in.Add("stderr", t0, []byte("\x1b[31mpanic: boom\x1b[0m"), 0)
	in.Add("stdout", t0, []byte("next"), 0)
	in.Add("stderr", t0, []byte("goroutine 1 [running]:"), 0)
	in.Add("stdout", t0, []byte("long"), 70)
	var got []string
	for _, l := range b.Window(0, 10, nil) {
		got = append(got, fmt.Sprintf("%s/%s/%v:%s", l.Stream, l.Level, l.Cont, l.Text))
	}
	want := "stdout/error/false:level=info msg=\"query failed: Unknown column 'x'\" | stdout/warn/false:using deprecated API | stderr/error/false:panic: boom | stdout/none/false:next | stderr/error/true:goroutine 1 [running]: | stdout/none/false:long … [cut 70 bytes]"
	if s := strings.Join(got, " | "); s != want {
		t.Fatalf("got  %s\nwant %s", s, want)
	}
}
