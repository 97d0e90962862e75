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
	if !term.IsTerminal(os.Stdout.Fd()) || !term.IsTerminal(h.stdin.Fd()) {
		fmt.Fprintln(h.stderr, "golive: the cockpit needs a terminal; use `golive apply PLAN` in scripts and CI")
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
	e := plans.NewEngine(h.plan, plans.Options{Docker: h.cli, Journal: j, StateDir: h.opts.state, Asker: bridge, OnEvent: bridge.OnEvent, Logs: buf})
	e.Emit(plans.Event{Kind: plans.EvPlanLoaded, Message: fmt.Sprintf("cockpit %s on %s", h.plan.Path, h.cli.Host())})
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go e.FollowLogs(ctx, buf, time.Now().Add(-logHistory))
	err = tui.Run(tui.Config{Engine: e, Bridge: bridge, Logs: buf, Host: h.cli.Host(), Operator: plans.Actor()}, h.opts.record)
	stop()
	e.Close()
	if err != nil {
		fmt.Fprintln(h.stderr, "golive:", err)
		return exitEnvironment
	}
	fmt.Fprintln(h.stdout, "journal:", j.Path())
	if err := e.JournalErr(); err != nil {
		fmt.Fprintln(h.stderr, "golive: WARNING: the journal could not be written completely:", err)
	}
	return exitOK
}
