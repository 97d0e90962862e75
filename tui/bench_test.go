package tui

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/colorprofile"

	tea "charm.land/bubbletea/v2"

	"github.com/golive/golive/logs"
)

// fill adds n realistic lines from two sources to buf.
func fill(buf *logs.Buffer, n int, from time.Time) {
	api := logs.NewIngester("api", buf, nil, 0)
	web := logs.NewIngester("web", buf, nil, 0)
	for i := 0; i < n; i++ {
		t := from.Add(time.Duration(i) * time.Microsecond)
		if i%2 == 0 {
			api.Add("stdout", t, fmt.Appendf(nil, `time=%s level=info msg="request method=GET path=/api/orders/%d status=200 duration_ms=12" seq=%d`, t.Format(time.RFC3339Nano), i, i), 0)
		} else if i%97 == 0 {
			web.Add("stdout", t, fmt.Appendf(nil, `level=error msg="upstream api returned 502 for GET /checkout" seq=%d`, i), 0)
		} else {
			web.Add("stdout", t, fmt.Appendf(nil, `127.0.0.1 - - [25/Nov/2026:21:29:50 +0000] "GET /product/%d HTTP/1.1" 200 5123`, i), 0)
		}
	}
}

// bigModel is a ready cockpit at 160×48 over a buffer of 100,000 lines.
func bigModel(b *testing.B) Model {
	m, _, _ := newTestModel(b, testPlan, false)
	buf := logs.NewBuffer(50000)
	fill(buf, 100000, clock)
	m.cfg.Logs, m.logs = buf, newLogView(buf, m.plan)
	return send(m, tea.WindowSizeMsg{Width: 160, Height: 48}, opDoneMsg{op: opPreload})
}

// BenchmarkFrame160x48 renders one full frame with a 100,000-line buffer.
// Target: under 2 ms.
func BenchmarkFrame160x48(b *testing.B) {
	m := bigModel(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = m.View()
	}
}

// BenchmarkFrame160x48Filtered is the same with a substring filter that
// keeps few lines, so the view reads far into the buffer.
func BenchmarkFrame160x48Filtered(b *testing.B) {
	m := bigModel(b)
	m.logs.filter = "502"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = m.View()
	}
}

// countingWriter counts the bytes the program writes, and notes when
// given texts first appear in them.
type countingWriter struct {
	mu    sync.Mutex
	n     atomic.Int64
	watch map[string]chan struct{}
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	w.mu.Lock()
	for s, seen := range w.watch {
		if bytes.Contains(p, []byte(s)) {
			delete(w.watch, s)
			close(seen)
		}
	}
	w.mu.Unlock()
	return len(p), nil
}

func (w *countingWriter) expect(s string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.watch == nil {
		w.watch = map[string]chan struct{}{}
	}
	seen := make(chan struct{})
	w.watch[s] = seen
	return seen
}

// floodLine is one of the lines a flooding service prints: mostly info,
// some warnings and errors, so the screen carries colours as it would.
func floodLine(i int) []byte {
	switch {
	case i%50 == 0:
		return fmt.Appendf(nil, `level=error msg="upstream api returned 502 for GET /checkout" trace_id=4bf92f3577b34da6 seq=%d`, i)
	case i%20 == 0:
		return fmt.Appendf(nil, `level=warn msg="slow query took 1843ms for customer 88123" seq=%d`, i)
	}
	return fmt.Appendf(nil, `level=info msg="request method=GET path=/api/orders/%d status=200 duration_ms=12" seq=%d`, i, i)
}

// BenchmarkFlood runs the real program and renderer, as the cockpit runs
// in tmux over SSH (TERM=tmux-256color, 256 colours, 160×48), while 20,000
// log lines a second arrive from two services (in bursts of 850 ms). It reports the bytes
// written to the terminal per second (over SSH, bandwidth is the budget),
// the CPU the process used (ingestion included), the latency from a key
// press to its effect on the terminal, the longest a new line waited to
// reach the terminal, and the heap after the flood.
func BenchmarkFlood(b *testing.B) {
	for i := 0; i < b.N; i++ {
		m, _, _ := newTestModel(b, testPlan, false)
		buf := logs.NewBuffer(0)
		m.cfg.Logs, m.logs = buf, newLogView(buf, m.plan)
		m = send(m, preloaded, opDoneMsg{op: opPreload})
		m.running = ""
		out := &countingWriter{}
		p := tea.NewProgram(m, tea.WithInput(nil), tea.WithOutput(out), tea.WithWindowSize(160, 48), tea.WithoutSignals(),
			tea.WithEnvironment([]string{"TERM=tmux-256color"}), tea.WithColorProfile(colorprofile.ANSI256))
		done := make(chan struct{})
		go func() { p.Run(); close(done) }()

		const rate, seconds = 20000, 3
		ins := []*logs.Ingester{logs.NewIngester("api", buf, nil, 0), logs.NewIngester("web", buf, nil, 0)}
		time.Sleep(100 * time.Millisecond) // the first frame
		start := time.Now()
		cpu0 := cpuTime()
		var latency, lag time.Duration
		var probes sync.WaitGroup
		// 100 batches a second; each second ends with 150 ms without lines
		// and a probe line, whose way to the terminal is timed: the last
		// line of a flood must not wait for the next one.
		n := 0
		for s := 0; s < seconds*100; s++ {
			switch {
			case s%100 < 85:
				for k := 0; k < rate/85; k++ {
					ins[n%2].Add("stdout", time.Now(), floodLine(n), 0)
					n++
				}
			case s%100 == 85:
				mark := fmt.Sprintf("probe%c%c", 'A'+s/100, 'K'+s/100)
				seen := out.expect(mark)
				sent := time.Now()
				ins[0].Add("stdout", sent, []byte("level=info msg="+mark), 0)
				probes.Add(1)
				go func() {
					defer probes.Done()
					select {
					case <-seen:
						if d := time.Since(sent); d > lag {
							lag = d
						}
					case <-time.After(time.Second):
						lag = time.Second
					}
				}()
			}
			switch s {
			case seconds * 50:
				seen := out.expect("errors only")
				pressed := time.Now()
				p.Send(press("x"))
				probes.Add(1)
				go func() { defer probes.Done(); <-seen; latency = time.Since(pressed) }()
			case seconds*50 + 20:
				p.Send(press("x"))
			}
			time.Sleep(time.Until(start.Add(time.Duration(s+1) * 10 * time.Millisecond)))
		}
		elapsed := time.Since(start)
		used := cpuTime() - cpu0
		probes.Wait()
		p.Quit()
		<-done
		m.cfg.Bridge.Close()
		b.ReportMetric(float64(out.n.Load())/elapsed.Seconds(), "term-bytes/s")
		b.ReportMetric(100*used.Seconds()/elapsed.Seconds(), "cpu-%")
		b.ReportMetric(float64(latency.Milliseconds()), "key-ms")
		b.ReportMetric(float64(lag.Milliseconds()), "newest-line-ms")
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
	}
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
