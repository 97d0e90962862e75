package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/nxadm/tail"
)

// rotateWait is how long a rotated-away file is still read after it stops
// growing: a writer keeps writing to it until it reopens its log.
const rotateWait = 10 * time.Second

// rotationCheck is how often FollowFile looks for a rotation that tail has
// not shown yet.
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
// without copying; following then continues at the end of the file with
// inotify (github.com/nxadm/tail), across rename-and-create rotation and
// copytruncate. tail follows the name; lines a writer still appends to the
// renamed file, which tail no longer reads, are read here from a
// descriptor held on it, so no line is lost or repeated.
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
			return fmt.Errorf("log file %s: %w", path, err)
		}
	} else if ff.cur.pos, err = ff.cur.f.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("log file %s: %w", path, err)
	}
	caughtUp()
	if !opts.Follow || ctx.Err() != nil {
		return nil
	}
	cfg := tail.Config{Follow: true, ReOpen: true, MustExist: true, CompleteLines: true, Logger: tail.DiscardingLogger,
		Location: &tail.SeekInfo{Offset: ff.cur.pos, Whence: io.SeekStart}}
	t, err := tail.TailFile(path, cfg)
	if err != nil {
		return fmt.Errorf("log file %s: %w", path, err)
	}
	defer t.Cleanup()
	defer t.Stop()
	ticker := time.NewTicker(rotationCheck)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			ff.check()
		case l, ok := <-t.Lines:
			if !ok {
				// tail closes Lines before its tomb is marked dead: wait for the real outcome.
				if err := t.Wait(); err != nil && !errors.Is(err, tail.ErrStop) {
					return fmt.Errorf("log file %s: %w", path, err)
				}
				return nil
			}
			if l.Err != nil {
				continue
			}
			ff.line(l)
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

// fileFollower tracks which file instance (inode) tail reads and how far,
// and drains instances that were rotated away.
type fileFollower struct {
	path     string
	sink     Sink
	mu       sync.Mutex
	cur      *instance   // what is read now
	draining []*instance // rotated away, still read here
	lastLine time.Time   // when tail last delivered a line of cur
}

// instance is one file (inode) under the followed name.
type instance struct {
	f       *os.File
	ino     uint64
	pos     int64 // bytes delivered
	partial []byte
	grew    time.Time
}

func openInstance(path string) (*instance, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s is a directory, not a log file", path)
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

// line delivers a line from tail, first draining the instance tail left
// when the line shows that tail moved on.
func (ff *fileFollower) line(l *tail.Line) {
	ff.mu.Lock()
	defer ff.mu.Unlock()
	text := []byte(l.Text)
	if ff.cur != nil {
		end := l.SeekInfo.Offset
		if end != ff.cur.pos+int64(len(text))+1 && end != ff.cur.pos+int64(len(text)) {
			// tail reopened: a new file under the name, or the same one truncated
			if ino := pathInode(ff.path); ino != 0 && ino != ff.cur.ino {
				ff.rotated()
			}
		}
		ff.cur.pos = end
		ff.lastLine = time.Now()
	}
	ff.deliver("file", l.Time, text)
}

// rotated moves the current instance to draining, reads what it has left
// and starts tracking the file now under the name.
func (ff *fileFollower) rotated() {
	old := ff.cur
	ff.drain(old)
	ff.draining = append(ff.draining, old)
	next, err := openInstance(ff.path)
	if err != nil {
		next = &instance{ino: pathInode(ff.path)}
	}
	ff.cur = next
}

// check drains rotated files and notices a rotation tail has not shown
// with a line yet (the new file is still empty).
func (ff *fileFollower) check() {
	ff.mu.Lock()
	defer ff.mu.Unlock()
	if ff.cur != nil && ff.cur.f != nil {
		if ino := pathInode(ff.path); ino != 0 && ino != ff.cur.ino && time.Since(ff.lastLine) > time.Second {
			if size, err := ff.cur.f.Seek(0, io.SeekEnd); err == nil && size > ff.cur.pos {
				ff.rotated()
			}
		}
	}
	kept := ff.draining[:0]
	for _, in := range ff.draining {
		ff.drain(in)
		if time.Since(in.grew) > rotateWait {
			if len(in.partial) > 0 {
				ff.deliver("file", time.Now(), in.partial)
			}
			in.f.Close()
			continue
		}
		kept = append(kept, in)
	}
	ff.draining = kept
}

// drain delivers the complete lines an instance has past what was delivered.
func (ff *fileFollower) drain(in *instance) {
	if in.f == nil {
		return
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := in.f.ReadAt(buf, in.pos+int64(len(in.partial)))
		if n > 0 {
			in.grew = time.Now()
			data := append(in.partial, buf[:n]...)
			for {
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					break
				}
				ff.deliver("file", time.Now(), data[:i])
				in.pos += int64(i + 1)
				data = data[i+1:]
			}
			in.partial = append(in.partial[:0], data...)
		}
		if err != nil || n == 0 {
			return
		}
	}
}

func (ff *fileFollower) deliver(stream string, t time.Time, text []byte) {
	cut := 0
	if len(text) > DefaultMaxLine {
		cut, text = len(text)-DefaultMaxLine, text[:DefaultMaxLine]
	}
	ff.sink(stream, t, text, cut)
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
	ff.mu.Lock()
	defer ff.mu.Unlock()
	for _, in := range append(ff.draining, ff.cur) {
		if in != nil && in.f != nil {
			in.f.Close()
		}
	}
}
