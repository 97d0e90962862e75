package logs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// rotateWait is how long a rotated-away file is still read after it stops
// growing: a writer keeps writing to it until it reopens its log.
const rotateWait = 10 * time.Second

// partialWait is how long a last line without a newline waits for the
// rest of it while the file is quiet; then it is delivered as it is, and
// what comes after it is a line of its own.
const partialWait = time.Second

// rotationCheck is how often FollowFile looks for lines and rotation
// without an inotify event (a file renamed to another directory).
const rotationCheck = 250 * time.Millisecond

// FileOptions say what a file source reads.
type FileOptions struct {
	Follow    bool   // keep reading new lines; otherwise return at the end of the file
	FromStart bool   // when following, read the lines already there first
	CaughtUp  func() // called once, when the lines already there are read
}

// fileReadSize is how much of a file is read at once.
const fileReadSize = 1 << 20

// FollowFile streams the lines of a file on this machine. What is already
// there is read with large plain reads and handed to sink line by line
// without copying; following then continues at the end of the file,
// woken by inotify on the file's directory (fsnotify) and a short ticker,
// across rename-and-create rotation and copytruncate. Every file that
// appears under the name is read from its own descriptor, so rotating
// faster than the reader keeps up loses or repeats no line: lines a writer
// still appends to a renamed file are read from the descriptor held on it
// before the newer file's.
func FollowFile(ctx context.Context, path string, opts FileOptions, sink Sink) error {
	caughtUp := func() {
		if opts.CaughtUp != nil {
			opts.CaughtUp()
			opts.CaughtUp = nil
		}
	}
	defer caughtUp()
	first, err := openInstance(path)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	ff := &fileFollower{path: path, sink: sink, cur: first}
	defer ff.closeAll()
	if !opts.Follow || opts.FromStart {
		if err := ff.readExisting(ctx, !opts.Follow); err != nil {
			return fmt.Errorf("log file %s: %w", Label(path), err)
		}
	} else if ff.cur.pos, err = ff.cur.f.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("log file %s: %w", Label(path), err)
	}
	caughtUp()
	if !opts.Follow || ctx.Err() != nil {
		return nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("log file %s: %w", Label(path), err)
	}
	defer w.Close()
	if err := w.Add(filepath.Dir(path)); err != nil {
		return fmt.Errorf("log file %s: %w", Label(path), err)
	}
	ticker := time.NewTicker(rotationCheck)
	defer ticker.Stop()
	for {
		ff.poll()
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-w.Errors: // a dropped event: the ticker still wakes the reader
		case <-w.Events:
			drainEvents(w.Events)
		}
	}
}

// drainEvents discards the events already queued: one read serves them all.
func drainEvents(events <-chan fsnotify.Event) {
	for {
		select {
		case <-events:
		default:
			return
		}
	}
}

// readExisting reads the current instance from its start to its end with
// large reads. A last line without a newline is delivered when atEnd (the
// file is read once), else left for the follower.
func (ff *fileFollower) readExisting(ctx context.Context, atEnd bool) error {
	in := ff.cur
	buf := make([]byte, fileReadSize)
	held := 0 // bytes of an unfinished line at the start of buf
	skip := 0 // bytes of an overlong line read past DefaultMaxLine
	for ctx.Err() == nil {
		n, err := in.f.Read(buf[held:])
		data := buf[:held+n]
		now := time.Now() // one clock reading per read: files carry no times of their own
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				break
			}
			ff.deliverCut("file", now, data[:i], skip)
			in.pos += int64(skip + i + 1)
			skip = 0
			data = data[i+1:]
		}
		if len(data) > DefaultMaxLine { // keep the head of an overlong line, count the rest
			skip += len(data) - DefaultMaxLine
			data = data[:DefaultMaxLine]
		}
		held = copy(buf, data)
		if err == io.EOF || (err == nil && n == 0) {
			break
		}
		if err != nil {
			return err
		}
	}
	if atEnd && (held > 0 || skip > 0) {
		ff.deliverCut("file", time.Now(), buf[:held], skip)
	}
	return nil
}

// fileFollower tracks the file instance (inode) under the name and how far
// it was read, and drains instances that were rotated away.
type fileFollower struct {
	path     string
	sink     Sink
	cur      *instance   // what is read now
	draining []*instance // rotated away, still read here
}

// instance is one file (inode) under the followed name.
type instance struct {
	f       *os.File
	ino     uint64
	pos     int64  // bytes delivered
	partial []byte // the start of a line not ended yet, at most DefaultMaxLine bytes
	skip    int    // bytes of that line read past partial and dropped
	grew    time.Time
}

func openInstance(path string) (*instance, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, LabelPathError(err)
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s is a directory, not a log file", Label(path))
	}
	return &instance{f: f, ino: inode(f), grew: time.Now()}, nil
}

func inode(f *os.File) uint64 {
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}

func pathInode(path string) uint64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}

// poll reads what every instance has past what was delivered, oldest
// first, and starts reading the file now under the name when it is a new
// one. A renamed file is read until it has not grown for rotateWait.
func (ff *fileFollower) poll() {
	kept := ff.draining[:0]
	for _, in := range ff.draining {
		ff.drain(in)
		if time.Since(in.grew) > rotateWait {
			ff.deliverPartial(in)
			in.f.Close()
			continue
		}
		kept = append(kept, in)
	}
	ff.draining = kept
	ff.truncated(ff.cur)
	ff.drain(ff.cur)
	if time.Since(ff.cur.grew) > partialWait {
		ff.deliverPartial(ff.cur)
	}
	ino := pathInode(ff.path)
	if ino == 0 || ino == ff.cur.ino {
		return
	}
	// Read the left file to its end again: what the writer put there before
	// the new file was created comes before the new file's first line.
	ff.drain(ff.cur)
	if ff.cur.f != nil {
		ff.draining = append(ff.draining, ff.cur)
	}
	next, err := openInstance(ff.path)
	if err != nil {
		next = &instance{ino: ino}
	}
	ff.cur = next
	ff.drain(ff.cur)
}

// truncated notices copytruncate: the file is now shorter than what was
// read of it, and is read again from its start.
func (ff *fileFollower) truncated(in *instance) {
	if in.f == nil {
		return
	}
	if fi, err := in.f.Stat(); err == nil && fi.Size() < in.read() {
		in.pos, in.partial, in.skip = 0, nil, 0
	}
}

// read is how far an instance was read: what was delivered and the
// unfinished line after it.
func (in *instance) read() int64 { return in.pos + int64(len(in.partial)+in.skip) }

// hold keeps the start of an unfinished line, up to DefaultMaxLine bytes,
// and counts the rest.
func (in *instance) hold(data []byte) {
	if room := DefaultMaxLine - len(in.partial); len(data) > room {
		in.skip += len(data) - room
		data = data[:room]
	}
	in.partial = append(in.partial, data...)
}

// drain delivers the complete lines an instance has past what was delivered.
func (ff *fileFollower) drain(in *instance) {
	if in.f == nil {
		return
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := in.f.ReadAt(buf, in.read())
		if n > 0 {
			now := time.Now()
			in.grew = now
			data := buf[:n]
			for {
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					in.hold(data)
					break
				}
				if len(in.partial) > 0 || in.skip > 0 {
					in.hold(data[:i])
					in.pos++ // the newline
					ff.deliverPartial(in)
				} else {
					ff.deliverCut("file", now, data[:i], 0)
					in.pos += int64(i + 1)
				}
				data = data[i+1:]
			}
		}
		if err != nil || n == 0 {
			return
		}
	}
}

// deliverPartial delivers the line an instance holds, as far as it goes.
func (ff *fileFollower) deliverPartial(in *instance) {
	if len(in.partial) == 0 && in.skip == 0 {
		return
	}
	ff.deliverCut("file", time.Now(), in.partial, in.skip)
	in.pos += int64(len(in.partial) + in.skip)
	in.partial, in.skip = in.partial[:0], 0
}

// deliverCut delivers a line read from the file now, skip bytes of it
// already dropped for its length.
func (ff *fileFollower) deliverCut(stream string, t time.Time, text []byte, skip int) {
	if len(text) > DefaultMaxLine {
		skip, text = skip+len(text)-DefaultMaxLine, text[:DefaultMaxLine]
	}
	ff.sink(stream, t, text, skip)
}

func (ff *fileFollower) closeAll() {
	for _, in := range append(ff.draining, ff.cur) {
		if in != nil && in.f != nil {
			in.f.Close()
		}
	}
}
