package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/docker/dockertest"
)

// TestLogsNoFollowPrintsEverythingAndFiltersBeforeTheTail: --no-follow
// used to keep only the newest 10,000 lines and apply --errors after that
// cap (988 error lines printed of 186,846).
func TestLogsNoFollowPrintsEverythingAndFiltersBeforeTheTail(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := 0; i < 25000; i++ {
		if i%10 == 0 {
			fmt.Fprintf(&b, "level=error msg=\"failed\" seq=%d\n", i)
		} else {
			fmt.Fprintf(&b, "level=info msg=\"ok\" seq=%d\n", i)
		}
	}
	path := writeFile(t, dir, "app.log", b.String())
	for _, c := range []struct {
		name  string
		args  []string
		lines int
		last  string
	}{
		{"every line without a limit", nil, 25000, "seq=24999"},
		{"every error line", []string{"--errors"}, 2500, "seq=24990"},
		{"the last lines", []string{"--tail", "3"}, 3, "seq=24999"},
		{"the last error lines, not errors among the last lines", []string{"--errors", "--tail", "5"}, 5, "seq=24990"},
		{"a tail longer than the file: all of it", []string{"--tail", "30000"}, 25000, "seq=24999"},
		{"a tail longer than any log: memory for the lines there, not for N", []string{"--tail", "1000000000000"}, 25000, "seq=24999"},
		{"no line with --tail 0, as tail -n 0 and docker logs --tail 0", []string{"--tail", "0"}, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errout := cli(t, append(append([]string{"logs", "--no-follow"}, c.args...), path)...)
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if out == "" {
				lines = nil
			}
			last := ""
			if len(lines) > 0 {
				last = lines[len(lines)-1]
			}
			if code != 0 || len(lines) != c.lines || !strings.HasSuffix(last, c.last) {
				t.Fatalf("exit %d, %d lines ending %q, want 0, %d lines ending %s\n%s", code, len(lines), last, c.lines, c.last, errout)
			}
		})
	}
}

func TestLogsMasksThePlanSecretsInWhatItPrints(t *testing.T) {
	dir := t.TempDir()
	plan := writeFile(t, dir, "plan.yaml", "project: masked\nrelease: '1'\nsecrets: [LOGS_TEST_PW]\nservices:\n  api:\n    image: a\n    env: {DB_PASSWORD: '${LOGS_TEST_PW}'}\n")
	path := writeFile(t, dir, "app.log", "connecting with s3cret-value\nerror: auth failed for s3cret-value\n")
	os.Setenv("LOGS_TEST_PW", "s3cret-value")
	defer os.Unsetenv("LOGS_TEST_PW")
	code, out, errout := cli(t, "logs", "--plan", plan, "--no-follow", path)
	if code != 0 || strings.Contains(out, "s3cret-value") || strings.Count(out, "****") != 2 {
		t.Fatalf("exit %d:\n%s%s", code, out, errout)
	}
}

// The summary in `golive --help` names the same logs flags as
// `golive logs --help`, so a newcomer finds --tail from either.
func TestUsageListsEveryLogsFlag(t *testing.T) {
	synopsis := strings.SplitN(logsUsage, "\n", 2)[0]
	var line string
	for _, l := range strings.Split(usage, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "golive logs ") {
			line = l
		}
	}
	for _, f := range strings.Fields(synopsis) {
		if flag, ok := strings.CutPrefix(f, "[--"); ok {
			if name := "[--" + strings.Fields(strings.TrimSuffix(flag, "]"))[0]; !strings.Contains(line, name) {
				t.Errorf("golive --help lacks %s] in %q", name, line)
			}
		}
	}
}

// BenchmarkLogsNoFollowFile is `golive logs --no-follow FILE` in process,
// output discarded: the path bench/logs compares with grep, for profiling
// (go test -run '^$' -bench LogsNoFollowFile -cpuprofile cpu.out ./cmd/golive).
func BenchmarkLogsNoFollowFile(b *testing.B) {
	mix := []string{
		`time=2026-11-25T10:00:00.123456789Z level=info msg="request method=GET path=/api/orders/12345 status=200 duration_ms=12" trace_id=4bf92f3577b34da6a3ce929d0e0e4736`,
		`10.0.3.4 - - [25/Nov/2026:10:00:00 +0000] "GET /static/app.3f2a1c.js HTTP/1.1" 200 48213 "https://shop.example.com/checkout" "Mozilla/5.0 (X11; Linux x86_64)"`,
		`{"level":"error","ts":"2026-11-25T10:00:00.123Z","caller":"db/query.go:88","msg":"query failed","error":"Error 1054 (42S22): Unknown column 'orders.discount_code'","seq":31}`,
		"2026-11-25T10:00:00.123  WARN 1 --- [nio-8080-exec-7] c.s.orders.OrderService : Slow query took 1843ms for customer 88123",
		"2026-11-25T10:00:00.123Z ERROR [celery.worker] Task orders.sync raised unexpected: KeyError('sku')\nTraceback (most recent call last):\n" +
			"  File \"/app/orders/tasks.py\", line 88, in sync\n    sku = item[\"sku\"]\nKeyError: 'sku'",
		"panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1b2c]\n\n" +
			"goroutine 42 [running]:\nmain.(*Server).handleOrder(0xc000120000, {0x7f3a2c, 0xc0001a2000})\n\t/src/app/orders.go:142 +0x1d",
	}
	var sb strings.Builder
	lines := 0
	for i := 0; lines < 200000; i++ {
		entry := mix[0]
		switch i % 50 {
		case 3, 13, 33:
			entry = mix[1]
		case 31:
			entry = mix[2]
		case 17, 41:
			entry = mix[3]
		case 7:
			entry = mix[4]
		case 23:
			entry = mix[5]
		}
		sb.WriteString(entry)
		sb.WriteByte('\n')
		lines += strings.Count(entry, "\n") + 1
	}
	path := writeFile(b, b.TempDir(), "mixed.log", sb.String())
	b.SetBytes(int64(sb.Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if code := runLogs([]string{"--no-follow", path}, io.Discard, io.Discard); code != exitOK {
			b.Fatalf("exit %d", code)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// A directory as SOURCE is a usage mistake, said at once: followed, it
// used to print nothing and never end.
func TestLogsRefusesADirectory(t *testing.T) {
	dir := t.TempDir()
	code, out, errout := cli(t, "logs", dir)
	if code != exitUsage || out != "" || !strings.Contains(errout, "is a directory") {
		t.Fatalf("exit %d, out %q, err %q; want %d and a directory message", code, out, errout, exitUsage)
	}
}

// TestLogsShowsControlCharactersInANameEscaped: a file named with a title
// escape and a colour used to reach the terminal raw, as the source label
// and in the missing-file error.
func TestLogsShowsControlCharactersInANameEscaped(t *testing.T) {
	dir := t.TempDir()
	name := "\x1b]0;HACK\a\x1b[31mred.log"
	path := writeFile(t, dir, name, "level=info msg=ok\n")
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"the source label", []string{"logs", "--no-follow", path}, 0},
		{"the missing-file error", []string{"logs", "--no-follow", path + ".gone"}, exitUsage},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errout := cli(t, c.args...)
			if code != c.code || strings.ContainsAny(out+errout, "\x1b\a") || !strings.Contains(out+errout, `\x1b]0;HACK\a\x1b[31mred.log`) {
				t.Fatalf("exit %d, out %q, err %q; want %d and the name escaped", code, out, errout, c.code)
			}
		})
	}
}

// TestLogsSaysAtOnceThatAContainerDoesNotExist needs the real Docker
// engine. A mistyped container:NAME used to be waited for in silence
// forever when followed, and exited 5 ("could not be read") without
// --no-follow; like a missing file it is a usage mistake, exit 2.
func TestLogsSaysAtOnceThatAContainerDoesNotExist(t *testing.T) {
	name := dockertest.Project(t, dockertest.Client(t)) + "-nosuch"
	for _, c := range []struct {
		name string
		args []string
	}{
		{"followed", []string{"logs", "container:" + name}},
		{"with --no-follow", []string{"logs", "--no-follow", "container:" + name}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, golive, c.args...)
			var out, errout strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errout
			cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("still waiting for %s after a minute, saying %q", name, errout.String())
			}
			code := cmd.ProcessState.ExitCode()
			if code != exitUsage || out.String() != "" || !strings.Contains(errout.String(), "no container named "+name) {
				t.Fatalf("exit %d, out %q, err %q; want %d and a message naming the container", code, out.String(), errout.String(), exitUsage)
			}
		})
	}
}

// A follower whose output cannot be written (a full disk) used to go on
// in silence forever, dropping every line; it stops and says why, as
// without following.
func TestLogsStopsFollowingWhenItsOutputCannotBeWritten(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("this test needs /dev/full: %v", err)
	}
	defer full.Close()
	path := writeFile(t, t.TempDir(), "app.log", "level=info msg=one\nlevel=info msg=two\n")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, golive, "logs", "--tail", "2", path)
	var errout strings.Builder
	cmd.Stdout, cmd.Stderr = full, &errout
	cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("still following after a minute of failed writes, saying %q", errout.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != exitEnvironment || !strings.Contains(errout.String(), "no space left on device") {
		t.Fatalf("exit %d, err %q; want %d and the write error", code, errout.String(), exitEnvironment)
	}
}

// Flag values that ask for nothing sensible are usage mistakes: a
// negative --since used to be ignored in silence, printing the whole log.
func TestLogsRefusesFlagValuesOutOfRange(t *testing.T) {
	path := writeFile(t, t.TempDir(), "app.log", "level=info msg=one\n")
	for _, c := range []struct {
		name string
		flag []string
		says string
	}{
		{"a negative tail", []string{"--tail", "-1"}, "--tail needs a number of lines"},
		{"a negative since", []string{"--since", "-5m"}, "--since needs a duration"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errout := cli(t, append(append([]string{"logs", "--no-follow"}, c.flag...), path)...)
			if code != exitUsage || out != "" || !strings.Contains(errout, c.says) {
				t.Fatalf("exit %d, out %q, err %q; want %d and %q", code, out, errout, exitUsage, c.says)
			}
		})
	}
}
