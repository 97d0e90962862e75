package logs

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/golive/golive/docker"
)

// Source is one place log lines come from: a container followed by name
// across deploys, a Swarm service's tasks, or a file on this machine.
type Source struct {
	Name      string // what its lines are labelled with
	Container string // the container name to follow, or
	Service   string // the Swarm service whose tasks to follow (see FollowService), or
	Path      string // the file to read
	// Engine is the Docker engine the container runs on, when the
	// sources span several; nil: the one Follow is given.
	Engine ContainerLogs
}

// FollowOptions configure Follow.
type FollowOptions struct {
	Follow bool      // keep reading new lines; otherwise stop after what is there
	Since  time.Time // containers: only lines from then on (zero: the current container's whole log)
	// FromStart reads files from their first line when following (without
	// Follow they always are); otherwise following starts at their end.
	FromStart bool
	Patterns  *Patterns // extra error and warning patterns
	Secrets   *Secrets  // masked in every line as it is ingested
	// Retry keeps a failing source trying (the cockpit); otherwise its
	// error goes to OnError and the source stops.
	Retry bool
	// OnContainer sees each container a source moves to, before its lines.
	OnContainer func(*docker.Container)
	// CaughtUp is told when a source has read what was there at the start.
	CaughtUp func(source string)
	// OnError is told why a source stopped.
	OnError func(source string, err error)
	// OneByOne reads the sources one after another instead of together,
	// so that output without Follow comes grouped by source.
	OneByOne bool
	// NoTimes, without Follow, reads containers without the engine's
	// timestamps, for output that shows none: the engine works less.
	NoTimes bool
	// Tail, above 0, reads a Swarm service from only the last Tail lines
	// of each task (the engine cuts them) rather than its whole history;
	// whoever prints keeps the last lines itself.
	Tail int
}

// Follow is golive's one log follower, behind the cockpit, watch and
// `golive logs`: it reads every source into out (a Buffer, or a printer),
// masking secrets, sanitizing and classifying each line, until ctx ends
// or, without Follow, until everything there was read.
func Follow(ctx context.Context, api ContainerLogs, sources []Source, opts FollowOptions, out Appender) {
	var wg sync.WaitGroup
	for _, src := range sources {
		run := func() {
			in := NewIngester(src.Name, out, opts.Patterns, 0)
			in.Secrets = opts.Secrets
			for {
				err := followOne(ctx, api, src, opts, out, in.Add)
				if ctx.Err() != nil {
					return
				}
				if err == nil && !opts.Retry {
					return
				}
				if !opts.Retry {
					if opts.OnError != nil {
						opts.OnError(src.Name, err)
					}
					return
				}
				if !sleep(ctx, time.Second) {
					return
				}
			}
		}
		if opts.OneByOne {
			run()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			run()
		}()
	}
	wg.Wait()
}

func followOne(ctx context.Context, api ContainerLogs, src Source, opts FollowOptions, out Appender, sink Sink) error {
	if src.Service != "" {
		sl, ok := api.(ServiceLogger)
		if !ok {
			return fmt.Errorf("%s: this Docker client cannot read a Swarm service's logs", src.Name)
		}
		return FollowService(ctx, sl, src, opts, out)
	}
	var caughtUp func()
	if opts.CaughtUp != nil {
		caughtUp = func() { opts.CaughtUp(src.Name) }
	}
	if src.Engine != nil {
		api = src.Engine
	}
	if src.Container != "" {
		return FollowContainer(ctx, api, src.Container, ContainerOptions{Follow: opts.Follow, Since: opts.Since, OnContainer: opts.OnContainer, CaughtUp: caughtUp, NoTimes: opts.NoTimes}, sink)
	}
	return FollowFile(ctx, src.Path, FileOptions{Follow: opts.Follow, FromStart: opts.FromStart, CaughtUp: caughtUp}, sink)
}
