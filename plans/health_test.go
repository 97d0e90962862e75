package plans

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golive/golive/docker"
)

// gateDocker is an engine whose one container runs (or not) and whose
// inspections may never answer.
type gateDocker struct {
	Docker
	exited bool
	stall  bool // from the first inspection on
	slow   bool // from the second inspection on, the gate's timeout cuts it
	calls  *atomic.Int32
}

func (d *gateDocker) Inspect(ctx context.Context, id string) (*docker.Container, error) {
	start := time.Now()
	if d.stall {
		<-ctx.Done()
		return nil, fmt.Errorf("inspect container %s: %w", id, ctx.Err())
	}
	if d.slow && d.calls.Add(1) > 1 {
		<-ctx.Done()
		return nil, fmt.Errorf("inspect container %s: %w", id, &docker.TimeoutError{Call: "inspect container " + id, After: time.Since(start)})
	}
	if d.exited {
		return &docker.Container{ID: id, State: "exited", ExitCode: 3}, nil
	}
	return &docker.Container{ID: id, State: "running", Running: true}, nil
}

func (d *gateDocker) LastLines(context.Context, string, int) ([]string, error) {
	return []string{"boom"}, nil
}

// answers is a health endpoint that answers its n-th request (from 1) with
// the n-th status of a script, the last one from then on, and counts them.
type answers struct {
	mu     sync.Mutex
	script []int
	n      int
}

func (a *answers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.n++
	status := a.script[min(a.n, len(a.script))-1]
	a.mu.Unlock()
	w.WriteHeader(status)
}

func (a *answers) requests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

func TestHealthGate(t *testing.T) {
	const bad, good = http.StatusServiceUnavailable, http.StatusOK
	hour := time.Hour
	tests := []struct {
		name     string
		script   []int
		stable   time.Duration
		timeout  time.Duration
		docker   gateDocker
		requests int    // probes the gate made; 0: not checked
		err      string // "": passes
	}{
		{name: "the first pass is found without waiting out the interval", script: []int{bad, bad, bad, good}, requests: 4},
		{name: "stable 0 decides at the first pass", script: []int{good}, requests: 1},
		{name: "the verdict falls when the stable window closes, not at the next interval", script: []int{good}, stable: 150 * time.Millisecond, requests: 2},
		{name: "a failure inside the window starts it over", script: []int{good, bad, good}, stable: 150 * time.Millisecond, requests: 4},
		{name: "a failure at the end of the window is not healthy", script: []int{good, bad}, stable: 150 * time.Millisecond, timeout: 2 * time.Second, err: "not healthy within 2s: GET"},
		{name: "a container that exits fails at once", script: []int{bad}, docker: gateDocker{exited: true}, err: "container exited with code 3"},
		{name: "a gate timing out in the middle of a check says what the last probe said", script: []int{bad}, timeout: 500 * time.Millisecond, docker: gateDocker{slow: true, calls: new(atomic.Int32)}, err: "not healthy within 500ms: GET http://127.0.0.1"},
		{name: "a Docker call that never answers ends at the gate's timeout and names the call", script: []int{good}, timeout: time.Second, docker: gateDocker{stall: true}, err: "not healthy within 1s: inspect container c1: context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &answers{script: tt.script}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			if tt.timeout == 0 {
				tt.timeout = time.Minute
			}
			d := tt.docker
			// An interval of an hour: only the fast first probes and the
			// window's end can make these gates pass before their timeout.
			svc := &Service{Name: "api", Health: Health{HTTP: ts.URL + "/health", Timeout: tt.timeout, Stable: tt.stable, Interval: hour}}
			e := NewEngine(&Plan{Project: "p", Release: "1", Services: []*Service{svc}}, Options{Docker: &d})
			err := e.waitHealthy(context.Background(), svc, "c1", nil)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("gate failed: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("gate ended with %v, want an error containing %q", err, tt.err)
			}
			if tt.requests > 0 && srv.requests() != tt.requests {
				t.Fatalf("the gate probed %d times, want %d", srv.requests(), tt.requests)
			}
		})
	}
}
