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

// watch opens the read-only cockpit: it follows the journal of whoever
// deploys and the same log sources, and cannot act.
func (h *headless) watch(stateGiven bool) int {
	if !term.IsTerminal(os.Stdout.Fd()) || !term.IsTerminal(h.stdin.Fd()) {
		fmt.Fprintln(h.stderr, "golive watch: needs a terminal")
		return exitUsage
	}
	bridge := tui.NewBridge()
	buf := logs.NewBuffer(0)
	e := plans.NewEngine(h.plan, plans.Options{Docker: h.cli})
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	state := h.opts.state
	if held, err := e.LockHolder(ctx); err == nil && held != nil && !stateGiven && held.StateDir != "" {
		if _, err := os.Stat(plans.JournalDir(held.StateDir)); err == nil {
			state = held.StateDir // the holder works on this machine: read its journal
		}
	}
	go plans.FollowJournals(ctx, state, func(_ string, ev plans.Event) { bridge.OnEvent(ev) })
	go e.FollowLogs(ctx, buf, time.Now().Add(-logHistory))
	err := tui.Run(tui.Config{Engine: e, Bridge: bridge, Logs: buf, Host: h.cli.Host(), Operator: plans.Actor(), ReadOnly: true}, "")
	if err != nil {
		fmt.Fprintln(h.stderr, "golive:", err)
		return exitEnvironment
	}
	return exitOK
}
