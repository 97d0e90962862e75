package logs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// lineLog collects "line N" lines from a source, thread-safe.
type lineLog struct {
	mu  sync.Mutex
	got []int
	bad []string
}

func (l *lineLog) sink(_ string, _ time.Time, line []byte, _ int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := strconv.Atoi(strings.TrimPrefix(string(line), "line "))
	if err != nil {
		l.bad = append(l.bad, string(line))
		return
	}
	l.got = append(l.got, n)
}

func (l *lineLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.got)
}

func waitCount(t *testing.T, l *lineLog, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for l.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("received %d of %d lines", l.count(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// followNewFile creates an empty log file and follows it from its start
// until the test ends (or cancel is called).
func followNewFile(t *testing.T) (string, *os.File, *lineLog, context.CancelFunc, <-chan error) {
	path := filepath.Join(t.TempDir(), "app.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	received := &lineLog{}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	followed := make(chan error, 1)
	go func() { followed <- FollowFile(ctx, path, FileOptions{Follow: true, FromStart: true}, received.sink) }()
	return path, f, received, cancel, followed
}

// TestFollowFileAcrossRotationLosesAndRepeatsNoLine writes thousands of
// lines a second to a real file while it is rotated by rename-and-create
// and by copytruncate.
func TestFollowFileAcrossRotationLosesAndRepeatsNoLine(t *testing.T) {
	path, f, received, cancel, followed := followNewFile(t)
	var err error

	written := 0
	write := func(n int) {
		for i := 0; i < n; i++ {
			fmt.Fprintf(f, "line %d\n", written)
			written++
			if written%50 == 0 {
				time.Sleep(5 * time.Millisecond) // about 10,000 lines a second
			}
		}
	}
	write(2000)
	for rotation := 1; rotation <= 3; rotation++ {
		// rename and create, as logrotate does by default
		if err := os.Rename(path, fmt.Sprintf("%s.%d", path, rotation)); err != nil {
			t.Fatal(err)
		}
		write(200) // the writer still has the old file open
		f.Close()
		if f, err = os.Create(path); err != nil {
			t.Fatal(err)
		}
		write(2000)
	}
	// copytruncate: copy what is there, then truncate in place. Lines written
	// between the two are lost by the method itself, so the writer pauses
	// and the reader catches up, as a careful logrotate setup would.
	waitCount(t, received, written)
	data, _ := os.ReadFile(path)
	os.WriteFile(path+".copy", data, 0o644)
	if err := f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	f.Seek(0, 0)
	time.Sleep(200 * time.Millisecond)
	write(2000)
	f.Close()

	waitCount(t, received, written)
	time.Sleep(200 * time.Millisecond) // would-be repeats arrive now
	cancel()
	if err := <-followed; err != nil {
		t.Fatal(err)
	}
	received.mu.Lock()
	defer received.mu.Unlock()
	if len(received.bad) > 0 {
		t.Fatalf("unexpected lines: %q", received.bad[:min(5, len(received.bad))])
	}
	if len(received.got) != written {
		t.Fatalf("received %d lines, wrote %d", len(received.got), written)
	}
	for i, n := range received.got {
		if n != i {
			t.Fatalf("line %d is %d: lost or repeated around there", i, n)
		}
	}
}

func TestFollowFileWithoutFollowReadsWhatIsThere(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	os.WriteFile(path, []byte("line 0\nline 1\nline 2"), 0o644)
	var received lineLog
	if err := FollowFile(context.Background(), path, FileOptions{}, received.sink); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(received.got) != "[0 1 2]" {
		t.Fatalf("got %v", received.got)
	}
	if err := FollowFile(context.Background(), path+".missing", FileOptions{}, received.sink); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing file: %v", err)
	}
}

// TestFollowFileReadsARenamedFileWhileTheNewOneIsEmpty covers logrotate's
// create option: the new file exists, empty, while the writer still
// appends to the renamed one until it reopens its log.
func TestFollowFileReadsARenamedFileWhileTheNewOneIsEmpty(t *testing.T) {
	path, f, received, _, _ := followNewFile(t)
	n := 0
	for ; n < 100; n++ {
		fmt.Fprintf(f, "line %d\n", n)
	}
	waitCount(t, received, n)
	os.Rename(path, path+".1")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for ; n < 200; n++ {
		fmt.Fprintf(f, "line %d\n", n)
	}
	waitCount(t, received, n) // read from the renamed file, before any line reaches the new one
	f.Close()
	f, _ = os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	for ; n < 300; n++ {
		fmt.Fprintf(f, "line %d\n", n)
	}
	f.Close()
	waitCount(t, received, n)
	received.mu.Lock()
	defer received.mu.Unlock()
	for i, v := range received.got {
		if v != i {
			t.Fatalf("line %d is %d", i, v)
		}
	}
}

// TestFollowFileWithoutFollowNeverFailsOnACompleteRead repeats the read
// that used to end with "tomb: still alive" (exit 5) in about one run of
// seven although every line had arrived.
func TestFollowFileWithoutFollowNeverFailsOnACompleteRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	var data []byte
	for i := 0; i < 2000; i++ {
		data = fmt.Appendf(data, "line %d\n", i)
	}
	os.WriteFile(path, data, 0o644)
	for run := 0; run < 200; run++ {
		n := 0
		err := FollowFile(context.Background(), path, FileOptions{}, func(string, time.Time, []byte, int) { n++ })
		if err != nil || n != 2000 {
			t.Fatalf("run %d: %d lines, error %v", run, n, err)
		}
	}
}

func TestFollowFileCutsOverlongLinesAndCountsWhatItCut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	long := strings.Repeat("x", 3*fileReadSize+5)
	os.WriteFile(path, []byte("short\n"+long+"\nafter\nno newline"), 0o644)
	type got struct {
		n   int
		cut int
	}
	var lines []got
	var texts []string
	err := FollowFile(context.Background(), path, FileOptions{}, func(_ string, _ time.Time, l []byte, cut int) {
		lines = append(lines, got{len(l), cut})
		texts = append(texts, string(l[:min(len(l), 10)]))
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []got{{5, 0}, {DefaultMaxLine, len(long) - DefaultMaxLine}, {5, 0}, {10, 0}}
	if fmt.Sprint(lines) != fmt.Sprint(want) || texts[2] != "after" || texts[3] != "no newline" {
		t.Fatalf("lines (length, cut) %v %q, want %v", lines, texts, want)
	}
}

// A directory named as a log file used to be followed in silence forever
// (tail kept reopening it); it is refused at once, followed or not.
func TestFollowFileRefusesADirectory(t *testing.T) {
	dir := t.TempDir()
	for _, follow := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := FollowFile(ctx, dir, FileOptions{Follow: follow}, func(string, time.Time, []byte, int) {})
		cancel()
		if err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Errorf("follow %v: error %v, want one saying it is a directory", follow, err)
		}
	}
}

// TestFollowFileAcrossRapidRotationLosesAndRepeatsNoLine rotates five
// times without pausing for the follower to catch up: the name moves on
// while the follower is still reading the file it left.
func TestFollowFileAcrossRapidRotationLosesAndRepeatsNoLine(t *testing.T) {
	path, f, received, cancel, followed := followNewFile(t)
	var err error
	written := 0
	write := func(n int) {
		for i := 0; i < n; i++ {
			fmt.Fprintf(f, "line %d\n", written)
			written++
		}
	}
	write(2000)
	for rotation := 1; rotation <= 5; rotation++ {
		waitCount(t, received, written-1500) // still reading this file when it is rotated
		if err := os.Rename(path, fmt.Sprintf("%s.%d", path, rotation)); err != nil {
			t.Fatal(err)
		}
		write(500)
		f.Close()
		if f, err = os.Create(path); err != nil {
			t.Fatal(err)
		}
		write(2000)
	}
	f.Close()
	waitCount(t, received, written)
	time.Sleep(500 * time.Millisecond) // would-be repeats arrive now
	cancel()
	if err := <-followed; err != nil {
		t.Fatal(err)
	}
	received.mu.Lock()
	defer received.mu.Unlock()
	if len(received.got) != written {
		t.Fatalf("received %d lines, wrote %d", len(received.got), written)
	}
	for i, n := range received.got {
		if n != i {
			t.Fatalf("line %d is %d: lost or repeated around there", i, n)
		}
	}
}

// A follower used to keep the whole of an unfinished line: a 100 MB line
// written without a newline took 458 MB and 12 s of CPU (each read
// appended to it and scanned it again). What it holds of a line is now
// bounded by the line limit, and the line is still cut and counted.
func TestFollowFileHoldsAtMostALineLimitOfAnUnfinishedLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	long := strings.Repeat("x", 4*fileReadSize+3)
	if err := os.WriteFile(path, []byte("before\n"+long), 0o644); err != nil {
		t.Fatal(err)
	}
	var lines []string
	var cuts []int
	first, err := openInstance(path)
	if err != nil {
		t.Fatal(err)
	}
	ff := &fileFollower{path: path, cur: first, sink: func(_ string, _ time.Time, l []byte, cut int) {
		lines = append(lines, string(l[:min(len(l), 6)]))
		cuts = append(cuts, cut)
	}}
	defer ff.closeAll()
	ff.drain(ff.cur)
	if held := len(ff.cur.partial); held > DefaultMaxLine {
		t.Fatalf("the follower holds %d bytes of the unfinished line, want at most %d", held, DefaultMaxLine)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, "yz\nafter\n")
	f.Close()
	ff.drain(ff.cur)
	want := []int{0, len(long) + 2 - DefaultMaxLine, 0}
	if fmt.Sprint(lines) != "[before xxxxxx after]" || fmt.Sprint(cuts) != fmt.Sprint(want) {
		t.Fatalf("lines %q cut %v, want [before xxxxxx after] cut %v", lines, cuts, want)
	}
}

// A last line without a newline used to stay unseen while the file was
// followed, for as long as its writer added nothing (a prompt, a crash in
// the middle of a write), and was dropped when the follower stopped. It
// is delivered once the file has been quiet for partialWait; what the
// writer adds later comes as a line of its own.
func TestFollowFileDeliversALastLineWithoutNewlineOnceTheFileIsQuiet(t *testing.T) {
	_, f, received, cancel, followed := followNewFile(t)
	fmt.Fprint(f, "line 0\nline 1")
	waitCount(t, received, 2)
	fmt.Fprint(f, "2\nline 3\n")
	waitCount(t, received, 4)
	cancel()
	if err := <-followed; err != nil {
		t.Fatal(err)
	}
	received.mu.Lock()
	defer received.mu.Unlock()
	if fmt.Sprint(received.got) != "[0 1 2 3]" || len(received.bad) > 0 {
		t.Fatalf("lines %v (and %q), want [0 1 2 3]", received.got, received.bad)
	}
}
