package plans

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Journal is an append-only JSON Lines record of a release. Each event is
// written before Append returns, so a killed golive loses nothing done
// (the page cache outlives the process), and synced to disk within
// syncDelay, in the background: a release is not slowed by one disk flush
// per event. Before golive changes something on Docker it calls Sync, so
// what led there is on disk first; a crash of the machine itself can lose
// only the events of the last syncDelay. When a write or sync fails,
// Append says so and the event and every later one go to a fallback
// journal in the temporary folder.
type Journal struct {
	mu       sync.Mutex
	syncMu   sync.Mutex // one sync at a time, and none after Close
	f        *os.File
	path     string
	dirty    bool // written since the last sync
	closed   bool
	failed   error    // the first write or sync that failed
	fallback *os.File // where events go after that
}

// syncDelay bounds how long a written event stays unsynced.
const syncDelay = 100 * time.Millisecond

// minFree is the free space a journal needs on its disk before a release starts.
const minFree = 1 << 20

// JournalDir is the folder of the journals under a state directory.
func JournalDir(stateDir string) string { return filepath.Join(stateDir, "journal") }

// CreateJournal starts a new journal file
// <state>/journal/<project>-<release>-<UTC time>.<pid>.<random>.jsonl. The
// name is unique even for two commands started in the same millisecond.
// It refuses to start when the disk has less than 1 MiB free.
func CreateJournal(stateDir, project, release string, now time.Time) (*Journal, error) {
	dir := JournalDir(stateDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("journal: %w (pick a writable folder with --state)", err)
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err == nil && uint64(fs.Bavail)*uint64(fs.Bsize) < minFree {
		return nil, fmt.Errorf("journal: only %d KiB free on the disk of %s; a release needs at least 1 MiB for its journal: free some space or pick another folder with --state", uint64(fs.Bavail)*uint64(fs.Bsize)>>10, dir)
	}
	for {
		path := filepath.Join(dir, journalName(project, release, now))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		return &Journal{f: f, path: path}, nil
	}
}

// journalName is a journal's file name. Everything after the last '-' sorts
// in creation order.
func journalName(project, release string, now time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%s-%s.%d.%s.jsonl", project, release, now.UTC().Format("20060102T150405.000Z"), os.Getpid(), hex.EncodeToString(b[:]))
}

// Path is the journal file's path.
func (j *Journal) Path() string { return j.path }

// Fallback is the file events went to after the journal could not be
// written, or "".
func (j *Journal) Fallback() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fallback == nil {
		return ""
	}
	return j.fallback.Name()
}

// Append writes one event as a line; a sync follows within syncDelay.
// After a failure it returns that failure for every event, which then goes
// to the fallback.
func (j *Journal) Append(e Event) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failed == nil {
		if _, err := j.f.Write(line); err != nil {
			j.failed = fmt.Errorf("journal %s: %w", j.path, err)
		} else {
			if !j.dirty {
				j.dirty = true
				time.AfterFunc(syncDelay, func() { j.Sync() })
			}
			return nil
		}
	}
	if j.fallback == nil {
		j.fallback, _ = os.CreateTemp("", "golive-fallback-journal-*.jsonl")
	}
	if j.fallback != nil {
		j.fallback.Write(line)
		j.fallback.Sync()
	}
	return j.failed
}

// Sync puts every event written so far on disk, or returns the failure
// that stopped the journal. Appends go on while it flushes.
func (j *Journal) Sync() error {
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	j.mu.Lock()
	dirty, failed := j.dirty && !j.closed, j.failed
	j.dirty = false
	j.mu.Unlock()
	if failed != nil || !dirty {
		return failed
	}
	err := j.f.Sync()
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil && j.failed == nil {
		j.failed = fmt.Errorf("journal %s: %w", j.path, err)
	}
	return j.failed
}

// Close syncs what is not yet on disk and closes the journal file.
func (j *Journal) Close() error {
	serr := j.Sync()
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	j.closed = true
	if j.fallback != nil {
		j.fallback.Close()
	}
	if err := j.f.Close(); err != nil {
		return err
	}
	return serr
}

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

// Journals lists the journal files under a state directory, oldest first
// by the creation time in their names.
func Journals(stateDir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(JournalDir(stateDir), "*.jsonl"))
	if err != nil {
		return nil, err
	}
	sort.SliceStable(paths, func(i, k int) bool { return createdAt(paths[i]) < createdAt(paths[k]) })
	return paths, nil
}

// createdAt is the UTC time in a journal's name, as text that sorts in time order.
func createdAt(path string) string {
	name := strings.TrimSuffix(filepath.Base(path), ".jsonl")
	return name[strings.LastIndex(name, "-")+1:]
}

// journalPoll is how often FollowJournals looks for new events and files.
const journalPoll = 200 * time.Millisecond

// FollowJournals delivers the events of the newest journal under stateDir
// from its first line, and of every journal created after it (the next
// apply, a revert, another cockpit), as they are appended. It returns when
// ctx ends. A line is delivered once it is complete; an invalid one is skipped.
func FollowJournals(ctx context.Context, stateDir string, onEvent func(path string, e Event)) error {
	return followJournals(ctx, stateDir, func(paths []string) string { return createdAt(paths[len(paths)-1]) }, onEvent)
}

// FollowRelease is FollowJournals from the newest journal of one release
// (named <project>-<release>-<time>.jsonl) when there is one, so a watch
// opened on a plan sees its release from its start even after a newer
// release began; the caller tells the releases apart (State.Follows).
func FollowRelease(ctx context.Context, stateDir, project, release string, onEvent func(path string, e Event)) error {
	prefix := project + "-" + release + "-"
	return followJournals(ctx, stateDir, func(paths []string) string {
		for i := len(paths) - 1; i >= 0; i-- {
			if rest, ok := strings.CutPrefix(filepath.Base(paths[i]), prefix); ok && len(rest) > 9 && rest[8] == 'T' && strings.Trim(rest[:8], "0123456789") == "" {
				return createdAt(paths[i])
			}
		}
		return createdAt(paths[len(paths)-1])
	}, onEvent)
}

// followJournals follows the journals created at or after the one start
// picks among those present when a first one is there.
func followJournals(ctx context.Context, stateDir string, start func(paths []string) string, onEvent func(path string, e Event)) error {
	type followed struct {
		f       *os.File
		pending []byte
	}
	files := map[string]*followed{}
	defer func() {
		for _, fl := range files {
			fl.f.Close()
		}
	}()
	from := "" // journals created at or after this are followed
	buf := make([]byte, 64<<10)
	for {
		paths, err := Journals(stateDir)
		if err != nil {
			return err
		}
		if from == "" && len(paths) > 0 {
			from = start(paths)
		}
		for _, p := range paths {
			if files[p] != nil || createdAt(p) < from {
				continue
			}
			f, err := os.Open(p)
			if err != nil {
				return fmt.Errorf("journal: %w", err)
			}
			files[p] = &followed{f: f}
		}
		for _, p := range paths {
			fl := files[p]
			if fl == nil {
				continue
			}
			for {
				n, err := fl.f.Read(buf)
				fl.pending = append(fl.pending, buf[:n]...)
				for {
					i := bytes.IndexByte(fl.pending, '\n')
					if i < 0 {
						break
					}
					var e Event
					if json.Unmarshal(fl.pending[:i], &e) == nil {
						onEvent(p, e)
					}
					fl.pending = fl.pending[i+1:]
				}
				if n == 0 || err != nil {
					break
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(journalPoll):
		}
	}
}
