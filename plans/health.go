package plans

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/logs"
)

// noCheckYet is a gate's detail before its first probe.
const noCheckYet = "no check ran yet"

// probeTimeout bounds one health probe.
const probeTimeout = 3 * time.Second

// firstProbeDelay is the pause after a failed probe while a container has
// not passed yet: a service usually answers milliseconds after its start,
// so waiting a whole interval there is time lost. Each failure stretches
// the pause by half, up to the gate's interval.
const firstProbeDelay = 25 * time.Millisecond

// waitHealthy waits until the container passes the service's health gate
// and keeps passing for health.stable; the verdict falls at exactly the
// first pass plus stable (stable 0: at the first pass). It fails at once
// when the container exits or restarts, and at the gate's timeout.
// passed, when not nil, is called once, at the first pass. A failed step
// of the apply ends the wait.
func (e *Engine) waitHealthy(ctx context.Context, svc *Service, id string, passed func()) error {
	return e.waitGate(ctx, svc, id, svc.Health.Stable, passed, e.cutSignal())
}

// waitFirstPass waits until the container runs and passes the service's
// health check once, within the gate's timeout: the gate for a version
// that was known to be good, or a container left unchanged. A failed step
// of the apply ends the wait.
func (e *Engine) waitFirstPass(ctx context.Context, svc *Service, id string) error {
	return e.waitGate(ctx, svc, id, 0, nil, e.cutSignal())
}

// waitGate probes fast until the first pass, then at the gate's interval
// while the stable window runs, and decides with one last check when the
// window closes. A failed check inside the window starts it over. Each
// window that opens is told (EvWindow), so the release state shows the
// service under watch; passed is called at the first pass. When stop is
// closed, the wait ends with the apply's first failure.
func (e *Engine) waitGate(ctx context.Context, svc *Service, id string, stable time.Duration, passed func(), stop <-chan struct{}) error {
	h := svc.Health
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	g := gate{e: e, h: h, id: id, start: start, restarts: -1, detail: noCheckYet}
	var passedAt time.Time // the first pass of the current window
	delay := firstProbeDelay
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return g.timedOut(ctx, nil)
		case <-stop:
			return e.cutErr()
		case <-timer.C:
		}
		ok, err := g.check(ctx)
		if err != nil {
			return g.timedOut(ctx, err)
		}
		if err := e.errorGateFailed(id); err != nil {
			return err
		}
		now := time.Now()
		switch {
		case !ok && !passedAt.IsZero(): // failed inside the window: start over, fast
			passedAt, delay = time.Time{}, firstProbeDelay
		case !ok:
			delay = min(delay*3/2, h.Interval)
		case passedAt.IsZero():
			passedAt, delay = now, h.Interval
			if stable > 0 {
				e.Emit(Event{Kind: EvWindow, Run: e.currentRun(), Service: svc.Name, ContainerID: id, DurationMS: ms(stable),
					Message: fmt.Sprintf("passed its first check after %s (%s); it must keep passing for %s", now.Sub(start).Round(time.Millisecond), g.detail, stable)})
			}
			if passed != nil {
				passed()
				passed = nil
			}
		}
		if ok && now.Sub(passedAt) >= stable {
			e.Emit(Event{Kind: EvHealth, Service: svc.Name, ContainerID: id, Result: ResultOK, DurationMS: ms(now.Sub(start)), Message: g.detail})
			return nil
		}
		wait := delay
		if !passedAt.IsZero() {
			wait = min(wait, passedAt.Add(stable).Sub(now))
		}
		timer.Reset(wait)
	}
}

// gate is one wait for a container's health gate.
type gate struct {
	e        *Engine
	h        Health
	id       string
	start    time.Time
	restarts int    // the container's restart count at the first check
	detail   string // what the last probe said
}

// check inspects the container and probes it, side by side when the probe
// does not need the inspection, so a check costs one round-trip.
func (g *gate) check(ctx context.Context) (bool, error) {
	type inspected struct {
		ct  *docker.Container
		err error
	}
	var ct *docker.Container
	var err error
	ok := false
	if g.h.Docker {
		ct, err = g.e.opts.Docker.Inspect(ctx, g.id)
	} else {
		res := make(chan inspected, 1)
		go func() {
			ct, err := g.e.opts.Docker.Inspect(ctx, g.id)
			res <- inspected{ct, err}
		}()
		ok = g.probe(ctx, nil)
		r := <-res
		ct, err = r.ct, r.err
	}
	if err != nil {
		return false, err
	}
	if ct == nil {
		return false, fmt.Errorf("container %s disappeared", docker.ShortID(g.id))
	}
	if g.restarts < 0 {
		g.restarts = ct.RestartCount
	}
	if !ct.Running || ct.RestartCount != g.restarts {
		return false, g.e.crashError(ctx, ct, time.Since(g.start))
	}
	if g.h.Docker && ct.Health == "unhealthy" {
		// Docker's own verdict, after the HEALTHCHECK's retries: waiting
		// out the gate's timeout would only delay the failure.
		return false, fmt.Errorf("the image's HEALTHCHECK reports unhealthy after %s (Docker's verdict after its retries)", time.Since(g.start).Round(100*time.Millisecond))
	}
	if g.h.Docker {
		ok = g.probe(ctx, ct)
	}
	return ok, nil
}

// probe runs the gate's check once. A probe that the gate's own timeout
// cut short says nothing about the service, so the last complete probe's
// result stays the one the timeout error names.
func (g *gate) probe(ctx context.Context, ct *docker.Container) bool {
	ok, detail := g.e.probe(ctx, g.h, ct)
	if ctx.Err() == nil {
		g.detail = detail
	}
	return ok
}

// stalledAfter is how long a Docker call of a check may go unanswered
// before the gate's timeout blames it rather than the last probe.
const stalledAfter = time.Second

// timedOut explains why the wait ended when the gate's timeout passed, or
// returns err. The timeout usually cuts a check just begun: then the last
// probe says what was wrong; a Docker call that had not answered for long,
// or before any probe, names itself.
func (g *gate) timedOut(ctx context.Context, err error) error {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if err != nil {
			return err
		}
		return ctx.Err()
	}
	var stalled *docker.TimeoutError
	if err != nil && (!errors.As(err, &stalled) || stalled.After >= stalledAfter || g.detail == noCheckYet) {
		return fmt.Errorf("not healthy within %s: %w", g.h.Timeout, err)
	}
	return fmt.Errorf("not healthy within %s: %s", g.h.Timeout, g.detail)
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
