package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
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
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errout := cli(t, append(append([]string{"logs", "--no-follow"}, c.args...), path)...)
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if code != 0 || len(lines) != c.lines || !strings.HasSuffix(lines[len(lines)-1], c.last) {
				t.Fatalf("exit %d, %d lines ending %q, want 0, %d lines ending %s\n%s", code, len(lines), lines[len(lines)-1], c.lines, c.last, errout)
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
