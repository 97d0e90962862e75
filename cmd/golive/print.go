package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/plans"
	"github.com/golive/golive/plans/report"
)

// print writes one event as a readable line (byte-level progress is
// skipped) and folds it into the release state the summary tells.
func (h *headless) print(ev plans.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state == nil {
		h.state = plans.NewState(h.plan)
	}
	h.state.Apply(ev)
	line := formatEvent(ev, len(h.plan.ReleaseSteps()))
	if line == "" {
		return
	}
	line = ev.Time.Local().Format("15:04:05") + " " + line + "\n"
	switch {
	case ev.Kind == plans.EvRevertRetry:
		// One line says the revert is retried and until when; each try
		// stays in the journal, and only the last one's lines are shown.
		if !h.retrying {
			fmt.Fprint(h.stdout, line)
		}
		h.retrying, h.tried = true, nil
	case h.retrying && ev.Kind != plans.EvApplyEnd:
		h.tried = append(h.tried, line)
	default:
		h.endRetries()
		fmt.Fprint(h.stdout, line)
	}
}

// endRetries prints the lines of the last try of a retried revert.
func (h *headless) endRetries() {
	for _, l := range h.tried {
		fmt.Fprint(h.stdout, l)
	}
	h.retrying, h.tried = false, nil
}

// foldHistory starts the state from the release's journals so far, so that
// a revert's summary tells the whole impact of the apply it reverts (its
// stop, in another process, opened the window the revert closes), as watch
// and the report do. Unreadable journals are left out: the summary then
// tells what this command saw.
func (h *headless) foldHistory() {
	paths, err := plans.Journals(h.opts.state)
	if err != nil {
		return
	}
	journals, err := report.ReadJournals(paths)
	if err != nil {
		return
	}
	var events []plans.Event
	for _, j := range journals {
		events = append(events, j.Events...)
	}
	sort.SliceStable(events, func(a, b int) bool { return events[a].Time.Before(events[b].Time) })
	h.mu.Lock()
	defer h.mu.Unlock()
	h.state = plans.NewState(h.plan)
	for _, ev := range events {
		h.state.Apply(ev)
	}
}

// summary tells where the release stands once an operation ended, from
// the same state the cockpit, watch and the report fold.
func (h *headless) summary() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.endRetries()
	if h.state == nil || h.state.Outcome == plans.ResultNothing {
		return
	}
	fmt.Fprint(h.stdout, summaryLines(h.state))
}

// summaryLines are the phase, what each service runs and how long each was
// not serving; or, for an apply refused the lock, that it did not start.
func summaryLines(s *plans.State) string {
	if s.LockRefused != "" && !s.Running() {
		return fmt.Sprintf("%s %s: not started: another release holds the lock (held by %s)\n", s.Project, s.Release, s.LockRefused)
	}
	text := fmt.Sprintf("%s %s: %s\n  services now: %s\n", s.Project, s.Release, strings.ToUpper(string(s.Phase())), orDash(s.ServicesNow()))
	if impact := s.ImpactSummary(); impact != "" {
		text += "  not serving: " + impact + "\n"
	}
	if held := s.Held(); held != "" {
		text += "  traffic held by the proxy: " + held + "\n"
	}
	return text
}

// formatEvent renders an event for the headless CLI, or "" to skip it.
func formatEvent(ev plans.Event, steps int) string {
	fail := func(s string) string {
		if ev.Error != "" {
			return s + ": " + indent(plans.OperatorStopped(ev.Error))
		}
		return s
	}
	if ev.Host != "" {
		if ev.Service == "" {
			bare := ev
			bare.Host = ""
			if line := formatEvent(bare, steps); line != "" {
				return ev.Host + ": " + line
			}
			return ""
		}
		ev.Service = plans.Placement(ev.Service, ev.Host)
	}
	switch ev.Kind {
	case plans.EvRolloutBatch:
		return "rollout " + ev.Message
	case plans.EvHostLost:
		return fail("✗ the host does not answer: what its services run is unknown until it does")
	case plans.EvPlanLoaded, plans.EvApplyStart:
		return fmt.Sprintf("%s %s: %s", ev.Project, ev.Release, ev.Message)
	case plans.EvLockAcquired:
		return "lock taken by " + ev.Actor
	case plans.EvLockReleased:
		if ev.Result == plans.ResultFailed {
			return "the lock is still held: " + indent(ev.Error) + "\n    the next golive command on this machine breaks it once this process has ended"
		}
		return "lock released"
	case plans.EvLockBroken, plans.EvLockTakeover:
		return ev.Message
	case plans.EvPreloadStart:
		return "preload: " + ev.Message
	case plans.EvPreloadLoad:
		return fail("preload: loaded " + ev.Message)
	case plans.EvPreloadProgress:
		if ev.Transient || ev.Layer == "" {
			return ""
		}
		return fmt.Sprintf("  pull %s %s: %s", ev.Image, ev.Layer, ev.Message)
	case plans.EvPreloadImage:
		if ev.Result == plans.ResultFailed {
			return fail("  ✗ " + ev.Image)
		}
		line := fmt.Sprintf("  ✓ %s %s (%s)", ev.Image, ev.Result, docker.ShortID(ev.ImageID))
		if ev.Message != "" {
			line += ": " + ev.Message
		}
		return line
	case plans.EvPreloadEnd:
		return fail(fmt.Sprintf("preload %s in %dms", ev.Result, ev.DurationMS))
	case plans.EvStepStart:
		return fmt.Sprintf("▶ step %d/%d: %s", ev.Step, steps, ev.StepName)
	case plans.EvStepOutput:
		return fmt.Sprintf("  │ %s", ev.Line)
	case plans.EvStepEnd:
		switch ev.Result {
		case plans.ResultSkipped:
			return fmt.Sprintf("- step %d/%d skipped: %s", ev.Step, steps, ev.StepName)
		case plans.ResultFailed:
			return fail(fmt.Sprintf("✗ step %d/%d failed after %dms", ev.Step, steps, ev.DurationMS))
		}
		return fmt.Sprintf("✓ step %d/%d done in %dms", ev.Step, steps, ev.DurationMS)
	case plans.EvConfirmAsk:
		return "? " + ev.Message
	case plans.EvConfirmAnswer:
		return fmt.Sprintf("  answered %s", ev.Result)
	case plans.EvServiceStart:
		from := "nothing"
		if ev.PrevImageID != "" {
			from = docker.ShortID(ev.PrevImageID)
		}
		return fmt.Sprintf("  %s: deploying %s (%s → %s)", ev.Service, ev.Image, from, docker.ShortID(ev.ImageID))
	case plans.EvServiceChange:
		return fmt.Sprintf("  %s: %s", ev.Service, ev.Message)
	case plans.EvWindow:
		return fmt.Sprintf("  %s: %s", ev.Service, ev.Message)
	case plans.EvHealth:
		if ev.Result == plans.ResultOK {
			return fmt.Sprintf("  %s: healthy after %dms (%s)", ev.Service, ev.DurationMS, ev.Message)
		}
		return fail(fmt.Sprintf("  %s: health gate failed", ev.Service))
	case plans.EvServiceEnd:
		if ev.Result == plans.ResultFailed {
			return fail(fmt.Sprintf("  ✗ %s", ev.Service))
		}
		return fmt.Sprintf("  ✓ %s %s", ev.Service, ev.Result)
	case plans.EvRevertStart:
		return fmt.Sprintf("↩ revert of apply %s: %s", ev.Run, ev.Message)
	case plans.EvRevertService:
		if ev.Result == plans.ResultFailed {
			return fail("  ✗ revert " + ev.Service)
		}
		return fmt.Sprintf("  ↩ %s: %s → %s, %s", ev.Service, docker.ShortID(ev.ImageID), orDash(docker.ShortID(ev.PrevImageID)), ev.Message)
	case plans.EvRevertEnd:
		if ev.Result == plans.ResultNothing {
			return ""
		}
		return fail(fmt.Sprintf("↩ revert %s in %dms", ev.Result, ev.DurationMS))
	case plans.EvRevertRetry:
		return "  … " + ev.Message
	case plans.EvErrorGate:
		switch {
		case ev.Result == plans.ResultFailed:
			return fail(fmt.Sprintf("  ✗ %s: %s", ev.Service, ev.Message))
		case ev.Result != "", strings.HasPrefix(ev.Message, "watching"):
			return fmt.Sprintf("  %s: %s", ev.Service, ev.Message)
		}
		return ""
	case plans.EvLogError:
		return fmt.Sprintf("  ! %s: error +%.1fs after start: %s", ev.Service, float64(ev.DurationMS)/1000, ev.Line)
	case plans.EvRoute:
		if ev.Result == plans.ResultFailed {
			return fail(fmt.Sprintf("  ✗ %s: %s", ev.Service, ev.Command))
		}
		return fmt.Sprintf("  %s: %s", ev.Service, ev.Message)
	case plans.EvApplyEnd:
		return fmt.Sprintf("apply %s in %dms", ev.Result, ev.DurationMS)
	case plans.EvSwarmTasks:
		return fail(fmt.Sprintf("  %s: %s", ev.Service, ev.Message))
	case plans.EvSwarmTask:
		return fail(fmt.Sprintf("    %s %s", ev.Message, ev.Result))
	case plans.EvNotify:
		if ev.Result == plans.ResultFailed {
			return fail("notify " + ev.Message + " not delivered")
		}
		return "notify " + ev.Message + ": ok"
	}
	return ""
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n    ") }
