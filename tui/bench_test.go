package tui

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// countingWriter counts the bytes the program writes, and notes when a
// given text first appears in them.
type countingWriter struct {
	mu    sync.Mutex
	n     atomic.Int64
	watch []byte
	seen  chan struct{}
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	w.mu.Lock()
	if w.watch != nil && bytes.Contains(p, w.watch) {
		w.watch = nil
		close(w.seen)
	}
	w.mu.Unlock()
	return len(p), nil
}

func (w *countingWriter) expect(s string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.watch, w.seen = []byte(s), make(chan struct{})
	return w.seen
}

// BenchmarkFlood runs the real program and renderer while 20,000 log
// lines a second arrive, and reports the bytes written to the terminal per
// second (over SSH, bandwidth is the budget), the latency from a key press
// to its effect on the terminal, and the heap after the flood.
func BenchmarkFlood(b *testing.B) {
	for i := 0; i < b.N; i++ {
		m, _, _ := newTestModel(b, testPlan, false)
		buf := logs.NewBuffer(0)
		m.cfg.Logs, m.logs = buf, newLogView(buf, m.plan)
		m = send(m, preloaded, opDoneMsg{op: opPreload})
		m.running = ""
		out := &countingWriter{}
		p := tea.NewProgram(m, tea.WithInput(nil), tea.WithOutput(out), tea.WithWindowSize(160, 48), tea.WithoutSignals())
		done := make(chan struct{})
		go func() { p.Run(); close(done) }()

		const rate, seconds = 20000, 3
		api := logs.NewIngester("api", buf, nil, 0)
		start := time.Now()
		var latency time.Duration
		for s := 0; s < seconds*100; s++ { // 100 batches a second
			for k := 0; k < rate/100; k++ {
				api.Add("stdout", time.Now(), fmt.Appendf(nil, `level=info msg="request method=GET path=/api/orders/%d status=200" seq=%d`, s*1000+k, s*1000+k), 0)
			}
			if s == seconds*50 {
				seen := out.expect("errors only")
				pressed := time.Now()
				p.Send(press("x"))
				go func() { <-seen; latency = time.Since(pressed) }()
			}
			time.Sleep(time.Until(start.Add(time.Duration(s+1) * 10 * time.Millisecond)))
		}
		elapsed := time.Since(start)
		p.Quit()
		<-done
		b.ReportMetric(float64(out.n.Load())/elapsed.Seconds(), "term-bytes/s")
		b.ReportMetric(float64(latency.Milliseconds()), "key-ms")
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
	}
}
