package logs

import (
	"testing"
	"time"
)

func TestParseTimestampAgreesWithTimeParse(t *testing.T) {
	for _, s := range []string{
		"2026-11-25T21:29:50.123456789Z",
		"2026-11-25T21:29:50.1Z",
		"2026-11-25T21:29:50Z",
		"2024-02-29T00:00:00.000000001Z",
		"1999-12-31T23:59:59.999+02:00",
		"2026-01-01T00:00:00-05:30",
	} {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseTimestamp([]byte(s))
		if !ok || got != want.UnixNano() {
			t.Errorf("%s: got %d %v, want %d", s, got, ok, want.UnixNano())
		}
	}
	for _, s := range []string{"", "hello world", "2026-11-25 21:29:50Z", "2026-11-25T21:29:50.Z", "2026-11-25T21:29:50.5", "2026-13-25T21:29:50Z"} {
		if _, ok := parseTimestamp([]byte(s)); ok {
			t.Errorf("%q parsed as a timestamp", s)
		}
	}
}

func BenchmarkParseTimestamp(b *testing.B) {
	ts := []byte("2026-11-25T21:29:50.123456789Z")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		parseTimestamp(ts)
	}
}
