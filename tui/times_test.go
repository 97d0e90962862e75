package tui

import "testing"

func TestTimestampsInsideLinesAreShortenedOrHidden(t *testing.T) {
	tests := []struct {
		name, line, short, hidden string
	}{
		{"logfmt RFC 3339 in UTC", `time=2026-11-26T23:01:28.771Z level=error msg="boom"`, `time=23:01:28.77 level=error msg="boom"`, `level=error msg="boom"`},
		{"an offset and nanoseconds", `2026-11-26T23:01:28.771234567+01:00 INFO started`, `23:01:28.77 INFO started`, `INFO started`},
		{"Python's space and comma", `2026-11-26 23:01:28,771 ERROR root: failed`, `23:01:28.77 ERROR root: failed`, `ERROR root: failed`},
		{"whole seconds", `[2026-11-26T23:01:28Z] GET /`, `[23:01:28] GET /`, `[] GET /`},
		{"JSON keeps its shape", `{"ts":"2026-11-26T23:01:28.7Z","level":"warn"}`, `{"ts":"23:01:28.7","level":"warn"}`, `{"level":"warn"}`},
		{"a zone without colon", `at 2026-11-26T23:01:28-0500 done`, `at 23:01:28 done`, `at done`},
		{"no date stays as it is", `level=info msg="request path=/api/orders status=200"`, `level=info msg="request path=/api/orders status=200"`, `level=info msg="request path=/api/orders status=200"`},
		{"a longer number is not a date", `id=12026-11-26T23:01:28Z`, `id=12026-11-26T23:01:28Z`, `id=12026-11-26T23:01:28Z`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rewriteTimes(tt.line, false); got != tt.short {
				t.Errorf("short:  %s\nwant    %s", got, tt.short)
			}
			if got := rewriteTimes(tt.line, true); got != tt.hidden {
				t.Errorf("hidden: %s\nwant    %s", got, tt.hidden)
			}
		})
	}
}

func BenchmarkRewriteTimesOfALineWithoutADate(b *testing.B) {
	line := `level=info msg="request method=GET path=/api/orders status=200 duration_ms=12" seq=1234`
	b.ReportAllocs()
	for b.Loop() {
		rewriteTimes(line, false)
	}
}
