// Package docker is golive's narrow view of the Docker Engine API: images,
// containers, the release lock and log streams. It returns values and never
// prints; callers decide what the user sees.
package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Client talks to one Docker engine. The API version is negotiated with the
// engine on first use, so older engines (API 1.41) work.
type Client struct {
	api      *client.Client
	host     string
	timeouts Timeouts
	// netMu serialises EnsureNetwork: the engine accepts two networks of
	// one name, so parallel deploys sharing a new network would make two.
	netMu sync.Mutex
}

// Connect opens a client for host (empty: DOCKER_HOST, else the local socket)
// and checks that the engine answers. An ssh:// host goes through ConnectHost.
func Connect(ctx context.Context, host string) (*Client, error) {
	if url, ok := sshHost(host); ok {
		return ConnectHost(ctx, url, HostOptions{})
	}
	opts := []client.Opt{client.FromEnv}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	api, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker host %q: %w (set docker.host in the plan or DOCKER_HOST to a valid address)", host, err)
	}
	return open(ctx, api, api.DaemonHost())
}

// open makes a Client of api, shown as host, once the engine answers a ping.
func open(ctx context.Context, api *client.Client, host string) (*Client, error) {
	c := &Client{api: api, host: host, timeouts: DefaultTimeouts}
	ctx, end := c.call(ctx, c.timeouts.Query, "ping")
	_, err := api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	if err := end(err); err != nil {
		api.Close()
		return nil, &UnreachableError{Host: host, Err: err}
	}
	return c, nil
}

// Timeouts bound each kind of Docker call: the engine has been seen to
// stall (an inspect that never returned), and a stalled call must end in an
// error that names it, not in a hang.
type Timeouts struct {
	Query      time.Duration // inspect, list, ping: answered in milliseconds
	Change     time.Duration // create, start, rename, remove, networks, tags, a log tail
	StopMargin time.Duration // added to a stop's own timeout, after which the engine kills
	Idle       time.Duration // pull, load, import, log reads: the longest pause in their progress
}

// DefaultTimeouts are generous for a busy engine and still end a stall.
var DefaultTimeouts = Timeouts{Query: 15 * time.Second, Change: 30 * time.Second, StopMargin: 15 * time.Second, Idle: 2 * time.Minute}

// SetTimeouts replaces the deadlines of this client's calls.
func (c *Client) SetTimeouts(t Timeouts) { c.timeouts = t }

// TimeoutError says the Docker engine did not answer a call in time.
type TimeoutError struct {
	Call  string        // what was asked, "stop container 0123456789ab"
	After time.Duration // how long golive waited
	Idle  bool          // the call made no progress for After (a transfer)
}

func (e *TimeoutError) Error() string { return e.check("docker info") }

// check says what timed out and to run try and read the daemon's log.
func (e *TimeoutError) check(try string) string {
	what := "no answer from the Docker engine within"
	if e.Idle {
		what = "no progress from the Docker engine for"
	}
	return fmt.Sprintf("%s %s; it may be stalled: check `%s` and the daemon's log", what, e.After.Round(100*time.Millisecond), try)
}

// Unwrap makes a TimeoutError a context.DeadlineExceeded.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// call gives one Docker call a deadline of limit. end must be called once
// the call and the reading of its answer are over: it releases the call's
// context and turns a passed deadline (the call's or the caller's) into a
// *TimeoutError for what.
func (c *Client) call(ctx context.Context, limit time.Duration, what string) (context.Context, func(error) error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, limit)
	return ctx, func(err error) error {
		defer cancel()
		if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &TimeoutError{Call: what, After: time.Since(start)}
		}
		return err
	}
}

// transfer bounds a call whose length depends on what it moves (pull, load,
// import, reading a log) by its progress: it fails when touch was not
// called for the Idle timeout. end works as with call.
func (c *Client) transfer(ctx context.Context, what string) (ctx2 context.Context, touch func(), end func(error) error) {
	limit := c.timeouts.Idle
	ctx, cancel := context.WithCancelCause(ctx)
	stalled := &TimeoutError{Call: what, After: limit, Idle: true}
	timer := time.AfterFunc(limit, func() { cancel(stalled) })
	var once sync.Once
	return ctx, func() { timer.Reset(limit) }, func(err error) error {
		once.Do(func() {
			timer.Stop()
			cancel(nil)
		})
		if err != nil && context.Cause(ctx) == stalled {
			return stalled
		}
		return err
	}
}

// progress calls touch on every read that moves bytes.
type progress struct {
	r     io.Reader
	touch func()
}

func (p progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.touch()
	}
	return n, err
}

// Host is the engine address this client talks to.
func (c *Client) Host() string { return c.host }

// Close releases the client's connections.
func (c *Client) Close() error { return c.api.Close() }

// UnreachableError says the Docker engine did not answer.
type UnreachableError struct {
	Host string
	Err  error
}

func (e *UnreachableError) Error() string {
	try := "docker info"
	if e.Host != "" && e.Host != client.DefaultDockerHost {
		try = "docker -H " + e.Host + " info"
	}
	if te := (*TimeoutError)(nil); errors.As(e.Err, &te) {
		return fmt.Sprintf("cannot reach the Docker engine at %s: %s", e.Host, te.check(try))
	}
	hint := "is the Docker daemon running? (try `" + try + "`)"
	if strings.Contains(e.Err.Error(), "permission denied") {
		hint = "your user may not access the Docker socket: add it to the docker group or run with sudo"
	}
	// The client's own "Cannot connect to the Docker daemon at HOST. Is the
	// docker daemon running?" says nothing more than this message and its
	// hint; an ssh error ends with ssh's newline.
	cause := strings.TrimSpace(rootCause(e.Err))
	if strings.HasPrefix(cause, "Cannot connect to the Docker daemon") {
		return fmt.Sprintf("cannot reach the Docker engine at %s; %s", e.Host, hint)
	}
	return fmt.Sprintf("cannot reach the Docker engine at %s: %s; %s", e.Host, cause, hint)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// IsNotFound reports whether err says that a container or image does not exist.
func IsNotFound(err error) bool { return cerrdefs.IsNotFound(err) }

// IsConflict reports whether err says that a name is already in use.
func IsConflict(err error) bool { return cerrdefs.IsConflict(err) }

func rootCause(err error) string {
	if te := (*TimeoutError)(nil); errors.As(err, &te) {
		return te.Error()
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
