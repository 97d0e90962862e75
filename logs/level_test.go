package logs

import (
	"bytes"
	"fmt"
	"os"
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
		// Abbreviated level words: logrus text, charmbracelet/log, log15 and
		// geth, zerolog console, Serilog, logfmt with log15's names
		{`ERRO[0003] failed to publish event                       error="nats: timeout"`, LevelError},
		{`FATA[0004] cannot open queue`, LevelError},
		{`DEBU[0001] polling                                       interval=1s`, LevelDebug},
		{`2026-11-25 23:01:32 ERRO migration failed err="dirty database version 42"`, LevelError},
		{`2026-11-25 23:01:32 DEBU statement sql="SELECT 1"`, LevelDebug},
		{`EROR[11-25|23:01:34] failed to sync block                     number=1200`, LevelError},
		{`CRIT[11-25|23:01:34] database corrupted`, LevelError},
		{`DBUG[11-25|23:01:34] dialing peer`, LevelDebug},
		{`[EROR] [11-25|23:01:35] lost connection to broker`, LevelError},
		{`t=2026-11-25T23:01:34+0000 lvl=eror msg="payment webhook failed"`, LevelError},
		{`t=2026-11-25T23:01:34+0000 lvl=dbug msg="tick"`, LevelDebug},
		{`11:01PM ERR failed to refresh token error="401 Unauthorized"`, LevelError},
		{`11:01PM WRN token expires soon ttl=30s`, LevelWarn},
		{`11:01PM INF server started addr=:8080`, LevelInfo},
		{`11:01PM FTL could not load config`, LevelError},
		{`[23:01:35 ERR] Payment gateway returned 502`, LevelError},
		{`[23:01:35 VRB] cache probe`, LevelDebug},
		{`time=2026-11-25T23:01:31Z level=WARN+2 msg="slow query"`, LevelWarn},
		// Go crash heads: net/http's panic recovery, runtime fatal errors
		{`2026/11/25 23:01:28 http: panic serving 172.18.0.1:41236: runtime error: invalid memory address or nil pointer dereference`, LevelError},
		{`http2: panic serving 10.0.3.7:52110: assignment to entry in nil map`, LevelError},
		{`fatal error: concurrent map writes`, LevelError},
		// Rust panics, new and old formats
		{`thread 'main' panicked at src/config.rs:41:10:`, LevelError},
		{`thread 'tokio-runtime-worker' panicked at src/worker.rs:88:29:`, LevelError},
		{`thread 'main' panicked at 'attempt to divide by zero', src/pricing.rs:12:5`, LevelError},
		// Java, Node, .NET, Elixir heads
		{`Exception in thread "main" java.lang.OutOfMemoryError: Java heap space`, LevelError},
		{`java.lang.NullPointerException`, LevelError},
		{`/app/src/orders.js:42`, LevelError},
		{`node:internal/process/promises:391`, LevelError},
		{`Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'pg' imported from /app/src/db.js`, LevelError},
		{`TypeError: Cannot read properties of undefined (reading 'reduce')`, LevelError},
		{`fail: Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware[1]`, LevelError},
		{`crit: Microsoft.AspNetCore.Hosting.Diagnostics[6]`, LevelError},
		{`warn: Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager[35]`, LevelWarn},
		{`info: Microsoft.Hosting.Lifetime[14]`, LevelInfo},
		{`** (RuntimeError) cart locked`, LevelError},
		// winston's default format, structlog, Apache modules, MariaDB, MongoDB
		{`info: Server started on port 3000 {"service":"shop"}`, LevelInfo},
		{`debug: cache hit orders:9912`, LevelDebug},
		{`2026-11-25 23:00:00 [error    ] charge failed            order=9912`, LevelError},
		{`2026-11-25 23:00:00 [info     ] charged                  order=9913`, LevelInfo},
		{`[Tue Nov 25 23:02:02.123456 2026] [proxy:error] [pid 12:tid 140] AH00957: attempt to connect to 10.0.0.5:8080 (app) failed`, LevelError},
		{`[Tue Nov 25 23:02:02.200000 2026] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/2.4.62 configured`, LevelInfo},
		{`[Tue Nov 25 23:02:02.300000 2026] [core:trace3] [pid 1:tid 1] request.c(312): mapped`, LevelDebug},
		{`2026-11-25 23:02:04 0 [Note] mariadbd: ready for connections.`, LevelInfo},
		{`{"t":{"$date":"2026-11-25T23:02:06.000+00:00"},"s":"E",  "c":"NETWORK",  "id":23256, "msg":"SSL handshake failed"}`, LevelError},
		{`{"t":{"$date":"2026-11-25T23:02:06.002+00:00"},"s":"W",  "c":"CONTROL",  "id":22120, "msg":"Access control is not enabled"}`, LevelWarn},
		{`{"@t":"2026-11-25T23:02:06Z","@mt":"Charge {OrderId} failed","@l":"Error","OrderId":9912}`, LevelError},
		// Prefixes, markers and warnings found by the second corpus
		{`api 2026/11/25 23:10:02 http: panic serving 10.0.9.4:33012: orders: nil cart`, LevelError},
		{`[2026-11-25 23:10:29] production.ERROR: SQLSTATE[42S22]: Column not found`, LevelError},
		{`[2026-11-25T23:10:30.123456+00:00] request.CRITICAL: Uncaught PHP Exception RuntimeException: "boom"`, LevelError},
		{`[2026-11-25 23:10:29] production.INFO: Order 9913 paid`, LevelInfo},
		{`[25-Nov-2026 23:10:28 UTC] PHP Fatal error:  Uncaught Exception: card declined in /var/www/html/pay.php:12`, LevelError},
		{`PHP Parse error:  syntax error, unexpected token "}" in /app/index.php on line 9`, LevelError},
		{`[25-Nov-2026 23:10:28 UTC] PHP Warning:  Undefined variable $total in /var/www/html/cart.php on line 7`, LevelWarn},
		{`/app/app/clock.py:12: DeprecationWarning: datetime.datetime.utcnow() is deprecated`, LevelWarn},
		{`(node:1) [DEP0040] DeprecationWarning: The punycode module is deprecated.`, LevelWarn},
		{`error Command failed with exit code 1.`, LevelError},
		{`warning package.json: No license field`, LevelWarn},
		{`info Visit https://yarnpkg.com/en/docs/cli/run for documentation about this command.`, LevelInfo},
		{` ⨯ Error: Failed to load config`, LevelError},
		{` ⚠ Invalid next.config.js options detected`, LevelWarn},
		{`Internal Server Error: /api/orders/`, LevelError},
		{`Not Found: /favicon.ico`, LevelWarn},
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

// TestClassifyCallsNothingAnErrorThatIsNot holds lines that mention errors
// without being errors. The rule: a line is an error only when its format
// says so (a level field or word, a syslog severity, a 5xx status, a crash
// head, an exception type). Words about errors are not (0 errors,
// error_count, retrying after error); neither is a level word glued to a
// name or path (NO_ERROR, ERROR_COUNT, /ERROR/, error.log), used as a key
// or a value (ERROR=0, LOG_LEVEL=ERROR), or named as a setting ("log
// level to ERROR"); a level field that says info wins over words in the
// message.
func TestClassifyCallsNothingAnErrorThatIsNot(t *testing.T) {
	for _, line := range []string{
		`Processed 1200 orders, 0 errors`,
		`errors=0 warnings=0`,
		`error_count: 0`,
		`Error handling middleware loaded`,
		`Exception handling configured: 3 handlers`,
		`ErrorController mapped to /error`,
		`Loaded template /app/templates/error.html`,
		`rotating /var/log/app/error.log`,
		`GET /api/errors?since=1h`,
		`127.0.0.1 - - [25/Nov/2026:23:02:01 +0000] "GET /errors/help.html HTTP/1.1" 200 4210 "-" "Mozilla/5.0"`,
		`time=2026-11-25T23:02:12Z level=info msg="retrying after error" attempt=2`,
		`{"level":"info","msg":"error rate 0.00%","errors":0}`,
		`{"level":"info","message":"ERROR is only a word here"}`,
		`{"msg":"set level=error for the audit logger"}`,
		`I1125 23:02:11.000789       1 controller.go:42] ERROR word inside an info line`,
		`2026/11/25 23:02:13 http2: Framer 0xc000140000: wrote GOAWAY len=8 LastStreamID=1 ErrCode=NO_ERROR Debug=""`,
		`LOG_LEVEL=ERROR`,
		`--log-level=error passed on the command line`,
		`Setting log level to ERROR`,
		`log level: ERROR`,
		`summary: ERRORS=0 WARNINGS=3`,
		`WARN=0 ERROR=0`,
		`ERROR_COUNT 0`,
		`using logging.ERROR for the root logger`,
		`redis reply -ERR unknown command was expected by the test`,
		`lastError: none`,
		`retryOnError: true`,
		`panic_on_error = false`,
		`Panics: 0`,
		`fatal_errors_total 0`,
		`# HELP http_errors_total Number of requests that ended in an error.`,
		`E2E suite: 42 passed`,
		`F1040 import complete`,
		`E1234 is the code printed on the receipt`,
		`0 failed, 12 passed`,
		`the error budget is fine`,
		`INFO Error budget at 3% of 5%`,
		`[main] INFO c.e.shop.ErrorPageConfig - error pages registered`,
		`2026-11-25 23:00:00 [error-pages] 4 pages loaded`,
		`DEBUG: error_code=0`,
		`WARNING: the next release drops the ERROR_FILE setting`,
		`err: <nil>`,
		`2026/11/25 23:10:44 error: none`,
		`ERROR_REPORTING=E_ALL`,
		`ALERT_EMAIL=ops@example.com`,
		`Status: OK (0 ERRORS)`,
		`http_requests_total{code="500",handler="/api/orders"} 3`,
		`compiled 12 templates (error.tmpl, panic.tmpl) in 4ms`,
		`0 warnings, 0 errors, 12 files checked`,
		`errors found: 0`,
		`error handling: enabled`,
	} {
		t.Run(line, func(t *testing.T) {
			if got := Classify([]byte(line)); got == LevelError {
				t.Fatalf("Classify(%q) = error", line)
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
		{"Node error object after its stack", "Error: connect ECONNREFUSED 10.0.0.12:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16) {\n  errno: -111,\n  code: 'ECONNREFUSED'\n}\nlistening",
			"error error+ error+ error+ error+ none"},
		{"Node uncaught exception report", "/app/src/orders.js:42\n    const total = order.items.reduce((s, i) => s + i.price, 0);\n                              ^\n\nTypeError: Cannot read properties of undefined (reading 'reduce')\n    at computeTotal (/app/src/orders.js:42:31)\n\nNode.js v20.18.0\nServer listening on port 3000",
			"error error+ error+ error+ error+ error+ error+ error+ none"},
		{"Go net/http panic recovery", "2026/11/25 23:01:28 http: panic serving 172.18.0.1:41236: runtime error: invalid memory address or nil pointer dereference\ngoroutine 35 [running]:\nnet/http.(*conn).serve.func1()\n\t/usr/local/go/src/net/http/server.go:1947 +0xbe\npanic({0x6e0b20?, 0x9b3d40?})\nmain.cache.put(...)\n...additional frames elided...\ncreated by net/http.(*Server).Serve in goroutine 1\n\t/usr/local/go/src/net/http/server.go:3360 +0x485\n2026/11/25 23:01:29 GET /healthz 200 (0.2ms)",
			"error error+ error+ error+ error+ error+ error+ error+ error+ none"},
		{"Go fatal error", "fatal error: concurrent map writes\n\ngoroutine 19 [running]:\nmain.(*cache).warm(0xc0000a2000, 0x4b0)\n\t/app/cache.go:44 +0x85\nlevel=info msg=restarted",
			"error error+ error+ error+ error+ info"},
		{"zap console stack", "2026-11-25T23:01:31.105Z\tERROR\torders/handler.go:88\tcharge failed\nmain.(*handler).charge\n\t/app/orders/handler.go:88\nnet/http.HandlerFunc.ServeHTTP\n\t/usr/local/go/src/net/http/server.go:2220\n2026-11-25T23:01:31.106Z\tINFO\torders/handler.go:40\torder created",
			"error error+ error+ error+ error+ info"},
		{"Rust panic and its message", "thread 'main' panicked at src/config.rs:41:10:\ncalled `Result::unwrap()` on an `Err` value: Os { code: 2, kind: NotFound }\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\nstarting again",
			"error error+ error+ none"},
		{"Rust panic with a backtrace", "thread 'tokio-runtime-worker' panicked at src/worker.rs:88:29:\nindex out of bounds: the len is 0 but the index is 0\nstack backtrace:\n   0: rust_begin_unwind\n             at /rustc/90b35a6/library/std/src/panicking.rs:665:5\nnote: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.\n2026-11-25T23:01:38.000000Z  INFO shop::worker: next",
			"error error+ error+ error+ error+ error+ info"},
		{"Rust panic, old format", "thread 'main' panicked at 'attempt to divide by zero', src/pricing.rs:12:5\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\nstarting again",
			"error error+ none"},
		{"PostgreSQL error and its fields", "2026-11-25 23:01:41.456 UTC [88] ERROR:  column \"discount_code\" does not exist at character 8\n2026-11-25 23:01:41.456 UTC [88] HINT:  Perhaps you meant to reference the column \"orders.discount\".\n2026-11-25 23:01:41.456 UTC [88] STATEMENT:  SELECT discount_code FROM orders\n2026-11-25 23:01:44.000 UTC [95] FATAL:  password authentication failed for user \"shop\"\n2026-11-25 23:01:44.000 UTC [95] DETAIL:  Connection matched pg_hba.conf line 128\n2026-11-25 23:01:46.000 UTC [60] LOG:  checkpoint starting: time",
			"error error+ error+ error error+ info"},
		{"PostgreSQL fields after a LOG line keep its level", "LOG:  could not receive data from client: Connection reset by peer\nDETAIL:  the client went away\nok",
			"info info+ none"},
		{"Python chained exceptions", "ERROR:root:charge failed\nTraceback (most recent call last):\n  File \"charge.py\", line 41, in charge\nhttpx.ConnectTimeout: timed out\n\nThe above exception was the direct cause of the following exception:\n\nTraceback (most recent call last):\n  File \"charge.py\", line 44, in charge\nPaymentError: gateway unreachable\nINFO:root:next",
			"error error+ error+ error+ error+ error+ error+ error+ error+ error+ info"},
		{"Python exception from a database driver", "Traceback (most recent call last):\n  File \"/app/db.py\", line 12, in fetch\npsycopg2.errors.UndefinedColumn: column \"discount_code\" does not exist\nLINE 1: SELECT discount_code FROM orders\n               ^\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\nKeyError: 'discount_code'\nINFO:     Application startup complete.",
			"error error+ error+ error+ error+ error+ error+ error+ error+ error+ info"},
		{"a Java exception logged at warn stays a warning", "2026-11-25 23:01:56.000  WARN 1 --- [exec-4] c.e.shop.PaymentClient : retrying payment call\njava.net.SocketTimeoutException: Read timed out\n\tat com.example.shop.PaymentClient.call(PaymentClient.java:61)\n2026-11-25 23:01:57.000  INFO 1 --- [exec-4] c.e.shop.PaymentClient : paid",
			"warn warn+ warn+ info"},
		{".NET entry with an exception", "fail: Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware[1]\n      An unhandled exception has occurred while executing the request.\n      System.InvalidOperationException: Sequence contains no elements\n         at Shop.Api.Orders.Get(Int32 id) in /src/Shop.Api/Orders.cs:line 31\ninfo: Microsoft.Hosting.Lifetime[14]\n      Now listening on: http://[::]:8080",
			"error error+ error+ error+ info info+"},
		{"indented lines follow their head line at any level", "2026-11-25 23:02:17 INFO effective configuration:\n  listen: :8080\n  log: /var/log/error.log\n2026-11-25 23:02:18 ERROR migration 0042 failed:\n    ALTER TABLE orders ADD COLUMN discount_code text NOT NULL\nplain line\n  indented under a plain line",
			"info info+ info+ error error+ none none"},
		{"PostgreSQL DETAIL going on on an indented line", "2026-11-25 23:10:12 UTC [140]: [3-1] user=shop,db=shop ERROR:  deadlock detected\n2026-11-25 23:10:12 UTC [140]: [4-1] user=shop,db=shop DETAIL:  Process 140 waits for ShareLock on transaction 901.\n\tProcess 141 waits for ShareLock on transaction 900.\n2026-11-25 23:10:12 UTC [140]: [5-1] user=shop,db=shop HINT:  See server log for query details.\n2026-11-25 23:10:13 UTC [150]: [1-1] user=shop,db=shop LOG:  duration: 1.2 ms",
			"error error+ error+ error+ info"},
		{"PHP stack trace", "[25-Nov-2026 23:10:28 UTC] PHP Fatal error:  Uncaught Exception: card declined in /var/www/html/pay.php:12\nStack trace:\n#0 {main}\n  thrown in /var/www/html/pay.php on line 12\n[25-Nov-2026 23:10:29 UTC] PHP Notice:  Undefined index: id",
			"error error+ error+ error+ info"},
		{"Laravel stack trace", "[2026-11-25 23:10:29] production.ERROR: Column not found {\"exception\":\"[object] (QueryException(code: 42S22))\n[stacktrace]\n#0 /var/www/vendor/laravel/framework/src/Illuminate/Database/Connection.php(783): runQueryCallback()\n#1 {main}\n\"}\n[2026-11-25 23:10:29] production.INFO: Order 9913 paid",
			"error error+ error+ error+ error+ info"},
		{"Python warning and its source line", "/app/app/clock.py:12: DeprecationWarning: datetime.datetime.utcnow() is deprecated\n  now = datetime.utcnow()\nready",
			"warn warn+ none"},
		{"an indented line with a level of its own starts an entry", "  INFO starting\n  ERROR failed\n  INFO next",
			"info error info"},
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
	for _, s := range []string{"panic: x\n\ngoroutine 1 [running]:\nmain.main()\n\tx.go:1", "thread 'main' panicked at a.rs:1:1:\nboom\nnote: x",
		"/a.js:1\n  x\n  ^\n\nError: x\n    at y\n\nNode.js v20", "ERROR:  x\nDETAIL:  y\n\tz", "Traceback (most recent call last):\n  x\nE: y\n\nDuring handling of the above exception\nLINE 1: z"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		var g Grouper
		for _, line := range bytes.Split(text, []byte("\n")) {
			l := Classify(line)
			if l > LevelError {
				t.Fatalf("level %d out of range", l)
			}
			if got, _ := g.Group(line, l); got > LevelError {
				t.Fatalf("grouped level %d out of range", got)
			}
		}
	})
}

// corpusScore is how a corpus of marked lines was classified.
type corpusScore struct {
	lines, right        int
	errors, errorsFound int
	falseErrors         int
	misses              []string
}

// scoreCorpus runs the marked streams of a corpus file through
// Classify and a Grouper per stream, as the ingester does.
func scoreCorpus(t *testing.T, path string) corpusScore {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	marks := map[byte]Level{'E': LevelError, 'W': LevelWarn, 'I': LevelInfo, 'D': LevelDebug, '-': LevelNone}
	var s corpusScore
	var g Grouper
	stream := ""
	for n, raw := range strings.Split(string(data), "\n") {
		switch {
		case raw == "" || strings.HasPrefix(raw, "#"):
			continue
		case strings.HasPrefix(raw, "=== "):
			g, stream = Grouper{}, raw[4:]
			continue
		}
		want, ok := marks[raw[0]]
		if !ok || len(raw) < 2 || raw[1] != ' ' {
			t.Fatalf("%s:%d: a line starts with a mark (E W I D -) and a space: %q", path, n+1, raw)
		}
		line := []byte(raw[2:])
		got, _ := g.Group(line, Classify(line))
		s.lines++
		if got == want {
			s.right++
		} else {
			s.misses = append(s.misses, fmt.Sprintf("%d [%s] got %s want %s: %s", n+1, stream, got, want, raw[2:]))
		}
		if want == LevelError {
			s.errors++
			if got == LevelError {
				s.errorsFound++
			}
		} else if got == LevelError {
			s.falseErrors++
		}
	}
	return s
}

// TestCorpusLevelsAreRightAndNothingIsWronglyAnError scores the corpora:
// no line may be called an error that is not one, and nearly every line
// gets the level an engineer would give it.
func TestCorpusLevelsAreRightAndNothingIsWronglyAnError(t *testing.T) {
	for _, path := range []string{"testdata/levels.txt", "testdata/levels-heldout.txt"} {
		t.Run(path, func(t *testing.T) {
			s := scoreCorpus(t, path)
			for _, m := range s.misses {
				t.Log(m)
			}
			t.Logf("%d lines: accuracy %.3f, error recall %.3f (%d of %d), false errors %d",
				s.lines, float64(s.right)/float64(s.lines), float64(s.errorsFound)/float64(s.errors), s.errorsFound, s.errors, s.falseErrors)
			if s.falseErrors > 0 {
				t.Errorf("%d lines wrongly called errors", s.falseErrors)
			}
			if acc, recall := float64(s.right)/float64(s.lines), float64(s.errorsFound)/float64(s.errors); acc < 0.97 || recall < 0.97 {
				t.Errorf("accuracy %.3f and error recall %.3f, want both at least 0.97", acc, recall)
			}
		})
	}
}
