package docker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// LogOptions selects what a container log stream returns.
type LogOptions struct {
	Since      string // RFC 3339 timestamp or Unix time; "" for the beginning
	Until      string // the same; "" for no end
	Tail       int    // only the last N lines; 0 for all
	Follow     bool
	Timestamps bool
}

// Stream tells stdout from stderr in a log stream.
type Stream int

// The output streams of a container.
const (
	Stdout Stream = 1
	Stderr Stream = 2
)

// logReadSize is how much of a log stream is read at once: big reads keep
// syscalls few when a container floods.
const logReadSize = 256 << 10

// LogStream is a container's log output, read in large blocks and handed
// out chunk by chunk with its stream, without copying.
type LogStream struct {
	r      *bufio.Reader
	tty    bool
	closer io.Closer
	hdr    [8]byte
	big    []byte // a frame larger than the read buffer
}

// NewLogStream reads the engine's log format from r: multiplexed stdout
// and stderr frames, or raw output for a TTY container. closer (nil:
// nothing) ends the stream; tests build streams of their own with it.
func NewLogStream(r io.Reader, tty bool, closer io.Closer) *LogStream {
	if closer == nil {
		closer = io.NopCloser(nil)
	}
	return &LogStream{r: bufio.NewReaderSize(r, logReadSize), tty: tty, closer: closer}
}

// Next returns the next chunk of output and the stream it belongs to. A
// chunk holds whole lines as the engine wrote them (one frame) or, for a
// TTY, whatever arrived; it is valid until the next call.
func (s *LogStream) Next() (Stream, []byte, error) {
	if s.tty {
		if _, err := s.r.Peek(1); err != nil {
			return 0, nil, err
		}
		chunk, _ := s.r.Peek(s.r.Buffered())
		s.r.Discard(len(chunk))
		return Stdout, chunk, nil
	}
	if _, err := io.ReadFull(s.r, s.hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("log stream cut inside a frame header: %w", err)
		}
		return 0, nil, err
	}
	stream := Stream(s.hdr[0])
	if stream != Stdout && stream != Stderr {
		return 0, nil, fmt.Errorf("log stream: unknown stream %d", s.hdr[0])
	}
	size := int(binary.BigEndian.Uint32(s.hdr[4:]))
	if size <= s.r.Size() {
		chunk, err := s.r.Peek(size)
		if err != nil {
			return 0, nil, err
		}
		s.r.Discard(size)
		return stream, chunk, nil
	}
	if cap(s.big) < size {
		s.big = make([]byte, size)
	}
	s.big = s.big[:size]
	if _, err := io.ReadFull(s.r, s.big); err != nil {
		return 0, nil, err
	}
	return stream, s.big, nil
}

// Close ends the stream.
func (s *LogStream) Close() error { return s.closer.Close() }

// Logs opens a container's log stream; tty says whether the container has
// a TTY (its output is then not multiplexed). A stream that does not
// follow fails when the engine stops sending for the Idle timeout; a
// followed one lasts as long as ctx.
func (c *Client) Logs(ctx context.Context, id string, tty bool, opts LogOptions) (*LogStream, error) {
	o := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Since: opts.Since, Until: opts.Until, Follow: opts.Follow, Timestamps: opts.Timestamps}
	if opts.Tail > 0 {
		o.Tail = strconv.Itoa(opts.Tail)
	}
	what := "logs of container " + ShortID(id)
	var rc io.ReadCloser
	var err error
	if opts.Follow {
		rc, err = c.api.ContainerLogs(ctx, id, o)
	} else {
		tctx, touch, end := c.transfer(ctx, what)
		if rc, err = c.api.ContainerLogs(tctx, id, o); err == nil {
			rc = &watched{rc: rc, what: what, touch: touch, end: end}
		} else {
			err = end(err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if opts.Follow {
		return NewLogStream(&batchingReader{r: rc}, tty, rc), nil
	}
	// Read in the consumer's goroutine, as docker logs does: handling a
	// line costs far less than the engine's sending it, and handing blocks
	// over from a reading goroutine cost more CPU than it saved.
	return NewLogStream(rc, tty, rc), nil
}

// watched is a log answer read under a progress deadline.
type watched struct {
	rc    io.ReadCloser
	what  string
	touch func()
	end   func(error) error
}

func (w *watched) Read(b []byte) (int, error) {
	n, err := w.rc.Read(b)
	if n > 0 {
		w.touch()
	}
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w", w.what, w.end(err))
	}
	return n, err
}

func (w *watched) Close() error {
	err := w.rc.Close()
	w.end(nil)
	return err
}

// A follow stream brings a few lines at a time; waking for each costs more
// than handling it. When a read had to wait for a little data,
// batchingReader waits batchWait more before handing it on, so the next
// reads take what arrived meanwhile in one go; reads that find data
// waiting go on at once.
const (
	batchWait  = 10 * time.Millisecond
	batchSmall = 2 << 10
)

type batchingReader struct{ r io.Reader }

func (b *batchingReader) Read(p []byte) (int, error) {
	start := time.Now()
	n, err := b.r.Read(p)
	if err == nil && n < batchSmall && time.Since(start) > time.Millisecond {
		time.Sleep(batchWait)
	}
	return n, err
}

// LogRotation is the size at which the engine rotates a container's log
// file (json-file and local drivers), 0 when it does not rotate. Rotation
// during a burst is when the engine's follow stream loses lines.
func (c *Client) LogRotation(ctx context.Context, id string) (int64, error) {
	ctx, end := c.call(ctx, c.timeouts.Query, "inspect container "+ShortID(id))
	res, err := c.api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err = end(err); err != nil {
		return 0, fmt.Errorf("inspect container %s: %w", ShortID(id), err)
	}
	if res.Container.HostConfig == nil {
		return 0, nil
	}
	lc := res.Container.HostConfig.LogConfig
	size, ok := lc.Config["max-size"]
	switch {
	case ok:
		return parseSize(size), nil
	case lc.Type == "local":
		return 20 << 20, nil // the local driver rotates at 20 MB by default
	}
	return 0, nil
}

// parseSize reads the engine's size syntax: 10m, 1g, 512k or bytes.
func parseSize(s string) int64 {
	mult := int64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult, s = 1<<10, s[:n-1]
		case 'm', 'M':
			mult, s = 1<<20, s[:n-1]
		case 'g', 'G':
			mult, s = 1<<30, s[:n-1]
		case 'b', 'B':
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 {
		return 0
	}
	return int64(v * float64(mult))
}

// LastLines returns up to n of a container's most recent output lines
// (stdout and stderr together), for error messages.
func (c *Client) LastLines(ctx context.Context, id string, n int) ([]string, error) {
	ctx, end := c.call(ctx, c.timeouts.Change, "logs of container "+ShortID(id))
	rc, err := c.api.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: strconv.Itoa(n)})
	var raw []byte
	if err == nil {
		raw, err = io.ReadAll(rc)
		rc.Close()
	}
	if err = end(err); err != nil {
		return nil, fmt.Errorf("logs of container %s: %w", ShortID(id), err)
	}
	var buf bytes.Buffer
	if _, err := stdcopy.StdCopy(&buf, &buf, bytes.NewReader(raw)); err != nil {
		buf.Reset()
		buf.Write(raw) // a TTY container's logs are not multiplexed
	}
	var lines []string
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, nil
}
