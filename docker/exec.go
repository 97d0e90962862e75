package docker

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// DefaultExecTimeout bounds an Exec whose context has no deadline: a
// command run inside a container must never hang a release.
const DefaultExecTimeout = 30 * time.Second

// ExecResult is what a command run inside a container printed and how it ended.
type ExecResult struct {
	Stdout   string
	Stderr   string
	ExitCode int
}

// Exec runs cmd inside a running container, without a terminal, and waits
// for it: its output demultiplexed into stdout and stderr, and its exit
// code. A non-zero exit code is not an error; a context that ends first
// (DefaultExecTimeout when it has no deadline) is.
func (c *Client) Exec(ctx context.Context, container string, cmd []string) (ExecResult, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultExecTimeout)
		defer cancel()
	}
	what := fmt.Sprintf("exec %q in %s", strings.Join(cmd, " "), container)
	created, err := c.api.ExecCreate(ctx, container, client.ExecCreateOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		if IsNotFound(err) {
			return ExecResult{}, fmt.Errorf("%s: container %s does not exist", what, container)
		}
		if IsConflict(err) {
			return ExecResult{}, fmt.Errorf("%s: container %s is not running", what, container)
		}
		return ExecResult{}, fmt.Errorf("%s: %w", what, err)
	}
	attached, err := c.api.ExecAttach(ctx, created.ID, client.ExecAttachOptions{})
	if err != nil {
		return ExecResult{}, fmt.Errorf("%s: attach: %w", what, err)
	}
	defer attached.Close()
	// The hijacked connection ignores ctx: close it when ctx ends so the read returns.
	stop := context.AfterFunc(ctx, func() { attached.Close() })
	defer stop()
	var stdout, stderr bytes.Buffer
	_, err = stdcopy.StdCopy(&stdout, &stderr, attached.Reader)
	if ctx.Err() != nil {
		return ExecResult{Stdout: stdout.String(), Stderr: stderr.String()}, fmt.Errorf("%s: no answer in time: %w", what, context.Cause(ctx))
	}
	if err != nil {
		return ExecResult{}, fmt.Errorf("%s: read output: %w", what, err)
	}
	res := ExecResult{Stdout: stdout.String(), Stderr: stderr.String()}
	// The output ends when the process has exited; its exit code follows shortly.
	for {
		info, err := c.api.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
		if err != nil {
			return res, fmt.Errorf("%s: inspect: %w", what, err)
		}
		if !info.Running {
			res.ExitCode = info.ExitCode
			return res, nil
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("%s: still running: %w", what, context.Cause(ctx))
		case <-time.After(5 * time.Millisecond):
		}
	}
}
