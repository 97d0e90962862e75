package plans

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/logs"
)

// Docker is what the engine needs from a Docker engine; *docker.Client provides it.
type Docker interface {
	Host() string
	ImageID(ctx context.Context, ref string) (string, error)
	Pull(ctx context.Context, ref string, progress func(docker.PullProgress)) error
	Load(ctx context.Context, path string) ([]string, error)
	Inspect(ctx context.Context, nameOrID string) (*docker.Container, error)
	List(ctx context.Context, labels map[string]string) ([]docker.Container, error)
	Create(ctx context.Context, spec docker.Spec) (string, error)
	Start(ctx context.Context, id string) error
	Stop(ctx context.Context, id string, timeout int) error
	Rename(ctx context.Context, id, name string) error
	Remove(ctx context.Context, id string) error
	EnsureNetwork(ctx context.Context, name string, labels map[string]string) error
	LastLines(ctx context.Context, id string, n int) ([]string, error)
	Logs(ctx context.Context, id string, tty bool, opts docker.LogOptions) (*docker.LogStream, error)
	AcquireLock(ctx context.Context, name string, info docker.LockInfo, labels map[string]string) error
	ReleaseLock(ctx context.Context, name string) error
	Lock(ctx context.Context, name string) (*docker.LockInfo, error)
	WriteRecord(ctx context.Context, name string, labels map[string]string) error
	ReadRecord(ctx context.Context, name string) (map[string]string, error)
}

// Asker gets an operator's yes or no for a confirm step.
type Asker interface {
	Confirm(ctx context.Context, question string) (bool, error)
}

// Options configures an Engine.
type Options struct {
	Docker   Docker
	Journal  *Journal         // nil: events are not journaled
	Actor    string           // who acts; default: Actor()
	StateDir string           // where journals live; recorded on the lock
	Lookup   LookupEnv        // default: os.LookupEnv
	Asker    Asker            // nil: confirm steps fail
	OnEvent  func(Event)      // called for every event, from any goroutine
	Now      func() time.Time // default: time.Now
	Logs     *logs.Buffer     // when set, the engine journals the error lines it shows until Close
}

// Engine carries out one plan against one Docker engine.
type Engine struct {
	plan   *Plan
	opts   Options
	masker *Masker

	mu         sync.Mutex
	journalErr error
	errors     *errorJournal // with Options.Logs
	run        string        // the latest apply
	ahead      *ahead        // the next deploy group, prepared ahead
	notifier   *notifier     // the plan's webhooks and mark steps read the release from it
}

// NewEngine prepares an engine for plan.
func NewEngine(plan *Plan, opts Options) *Engine {
	if opts.Lookup == nil {
		opts.Lookup = os.LookupEnv
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Actor == "" {
		opts.Actor = Actor()
	}
	e := &Engine{plan: plan, opts: opts, masker: NewMasker(plan, opts.Lookup)}
	e.notifier = newNotifier(e)
	if opts.Logs != nil {
		e.errors = e.watchErrors(opts.Logs.Subscribe(4096))
	}
	return e
}

// Close stops journaling log errors and writes the last counts, then
// waits a bounded time for the webhooks to be told.
func (e *Engine) Close() {
	if e.errors != nil {
		e.errors.stop()
	}
	e.notifier.close()
}

func (e *Engine) currentRun() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.run
}

// Plan is the plan the engine carries out.
func (e *Engine) Plan() *Plan { return e.plan }

// Mask hides the plan's secret values in s.
func (e *Engine) Mask(s string) string { return e.masker.Mask(s) }

// Actor names the operator: user@host, plus the SSH client address when
// the session came in over SSH.
func Actor() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, _ := os.Hostname()
	actor := name + "@" + host
	if ssh := os.Getenv("SSH_CONNECTION"); ssh != "" {
		actor += " (ssh from " + strings.Fields(ssh)[0] + ")"
	} else if ssh := os.Getenv("SSH_CLIENT"); ssh != "" {
		actor += " (ssh from " + strings.Fields(ssh)[0] + ")"
	}
	return actor
}

// Emit stamps, masks, journals and publishes an event. The engine calls it
// for its own events; callers may add theirs (the plan being loaded, say).
func (e *Engine) Emit(ev Event) {
	ev.Time = e.opts.Now().UTC()
	ev.Actor = e.opts.Actor
	ev.Project, ev.Release = e.plan.Project, e.plan.Release
	for _, s := range []*string{&ev.Message, &ev.Error, &ev.Line, &ev.Command, &ev.StepName} {
		*s = e.masker.Mask(*s)
	}
	if e.opts.Journal != nil && !ev.Transient {
		if err := e.opts.Journal.Append(ev); err != nil {
			e.mu.Lock()
			if e.journalErr == nil {
				e.journalErr = err
			}
			e.mu.Unlock()
		}
	}
	e.notifier.observe(ev)
	if e.opts.OnEvent != nil {
		e.opts.OnEvent(ev)
	}
}

// JournalErr is the first error writing the journal, if any.
func (e *Engine) JournalErr() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.journalErr
}

// Label keys golive puts on the containers it creates.
const (
	LabelProject     = "io.golive.project"
	LabelService     = "io.golive.service"
	LabelGroup       = "io.golive.group"
	LabelRelease     = "io.golive.release"
	LabelRun         = "io.golive.run"
	LabelContainer   = "io.golive.container"
	LabelConfig      = "io.golive.config"
	LabelPrevID      = "io.golive.prev.container"
	LabelPrevImageID = "io.golive.prev.image-id"
	LabelPrevImage   = "io.golive.prev.image"
	LabelPrevSpec    = "io.golive.prev.spec"
	LabelActor       = "io.golive.actor"
	LabelReverted    = "io.golive.reverted-run"
)

// LockName is the name of the project's lock container.
func (p *Plan) LockName() string { return "golive-lock-" + p.Project }

// recordName is the name of the project's record container.
func (p *Plan) recordName() string { return "golive-record-" + p.Project }

// Lock takes the project's release lock for operation, or says who holds
// it. A lock whose holder was a process on this machine that no longer
// exists (killed mid-release) is broken, and the journal says so.
func (e *Engine) Lock(ctx context.Context, operation string) error {
	host, _ := os.Hostname()
	info := docker.LockInfo{Holder: e.opts.Actor, Since: e.opts.Now(), StateDir: e.opts.StateDir, Operation: operation, Host: host, PID: os.Getpid()}
	labels := map[string]string{LabelProject: e.plan.Project, LabelRelease: e.plan.Release}
	err := e.opts.Docker.AcquireLock(ctx, e.plan.LockName(), info, labels)
	var held *docker.HeldError
	if errors.As(err, &held) && held.Host == host && held.PID > 0 && !processAlive(held.PID) {
		if err := e.opts.Docker.ReleaseLock(ctx, e.plan.LockName()); err != nil {
			return err
		}
		e.Emit(Event{Kind: EvLockBroken, Message: fmt.Sprintf("lock of %s (%s since %s) broken: its process %d on this machine is gone",
			held.Holder, held.Operation, held.Since.UTC().Format(time.RFC3339), held.PID)})
		err = e.opts.Docker.AcquireLock(ctx, e.plan.LockName(), info, labels)
	}
	if errors.As(err, &held) {
		e.Emit(Event{Kind: EvLockRefused, Message: "held by " + held.Holder + " since " + held.Since.UTC().Format(time.RFC3339)})
		return err
	}
	if err != nil {
		return err
	}
	e.Emit(Event{Kind: EvLockAcquired, Message: operation})
	return nil
}

// processAlive reports whether a process with this ID exists on this machine.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Unlock releases the project's lock. It uses its own context so an
// interrupted release still frees it.
func (e *Engine) Unlock() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.opts.Docker.ReleaseLock(ctx, e.plan.LockName()); err != nil {
		e.Emit(Event{Kind: EvLockReleased, Result: ResultFailed, Error: err.Error()})
		return
	}
	e.Emit(Event{Kind: EvLockReleased, Result: ResultOK})
}

// BreakLock removes a stale lock and returns who held it (nil if nobody did).
func (e *Engine) BreakLock(ctx context.Context) (*docker.LockInfo, error) {
	held, err := e.opts.Docker.Lock(ctx, e.plan.LockName())
	if err != nil || held == nil {
		return nil, err
	}
	if err := e.opts.Docker.ReleaseLock(ctx, e.plan.LockName()); err != nil {
		return nil, err
	}
	e.Emit(Event{Kind: EvLockBroken, Message: fmt.Sprintf("lock of %s (%s since %s) broken", held.Holder, held.Operation, held.Since.UTC().Format(time.RFC3339))})
	return held, nil
}

// LockHolder says who holds the project's lock, or nil.
func (e *Engine) LockHolder(ctx context.Context) (*docker.LockInfo, error) {
	return e.opts.Docker.Lock(ctx, e.plan.LockName())
}
