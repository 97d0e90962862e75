// Command burst prints LINES numbered log lines (default 200000) as fast
// as it can, then waits for SIGTERM: a container flooding its log, for
// golive's no-loss test and benchmarks. RATE (lines a second) paces it instead.
package main

import (
	"bufio"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	n, _ := strconv.Atoi(os.Getenv("LINES"))
	if n <= 0 {
		n = 200000
	}
	rate, _ := strconv.Atoi(os.Getenv("RATE"))
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	w := bufio.NewWriterSize(os.Stdout, 4096)
	start := time.Now()
	for i := 0; i < n; i++ {
		w.WriteString(`time=2026-11-25T10:00:00Z level=info msg="request method=GET path=/api/orders status=200 duration_ms=12" seq=`)
		w.WriteString(strconv.Itoa(i))
		w.WriteByte('\n')
		if rate > 0 && i%(rate/100+1) == 0 {
			w.Flush()
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
		}
		if w.Buffered() > 3000 {
			w.Flush()
		}
	}
	w.Flush()
	<-stop
}
