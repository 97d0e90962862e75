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
	if m.op == opPreload {
		cmds = append(cmds, opCmd(m.cfg.Engine, opPreload, context.Background()))
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

// run starts an operation of the engine in the background.
func (m *Model) run(op string) tea.Cmd {
	ctx, cancel := context.WithCancel(context.Background())
	m.op, m.opStart, m.opCancel, m.status, m.quitArm = op, m.cfg.Now(), cancel, "", false
	label := op + " " + m.plan.Release
	return tea.Batch(opCmd(m.cfg.Engine, op, ctx), m.mark(func(r Marks) { r.Marker(label) }))
}

// opCmd runs an operation of the engine and reports its end.
func opCmd(engine Engine, op string, ctx context.Context) tea.Cmd {
	return func() tea.Msg {
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

// Update handles one message; it does no I/O.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
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
		return m, m.refreshStatus()
	case bridgeMsg:
		for _, ev := range msg.events {
			m.apply(ev)
		}
		if len(msg.asks) > 0 {
			m.asking = msg.asks[0]
		}
		return m, m.cfg.Bridge.wait
	case opDoneMsg:
		return m.opDone(msg)
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
	m.op, m.opCancel = "", nil
	errText := ""
	if msg.err != nil {
		errText = msg.err.Error()
	}
	switch msg.op {
	case opPreload:
		m.preload.done, m.preload.err = msg.err == nil, errText
		if msg.err == nil {
			m.status = "preload done: press D to deploy"
		} else {
			m.status = "preload failed: " + firstLine(errText)
		}
	default:
		m.lastOp, m.lastErr = msg.op, errText
		m.status = ""
		if msg.err != nil {
			m.status = msg.op + " failed: " + firstLine(errText)
		}
	}
	if m.quitArm {
		return m, tea.Quit
	}
	cmds := []tea.Cmd{m.refreshStatus()}
	if msg.err != nil && msg.op != opPreload {
		cmds = append(cmds, m.mark(func(r Marks) { r.Marker(msg.op + " failed") }))
	} else if msg.op != opPreload {
		cmds = append(cmds, m.mark(func(r Marks) { r.Marker(msg.op + " done") }))
	}
	return m, tea.Batch(cmds...)
}

// deployer names who holds the lock, for the read-only view.
func (m Model) deployer() string {
	if m.lockedBy != "" {
		return m.lockedBy
	}
	return "the operator holding the lock"
}

// watch folds a journal's event into the operation state of the read-only
// view, which runs no operation itself.
func (m *Model) watch(ev plans.Event) {
	switch ev.Kind {
	case plans.EvPlanLoaded: // a new journal: a new session of the deployer
		for i := range m.steps {
			m.steps[i] = stepState{title: m.steps[i].title, kind: m.steps[i].kind, state: "pending"}
		}
		m.op, m.lastOp, m.lastErr, m.output = "", "", "", nil
	case plans.EvPreloadStart:
		m.preload.done = false
		if m.op == "" {
			m.op, m.opStart = opPreload, ev.Time
		}
	case plans.EvPreloadEnd:
		m.preload.done, m.preload.err = ev.Result == plans.ResultOK, ev.Error
		if m.op == opPreload {
			m.op = ""
		}
	case plans.EvApplyStart:
		m.op, m.opStart = opApply, ev.Time
	case plans.EvApplyEnd:
		m.op, m.lastOp, m.lastErr = "", opApply, ""
		if ev.Result == string(plans.Reverted) {
			m.lastOp = opRevert
		}
		if ev.Result != string(plans.Deployed) && ev.Result != string(plans.Reverted) {
			m.lastErr = ev.Error
		}
	case plans.EvRevertStart:
		if m.op != opApply {
			m.op, m.opStart = opRevert, ev.Time
		}
	case plans.EvRevertEnd:
		if m.op == opRevert {
			m.op, m.lastOp, m.lastErr = "", opRevert, ""
			if ev.Result == plans.ResultFailed {
				m.lastErr = ev.Error
			}
		}
	case plans.EvConfirmAsk:
		m.status = ev.Actor + " is asked: " + ev.Message
	case plans.EvConfirmAnswer:
		m.status = ev.Actor + " answered " + ev.Result + ": " + ev.Message
	}
}

// apply folds an engine event into the cockpit's state.
func (m *Model) apply(ev plans.Event) {
	if m.cfg.ReadOnly {
		m.watch(ev)
	}
	switch ev.Kind {
	case plans.EvLockAcquired:
		m.lockedBy = ev.Actor
	case plans.EvLockReleased, plans.EvLockBroken:
		m.lockedBy = ""
	case plans.EvPreloadStart:
		m.preload.started = true
	case plans.EvPreloadProgress, plans.EvPreloadImage:
		for i := range m.preload.images {
			img := &m.preload.images[i]
			if img.ref != ev.Image {
				continue
			}
			if ev.Kind == plans.EvPreloadImage {
				img.result, img.err, img.id = ev.Result, ev.Error, ev.ImageID
			} else if ev.Layer != "" {
				img.layers[ev.Layer] = [2]int64{ev.Current, ev.Total}
			}
		}
	case plans.EvApplyStart:
		for i := range m.steps {
			m.steps[i] = stepState{title: m.steps[i].title, kind: m.steps[i].kind, state: "pending"}
		}
	case plans.EvStepStart:
		if s := m.step(ev.Step); s != nil {
			s.state, m.output = "running", nil
		}
	case plans.EvStepOutput:
		m.output = append(m.output, ev.Line)
		if len(m.output) > 3 {
			m.output = m.output[len(m.output)-3:]
		}
	case plans.EvStepEnd:
		if s := m.step(ev.Step); s != nil {
			s.state, s.duration, s.err = stepResult(ev.Result), time.Duration(ev.DurationMS)*time.Millisecond, ev.Error
		}
	case plans.EvServiceEnd:
		if ev.Result == plans.ResultFailed {
			m.status = ev.Service + ": " + firstLine(ev.Error)
		}
	case plans.EvRevertStart:
		m.status = "reverting " + ev.Message
	}
}

func (m *Model) step(n int) *stepState {
	if n < 1 || n > len(m.steps) {
		return nil
	}
	return &m.steps[n-1]
}

func stepResult(r string) string {
	switch r {
	case plans.ResultOK:
		return "done"
	case plans.ResultSkipped:
		return "skipped"
	}
	return "failed"
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
	if m.cfg.ReadOnly && (key.Matches(msg, k.Yes) || key.Matches(msg, k.No) && msg.String() != "esc") {
		m.status = "read-only: only " + m.deployer() + " can answer"
		return m, nil
	}
	if m.asking != nil || m.pending != "" {
		switch {
		case key.Matches(msg, k.Yes):
			return m.answer(true)
		case key.Matches(msg, k.No):
			return m.answer(false)
		}
		m.status = "answer y or n first"
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
		return m, m.input.Focus()
	case key.Matches(msg, k.NextMatch), key.Matches(msg, k.PrevMatch):
		if m.logs.search == "" {
			m.status = "n/N: no search yet; press / to search"
		} else if !m.logs.jump(&logs.Filter{Text: m.logs.search}, key.Matches(msg, k.PrevMatch)) {
			m.status = fmt.Sprintf("no more matches for %q", m.logs.search)
		}
	case key.Matches(msg, k.NextError), key.Matches(msg, k.PrevError):
		older, where := key.Matches(msg, k.PrevError), "below"
		if older {
			where = "above"
		}
		if !m.logs.jump(&logs.Filter{MinLevel: logs.LevelError}, older) {
			m.status = "no error-level line " + where
		}
	case key.Matches(msg, k.ErrorsOnly):
		m.logs.errors = !m.logs.errors
		m.logs.refilter()
	case key.Matches(msg, k.Wrap):
		m.logs.wrap = !m.logs.wrap
	case key.Matches(msg, k.Time):
		m.logs.times = !m.logs.times
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
	for _, s := range m.plan.Services {
		names, seen[s.Name] = append(names, s.Name), true
	}
	for _, f := range append(m.plan.Logs.Files, m.cfg.Logs.Sources()...) {
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
			if value != "" && !m.logs.jump(&logs.Filter{Text: value}, true) && m.cfg.Logs.Count(&logs.Filter{Text: value}) == 0 {
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
	case m.op == opPreload:
		m.status = fmt.Sprintf("D: preload is still running (%d of %d images ready)", m.imagesReady(), len(m.preload.images))
	case m.op != "":
		m.status = "D: a " + m.op + " is running"
	case m.preload.err != "":
		m.status = "D: preload failed, so nothing can be deployed (p retries): " + firstLine(m.preload.err)
	case m.plan.Confirm:
		m.pending = opApply
	default:
		m.cfg.Engine.Emit(plans.Event{Kind: plans.EvOperator, Message: "pressed D: deploy release " + m.plan.Release})
		return m, m.run(opApply)
	}
	return m, nil
}

func (m Model) revert() (tea.Model, tea.Cmd) {
	switch {
	case m.cfg.ReadOnly:
		m.status = "read-only: " + m.deployer() + " deploys; this view cannot revert"
	case m.op != "" && m.op != opPreload:
		m.status = "R: a " + m.op + " is running; it reverts by itself on failure (on_failure: " + m.plan.OnFailure + ")"
	case m.op == opPreload:
		m.status = "R: wait for the preload to finish"
	case m.plan.Confirm:
		m.pending = opRevert
	default:
		m.cfg.Engine.Emit(plans.Event{Kind: plans.EvOperator, Message: "pressed R: revert"})
		return m, m.run(opRevert)
	}
	return m, nil
}

// retryPreload runs the preload again after it failed (a registry login
// fixed, a tarball copied) without leaving the cockpit.
func (m Model) retryPreload() (tea.Model, tea.Cmd) {
	switch {
	case m.cfg.ReadOnly:
		m.status = "read-only: this view does not preload"
	case m.preload.err == "":
		m.status = "p: the preload did not fail; nothing to retry"
	case m.op != "":
		m.status = "p: a " + m.op + " is running"
	default:
		m.preload.err = ""
		for i := range m.preload.images {
			m.preload.images[i] = imageState{ref: m.preload.images[i].ref, layers: map[string][2]int64{}}
		}
		return m, m.run(opPreload)
	}
	return m, nil
}

func (m Model) answer(yes bool) (tea.Model, tea.Cmd) {
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
	m.cfg.Engine.Emit(plans.Event{Kind: plans.EvOperator, Message: "confirmed " + op})
	return m, m.run(op)
}

func (m Model) quit() (tea.Model, tea.Cmd) {
	if m.op == "" || m.op == opPreload || m.cfg.ReadOnly {
		if m.opCancel != nil {
			m.opCancel()
		}
		return m, tea.Quit
	}
	if !m.quitArm {
		m.quitArm = true
		m.status = "a " + m.op + " is running: press q again to stop it (on_failure: " + m.plan.OnFailure + " applies) and quit"
		return m, nil
	}
	m.cfg.Engine.Emit(plans.Event{Kind: plans.EvOperator, Message: "pressed q twice during " + m.op + ": stopping it and quitting"})
	m.status = "stopping the " + m.op + " safely, then quitting…"
	m.opCancel()
	return m, nil
}

func (m Model) imagesReady() int {
	n := 0
	for _, img := range m.preload.images {
		if img.result == plans.ResultPresent || img.result == plans.ResultPulled {
			n++
		}
	}
	return n
}
