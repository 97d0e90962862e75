// Command app is golive's demo service: a small HTTP server whose version,
// error rate, health and crashes are set by its environment, and whose logs
// look like a real service's.
//
//	VERSION      version it reports (default dev)
//	ROLE         api or web, changes the log lines (default api)
//	PORT         listen port (default 8080)
//	ERROR_RATE   fraction 0..1 of background requests that log an error
//	UNHEALTHY    "true": /health answers 503
//	CRASH_AFTER  a duration after which the process exits with code 1
//	LOG_EVERY    interval of background log lines (default 400ms)
//	INJECT       "true": print terminal escape sequences at start, as a
//	             hostile or broken service might (for golive's safety tests)
//
// Run as `app healthcheck` it checks a running instance, for HEALTHCHECK.
package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" { // for an image's HEALTHCHECK: no shell in a scratch image
		resp, err := http.Get("http://127.0.0.1:" + env("PORT", "8080") + "/health")
		if err != nil || resp.StatusCode != http.StatusOK {
			os.Exit(1)
		}
		os.Exit(0)
	}
	version := env("VERSION", "dev")
	role := env("ROLE", "api")
	port := env("PORT", "8080")
	errorRate, _ := strconv.ParseFloat(env("ERROR_RATE", "0"), 64)
	every, err := time.ParseDuration(env("LOG_EVERY", "400ms"))
	if err != nil || every <= 0 {
		every = 400 * time.Millisecond
	}
	logf("info", "starting %s version=%s port=%s", role, version, port)
	if os.Getenv("INJECT") == "true" {
		fmt.Print(injection)
	}
	if d, err := time.ParseDuration(os.Getenv("CRASH_AFTER")); err == nil {
		time.AfterFunc(d, func() {
			logf("error", "panic: runtime error: invalid memory address or nil pointer dereference")
			fmt.Fprintln(os.Stderr, "goroutine 1 [running]:\nmain.handleOrder(0x0)\n\t/src/app/orders.go:42 +0x1d")
			os.Exit(1)
		})
	}
	go traffic(role, errorRate, every)
	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if os.Getenv("UNHEALTHY") == "true" {
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "ok %s %s\n", role, version)
	})
	http.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, version)
	})
	if err := http.ListenAndServe(":"+port, nil); err != nil {
		logf("error", "listen: %v", err)
		os.Exit(1)
	}
}

// injection is what a hostile log line can try on an operator's terminal:
// write the clipboard (OSC 52), set the title, clear the screen, DCS and
// APC strings, C1 controls, a carriage return hiding an error, bidi.
const injection = "INJECT osc52 \x1b]52;c;cHduZWQ=\x07 end\n" +
	"INJECT title \x1b]0;PWNED-TITLE\x07\x1b]2;PWNED-TITLE\x1b\\ end\n" +
	"INJECT clear \x1b[2J\x1b[H\x1b[3J end\n" +
	"INJECT dcs \x1bP+q544e\x1b\\ apc \x1b_Gpwned\x1b\\ end\n" +
	"INJECT c1 \u009b31m \u009d0;PWNED\u009c end\n" +
	"level=error msg=\"payment failed\"\rINJECT cr level=info msg=\"all good\" end\n" +
	"INJECT bidi \u202etxt.exe end\n"

// traffic logs the lines a busy service would: requests, and errors at errorRate.
func traffic(role string, errorRate float64, every time.Duration) {
	paths := map[string][]string{
		"api": {"/api/orders", "/api/cart", "/api/users/42", "/api/products?page=2"},
		"web": {"/", "/checkout", "/static/app.js", "/product/1337"},
	}[role]
	if paths == nil {
		paths = []string{"/"}
	}
	for range time.Tick(every) {
		p := paths[rand.IntN(len(paths))]
		if rand.Float64() < errorRate {
			if role == "web" {
				logf("error", "upstream api returned 502 for GET %s", p)
			} else {
				logf("error", `query failed: Error 1054 (42S22): Unknown column 'orders.discount_code' in 'field list' path=%s`, p)
			}
			continue
		}
		if rand.IntN(10) == 0 {
			logf("warn", "slow request path=%s duration_ms=%d", p, 800+rand.IntN(900))
			continue
		}
		logf("info", "request method=GET path=%s status=200 duration_ms=%d", p, 2+rand.IntN(40))
	}
}

// seq numbers every log line, so a reader can tell a lost or repeated line.
var seq atomic.Int64

func logf(level, format string, args ...any) {
	fmt.Printf("time=%s level=%s msg=%q seq=%d\n", time.Now().UTC().Format(time.RFC3339Nano), level, fmt.Sprintf(format, args...), seq.Add(1))
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
