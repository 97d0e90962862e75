package docker

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/cli/cli/connhelper"
	"github.com/moby/moby/client"
)

// HostOptions say how to reach a named Docker engine beyond its URL.
type HostOptions struct {
	// CertDir holds ca.pem, cert.pem and key.pem (DOCKER_CERT_PATH style)
	// for a tcp:// engine that speaks TLS; empty means plain TCP.
	CertDir string
	// SSHFlags are extra ssh options for an ssh:// engine, e.g. "-i", "KEY".
	SSHFlags []string
}

// ConnectHost opens a client for the engine at hostURL, one of
// unix:///path, tcp://host[:port] or ssh://[user@]host[:port][/socket], and
// checks that the engine answers. Unlike Connect it ignores DOCKER_HOST and
// the other DOCKER_* variables: each named host says all it needs. The API
// version is negotiated with that engine alone. An ssh:// host goes through
// the Docker CLI's connection helper, so the remote side runs
// `docker system dial-stdio` (against /socket when the URL names one).
func ConnectHost(ctx context.Context, hostURL string, opts HostOptions) (*Client, error) {
	shown := redacted(hostURL)
	clientOpts, err := hostClientOptions(hostURL, shown, opts)
	if err != nil {
		return nil, err
	}
	api, err := client.New(clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("docker host %s: %w", shown, err)
	}
	return open(ctx, api, shown)
}

// sshHost returns the ssh:// URL that host, or DOCKER_HOST when host is
// empty, names, which the plain client cannot dial.
func sshHost(host string) (string, bool) {
	if host == "" {
		host = os.Getenv("DOCKER_HOST")
	}
	return host, strings.HasPrefix(host, "ssh://")
}

// hostClientOptions turns a host URL and its options into client options,
// rejecting what cannot work before anything is dialled.
func hostClientOptions(hostURL, shown string, opts HostOptions) ([]client.Opt, error) {
	u, err := url.Parse(hostURL)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("docker host %q: not a URL; write unix:///path/docker.sock, tcp://HOST:PORT or ssh://USER@HOST", shown)
	}
	if opts.CertDir != "" && u.Scheme != "tcp" {
		return nil, fmt.Errorf("docker host %s: TLS certificates apply to tcp:// hosts only", shown)
	}
	switch u.Scheme {
	case "unix":
		if u.Path == "" || u.Host != "" {
			return nil, fmt.Errorf("docker host %q: a unix socket needs an absolute path, e.g. unix:///var/run/docker.sock", shown)
		}
		return []client.Opt{client.WithHost(hostURL)}, nil
	case "tcp":
		return tcpClientOptions(shown, u, opts.CertDir)
	case "ssh":
		helper, err := connhelper.GetConnectionHelperWithSSHOpts(hostURL, opts.SSHFlags)
		if err != nil {
			return nil, fmt.Errorf("docker host %s: %w", shown, err)
		}
		return []client.Opt{client.WithHost(helper.Host), client.WithDialContext(helper.Dialer)}, nil
	}
	return nil, fmt.Errorf("docker host %q: scheme %q is not supported; use unix://, tcp:// or ssh://", shown, u.Scheme)
}

// tcpClientOptions adds the Docker CLI's default port (2375, or 2376 with
// TLS) and the TLS files of certDir.
func tcpClientOptions(shown string, u *url.URL, certDir string) ([]client.Opt, error) {
	if u.Hostname() == "" {
		return nil, fmt.Errorf("docker host %q: tcp:// needs a host name or address", shown)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("docker host %q: write tcp://HOST:PORT, without user, path or query", shown)
	}
	port := u.Port()
	if port == "" {
		port = "2375"
		if certDir != "" {
			port = "2376"
		}
	}
	opts := []client.Opt{client.WithHost("tcp://" + net.JoinHostPort(u.Hostname(), port))}
	if certDir == "" {
		return opts, nil
	}
	files := make([]string, 3)
	for i, name := range []string{"ca.pem", "cert.pem", "key.pem"} {
		files[i] = filepath.Join(certDir, name)
		if _, err := os.Stat(files[i]); err != nil {
			return nil, fmt.Errorf("docker host %s: TLS: %w (the certificate folder needs ca.pem, cert.pem and key.pem, as DOCKER_CERT_PATH does)", shown, err)
		}
	}
	return append(opts, client.WithTLSClientConfig(files[0], files[1], files[2])), nil
}

// redacted is hostURL with any password masked, for messages and Host.
func redacted(hostURL string) string {
	if u, err := url.Parse(hostURL); err == nil {
		return u.Redacted()
	}
	return hostURL
}

// EngineName is the name the engine gives itself (its host name), which
// tells engines apart when several are connected.
func (c *Client) EngineName(ctx context.Context) (string, error) {
	ctx, end := c.call(ctx, c.timeouts.Query, "info")
	res, err := c.api.Info(ctx, client.InfoOptions{})
	if err = end(err); err != nil {
		return "", fmt.Errorf("docker host %s: info: %w", c.host, err)
	}
	return strings.TrimSpace(res.Info.Name), nil
}
