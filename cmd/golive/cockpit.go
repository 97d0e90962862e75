package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
	"github.com/golive/golive/tui"
)

// logHistory is how much of the running containers' past the cockpit shows when it opens.
const logHistory = 5 * time.Minute

// cockpit opens the interactive cockpit on the plan.
func (h *headless) cockpit() int {
	if !h.onTerminal("the cockpit") {
		return exitUsage
	}
	j, err := plans.CreateJournal(h.opts.state, h.plan.Project, h.plan.Release, time.Now())
	if err != nil {
		fmt.Fprintln(h.stderr, "golive:", err)
		return exitEnvironment
	}
	defer j.Close()
	bridge := tui.NewBridge()
	buf := logs.NewBuffer(0)
	e := plans.NewEngine(h.plan, h.engineOptions(plans.Options{Journal: j, StateDir: h.opts.state, Asker: bridge, OnEvent: bridge.OnEvent, Logs: buf}))
	e.Emit(plans.LoadedEvent(h.plan, fmt.Sprintf("cockpit %s on %s", h.plan.Path, h.where())))
	code := h.runTUI(context.Background(), e, tui.Config{Bridge: bridge, Logs: buf})
	e.Close()
	fmt.Fprintln(h.stdout, "journal:", j.Path())
	if err := e.JournalErr(); err != nil {
		fmt.Fprintln(h.stderr, "golive: WARNING: the journal could not be written completely:", err)
	}
	return code
}

// watch opens the read-only cockpit: it follows the journals of whoever
// deploys and the same log sources, and cannot act.
func (h *headless) watch(stateGiven bool) int {
	if !h.onTerminal("golive watch") {
		return exitUsage
	}
	bridge := tui.NewBridge()
	e := plans.NewEngine(h.plan, h.engineOptions(plans.Options{}))
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	state := h.opts.state
	if held, err := e.LockHolder(ctx); err == nil && held != nil && !stateGiven && held.StateDir != "" {
		if _, err := os.Stat(plans.JournalDir(held.StateDir)); err == nil {
			state = held.StateDir // the holder works on this machine: read its journal
		}
	}
	// Every journal from the plan's release on reaches the view, which
	// follows its release and offers to switch when a newer one starts.
	go plans.FollowRelease(ctx, state, h.plan.Project, h.plan.Release, func(_ string, ev plans.Event) { bridge.OnEvent(ev) })
	return h.runTUI(ctx, e, tui.Config{Bridge: bridge, Logs: logs.NewBuffer(0), ReadOnly: true})
}

// onTerminal reports whether stdin and stdout are a terminal, and says so when not.
func (h *headless) onTerminal(what string) bool {
	if term.IsTerminal(os.Stdout.Fd()) && term.IsTerminal(h.stdin.Fd()) {
		return true
	}
	fmt.Fprintf(h.stderr, "golive: %s needs a terminal; use `golive apply PLAN` in scripts and CI\n", what)
	return false
}

// runTUI follows the plan's logs into cfg.Logs and runs the cockpit until
// the operator quits.
func (h *headless) runTUI(ctx context.Context, e *plans.Engine, cfg tui.Config) int {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	go e.FollowLogs(ctx, cfg.Logs, time.Now().Add(-logHistory))
	cfg.Engine, cfg.Host, cfg.Operator = e, h.where(), plans.Actor()
	if err := tui.Run(cfg, h.opts.record); err != nil {
		fmt.Fprintln(h.stderr, "golive:", err)
		return exitEnvironment
	}
	return exitOK
}
