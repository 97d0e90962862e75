package tui

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/golive/golive/logs"
)

// savedMsg says where s saved the shown log lines, or why it could not.
type savedMsg struct {
	path  string
	lines int
	err   error
}

func (s savedMsg) String() string {
	if s.err != nil {
		return "s: could not save the lines: " + s.err.Error()
	}
	return fmt.Sprintf("saved %d lines to %s", s.lines, s.path)
}

// save writes the lines the current filter shows (source, errors only,
// filter text) to a new file, sanitized and with secrets masked. The file
// is written in a command, never in Update.
func (m Model) save() tea.Cmd {
	buf, filter, mask := m.cfg.Logs, *m.logs.currentFilter(), m.cfg.Engine.Mask
	name := fmt.Sprintf("golive-%s-%s.log", m.plan.Project, m.cfg.Now().UTC().Format("20060102-150405"))
	path := filepath.Join(m.cfg.SaveDir, name)
	return func() tea.Msg {
		lines := buf.Window(0, buf.Len(), &filter)
		abs, err := filepath.Abs(path)
		if err == nil {
			err = writeNew(abs, []byte(formatLines(lines, mask)))
		}
		return savedMsg{path: abs, lines: len(lines), err: err}
	}
}

// formatLines is one line per log line: its time, its source, its text.
func formatLines(lines []logs.Line, mask func(string) string) string {
	var b strings.Builder
	for _, l := range lines {
		text := logs.SanitizeString(mask(l.Text))
		if l.Dropped > 0 {
			text = fmt.Sprintf("⋯ %d lines dropped here", l.Dropped)
		}
		fmt.Fprintf(&b, "%s %s %s\n", l.Time.UTC().Format(time.RFC3339Nano), logs.SanitizeString(l.Source), text)
	}
	return b.String()
}

// writeNew writes a file that is either whole or not there, never over an
// existing one, with the mode any file the user creates gets (0666 less
// the umask: the kernel applies it, so no other goroutine sees it change).
func writeNew(path string, data []byte) error {
	suffix := make([]byte, 6)
	rand.Read(suffix)
	tmpName := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+hex.EncodeToString(suffix))
	tmp, err := os.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	defer os.Remove(tmpName)
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Link(tmpName, path) // fails rather than replace a file of the same name
}
