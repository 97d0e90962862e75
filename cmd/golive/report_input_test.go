package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportRefusesWhatIsNotAJournalAndNamesAMissingFolder(t *testing.T) {
	dir := t.TempDir()
	notJournal := writeFile(t, dir, "passwd.jsonl", "root:x:0:0:root:/root:/bin/bash\n")
	code, stdout, stderr := cli(t, "report", notJournal)
	if code != exitUsage || stdout != "" || !strings.Contains(stderr, "no journal record in "+notJournal) {
		t.Errorf("a file with no journal record: exit %d, %q %q", code, stdout, stderr)
	}
	out := filepath.Join(dir, "missing", "postmortem.md")
	code, _, stderr = cli(t, "report", "../../plans/report/testdata/broken-release.jsonl", "-o", out)
	if code != exitEnvironment || !strings.Contains(stderr, "write "+out+": folder "+filepath.Dir(out)+" does not exist") {
		t.Errorf("-o into a missing folder: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a report appeared: %v", err)
	}
}
