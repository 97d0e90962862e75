package plans

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/logs"
)

// probeTimeout bounds one health probe.
const probeTimeout = 3 * time.Second

// waitHealthy waits until the container passes the service's health gate
// and stays running and healthy for health.stable. It fails at once when
// the container exits or restarts.
func (e *Engine) waitHealthy(ctx context.Context, svc *Service, id string) error {
	h := svc.Health
	start := time.Now()
	deadline := start.Add(h.Timeout)
	var healthySince time.Time
	lastDetail := "no check ran yet"
	restarts := -1
	ticker := time.NewTicker(h.Interval)
	defer ticker.Stop()
	for {
		ct, err := e.opts.Docker.Inspect(ctx, id)
		if err != nil {
			return err
		}
		if ct == nil {
			return fmt.Errorf("container %s disappeared", docker.ShortID(id))
		}
		if restarts < 0 {
			restarts = ct.RestartCount
		}
		if !ct.Running || ct.RestartCount != restarts {
			return e.crashError(ctx, ct, time.Since(start))
		}
		if err := e.errorGateFailed(id); err != nil {
			return err
		}
		ok, detail := e.probe(ctx, h, ct)
		lastDetail = detail
		switch {
		case !ok:
			healthySince = time.Time{}
		case healthySince.IsZero():
			healthySince = time.Now()
			fallthrough
		default:
			if time.Since(healthySince) >= h.Stable {
				e.Emit(Event{Kind: EvHealth, Service: svc.Name, ContainerID: id, Result: ResultOK, DurationMS: ms(time.Since(start)), Message: detail})
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not healthy within %s: %s", h.Timeout, lastDetail)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

func (e *Engine) crashError(ctx context.Context, ct *docker.Container, after time.Duration) error {
	what := fmt.Sprintf("container exited with code %d after %s", ct.ExitCode, after.Round(100*time.Millisecond))
	if ct.Running {
		what = fmt.Sprintf("container crashed and was restarted by its restart policy after %s", after.Round(100*time.Millisecond))
	}
	lines, err := e.opts.Docker.LastLines(ctx, ct.ID, 5)
	if err != nil || len(lines) == 0 {
		return fmt.Errorf("%s", what)
	}
	return fmt.Errorf("%s; its last output:\n  %s", what, strings.Join(sanitizeLines(lines), "\n  "))
}

// probe runs the service's health check once.
func (e *Engine) probe(ctx context.Context, h Health, ct *docker.Container) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	switch {
	case h.HTTP != "":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.HTTP, nil)
		if err != nil {
			return false, err.Error()
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, "GET " + h.HTTP + ": " + err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode < 400, fmt.Sprintf("GET %s: %s", h.HTTP, resp.Status)
	case h.TCP != "":
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", h.TCP)
		if err != nil {
			return false, "connect " + h.TCP + ": " + err.Error()
		}
		conn.Close()
		return true, "connect " + h.TCP + ": ok"
	case len(h.Cmd) > 0:
		out, err := exec.CommandContext(ctx, h.Cmd[0], h.Cmd[1:]...).CombinedOutput()
		if err != nil {
			return false, fmt.Sprintf("%s: %v %s", strings.Join(h.Cmd, " "), err, lastLine(string(out)))
		}
		return true, strings.Join(h.Cmd, " ") + ": exit 0"
	case h.Docker:
		if ct.Health == "" {
			return false, "the image has no HEALTHCHECK; health.docker needs one"
		}
		return ct.Health == "healthy", "docker health: " + ct.Health
	}
	return true, "running"
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// sanitizeLines makes container output safe to put in messages.
func sanitizeLines(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = logs.SanitizeString(l)
	}
	return out
}
