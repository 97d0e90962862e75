// Package docker is golive's narrow view of the Docker Engine API: images,
// containers, the release lock and log streams. It returns values and never
// prints; callers decide what the user sees.
package docker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Client talks to one Docker engine. The API version is negotiated with the
// engine on first use, so older engines (API 1.41) work.
type Client struct {
	api  *client.Client
	host string
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
	c := &Client{api: api, host: api.DaemonHost()}
	if _, err := api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		api.Close()
		return nil, &UnreachableError{Host: c.host, Err: err}
	}
	return c, nil
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
	hint := "is the Docker daemon running? (try `docker info`)"
	if strings.Contains(e.Err.Error(), "permission denied") {
		hint = "your user may not access the Docker socket: add it to the docker group or run with sudo"
	}
	return fmt.Sprintf("cannot reach the Docker engine at %s: %s; %s", e.Host, rootCause(e.Err), hint)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// IsNotFound reports whether err says that a container or image does not exist.
func IsNotFound(err error) bool { return cerrdefs.IsNotFound(err) }

// IsConflict reports whether err says that a name is already in use.
func IsConflict(err error) bool { return cerrdefs.IsConflict(err) }

func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
