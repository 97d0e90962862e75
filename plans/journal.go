package plans

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Journal is an append-only JSON Lines record of a release. Each event is
// written and synced before Append returns, so a crash loses nothing done.
type Journal struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

// JournalDir is the folder of the journals under a state directory.
func JournalDir(stateDir string) string { return filepath.Join(stateDir, "journal") }

// CreateJournal starts a new journal file
// <state>/journal/<project>-<release>-<UTC time>.jsonl.
func CreateJournal(stateDir, project, release string, now time.Time) (*Journal, error) {
	dir := JournalDir(stateDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("journal: %w (pick a writable folder with --state)", err)
	}
	name := fmt.Sprintf("%s-%s-%s.jsonl", project, release, now.UTC().Format("20060102T150405.000Z"))
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &Journal{f: f, path: path}, nil
}

// Path is the journal file's path.
func (j *Journal) Path() string { return j.path }

// Append writes one event as a line and syncs it to disk.
func (j *Journal) Append(e Event) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(line); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	return j.f.Sync()
}

// Close closes the journal file.
func (j *Journal) Close() error { return j.f.Close() }

// JournalProblem is a line of a journal that could not be read.
type JournalProblem struct {
	Line int
	Err  error
}

// ReadJournal reads every event of a journal. Malformed lines are skipped
// and reported; a journal cut short by a crash reads up to where it ends.
func ReadJournal(r io.Reader) ([]Event, []JournalProblem, error) {
	var events []Event
	var problems []JournalProblem
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			var e Event
			if jerr := json.Unmarshal(line, &e); jerr != nil {
				problems = append(problems, JournalProblem{Line: n, Err: jerr})
			} else {
				events = append(events, e)
			}
		}
		if errors.Is(err, io.EOF) {
			return events, problems, nil
		}
		if err != nil {
			return events, problems, err
		}
	}
}

// Journals lists the journal files under a state directory, oldest first.
func Journals(stateDir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(JournalDir(stateDir), "*.jsonl"))
	if err != nil {
		return nil, err
	}
	sort.Slice(paths, func(i, k int) bool {
		a, _ := os.Stat(paths[i])
		b, _ := os.Stat(paths[k])
		if a == nil || b == nil {
			return paths[i] < paths[k]
		}
		return a.ModTime().Before(b.ModTime())
	})
	return paths, nil
}
