// Package tui is golive's cockpit: one root model that owns layout, focus
// and keys, and children that render into the rectangles they are given.
// It drives the release engine (plans) and renders the log pipeline
// (logs); Docker and log I/O happen in commands, never in Update.
package tui

import (
	"context"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"

	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

// Engine is what the cockpit needs from the release engine; *plans.Engine provides it.
type Engine interface {
	Plan() *plans.Plan
	Preload(ctx context.Context) error
	Apply(ctx context.Context) error
	Revert(ctx context.Context) error
	// StopApply stops a running apply at its next safe point and reverts
	// what it changed; Apply returns when the revert is done.
	StopApply()
	Status(ctx context.Context) ([]plans.ServiceState, error)
	Mask(s string) string
	Emit(ev plans.Event)
}

// Operations the cockpit runs.
const (
	opPreload = "preload"
	opApply   = "apply"
	opRevert  = "revert"
	opStop    = "stop" // stop the running apply and revert what it changed
)

// Config is what the cockpit is started with.
type Config struct {
	Engine   Engine
	Bridge   *Bridge
	Logs     *logs.Buffer
	Host     string // the Docker host, for the header
	Operator string
	ReadOnly bool // the pair's watch view: it follows a journal and cannot act
	Now      func() time.Time
	Recorder Marks  // nil: not recording
	SaveDir  string // where s saves the shown log lines; "" is the working directory
}

// Marks is where the cockpit notes resizes and named moments; *Recorder provides it.
type Marks interface {
	Resize(width, height int)
	Marker(label string)
}

// Model is the cockpit's root model.
type Model struct {
	cfg    Config
	plan   *plans.Plan
	keys   KeyMap
	styles Styles
	help   help.Model
	spin   spinner.Model
	input  textinput.Model

	width, height int

	// state is where the release stands, folded from the engine's events
	// (or, read-only, from the journal followed); the phase comes from it.
	state      *plans.State
	seen       []plans.Event // read-only: every event followed, to switch releases
	running    string        // the engine call this cockpit made that has not returned
	ranAfter   int           // how many operations the state had seen when it was made
	opCancel   context.CancelFunc
	services   []plans.ServiceState // what Docker says each container runs
	holderGone string               // watch: the lock's holder process is gone, and how to finish
	asking     *question
	pending    string    // an operation waiting for the plan's y/N confirm
	stopping   bool      // R during the apply: the engine was asked to stop it and revert
	quitArm    bool      // q pressed once while an operation runs
	status     string    // why the last key did nothing, or what happened
	statusAt   time.Time // when it was said: it expires after statusTTL

	logs      logView
	inputMode string // "", "search" or "filter"
}

// New makes the cockpit for cfg.
func New(cfg Config) Model {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	plan := cfg.Engine.Plan()
	m := Model{cfg: cfg, plan: plan, keys: DefaultKeys(), styles: DefaultStyles(), help: help.New(),
		spin: spinner.New(spinner.WithSpinner(spinner.MiniDot)), input: textinput.New(), width: 80, height: 24}
	m.help.Styles = m.styles.Help()
	m.logs = newLogView(cfg.Logs, plan)
	m.state = plans.NewState(plan)
	if !cfg.ReadOnly {
		m.running = opPreload // Init starts it: images load the moment the cockpit opens
	}
	for _, s := range plan.Placements() {
		name, _, _ := strings.Cut(s.Name, "@")
		m.services = append(m.services, plans.ServiceState{Service: s.Name, Group: s.Group, Container: plan.Service(name).ContainerName(plan.Project), Target: s.Image, State: "…"})
	}
	return m
}

// Phase is where the release stands, as the release state derives it.
// Between a key and the operation's first event, the operation this
// cockpit started already counts.
func (m Model) Phase() plans.Phase {
	if m.running != "" && m.state.Ops == m.ranAfter {
		return map[string]plans.Phase{opPreload: plans.PhasePreloading, opApply: plans.PhaseDeploying, opRevert: plans.PhaseReverting}[m.running]
	}
	return m.state.Phase()
}
