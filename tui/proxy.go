package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/golive/golive/plans"
)

// proxyLines say, per service behind the proxy, which version takes its
// traffic, the warm old version and its time left, a canary's share, and a
// held route, all read from the state and the clock at render time. A held
// route comes first and in red: its visitors wait or see a maintenance page.
// Before it, in red, what the proxy itself says when it sends a service's
// traffic elsewhere than to its container (read by the status refresh).
func (m Model) proxyLines() []string {
	st, now := m.styles, m.cfg.Now()
	var rows []string
	for _, s := range m.services {
		if s.Traffic != "" {
			rows = append(rows, st.Error.Render(fmt.Sprintf("⚠ %s: %s", clean(s.Service), clean(s.Traffic))))
		}
	}
	for _, svc := range m.state.Services {
		if r := svc.Route; r.Hold != "" {
			what := "PAUSED: new requests wait in the proxy"
			if r.Hold == plans.ActionMaintenance {
				what = "IN MAINTENANCE: visitors get the maintenance page"
			}
			line := fmt.Sprintf("⏸ %s %s since %s (%s)", clean(svc.Name), what, r.Since.Local().Format("15:04:05"), shortAge(now.Sub(r.Since)))
			if r.Error != "" {
				line += ": " + clean(firstLine(r.Error))
			}
			rows = append(rows, st.Error.Render(line))
		}
		if !svc.Proxied() && svc.Canary.Percent == 0 && (svc.Now == "" || !m.planProxies(svc.Name)) {
			continue
		}
		parts := []string{fmt.Sprintf("%s → %s via proxy", clean(svc.Name), clean(shortRef(orNone(svc.Now))))}
		if left := svc.WarmLeft(now); left > 0 {
			parts = append(parts, st.OK.Render(fmt.Sprintf("%s warm %s", clean(shortRef(svc.Warm.Image)), countdown(left)))+st.Dim.Render(": R switches back at once"))
		}
		if c := svc.Canary; c.Percent > 0 {
			canary := fmt.Sprintf("canary %d%% of the traffic", c.Percent)
			if c.For > 0 {
				canary += fmt.Sprintf(", %s left", countdown(max(c.Since.Add(c.For).Sub(now), 0)))
			}
			parts = append(parts, st.Warn.Render(canary))
		}
		if n := len(svc.Switches); n > 0 {
			sw := svc.Switches[n-1]
			verb := "switched"
			if sw.Back {
				verb = "switched back"
			}
			parts = append(parts, st.Dim.Render(fmt.Sprintf("%s %s ago in %s", verb, shortAge(now.Sub(sw.Time)), sw.Took.Round(time.Millisecond))))
		}
		rows = append(rows, st.Running.Render("⇄ ")+strings.Join(parts, " · "))
	}
	return rows
}

// planProxies reports whether the plan routes the service through the proxy.
func (m Model) planProxies(service string) bool {
	for _, s := range m.plan.Services {
		if s.Name == service {
			return s.Proxy != nil
		}
	}
	return false
}

// countdown is a duration left as m:ss.
func countdown(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// sparkline draws the error counts with a "|" where the proxy switched.
func (m Model) sparkline(counts []int, switches map[int]bool) string {
	bars := []rune(sparkline(counts))
	var b strings.Builder
	from := 0 // the first bar not drawn yet: bars between marks are drawn as one run
	for i := range bars {
		if switches[i] {
			if i > from {
				b.WriteString(m.styles.Error.Render(string(bars[from:i])))
			}
			b.WriteString(m.styles.Running.Render("|"))
			from = i + 1
		}
	}
	if from < len(bars) || len(bars) == 0 {
		b.WriteString(m.styles.Error.Render(string(bars[from:])))
	}
	return b.String()
}

// warmNote says, for a revert, which services switch back to a warm
// version at once rather than start their previous one: "" when none.
func (m Model) warmNote() string {
	var warm []string
	for _, svc := range m.state.Services {
		if left := svc.WarmLeft(m.cfg.Now()); left > 0 {
			warm = append(warm, fmt.Sprintf("%s switches back at once to %s (warm %s)", clean(svc.Name), clean(shortRef(svc.Warm.Image)), countdown(left)))
		}
	}
	return strings.Join(warm, ", ")
}

// switchBuckets are the sparkline bars, of n bars of perBar seconds up to
// now, in which the proxy switched the service's traffic.
func (m Model) switchBuckets(service string, now time.Time, n, perBar int) map[int]bool {
	svc := m.state.Service(service)
	if svc == nil {
		return nil
	}
	marks := map[int]bool{}
	first := now.Unix() - int64(n*perBar-1)
	for _, sw := range svc.Switches {
		if i := sw.Time.Unix() - first; i >= 0 && i < int64(n*perBar) {
			marks[int(i)/perBar] = true
		}
	}
	return marks
}
