package logs

import (
	"strings"
	"testing"
)

func TestClassifyReadsTheLevelAnEngineerWould(t *testing.T) {
	tests := []struct {
		line string
		want Level
	}{
		// JSON
		{`{"level":"error","msg":"db down"}`, LevelError},
		{`{"lvl":"warn","msg":"slow"}`, LevelWarn},
		{`{"severity":"INFO","message":"0 errors"}`, LevelInfo},
		{`{"log.level":"debug","message":"x"}`, LevelDebug},
		{`{"level":50,"time":1,"msg":"pino error"}`, LevelError},
		{`{"level":40,"msg":"pino warn"}`, LevelWarn},
		{`{"level":30,"msg":"ERROR in a message is not the level"}`, LevelInfo},
		{`{"levelname": "CRITICAL", "name": "app"}`, LevelError},
		// logfmt
		{`time=2026-11-25T10:00:00Z level=info msg="0 errors"`, LevelInfo},
		{`level=error msg="Unknown column 'discount_code'"`, LevelError},
		{`ts=1 lvl=warn msg=slow`, LevelWarn},
		{`time="2026-11-25" level=debug msg="cache miss"`, LevelDebug},
		{`msg="hello" level="ERROR"`, LevelError},
		// syslog PRI
		{`<11>Nov 25 10:00:00 host app: disk failure`, LevelError},
		{`<12>Nov 25 10:00:00 host app: disk 90%`, LevelWarn},
		{`<14>Nov 25 10:00:00 host app: started`, LevelInfo},
		{`<15>Nov 25 10:00:00 host app: tick`, LevelDebug},
		// klog
		{`E1128 10:00:00.123456    1 controller.go:42] sync failed`, LevelError},
		{`W1128 10:00:00.123456    1 controller.go:42] retrying`, LevelWarn},
		{`I1128 10:00:00.123456    1 controller.go:42] ERROR word inside info`, LevelInfo},
		// Ruby Logger
		{`E, [2026-11-25T10:00:00.000000 #1] ERROR -- : boom`, LevelError},
		{`W, [2026-11-25T10:00:00.000000 #1]  WARN -- : hmm`, LevelWarn},
		{`I, [2026-11-25T10:00:00.000000 #1]  INFO -- : Completed 500 Internal`, LevelInfo},
		// Python logging
		{`ERROR:root:payment failed`, LevelError},
		{`WARNING:urllib3:retrying`, LevelWarn},
		{`INFO:app:Processed 1200 orders, 0 errors`, LevelInfo},
		{`CRITICAL:app:out of memory`, LevelError},
		// Celery
		{`[2026-11-25 10:00:00,000: ERROR/MainProcess] Task failed`, LevelError},
		{`[2026-11-25 10:00:00,000: WARNING/ForkPoolWorker-1] retry`, LevelWarn},
		// Spring Boot
		{`2026-11-25 10:00:00.000 ERROR 1234 --- [main] o.s.boot.SpringApplication : Application run failed`, LevelError},
		{`2026-11-25T10:00:00.000Z  INFO 1 --- [main] c.e.App : Started App, 0 errors`, LevelInfo},
		// nginx error log
		{`2026/11/25 10:00:00 [error] 7#7: *1 connect() failed (111: Connection refused)`, LevelError},
		{`2026/11/25 10:00:00 [crit] 7#7: *1 SSL_do_handshake() failed`, LevelError},
		{`2026/11/25 10:00:00 [warn] 7#7: an upstream response is buffered`, LevelWarn},
		{`2026/11/25 10:00:00 [notice] 1#1: start worker processes`, LevelInfo},
		// PostgreSQL
		{`2026-11-25 10:00:00.000 UTC [42] ERROR:  column "discount_code" does not exist`, LevelError},
		{`2026-11-25 10:00:00.000 UTC [42] FATAL:  password authentication failed`, LevelError},
		{`2026-11-25 10:00:00.000 UTC [42] LOG:  checkpoint complete`, LevelInfo},
		{`ERROR:  relation "orders" does not exist at character 15`, LevelError},
		// MySQL
		{`2026-11-25T10:00:00.000000Z 0 [ERROR] [MY-010119] [Server] Aborting`, LevelError},
		{`2026-11-25T10:00:00.000000Z 0 [Warning] [MY-010068] [Server] CA certificate is self signed.`, LevelWarn},
		{`2026-11-25T10:00:00.000000Z 0 [System] [MY-010931] [Server] ready for connections`, LevelNone},
		// Redis
		{`1:M 25 Nov 2026 10:00:00.000 # Warning: no config file specified`, LevelWarn},
		{`1:M 25 Nov 2026 10:00:00.000 * Ready to accept connections`, LevelInfo},
		{`1:C 25 Nov 2026 10:00:00.000 . Module loaded`, LevelDebug},
		// Rust tracing and env_logger
		{`2026-11-25T10:00:00.000000Z ERROR shop::db: query failed`, LevelError},
		{`2026-11-25T10:00:00.000000Z  WARN shop::http: slow`, LevelWarn},
		{`[2026-11-25T10:00:00Z ERROR shop] connection reset`, LevelError},
		{`[2026-11-25T10:00:00Z INFO  shop] listening`, LevelInfo},
		// HTTP access lines
		{`127.0.0.1 - - [25/Nov/2026:10:00:00 +0000] "GET /api HTTP/1.1" 502 157 "-" "curl/8"`, LevelError},
		{`127.0.0.1 - - [25/Nov/2026:10:00:00 +0000] "GET /missing HTTP/1.1" 404 0 "-" "curl/8"`, LevelWarn},
		{`127.0.0.1 - - [25/Nov/2026:10:00:00 +0000] "GET /error-page HTTP/2.0" 200 512 "-" "curl/8"`, LevelInfo},
		// Words, and prose that is not a level
		{`2026/11/25 10:00:00 error: open config.yaml: no such file or directory`, LevelError},
		{`warning: ignoring deprecated flag --foo`, LevelWarn},
		{`panic: runtime error: index out of range [3] with length 3`, LevelError},
		{`Traceback (most recent call last):`, LevelError},
		{`FATAL: could not bind port`, LevelError},
		{`something WARN happened`, LevelWarn},
		{`Processed 1200 orders, 0 errors`, LevelNone},
		{`the error budget is fine`, LevelNone},
		{`Errors: none`, LevelNone},
		{``, LevelNone},
		{`   `, LevelNone},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			if got := Classify([]byte(tt.line)); got != tt.want {
				t.Fatalf("Classify(%q) = %s, want %s", tt.line, got, tt.want)
			}
		})
	}
}

func TestGrouperGivesStackTracesTheLevelOfTheLineThatStartedThem(t *testing.T) {
	tests := []struct {
		name  string
		lines string
		want  string // per line: level, and + for a continuation
	}{
		{"Go panic", "panic: runtime error: invalid memory address\n\ngoroutine 1 [running]:\nmain.handle(0x0)\n\t/src/app/orders.go:42 +0x1d\ncreated by main.main in goroutine 1\n\t/src/app/main.go:10 +0x25\nexit status 2\nlevel=info msg=restarted",
			"error error+ error+ error+ error+ error+ error+ error+ info"},
		{"Python traceback", "ERROR:root:payment failed\nTraceback (most recent call last):\n  File \"app.py\", line 3, in <module>\n    pay()\nValueError: card declined\nINFO:root:next",
			"error error+ error+ error+ error+ info"},
		{"Unlabelled traceback", "Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'id'\nok",
			"error error+ error+ none"},
		{"Java stack trace", "2026-11-25 10:00:00.000 ERROR 1 --- [main] App : failed\njava.lang.IllegalStateException: boom\n\tat com.shop.App.run(App.java:42)\n\tat com.shop.App.main(App.java:10)\nCaused by: java.sql.SQLException: Unknown column\n\t... 48 more\n2026-11-25 10:00:01.000  INFO 1 --- [main] App : retry",
			"error error+ error+ error+ error+ error+ info"},
		{"Node stack trace", "Error: connect ECONNREFUSED 127.0.0.1:5432\n    at TCPConnectWrap.afterConnect (node:net:1595:16)\n    at process.processTicksAndRejections (node:internal:95:5)\nlistening",
			"error error+ error+ none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g Grouper
			var got []string
			for _, line := range strings.Split(tt.lines, "\n") {
				l, cont := g.Group([]byte(line), Classify([]byte(line)))
				s := l.String()
				if cont {
					s += "+"
				}
				got = append(got, s)
			}
			if strings.Join(got, " ") != tt.want {
				t.Fatalf("got  %s\nwant %s", strings.Join(got, " "), tt.want)
			}
		})
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{`{"level":50}`, "level=error", "<11>x", "E1128 x", "1:M 25 Nov 2026 10:00:00.000 # x", `"GET / HTTP/1.1" 500 1`, "ERROR:a:b", "[error] x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		l := Classify(line)
		if l > LevelError {
			t.Fatalf("level %d out of range", l)
		}
		var g Grouper
		g.Group(line, l)
	})
}
