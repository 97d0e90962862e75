package plans

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
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
	TakeLock(ctx context.Context, name string, info docker.LockInfo, labels map[string]string) (string, error)
	RemoveLock(ctx context.Context, id string) error
	Lock(ctx context.Context, name string) (*docker.LockInfo, error)
	CreateRecord(ctx context.Context, name string, labels map[string]string) error
	Records(ctx context.Context, labels map[string]string) ([]docker.Record, error)
	RemoveRecord(ctx context.Context, name string) error
	Proxy(container string) *docker.Proxy
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
	// Hosts holds a client per host name for a plan with `hosts:`; the
	// engine then coordinates one engine per host (see rollout.go).
	Hosts map[string]Docker
}

// Engine carries out one plan against one Docker engine, or, for a plan
// with hosts:, coordinates one Engine per host (see rollout.go).
type Engine struct {
	plan   *Plan
	opts   Options
	masker *Masker

	mu         sync.Mutex
	journalErr error
	errors     *errorJournal // with Options.Logs
	gates      errorGates    // the error gates open during an apply
	run        string        // the latest apply
	ahead      *ahead        // the next deploy group, prepared ahead
	lockID     string        // the lock container this engine holds, if any
	unreleased string        // a lock container this engine took and could not remove (its host did not answer)
	networks   map[string]bool
	// applyCancel stops the running apply; stopRevert says StopApply asked
	// for a revert; takenOver says a revert from elsewhere took over.
	applyCancel context.CancelFunc
	stopRevert  bool
	takenOver   *TakeoverError
	notifier    *notifier // the plan's webhooks and mark steps read the release from it
	bg          proxyOnce // the proxy through which blue/green services switch

	// hosts are the engines of a release across several hosts, in name
	// order; parent and host are set on each of them.
	hosts  []*Engine
	parent *Engine
	host   string
	locked bool // the coordinator holds the lock on every host

	// pins are a Swarm plan's images as preloaded, by the plan's reference.
	pins map[string]docker.PinnedImage
	// cut is the running apply's first failure, which stops its other
	// steps; cutCh is closed then (nil outside an apply).
	cut   *StepFailedError
	cutCh chan struct{}
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
	e.hosts = hostEngines(e)
	return e
}

// Close stops journaling log errors and writes the last counts, then
// waits a bounded time for the webhooks to be told.
func (e *Engine) Close() {
	if e.errors != nil && e.parent == nil {
		e.errors.stop()
	}
	for _, h := range e.hosts {
		h.Close()
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
	if e.parent != nil {
		e.emitForHost(ev)
		return
	}
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

// journalDurable puts every event so far on disk and says whether the
// journal can be written: the first error writing it, if any.
// A host's engine syncs its coordinator's journal.
func (e *Engine) journalDurable() error {
	j := e.opts.Journal
	if e.parent != nil {
		j = e.parent.opts.Journal
	}
	if j != nil {
		if err := j.Sync(); err != nil {
			e.mu.Lock()
			if e.journalErr == nil {
				e.journalErr = err
			}
			e.mu.Unlock()
		}
	}
	return e.JournalErr()
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
	LabelHealth      = "io.golive.health" // the container's own health gate, as JSON
	LabelRecord      = "io.golive.record" // on record containers: what they record
	LabelRevertOf    = "io.golive.revert.run"
	LabelTargets     = "io.golive.revert.targets"
)

// LockName is the name of the project's lock container.
func (p *Plan) LockName() string { return "golive-lock-" + p.Project }

// recordName is the name of the project's record container.
func (p *Plan) recordName() string { return "golive-record-" + p.Project }

// Lock takes the project's release lock for operation, or says who holds
// it. A lock whose holder was a process on this machine that no longer
// exists (killed mid-release) is broken, and the journal says so.
func (e *Engine) Lock(ctx context.Context, operation string) error {
	if e.hosts != nil {
		return e.lockHosts(ctx, operation)
	}
	host, _ := os.Hostname()
	pid := os.Getpid()
	info := docker.LockInfo{Holder: e.opts.Actor, Since: e.opts.Now(), StateDir: e.opts.StateDir, Operation: operation, Host: host, PID: pid, Started: processStart(pid)}
	labels := map[string]string{LabelProject: e.plan.Project, LabelRelease: e.plan.Release}
	for attempt := 0; ; attempt++ {
		id, err := e.opts.Docker.TakeLock(ctx, e.plan.LockName(), info, labels)
		if err == nil {
			e.mu.Lock()
			e.lockID = id
			e.mu.Unlock()
			e.Emit(Event{Kind: EvLockAcquired, Message: operation})
			return nil
		}
		var held *docker.HeldError
		if !errors.As(err, &held) {
			return err
		}
		e.mu.Lock()
		mine := held.ID != "" && held.ID == e.unreleased
		e.mu.Unlock()
		if attempt < 10 && mine {
			// This engine's own lock, left when its host stopped answering
			// during the release: its holder being alive is no obstacle.
			if err := e.opts.Docker.RemoveLock(ctx, held.ID); err != nil {
				return err
			}
			e.mu.Lock()
			e.unreleased = ""
			e.mu.Unlock()
			e.Emit(Event{Kind: EvLockReleased, Result: ResultOK, Message: "the lock left when the host stopped answering"})
			continue
		}
		if attempt < 10 && held.ID != "" && !HolderAlive(held.LockInfo) {
			// Removed by its ID: a lock another process took meanwhile stays.
			if err := e.opts.Docker.RemoveLock(ctx, held.ID); err != nil {
				return err
			}
			e.Emit(Event{Kind: EvLockBroken, Message: fmt.Sprintf("lock of %s (%s since %s) broken: its process %d on this machine is gone",
				held.Holder, held.Operation, held.Since.UTC().Format(time.RFC3339), held.PID)})
			continue
		}
		e.Emit(Event{Kind: EvLockRefused, Message: "held by " + held.Holder + " since " + held.Since.UTC().Format(time.RFC3339)})
		return err
	}
}

// Interrupted says whose operation was interrupted when the process that
// holds the lock, on this machine, is gone: "root@vm's process 123 is
// gone: the apply was interrupted". "" while the lock is free or its holder
// may still run (on another machine that cannot be told).
func (e *Engine) Interrupted(ctx context.Context) (string, error) {
	if e.hosts != nil {
		return e.interruptedHosts(ctx)
	}
	held, err := e.LockHolder(ctx)
	if err != nil || held == nil || HolderAlive(*held) {
		return "", err
	}
	return fmt.Sprintf("%s's process %d is gone: the %s was interrupted", held.Holder, held.PID, held.Operation), nil
}

// HolderAlive reports whether the process holding a lock may still run:
// always for a holder on another machine, and on this machine while a
// process with its PID and start time exists.
func HolderAlive(info docker.LockInfo) bool {
	host, _ := os.Hostname()
	if info.Host != host || info.PID <= 0 {
		return true
	}
	if !processAlive(info.PID) {
		return false
	}
	return info.Started == "" || processStart(info.PID) == info.Started
}

// processAlive reports whether a process with this ID runs on this machine:
// it exists and is not a zombie (exited, not yet reaped by its parent).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	st, ok := parseProcStat(b)
	return !ok || (st.state != "Z" && st.state != "X")
}

// processStart is when a process started, in clock ticks since boot (field
// 22 of /proc/PID/stat), or "" where that cannot be read.
func processStart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	st, _ := parseProcStat(b)
	return st.start
}

// procStat is what golive reads of /proc/PID/stat: the process state
// (field 3: R, S, D, Z for a zombie…) and its start time (field 22).
type procStat struct{ state, start string }

// parseProcStat reads a /proc/PID/stat line; false where it is malformed.
func parseProcStat(b []byte) (procStat, bool) {
	// The command name (field 2) may contain spaces and ')'; it ends at the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 20 {
		return procStat{}, false
	}
	return procStat{state: fields[0], start: fields[19]}, true
}

// LockLostError says the release's lock was broken while it ran.
type LockLostError struct{ Now *docker.LockInfo }

func (e *LockLostError) Error() string {
	if e.Now == nil {
		return "this release's lock was broken (golive unlock) while it ran; it stopped before changing anything more. Check what runs with `golive status PLAN`"
	}
	return fmt.Sprintf("this release's lock was broken while it ran and is now held by %s (%s since %s); it stopped before changing anything more",
		e.Now.Holder, e.Now.Operation, e.Now.Since.Local().Format("2006-01-02 15:04:05"))
}

// guard says whether the release may change one thing more: every event so
// far reached the journal, and the engine still holds its lock.
func (e *Engine) guard(ctx context.Context) error {
	if e.hosts != nil {
		return e.guardHosts(ctx)
	}
	e.mu.Lock()
	id := e.lockID
	e.mu.Unlock()
	// The journal reaches the disk while the lock is read.
	var held *docker.LockInfo
	var err error
	var read sync.WaitGroup
	if id != "" {
		read.Go(func() { held, err = e.opts.Docker.Lock(ctx, e.plan.LockName()) })
	}
	jerr := e.journalDurable()
	read.Wait()
	if jerr != nil {
		return fmt.Errorf("stopped before changing anything more, because the journal cannot be written: %w", jerr)
	}
	if id == "" {
		return nil
	}
	if err != nil {
		return err
	}
	if held == nil || held.ID != id {
		return &LockLostError{Now: held}
	}
	return nil
}

// Unlock releases the project's lock, if this engine still holds it. It uses
// its own context so an interrupted release still frees it.
func (e *Engine) Unlock() {
	if e.hosts != nil {
		e.unlockHosts()
		return
	}
	e.mu.Lock()
	id := e.lockID
	e.lockID = ""
	e.mu.Unlock()
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.opts.Docker.RemoveLock(ctx, id); err != nil {
		e.mu.Lock()
		e.unreleased = id
		e.mu.Unlock()
		e.Emit(Event{Kind: EvLockReleased, Result: ResultFailed, Error: err.Error()})
		return
	}
	e.Emit(Event{Kind: EvLockReleased, Result: ResultOK})
}

// BreakLock removes the lock held as held (from LockHolder) and journals
// who held it. A lock taken by somebody else since is left alone.
func (e *Engine) BreakLock(ctx context.Context, held *docker.LockInfo) error {
	if e.hosts != nil {
		return e.breakLockHosts(ctx, held)
	}
	if err := e.opts.Docker.RemoveLock(ctx, held.ID); err != nil {
		return err
	}
	e.Emit(Event{Kind: EvLockBroken, Message: fmt.Sprintf("lock of %s (%s since %s, process %d on %s) broken by golive unlock",
		held.Holder, held.Operation, held.Since.UTC().Format(time.RFC3339), held.PID, held.Host)})
	return nil
}

// LockHolder says who holds the project's lock, or nil.
func (e *Engine) LockHolder(ctx context.Context) (*docker.LockInfo, error) {
	if e.hosts != nil {
		return e.lockHolderHosts(ctx)
	}
	return e.opts.Docker.Lock(ctx, e.plan.LockName())
}
