package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

func report(n int, results map[string]*outcome) {
	fmt.Println("golive bench-proxy: one HTTP service, version 2 deployed then reverted to version 1, a GET every 5 ms")
	fmt.Println("machine:", machine())
	fmt.Printf("n = %d rounds, contenders alternating; revert = from the call to the first request after which every answer is version 1\n\n", n)
	fmt.Printf("%-30s %10s %10s %10s %9s %16s\n", "", "revert p50", "p95", "call p50", "vs floor", "deploy: failed")
	floors := map[string]string{blueGreen: rawSwitch, blueGreenCLI: rawSwitch, stopFirst: rawStart}
	for _, who := range []string{blueGreen, blueGreenCLI, rawSwitch, stopFirst, rawStart} {
		o := results[who]
		ratio := ""
		if f, ok := floors[who]; ok {
			ratio = fmt.Sprintf("%.2fx", quantile(o.revert, 0.5).Seconds()/quantile(results[f].revert, 0.5).Seconds())
		}
		failed, sent := 0, 0
		for i := range o.deployFails {
			failed, sent = failed+o.deployFails[i], sent+o.deploySent[i]
		}
		fmt.Printf("%-30s %10s %10s %10s %9s %16s\n", who, msr(quantile(o.revert, 0.5)), msr(quantile(o.revert, 0.95)), msr(quantile(o.call, 0.5)), ratio,
			fmt.Sprintf("%d of %d", failed, sent))
	}
	fmt.Println()
	fmt.Println("golive: the engine in this process (lock, journal, records, the switch back and its read-back, the cleanup).")
	fmt.Println("  as a golive revert process: the same revert by the golive command (process start, plan load).")
	fmt.Println("raw kamal-proxy deploy exec: one `kamal-proxy deploy` by docker exec to an already running target.")
	fmt.Println("raw docker stop + start: stop the new container, start the old one (same published port); no gate.")
	fmt.Println("p95 of n rounds is the largest but one when n < 20.")
}

func msr(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }

// quantile is the q-quantile of ds by the nearest-rank method.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// machine describes the CPU, memory, load and Docker engine of the run.
func machine() string {
	cpu := runtime.GOARCH
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	load := ""
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = ", load " + strings.Join(strings.Fields(string(raw))[:3], " ")
	}
	return fmt.Sprintf("%s, %d cores%s, %s", cpu, runtime.NumCPU(), load, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
}
