// Package tui is golive's cockpit: one root model that owns layout, focus
// and keys, and children that render into the rectangles they are given.
// It drives the release engine (plans) and renders the log pipeline
// (logs); Docker and log I/O happen in commands, never in Update.
package tui

import (
	"context"
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
	Status(ctx context.Context) ([]plans.ServiceState, error)
	Mask(s string) string
	Emit(ev plans.Event)
}

// Phase is where the release stands, in words and colour in the header.
type Phase string

// Phases, as the header shows them.
const (
	PhasePreloading Phase = "PRELOADING"
	PhaseReady      Phase = "READY"
	PhaseDeploying  Phase = "DEPLOYING"
	PhaseDeployed   Phase = "DEPLOYED"
	PhaseFailed     Phase = "FAILED"
	PhaseReverting  Phase = "REVERTING"
	PhaseReverted   Phase = "REVERTED"
)

// Operations the cockpit runs.
const (
	opPreload = "preload"
	opApply   = "apply"
	opRevert  = "revert"
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
	Recorder Marks // nil: not recording
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

	op       string    // the operation running now, "" when idle
	opStart  time.Time // when it started
	opCancel context.CancelFunc
	lastOp   string // the operation that ran last
	lastErr  string // how it failed, "" when it succeeded
	preload  preloadState
	steps    []stepState
	output   []string // the last lines of the running step
	services []plans.ServiceState
	lockedBy string
	asking   *question
	pending  string // an operation waiting for the plan's y/N confirm
	quitArm  bool   // q pressed once while an operation runs
	status   string // why the last key did nothing, or what happened

	logs      logView
	inputMode string // "", "search" or "filter"
}

// preloadState tracks the images being made present.
type preloadState struct {
	started, done bool
	err           string
	images        []imageState
}

type imageState struct {
	ref    string
	id     string // the image ID once present
	result string // "", present, pulled, failed
	err    string
	layers map[string][2]int64 // layer → current, total
}

type stepState struct {
	title    string
	kind     string
	state    string // pending, running, done, failed, skipped
	duration time.Duration
	err      string
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
	if cfg.ReadOnly {
		m.preload.done = true // until the journal shows a preload
	} else {
		m.op, m.opStart = opPreload, cfg.Now() // Init starts it: images load the moment the cockpit opens
	}
	for _, ref := range plan.Images() {
		m.preload.images = append(m.preload.images, imageState{ref: ref, layers: map[string][2]int64{}})
	}
	for _, s := range plan.ReleaseSteps() {
		m.steps = append(m.steps, stepState{title: s.Title(), kind: s.Kind(), state: "pending"})
	}
	for _, s := range plan.Services {
		m.services = append(m.services, plans.ServiceState{Service: s.Name, Group: s.Group, Container: s.ContainerName(plan.Project), Target: s.Image, State: "…"})
	}
	return m
}

// Phase derives where the release stands from the running and last operations.
func (m Model) Phase() Phase {
	switch m.op {
	case opPreload:
		return PhasePreloading
	case opApply:
		return PhaseDeploying
	case opRevert:
		return PhaseReverting
	}
	switch {
	case m.lastOp == opApply && m.lastErr == "":
		return PhaseDeployed
	case m.lastOp == opRevert && m.lastErr == "":
		return PhaseReverted
	case m.lastErr != "", m.preload.err != "":
		return PhaseFailed
	case !m.preload.done:
		return PhasePreloading
	}
	return PhaseReady
}
