package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

// Messages the cockpit's commands return.
type (
	frameMsg  time.Time // a frame tick: new log lines are drawn at most 25 times a second, fewer in a flood
	statusMsg struct {  // what each service runs now
		services []plans.ServiceState
		err      error
	}
	opDoneMsg struct { // an operation ended
		op  string
		err error
	}
)

// frameInterval batches new log lines into frames; in a flood the log
// pane moves at most every logFrameGap.
const frameInterval = 40 * time.Millisecond

// statusInterval is how often the services' containers are inspected.
const statusInterval = 2 * time.Second

// Init starts the preload (the moment the cockpit opens), the engine
// bridge, the status refresh and the frame clock.
func (m Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.cfg.Bridge.wait, m.refreshStatus(), frame(), m.spin.Tick}
	if m.running == opPreload {
		cmds = append(cmds, opCmd(m.cfg.Engine, opPreload, "", context.Background()))
	}
	return tea.Batch(cmds...)
}

func frame() tea.Cmd {
	return tea.Tick(frameInterval, func(t time.Time) tea.Msg { return frameMsg(t) })
}

func (m Model) refreshStatus() tea.Cmd {
	engine := m.cfg.Engine
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s, err := engine.Status(ctx)
		return statusMsg{services: s, err: err}
	}
}

// holderGoneMsg says, in watch, that the lock's holder process is gone
// and how to finish its release; "" while it runs or the lock is free.
type holderGoneMsg string

// checkHolder looks, in watch, whether the process holding the lock is
// gone (the lock and /proc are I/O, so it runs as a command).
func (m Model) checkHolder() tea.Cmd {
	engine, ok := m.cfg.Engine.(interface {
		Interrupted(ctx context.Context) (string, error)
	})
	if !m.cfg.ReadOnly || !ok {
		return nil
	}
	path := m.plan.Path
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		gone, err := engine.Interrupted(ctx)
		if err != nil || gone == "" {
			return holderGoneMsg("")
		}
		return holderGoneMsg(gone + "; finish it with golive revert " + path)
	}
}

// run starts an operation of the engine in the background; why, when set,
// is the operator's action that the engine journals before it starts.
func (m *Model) run(op, why string) tea.Cmd {
	ctx, cancel := context.WithCancel(context.Background())
	m.running, m.ranAfter, m.opCancel, m.status, m.quitArm = op, m.state.Ops, cancel, "", false
	label := op + " " + m.plan.Release
	return tea.Batch(opCmd(m.cfg.Engine, op, why, ctx), m.mark(func(r Marks) { r.Marker(label) }))
}

// operatorCmd journals an operator's action through the engine.
func operatorCmd(engine Engine, why string) tea.Cmd {
	return func() tea.Msg {
		engine.Emit(plans.Event{Kind: plans.EvOperator, Message: why})
		return nil
	}
}

// opCmd journals the operator's action, runs an operation of the engine
// and reports its end.
func opCmd(engine Engine, op, why string, ctx context.Context) tea.Cmd {
	return func() tea.Msg {
		if why != "" {
			engine.Emit(plans.Event{Kind: plans.EvOperator, Message: why})
		}
		var err error
		switch op {
		case opPreload:
			err = engine.Preload(ctx)
		case opApply:
			err = engine.Apply(ctx)
		case opRevert:
			err = engine.Revert(ctx)
		}
		return opDoneMsg{op: op, err: err}
	}
}

// statusTTL is how long a status message stays on screen.
const statusTTL = 5 * time.Second

// Update handles one message; it does no I/O. A status message is dated
// when it changes, so that it expires.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	prev := m.status
	next, cmd := m.update(msg)
	if n := next.(Model); n.status != prev {
		n.statusAt = n.cfg.Now()
		return n, cmd
	}
	return next, cmd
}

func (m Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		return m, m.mark(func(r Marks) { r.Resize(msg.Width, msg.Height) })
	case frameMsg:
		m.logs.catchUp()
		m.logs.pace(time.Time(msg))
		return m, frame()
	case spinner.TickMsg:
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case statusMsg:
		if msg.err == nil {
			m.services = msg.services
		}
		return m, tea.Tick(statusInterval, func(time.Time) tea.Msg { return refreshMsg{} })
	case refreshMsg:
		return m, tea.Batch(m.refreshStatus(), m.checkHolder())
	case holderGoneMsg:
		m.holderGone = string(msg)
	case bridgeMsg:
		for _, ev := range msg.events {
			m.fold(ev)
		}
		if len(msg.asks) > 0 {
			m.asking = msg.asks[0]
		}
		return m, m.cfg.Bridge.wait
	case opDoneMsg:
		return m.opDone(msg)
	case savedMsg:
		m.status = msg.String()
		return m, nil
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return m, nil
}

// mark notes something in the recording, if there is one.
func (m Model) mark(note func(Marks)) tea.Cmd {
	rec := m.cfg.Recorder
	if rec == nil {
		return nil
	}
	return func() tea.Msg { note(rec); return nil }
}

// refreshMsg asks for a new status refresh.
type refreshMsg struct{}

func (m Model) opDone(msg opDoneMsg) (tea.Model, tea.Cmd) {
	m.running, m.opCancel, m.stopping, m.asking = "", nil, false, nil
	if m.pending == opStop {
		m.pending = ""
	}
	m.status = ""
	if msg.op == opPreload {
		m.status = "preload done: press D to deploy"
		if msg.err != nil {
			m.status = "preload failed: " + firstLine(msg.err.Error())
		}
	}
	var mark tea.Cmd
	if msg.err != nil && msg.op != opPreload {
		mark = m.mark(func(r Marks) { r.Marker(msg.op + " failed") })
	} else if msg.op != opPreload {
		mark = m.mark(func(r Marks) { r.Marker(msg.op + " done") })
	}
	if m.quitArm {
		return m, tea.Sequence(mark, tea.Quit)
	}
	return m, tea.Batch(m.refreshStatus(), mark)
}

// deployer names who holds the lock, for the read-only view.
func (m Model) deployer() string {
	if m.state.LockHolder != "" {
		return m.state.LockHolder
	}
	return "the operator holding the lock"
}

// fold takes an engine or journal event into the release state. The
// read-only view keeps every event, so it can switch to a newer release.
func (m *Model) fold(ev plans.Event) {
	if m.cfg.ReadOnly {
		m.seen = append(m.seen, ev)
	}
	m.state.Apply(ev)
	if !m.state.Follows(ev) {
		return
	}
	switch ev.Kind {
	case plans.EvServiceEnd:
		if ev.Result == plans.ResultFailed {
			m.status = ev.Service + ": " + firstLine(ev.Error)
		}
	case plans.EvRevertStart:
		m.status = "reverting " + ev.Message
	case plans.EvApplyEnd, plans.EvRevertEnd:
		m.status = ""
	}
}

// followNewer switches the read-only view to the newer release of the
// same project that started, folding what it saw of it.
func (m Model) followNewer() (tea.Model, tea.Cmd) {
	if m.state.Newer == "" {
		m.status = "L: no newer release of " + m.plan.Project + " has started"
		return m, nil
	}
	m.state = plans.NewStateOf(m.plan.Project, m.state.Newer)
	for _, ev := range m.seen {
		m.state.Apply(ev)
	}
	m.status = "following release " + m.state.Release
	return m, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// key handles a key press: an open input or question first, then actions,
// then the log view.
func (m Model) key(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if m.inputMode != "" {
		return m.inputKey(msg)
	}
	k := m.keys
	m.status = "" // a key ends the previous message
	if m.cfg.ReadOnly && key.Matches(msg, k.Latest) {
		return m.followNewer()
	}
	if key.Matches(msg, k.Yes, k.No) {
		switch {
		case m.cfg.ReadOnly:
			m.status = "read-only: only " + m.deployer() + " can answer"
		case m.asking == nil && m.pending == "":
			m.status = msg.String() + ": no question is waiting for an answer"
		default:
			return m.answer(key.Matches(msg, k.Yes))
		}
		return m, nil
	}
	if !key.Matches(msg, k.Quit) {
		m.quitArm = false
	}
	page := max(m.logHeight()-1, 1)
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Deploy):
		return m.deploy()
	case key.Matches(msg, k.Revert):
		return m.revert()
	case key.Matches(msg, k.Preload):
		return m.retryPreload()
	case key.Matches(msg, k.Help):
		m.help.ShowAll = !m.help.ShowAll
	case key.Matches(msg, k.Up):
		m.logs.scroll(-1, m.logHeight())
	case key.Matches(msg, k.Down):
		m.logs.scroll(1, m.logHeight())
	case key.Matches(msg, k.PageUp):
		m.logs.scroll(-page, m.logHeight())
	case key.Matches(msg, k.PageDown):
		m.logs.scroll(page, m.logHeight())
	case key.Matches(msg, k.Top):
		m.logs.scroll(-m.cfg.Logs.Len(), m.logHeight())
	case key.Matches(msg, k.Follow):
		m.logs.resume()
	case key.Matches(msg, k.Search), key.Matches(msg, k.Filter):
		m.inputMode = "search"
		m.input.Prompt, m.input.Placeholder = "/", "search the logs"
		if key.Matches(msg, k.Filter) {
			m.inputMode = "filter"
			m.input.Prompt, m.input.Placeholder = "filter: ", "text to keep, !text to hide"
		}
		m.input.SetValue("")
		m.input.SetWidth(max(m.width-len(m.input.Prompt)-1, 10))
		return m, m.input.Focus()
	case key.Matches(msg, k.NextMatch), key.Matches(msg, k.PrevMatch):
		want := &logs.Filter{Text: m.logs.search}
		switch {
		case m.logs.search == "":
			m.status = "n/N: no search yet; press / to search"
		case !m.logs.jump(want, key.Matches(msg, k.PrevMatch)):
			m.status = fmt.Sprintf("no more matches for %q", m.logs.search)
		default:
			m.status = m.logs.position("match", want)
		}
	case key.Matches(msg, k.NextError), key.Matches(msg, k.PrevError):
		older, where := key.Matches(msg, k.PrevError), "below"
		if older {
			where = "above"
		}
		errs := &logs.Filter{MinLevel: logs.LevelError}
		switch {
		case m.logs.follow && !older: // following, the next error is the latest one
			if !m.logs.latest(errs) {
				m.status = "no error-level line yet"
				break
			}
			m.status = m.logs.position("error", errs)
		case !m.logs.jump(errs, older):
			m.status = "no error-level line " + where
		default:
			m.status = m.logs.position("error", errs)
		}
	case key.Matches(msg, k.ErrorsOnly):
		m.logs.errors = !m.logs.errors
		m.logs.refilter()
	case key.Matches(msg, k.Wrap):
		m.logs.wrap = !m.logs.wrap
	case key.Matches(msg, k.Time):
		m.logs.times = m.logs.times.next()
	case key.Matches(msg, k.AllSources):
		m.logs.source = ""
		m.logs.refilter()
	case key.Matches(msg, k.Source):
		sources := m.sourceNames()
		n := int(msg.String()[0] - '1')
		if n >= len(sources) {
			m.status = fmt.Sprintf("there is no source %d (there are %d)", n+1, len(sources))
			break
		}
		m.logs.source = sources[n]
		m.logs.refilter()
	case key.Matches(msg, k.Save):
		return m, m.save()
	case key.Matches(msg, k.Escape):
		m.logs.setSearch("")
		m.logs.filter = ""
		m.logs.refilter()
	}
	return m, nil
}

// sourceNames lists the log sources in the order 1–9 select them: the
// plan's services, its files, then anything else seen.
func (m Model) sourceNames() []string {
	var names []string
	seen := map[string]bool{}
	for _, s := range m.plan.Placements() {
		names, seen[s.Name] = append(names, s.Name), true
	}
	var files []string
	for _, f := range m.plan.Logs.Files {
		files = append(files, logs.Label(f))
	}
	for _, f := range append(files, m.cfg.Logs.Sources()...) {
		if !seen[f] {
			names, seen[f] = append(names, f), true
		}
	}
	return names
}

func (m Model) inputKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch msg.String() {
	case "enter":
		value := m.input.Value()
		if m.inputMode == "search" {
			m.logs.setSearch(value)
			want := &logs.Filter{Text: value}
			found := false
			if value != "" && m.logs.follow { // following, the nearest match is the latest, the bottom line included
				found = m.logs.latest(want)
			} else if value != "" {
				found = m.logs.jump(want, true)
			}
			switch {
			case value == "":
			case found:
				m.status = m.logs.position("match", want)
			case m.cfg.Logs.Count(want) == 0:
				m.status = fmt.Sprintf("no line contains %q", value)
			}
		} else {
			m.logs.filter = value
			m.logs.refilter()
		}
		m.inputMode = ""
		m.input.Blur()
		return m, nil
	case "esc":
		m.inputMode = ""
		m.input.Blur()
		return m, nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return m, cmd
}

func (m Model) deploy() (tea.Model, tea.Cmd) {
	switch {
	case m.cfg.ReadOnly:
		m.status = "read-only: " + m.deployer() + " deploys; this view cannot deploy"
	case m.running == opPreload || m.state.Op == plans.OpPreload:
		m.status = fmt.Sprintf("D: preload is still running (%d of %d images ready)", m.imagesReady(), len(m.state.Preload.Images))
	case m.running != "" || m.state.Running():
		m.status = "D: the " + m.operation() + " is running"
	case m.state.Preload.Error != "":
		m.status = "D: preload failed, so nothing can be deployed (p retries): " + firstLine(m.state.Preload.Error)
	case m.plan.Confirm:
		m.pending = opApply
	default:
		return m, m.run(opApply, "pressed D: deploy release "+m.plan.Release)
	}
	return m, nil
}

// revert puts back what ran before the latest apply. During an apply it
// stops the apply at its next safe point and reverts what it changed.
func (m Model) revert() (tea.Model, tea.Cmd) {
	switch {
	case m.cfg.ReadOnly:
		m.status = "read-only: " + m.deployer() + " deploys; this view cannot revert"
	case m.running == opPreload || m.state.Op == plans.OpPreload:
		m.status = "R: wait for the preload to finish"
	case m.stopping:
		m.status = "R: already stopping the release to revert"
	case m.Phase() == plans.PhaseReverting:
		m.status = "R: the release is already reverting"
	case m.running == opApply && m.plan.Confirm:
		m.pending = opStop
	case m.running == opApply:
		return m.stopApply()
	case m.running != "" || m.state.Running():
		m.status = "R: the " + m.operation() + " is running"
	case m.plan.Confirm:
		m.pending = opRevert
	default:
		cmd := m.run(opRevert, "pressed R: revert")
		if warm := m.warmNote(); warm != "" {
			m.status = "R: " + warm
		}
		return m, cmd
	}
	return m, nil
}

// stopApply asks the engine to stop the running apply and revert it;
// the engine journals the request, and its events show the revert.
func (m Model) stopApply() (tea.Model, tea.Cmd) {
	engine := m.cfg.Engine
	m.stopping, m.asking = true, nil // a question of the apply is moot now
	if warm := m.warmNote(); warm != "" {
		m.status = "R: " + warm
	}
	return m, tea.Batch(func() tea.Msg { engine.StopApply(); return nil },
		m.mark(func(r Marks) { r.Marker("stop and revert") }))
}

// retryPreload runs the preload again after it failed (a registry login
// fixed, a tarball copied) without leaving the cockpit.
func (m Model) retryPreload() (tea.Model, tea.Cmd) {
	switch {
	case m.cfg.ReadOnly:
		m.status = "read-only: this view does not preload"
	case m.state.Preload.Error == "":
		m.status = "p: the preload did not fail; nothing to retry"
	case m.running != "" || m.state.Running():
		m.status = "p: the " + m.operation() + " is running"
	default:
		return m, m.run(opPreload, "pressed p: retry the preload")
	}
	return m, nil
}

func (m Model) answer(yes bool) (tea.Model, tea.Cmd) {
	if m.pending == opStop {
		m.pending = ""
		if !yes {
			m.status = "the release goes on"
			return m, nil
		}
		if m.running != opApply {
			m.status = "the apply already ended; R reverts it"
			return m, nil
		}
		return m.stopApply()
	}
	if q := m.asking; q != nil {
		m.asking = nil
		return m, func() tea.Msg { q.reply <- yes; return nil }
	}
	op := m.pending
	m.pending = ""
	if !yes {
		m.status = op + " not started"
		return m, nil
	}
	return m, m.run(op, "confirmed "+op)
}

func (m Model) quit() (tea.Model, tea.Cmd) {
	if m.running == "" || m.running == opPreload || m.cfg.ReadOnly {
		if m.opCancel != nil {
			m.opCancel()
		}
		return m, tea.Quit
	}
	if !m.state.Running() && m.state.Ops > m.ranAfter {
		m.quitArm = true // its last event is here: quit the moment the engine returns
		m.status = "the " + m.running + " is finishing (lock release), then quitting…"
		return m, nil
	}
	if !m.quitArm {
		m.quitArm = true
		m.status = "a " + m.running + " is running: press q again to stop it (on_failure: " + m.plan.OnFailure + " applies) and quit"
		return m, nil
	}
	m.status = "stopping the " + m.running + " safely, then quitting…"
	m.opCancel()
	return m, operatorCmd(m.cfg.Engine, "pressed q twice during "+m.running+": stopping it and quitting")
}

// operation names the operation running now.
func (m Model) operation() string {
	if m.running != "" {
		return m.running
	}
	return m.state.Op
}

func (m Model) imagesReady() int {
	n := 0
	for _, img := range m.state.Preload.Images {
		if img.Result == plans.ResultPresent || img.Result == plans.ResultPulled {
			n++
		}
	}
	return n
}
