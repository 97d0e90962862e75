package docker

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// LogOptions selects what a container log stream returns.
type LogOptions struct {
	Since      string // RFC 3339 timestamp or Unix time; "" for the beginning
	Tail       int    // only the last N lines; 0 for all
	Follow     bool
	Timestamps bool
}

// LogStream is a container's log output with stdout and stderr separated.
type LogStream struct {
	Stdout io.Reader
	Stderr io.Reader
	closer io.Closer
}

// NewLogStream makes a stream of stdout and stderr ended by closer (nil:
// nothing to close), for stand-ins of the engine in tests.
func NewLogStream(stdout, stderr io.Reader, closer io.Closer) *LogStream {
	if closer == nil {
		closer = io.NopCloser(nil)
	}
	return &LogStream{Stdout: stdout, Stderr: stderr, closer: closer}
}

// Close ends the stream.
func (s *LogStream) Close() error { return s.closer.Close() }

// Logs opens a container's log stream. Non-TTY output is demultiplexed
// into stdout and stderr; a TTY container has only stdout. A stream that
// does not follow fails when the engine stops sending for the Idle timeout;
// a followed one lasts as long as ctx.
func (c *Client) Logs(ctx context.Context, id string, tty bool, opts LogOptions) (*LogStream, error) {
	o := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Since: opts.Since, Follow: opts.Follow, Timestamps: opts.Timestamps}
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
	if tty {
		return NewLogStream(rc, strings.NewReader(""), rc), nil
	}
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(outW, errW, rc)
		outW.CloseWithError(err)
		errW.CloseWithError(err)
	}()
	return NewLogStream(outR, errR, closers{rc, outR, errR}), nil
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

type closers []io.Closer

func (cs closers) Close() error {
	for _, c := range cs {
		c.Close()
	}
	return nil
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
