package tui

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/golive/golive/internal/atomicfile"
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
			err = atomicfile.WriteNew(abs, []byte(formatLines(lines, mask)))
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
