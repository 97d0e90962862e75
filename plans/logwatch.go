package plans

import (
	"context"
	"sync"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/logs"
)

// firstErrorsKept is how many error lines per service the journal records
// after each deploy.
const firstErrorsKept = 3

// LogSources are what the plan's logs come from: each service's container
// by name (so deploys and reverts move the streams) and the plan's files.
func (p *Plan) LogSources() []logs.Source {
	var srcs []logs.Source
	for _, svc := range p.Services {
		if p.Docker.Swarm {
			srcs = append(srcs, logs.Source{Name: svc.Name, Service: p.SwarmName(svc)})
			continue
		}
		srcs = append(srcs, logs.Source{Name: svc.Name, Container: svc.ContainerName(p.Project)})
	}
	return append(srcs, p.fileSources()...)
}

// fileSources are the plan's log files, read where golive runs.
func (p *Plan) fileSources() []logs.Source {
	var srcs []logs.Source
	for _, f := range p.Logs.Files {
		srcs = append(srcs, logs.Source{Name: logs.Label(f), Path: p.Resolve(f)})
	}
	return srcs
}

// LogOptions are the log follower's options for this plan: its patterns,
// and its secrets masked as lines are read, including those found in the
// environment of every container the follower meets.
func (p *Plan) LogOptions(m *Masker) (logs.FollowOptions, error) {
	patterns, err := logs.CompilePatterns(p.Logs.Errors, p.Logs.Warnings)
	if err != nil {
		return logs.FollowOptions{}, err
	}
	return logs.FollowOptions{Patterns: patterns, Secrets: m.Secrets(), OnContainer: func(ct *docker.Container) { m.AddEnv(ct.Spec.Env) }}, nil
}

// FollowLogs follows every service's container and the plan's log files
// into buf until ctx ends, with the one log follower `golive logs` uses.
// The containers running now are read from since (zero: all their
// history). The previous values of secrets, still in the environment of
// the containers kept for a revert, are masked too.
func (e *Engine) FollowLogs(ctx context.Context, buf *logs.Buffer, since time.Time) error {
	if e.hosts != nil {
		return e.followHosts(ctx, buf, since)
	}
	opts, err := e.plan.LogOptions(e.masker)
	if err != nil {
		return err
	}
	if cts, err := e.opts.Docker.List(ctx, map[string]string{LabelProject: e.plan.Project}); err == nil {
		for _, ct := range cts {
			e.masker.AddEnv(ct.Spec.Env)
		}
	}
	opts.Follow, opts.Since, opts.Retry = true, since, true
	logs.Follow(ctx, e.opts.Docker, e.plan.LogSources(), opts, buf)
	return nil
}

// errorJournal records in the journal what the logs show while the engine
// lives: error-level lines per service per minute, and the first error
// lines of each service after a new container of it started.
type errorJournal struct {
	e        *Engine
	mu       sync.Mutex
	deployed map[string]time.Time // service → when its new container started
	firsts   map[string]int       // service → error lines recorded since
	minute   int64
	counts   map[string]int
	times    map[string][]int64
	sub      *logs.Subscription
	done     chan struct{}
}

// watchErrors reads lines from sub until it closes.
func (e *Engine) watchErrors(sub *logs.Subscription) *errorJournal {
	j := &errorJournal{e: e, deployed: map[string]time.Time{}, firsts: map[string]int{}, counts: map[string]int{}, times: map[string][]int64{}, sub: sub, done: make(chan struct{})}
	go func() {
		defer close(j.done)
		for l := range sub.C {
			j.line(l)
		}
		j.flush()
	}()
	return j
}

// stop ends the subscription and waits until the last counts are journaled.
func (j *errorJournal) stop() {
	j.sub.Close()
	<-j.done
}

// deployedAt notes that a service now runs its new container; safe on a nil journal.
func (j *errorJournal) deployedAt(service string, t time.Time) {
	if j == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.deployed[service], j.firsts[service] = t, 0
}

func (j *errorJournal) line(l logs.Line) {
	if l.Level != logs.LevelError || l.Cont || l.Dropped > 0 {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	minute := l.Time.Unix() / 60
	if minute != j.minute {
		j.flushLocked()
		j.minute = minute
	}
	svc := logs.SourceService(l.Source)
	j.counts[svc]++
	j.times[svc] = append(j.times[svc], l.Time.UnixMilli())
	if at, ok := j.deployed[svc]; ok && !l.Time.Before(at) && j.firsts[svc] < firstErrorsKept {
		j.firsts[svc]++
		j.e.Emit(Event{Kind: EvLogError, Run: j.e.currentRun(), Service: svc, Line: l.Text,
			DurationMS: ms(l.Time.Sub(at)), Message: "error line after deploy"})
	}
}

func (j *errorJournal) flush() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.flushLocked()
}

func (j *errorJournal) flushLocked() {
	if len(j.counts) == 0 {
		return
	}
	j.e.Emit(Event{Kind: EvLogErrors, Run: j.e.currentRun(), Counts: j.counts, Times: j.times, Message: time.Unix(j.minute*60, 0).UTC().Format(time.RFC3339)})
	j.counts, j.times = map[string]int{}, map[string][]int64{}
}

var _ logs.ContainerLogs = Docker(nil)
var _ Docker = (*docker.Client)(nil)
