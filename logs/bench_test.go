package logs

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// sampleLines are typical 150–250 byte lines of the formats golive meets.
var sampleLines = [][]byte{
	[]byte(`time=2026-11-25T10:00:00.123456789Z level=info msg="request method=GET path=/api/orders/12345 status=200 duration_ms=12" version=2.4.0 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 user_id=8812`),
	[]byte(`{"level":"error","ts":"2026-11-25T10:00:00.123Z","caller":"db/query.go:88","msg":"query failed","error":"Error 1054 (42S22): Unknown column 'orders.discount_code' in 'field list'","path":"/api/orders"}`),
	[]byte(`127.0.0.1 - - [25/Nov/2026:10:00:00 +0000] "GET /static/app.3f2a1c.js HTTP/1.1" 200 48213 "https://shop.example.com/checkout" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"`),
	[]byte("2026-11-25 10:00:00.123  WARN 1 --- [nio-8080-exec-7] c.s.orders.OrderService : Slow query took 1843ms for customer 88123, consider an index on orders.created_at"),
}

// BenchmarkPipeline is sanitize + classify + group + buffer append, the
// path every log line takes. Target: 1,000,000 lines/s on one core, 0 allocs.
func BenchmarkPipeline(b *testing.B) {
	buf := NewBuffer(DefaultPerSource)
	in := NewIngester("api", buf, nil, 0)
	now := time.Now()
	for i := 0; i < DefaultPerSource; i++ { // fill the ring: the steady state reuses slots
		in.Add("stdout", now, sampleLines[i%len(sampleLines)], 0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var bytesIn int64
	for i := 0; i < b.N; i++ {
		line := sampleLines[i%len(sampleLines)]
		bytesIn += int64(len(line))
		in.Add("stdout", now, line, 0)
	}
	b.SetBytes(bytesIn / int64(max(b.N, 1)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkSanitize(b *testing.B) {
	dst := make([]byte, 0, 1024)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		dst = Sanitize(dst[:0], sampleLines[i%len(sampleLines)], 0)
	}
}

func BenchmarkClassify(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Classify(sampleLines[i%len(sampleLines)])
	}
}

// BenchmarkHugeLine feeds one 10 MB line through the reader and the
// pipeline: it is cut, not held.
func BenchmarkHugeLine(b *testing.B) {
	huge := append(bytes.Repeat([]byte("x"), 10<<20), '\n')
	buf := NewBuffer(100)
	in := NewIngester("api", buf, nil, 0)
	b.ReportAllocs()
	b.SetBytes(int64(len(huge)))
	for i := 0; i < b.N; i++ {
		lr := NewLineReader(bytes.NewReader(huge), 0)
		line, cut, _ := lr.Next()
		in.Add("stdout", time.Now(), line, cut)
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestBufferMemoryStaysFlatUnderAFlood(t *testing.T) {
	buf := NewBuffer(DefaultPerSource)
	ins := []*Ingester{}
	for s := 0; s < 4; s++ {
		ins = append(ins, NewIngester(fmt.Sprintf("svc%d", s), buf, nil, 0))
	}
	flood := func(n int) {
		now := time.Now()
		for i := 0; i < n; i++ {
			ins[i%len(ins)].Add("stdout", now.Add(time.Duration(i)), sampleLines[i%len(sampleLines)], 0)
		}
	}
	flood(100000)
	before := heapAfterGC()
	flood(1000000)
	after := heapAfterGC()
	if after > before+before/10 {
		t.Fatalf("heap grew from %d to %d bytes over a million more lines", before, after)
	}
	if buf.Len() != 4*DefaultPerSource {
		t.Fatalf("buffer holds %d lines", buf.Len())
	}
}
