package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

// headless runs plan commands without the cockpit, printing events as lines.
type headless struct {
	plan   *plans.Plan
	cli    *docker.Client
	hosts  map[string]*docker.Client // a plan with hosts: a client per host that answered, and cli nil
	lost   map[string]error          // a plan with hosts: why each host that did not answer did not
	late   map[string]*lateHost      // a plan with hosts: each host that did not answer, connected when it does
	opts   options
	stdin  *os.File
	stdout io.Writer
	stderr io.Writer
	mu     sync.Mutex // serialises printing from parallel deploys
	state  *plans.State
	// retrying is set while a revert is tried again; tried holds the
	// lines of its latest try, printed once no other try follows.
	retrying bool
	tried    []string
}

func check(plan *plans.Plan, stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, "%s: plan ok: project %s, release %s, %d services in groups %s, %d steps, on_failure %s\n",
		logs.SanitizeString(plan.Path), plan.Project, plan.Release, len(plan.Services), strings.Join(plan.Groups(), " → "), len(plan.ReleaseSteps()), plan.OnFailure)
	for _, n := range plan.ProxyNotes() {
		fmt.Fprintln(stdout, "  "+logs.SanitizeString(n))
	}
	for _, n := range plan.ProxyStepNotes() {
		fmt.Fprintln(stdout, "  "+n)
	}
	for _, n := range plan.RolloutNotes() {
		fmt.Fprintln(stdout, "  "+n)
	}
	for _, w := range plan.ComposeWarnings {
		fmt.Fprintln(stderr, "warning:", logs.SanitizeString(w.String()))
	}
	for _, w := range plan.WebhookWarnings(os.LookupEnv) {
		fmt.Fprintf(stderr, "warning: %s: it would not be told; export it before running golive\n", logs.SanitizeString(w))
	}
	for _, svc := range plan.Services {
		if _, err := plan.ServiceEnv(svc, os.LookupEnv); err != nil {
			fmt.Fprintf(stderr, "warning: %s (apply will refuse to start until it is set)\n", logs.SanitizeString(err.Error()))
		}
	}
	if plan.HasHosts() {
		if err := checkHosts(plan); err != nil {
			fmt.Fprintln(stderr, "golive check:", err)
			return exitEnvironment
		}
		fmt.Fprintf(stdout, "hosts %s answer\n", strings.Join(plan.HostNames(), ", "))
		return exitOK
	}
	if plan.Docker.Swarm {
		if !checkSwarm(plan, stdout, stderr) {
			return exitEnvironment
		}
		return exitOK
	}
	warnUnavailableImages(plan, stderr)
	return exitOK
}

// engine makes the engine for one command, journaling to a new journal;
// buf, when set, is the log buffer whose error lines it journals. Once the
// journal cannot be written, events are also written to stderr as JSON.
func (h *headless) engine(operation string, buf *logs.Buffer) (*plans.Engine, *plans.Journal, error) {
	j, err := plans.CreateJournal(h.opts.state, h.plan.Project, h.plan.Release, time.Now())
	if err != nil {
		return nil, nil, err
	}
	var e *plans.Engine
	e = plans.NewEngine(h.plan, h.engineOptions(plans.Options{
		Logs:     buf,
		Journal:  j,
		StateDir: h.opts.state,
		Asker:    h.asker(),
		OnEvent: func(ev plans.Event) {
			h.print(ev)
			// Once the journal has failed, every event but a command's
			// output lines (already on stdout, and in the fallback file)
			// is also echoed to stderr, so the record survives a lost
			// temporary folder too.
			if !ev.Transient && ev.Kind != plans.EvStepOutput && j.Fallback() != "" {
				h.mu.Lock()
				defer h.mu.Unlock()
				line, _ := json.Marshal(ev)
				fmt.Fprintf(h.stderr, "journal-fallback: %s\n", line)
			}
		},
	}))
	e.Emit(plans.LoadedEvent(h.plan, fmt.Sprintf("%s %s on %s", operation, h.plan.Path, h.where())))
	if err := e.JournalErr(); err != nil {
		j.Close()
		return nil, nil, err
	}
	return e, j, nil
}

func (h *headless) asker() plans.Asker {
	if h.opts.yes {
		return yesAsker{}
	}
	if term.IsTerminal(h.stdin.Fd()) {
		return &promptAsker{h: h}
	}
	return nil
}

func (h *headless) hasConfirm() bool {
	for _, s := range h.plan.ReleaseSteps() {
		if s.Kind() == plans.StepConfirm {
			return true
		}
	}
	return false
}

// confirmed asks the plan-level y/N (`confirm: true`) before an operation.
func (h *headless) confirmed(ctx context.Context, question string) (bool, int) {
	if !h.plan.Confirm {
		return true, exitOK
	}
	a := h.asker()
	if a == nil {
		fmt.Fprintln(h.stderr, "golive: the plan sets confirm: true and there is no terminal to ask on; pass --yes")
		return false, exitUsage
	}
	if yes, err := a.Confirm(ctx, question); err != nil || !yes {
		fmt.Fprintln(h.stdout, "not started")
		return false, exitOK
	}
	return true, exitOK
}

func (h *headless) apply(ctx context.Context) int {
	if h.hasConfirm() && h.asker() == nil {
		fmt.Fprintln(h.stderr, "golive apply: the plan has a confirm step and there is no terminal to answer it; pass --yes to answer yes, or run the cockpit")
		return exitUsage
	}
	if ok, code := h.confirmed(ctx, fmt.Sprintf("Deploy %s %s to %s?", h.plan.Project, h.plan.Release, h.where())); !ok {
		return code
	}
	buf := logs.NewBuffer(0)
	e, j, err := h.engine("apply", buf)
	if err != nil {
		fmt.Fprintln(h.stderr, "golive:", err)
		return exitEnvironment
	}
	defer j.Close()
	logCtx, stopLogs := context.WithCancel(context.Background())
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		e.FollowLogs(logCtx, buf, h.plan.FollowLogsFrom(time.Now()))
	}()
	err = e.Apply(ctx)
	stopLogs()
	<-followed
	e.Close()
	defer h.journalNote(e, j)
	h.summary()
	if err == nil {
		fmt.Fprintf(h.stdout, "release %s deployed\n", h.plan.Release)
		return exitOK
	}
	fmt.Fprintln(h.stderr, "golive apply:", plans.OperatorStopped(err.Error()))
	var held *docker.HeldError
	var lost *plans.LockLostError
	var taken *plans.TakeoverError
	var aerr *plans.ApplyError
	switch {
	case errors.As(err, &held), errors.As(err, &lost), errors.As(err, &taken):
		return exitLocked
	case errors.As(err, &aerr):
		fmt.Fprintln(h.stdout, applySummary(h.plan.Release, aerr))
		switch {
		case aerr.Interrupted:
			return exitInterrupted
		case aerr.Unchanged:
			return exitEnvironment
		case aerr.Outcome == plans.Reverted:
			return exitReverted
		}
		return exitFailed
	case ctx.Err() != nil:
		return exitInterrupted
	}
	return exitEnvironment
}

// applySummary is the one stdout line that says how a failed apply ended.
func applySummary(release string, aerr *plans.ApplyError) string {
	switch {
	case aerr.Unchanged:
		return fmt.Sprintf("release %s failed before it changed anything", release)
	case aerr.Outcome == plans.Reverted:
		return fmt.Sprintf("release %s failed and was reverted: every changed service runs its previous image again", release)
	case aerr.Outcome == plans.RevertIncomplete:
		return fmt.Sprintf("release %s failed and the revert is INCOMPLETE: see above what runs now and the command that finishes it", release)
	}
	return fmt.Sprintf("release %s failed and was left as it is", release)
}

// revertedLine says what a revert that succeeded did: the services that ran
// an image before the latest apply run it again, and those the apply
// created are removed.
func revertedLine(s *plans.State) string {
	var removed []string
	again := false
	if s != nil {
		for _, svc := range s.Services {
			switch {
			case svc.Result != plans.ResultReverted:
			case svc.NowID == "":
				removed = append(removed, svc.Name)
			default:
				again = true
			}
		}
	}
	const previous = "every service changed by the latest apply runs its previous image again and passed its own health gate"
	switch {
	case len(removed) == 0:
		return "reverted: " + previous
	case again:
		return fmt.Sprintf("reverted: %s; removed %s, which that apply created", previous, strings.Join(removed, ", "))
	}
	return fmt.Sprintf("reverted: removed %s, which the latest apply created (nothing ran before it)", strings.Join(removed, ", "))
}

func (h *headless) revert(ctx context.Context) int {
	if ok, code := h.confirmed(ctx, fmt.Sprintf("Revert %s to what ran before its latest apply?", h.plan.Project)); !ok {
		return code
	}
	h.foldHistory()
	e, j, err := h.engine("revert", nil)
	if err != nil {
		fmt.Fprintln(h.stderr, "golive:", err)
		return exitEnvironment
	}
	defer j.Close()
	defer h.journalNote(e, j)
	defer e.Close()
	err = e.Revert(ctx)
	h.summary()
	var held *docker.HeldError
	var lost *plans.LockLostError
	var rerr *plans.RevertError
	switch {
	case err == nil:
		h.mu.Lock()
		line := revertedLine(h.state)
		h.mu.Unlock()
		fmt.Fprintln(h.stdout, line)
		return exitOK
	case errors.Is(err, plans.ErrNothingToRevert):
		fmt.Fprintln(h.stdout, err)
		return exitOK
	case errors.As(err, &held), errors.As(err, &lost):
		fmt.Fprintln(h.stderr, "golive revert:", err)
		return exitLocked
	case errors.Is(err, plans.ErrRemovalNotConfirmed):
		fmt.Fprintln(h.stderr, "golive revert:", err)
		return exitUsage
	case errors.Is(err, plans.ErrDeclined):
		fmt.Fprintln(h.stdout, "not reverted:", err)
		return exitOK
	case errors.As(err, &rerr):
		fmt.Fprintln(h.stderr, "golive revert:", err)
		fmt.Fprintln(h.stdout, "revert incomplete: finish it with", rerr.Finish)
		if ctx.Err() != nil {
			return exitInterrupted
		}
		return exitFailed
	case ctx.Err() != nil:
		fmt.Fprintln(h.stderr, "golive revert:", err)
		return exitInterrupted
	}
	fmt.Fprintln(h.stderr, "golive revert:", err)
	return exitEnvironment
}

func (h *headless) unlock(ctx context.Context) int {
	code := h.unlockReachable(ctx)
	if len(h.lost) > 0 {
		fmt.Fprint(h.stderr, h.lostNote())
		fmt.Fprintf(h.stderr, "  its lock, if it holds one, was left as it is: run `golive unlock %s` again once it answers\n", h.plan.Path)
		if code == exitOK {
			return exitEnvironment
		}
	}
	return code
}

// unlockReachable breaks the lock on the hosts that answer (the one
// engine's of a plan without hosts:).
func (h *headless) unlockReachable(ctx context.Context) int {
	e, j, err := h.engine("unlock", nil)
	if err != nil {
		fmt.Fprintln(h.stderr, "golive:", err)
		return exitEnvironment
	}
	defer j.Close()
	held, err := e.LockHolder(ctx)
	if err != nil {
		fmt.Fprintln(h.stderr, "golive unlock:", err)
		return exitEnvironment
	}
	if held == nil {
		fmt.Fprintf(h.stdout, "the lock %s was not held%s\n", h.plan.LockName(), h.onHosts(h.answering()))
		return exitOK
	}
	host, _ := os.Hostname()
	who := fmt.Sprintf("%s (%s since %s, %s ago)", held.Holder, held.Operation, held.Since.Local().Format("2006-01-02 15:04:05"), time.Since(held.Since).Round(time.Second))
	switch {
	case held.Host == host && plans.HolderAlive(*held):
		fmt.Fprintf(h.stderr, "golive unlock: the lock is held by %s, whose process %d is still running on this machine; it frees the lock when it ends. Stop it (Ctrl-C in its terminal, or `kill %d`) instead of breaking its lock\n", who, held.PID, held.PID)
		return exitLocked
	case held.Host != host && !h.opts.force:
		q := fmt.Sprintf("Break the lock of %s, taken on %s? Its release may still be running there", who, orDash(held.Host))
		a := h.asker()
		if a == nil {
			fmt.Fprintf(h.stderr, "golive unlock: the lock is held by %s from another machine (%s), and there is no terminal to ask on; pass --yes (or --force in scripts) to break it\n", who, orDash(held.Host))
			return exitUsage
		}
		if yes, err := a.Confirm(ctx, q); err != nil || !yes {
			fmt.Fprintln(h.stdout, "the lock was left as it is")
			return exitOK
		}
	}
	on := h.onHosts(e.LockedHosts(ctx, held))
	if err := e.BreakLock(ctx, held); err != nil {
		fmt.Fprintln(h.stderr, "golive unlock:", err)
		return exitEnvironment
	}
	fmt.Fprintf(h.stdout, "broke the lock of %s%s\n", who, on)
	return exitOK
}

func (h *headless) status(ctx context.Context) int {
	e := plans.NewEngine(h.plan, h.engineOptions(plans.Options{}))
	states, err := e.Status(ctx)
	if err != nil {
		fmt.Fprintln(h.stderr, "golive status:", err)
		return exitEnvironment
	}
	fmt.Fprintf(h.stdout, "%-12s %-10s %-24s %-11s %-12s %s\n", "SERVICE", "GROUP", "CONTAINER", "STATE", "IMAGE ID", "IMAGE → TARGET")
	for _, s := range states {
		fmt.Fprintf(h.stdout, "%-12s %-10s %-24s %-11s %-12s %s → %s\n", s.Service, s.Group, s.Container, s.State, orDash(docker.ShortID(s.ImageID)), orDash(s.Image), s.Target)
		if s.Warm != "" {
			fmt.Fprintf(h.stdout, "%-12s previous version %s warm until %s: a revert switches back to it at once\n", "", s.Warm, s.WarmUntil.Local().Format("15:04:05"))
		}
		if s.Held != "" {
			fmt.Fprintf(h.stdout, "%-12s route %s in the proxy: its requests wait or fail; `golive revert %s` lets them through\n", "", s.Held, h.plan.Path)
		}
		if s.Traffic != "" {
			fmt.Fprintf(h.stdout, "%-12s %s\n", "", s.Traffic)
		}
	}
	if held, err := e.LockHolder(ctx); err == nil && held != nil {
		fmt.Fprintf(h.stdout, "lock held by %s (%s since %s)%s\n", held.Holder, held.Operation, held.Since.Local().Format("15:04:05"), h.onHosts(e.LockedHosts(ctx, held)))
		if host, _ := os.Hostname(); held.Host == host && held.PID > 0 && !plans.HolderAlive(*held) {
			fmt.Fprint(h.stdout, interruptedNote(*held, h.leftovers(ctx, states), h.plan.Path))
		}
	}
	if len(h.lost) > 0 {
		fmt.Fprint(h.stderr, h.lostNote())
		fmt.Fprintln(h.stderr, "  what runs there is unknown until it answers; apply and revert wait for every host (start its Docker engine, fix its URL under hosts:, or remove it from hosts:)")
		return exitEnvironment
	}
	return exitOK
}

// interruptedNote says that a lock's holder process is gone, what its
// release left and the command that finishes it.
func interruptedNote(held docker.LockInfo, left []string, plan string) string {
	text := fmt.Sprintf("  its process %d on this machine is gone: the %s was interrupted\n", held.PID, orDash(held.Operation))
	if len(left) > 0 {
		text += "  left: " + strings.Join(left, ", ") + "\n"
	}
	return text + "  finish it with: golive revert " + plan + "\n"
}

// leftovers names the .next and .prev containers an interrupted release
// left next to the services' own.
func (h *headless) leftovers(ctx context.Context, states []plans.ServiceState) []string {
	var left []string
	if h.cli == nil {
		return nil // a plan with hosts: its engines' checkSettled names them
	}
	for _, s := range states {
		for _, name := range []string{s.Container + ".next", s.Container + ".prev"} {
			if ct, err := h.cli.Inspect(ctx, name); err == nil && ct != nil {
				left = append(left, name+" ("+ct.State+")")
			}
		}
	}
	return left
}

func (h *headless) journalNote(e *plans.Engine, j *plans.Journal) {
	if err := e.JournalErr(); err != nil {
		fmt.Fprintln(h.stderr, "golive: the journal could not be written, so the release stopped changing things:", err)
		fmt.Fprintln(h.stderr, "golive: the events after that failure are in", j.Fallback(), "and were written to stderr above")
	}
	fmt.Fprintln(h.stdout, "journal:", j.Path())
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// yesAsker answers yes to every confirm step (--yes).
type yesAsker struct{}

func (yesAsker) Confirm(context.Context, string) (bool, error) { return true, nil }

// promptAsker asks on the terminal.
type promptAsker struct{ h *headless }

func (p *promptAsker) Confirm(ctx context.Context, question string) (bool, error) {
	p.h.mu.Lock()
	fmt.Fprintf(p.h.stdout, "? %s [y/N] ", question)
	p.h.mu.Unlock()
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(p.h.stdin).ReadString('\n')
		answer <- strings.ToLower(strings.TrimSpace(line))
	}()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case a := <-answer:
		return a == "y" || a == "yes", nil
	}
}
