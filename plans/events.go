package plans

import "time"

// Event is one thing that happened during a release. The engine publishes
// every event to its subscriber and appends the durable ones to the journal.
type Event struct {
	Time            time.Time      `json:"time"`
	Kind            string         `json:"event"`
	Actor           string         `json:"actor"`
	Project         string         `json:"project,omitempty"`
	Release         string         `json:"release,omitempty"`
	Run             string         `json:"run,omitempty"`  // the apply this event belongs to
	Step            int            `json:"step,omitempty"` // 1-based index in the plan's steps
	StepName        string         `json:"step_name,omitempty"`
	StepKind        string         `json:"step_kind,omitempty"`
	Phase           string         `json:"phase,omitempty"` // before, run or after for a run step
	Command         string         `json:"command,omitempty"`
	Service         string         `json:"service,omitempty"`
	Host            string         `json:"host,omitempty"` // the plan's host it happened on (hosts:); "" for the whole release
	Group           string         `json:"group,omitempty"`
	Image           string         `json:"image,omitempty"`
	ImageID         string         `json:"image_id,omitempty"`
	PrevImage       string         `json:"prev_image,omitempty"`
	PrevImageID     string         `json:"prev_image_id,omitempty"`
	ContainerID     string         `json:"container_id,omitempty"`
	PrevContainerID string         `json:"prev_container_id,omitempty"`
	Layer           string         `json:"layer,omitempty"`
	Current         int64          `json:"current,omitempty"`
	Total           int64          `json:"total,omitempty"`
	Stream          string         `json:"stream,omitempty"`
	Line            string         `json:"line,omitempty"`
	ExitCode        *int           `json:"exit_code,omitempty"`
	DurationMS      int64          `json:"duration_ms,omitempty"`
	Result          string         `json:"result,omitempty"`
	Message         string         `json:"message,omitempty"`
	Error           string         `json:"error,omitempty"`
	Counts          map[string]int `json:"counts,omitempty"`
	// Times holds, per service, the Unix milliseconds of each error line
	// counted in Counts (logs.errors), so windows around a change are exact.
	Times map[string][]int64 `json:"times,omitempty"`
	// Services lists the plan's services (plan.loaded), so that a report
	// names every one, changed or not.
	Services []PlannedService `json:"services,omitempty"`
	// Action says what a service.container event did to the service:
	// ActionCreated, ActionStopped (it stopped serving) or ActionStarted.
	Action string `json:"action,omitempty"`
	// Since is when what the event found began, when that was before the
	// event: a service found stopped since a stop no journal holds.
	Since time.Time `json:"since,omitzero"`
	// KeepWarmMS is, on a switch, how long the version that stopped taking
	// traffic keeps running (a switch back then needs no start).
	KeepWarmMS int64 `json:"keep_warm_ms,omitempty"`
	// Transient events (byte-level pull progress) are published but not journaled.
	Transient bool `json:"-"`
}

// Event kinds.
const (
	EvPlanLoaded      = "plan.loaded"
	EvApplyStart      = "apply.start"
	EvApplyEnd        = "apply.end"
	EvLockAcquired    = "lock.acquired"
	EvLockReleased    = "lock.released"
	EvLockRefused     = "lock.refused"
	EvLockBroken      = "lock.broken"
	EvLockTakeover    = "lock.takeover" // a revert stopped a running apply to undo it
	EvPreloadStart    = "preload.start"
	EvPreloadLoad     = "preload.load"
	EvPreloadProgress = "preload.progress"
	EvPreloadImage    = "preload.image"
	EvPreloadEnd      = "preload.end"
	EvStepStart       = "step.start"
	EvStepOutput      = "step.output"
	EvStepEnd         = "step.end"
	EvConfirmAsk      = "confirm.ask"
	EvConfirmAnswer   = "confirm.answer"
	EvServiceStart    = "service.deploy.start"
	EvServiceChange   = "service.container"
	EvServiceEnd      = "service.deploy.end"
	EvHealth          = "service.health"
	EvWindow          = "service.window" // passed its first check; must keep passing for DurationMS, until EvHealth
	EvRevertStart     = "revert.start"
	EvRevertService   = "revert.service"
	EvRevertEnd       = "revert.end"
	EvRevertRetry     = "revert.retry"    // the Docker engine stopped answering; the revert is tried again
	EvOperator        = "operator.action" // a key the operator pressed in the cockpit
	EvLogErrors       = "logs.errors"     // error-level lines per service in one minute
	EvLogError        = "logs.error"      // one of the first error lines after a deploy
	EvRoute           = "proxy.route"     // a proxy step held or let through a service's traffic
	// EvHostLost: a host of the plan stopped answering after the release
	// changed something on it (Host); what it runs is unknown until it
	// answers again.
	EvHostLost = "host.lost"
)

// Actions of service.container events.
const (
	ActionCreated = "created" // the new container exists, not yet serving
	ActionStopped = "stopped" // the container that served was stopped or removed
	ActionStarted = "started" // the new container started; it serves once its gate passes
	// ActionBeside: a new container started beside the one that serves,
	// which goes on serving until a switch.
	ActionBeside = "beside"
	// ActionSwitched: the proxy sends the service's traffic to this
	// container now (DurationMS: how long the switch took); the one it left
	// stays warm for KeepWarmMS.
	ActionSwitched = "switched"
)

// Actions of proxy.route events.
const (
	ActionPaused      = "paused"      // requests wait until resumed, each for at most the pause's timeout
	ActionMaintenance = "maintenance" // requests get 503 and the maintenance message
	ActionResumed     = "resumed"     // requests go through again
)

// Results carried by events.
const (
	ResultOK        = "ok"
	ResultFailed    = "failed"
	ResultUnchanged = "unchanged"
	ResultPresent   = "present"
	ResultPulled    = "pulled"
	ResultSkipped   = "skipped"
	ResultReverted  = "reverted"
	ResultDeployed  = "deployed"
	ResultNothing   = "nothing"
	// ResultIncomplete ends a revert that could not put every service back.
	ResultIncomplete = "revert incomplete"
)
