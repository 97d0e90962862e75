package docker_test

import (
	"errors"
	"testing"
	"time"

	"github.com/golive/golive/docker"
)

func TestUnreachableErrorSaysOnceWhatToTry(t *testing.T) {
	tests := []struct {
		name, host string
		err        error
		want       string
	}{
		{"the default socket", "unix:///var/run/docker.sock", errors.New("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"),
			"cannot reach the Docker engine at unix:///var/run/docker.sock; is the Docker daemon running? (try `docker info`)"},
		{"a remote host", "tcp://10.0.0.12:2375", errors.New("Cannot connect to the Docker daemon at tcp://10.0.0.12:2375. Is the docker daemon running?"),
			"cannot reach the Docker engine at tcp://10.0.0.12:2375; is the Docker daemon running? (try `docker -H tcp://10.0.0.12:2375 info`)"},
		{"ssh ends its error with a newline", "ssh://deploy@app2", errors.New("ssh: connect to host app2 port 22: Connection refused\n"),
			"cannot reach the Docker engine at ssh://deploy@app2: ssh: connect to host app2 port 22: Connection refused; is the Docker daemon running? (try `docker -H ssh://deploy@app2 info`)"},
		{"a stalled engine", "tcp://10.0.0.12:2375", &docker.TimeoutError{Call: "ping", After: 15 * time.Second},
			"cannot reach the Docker engine at tcp://10.0.0.12:2375: no answer from the Docker engine within 15s; it may be stalled: check `docker -H tcp://10.0.0.12:2375 info` and the daemon's log"},
		{"a socket the user may not open", "unix:///var/run/docker.sock", errors.New("dial unix /var/run/docker.sock: connect: permission denied"),
			"cannot reach the Docker engine at unix:///var/run/docker.sock: dial unix /var/run/docker.sock: connect: permission denied; your user may not access the Docker socket: add it to the docker group or run with sudo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (&docker.UnreachableError{Host: tt.host, Err: tt.err}).Error(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
