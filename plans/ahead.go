package plans

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ahead is the next deploy group's changes, prepared (new containers
// created under <name>.next) while the current group's health gates and
// stable window run, so the next group starts with its containers ready.
// Only changes that were prepared without error are kept: the others are
// prepared again, in the open, when their group runs.
type ahead struct {
	e       *Engine
	group   string
	done    chan struct{}
	changes map[string]*change // by service
	taken   bool               // its group's step took the changes: they are its own now (under Engine.mu)
}

// prepareAhead starts preparing the group the plan deploys right after
// group, once started is done; nil when the next step is not a deploy (a
// confirm or a command comes first, and may not want it).
func (e *Engine) prepareAhead(ctx context.Context, run, group string, started *sync.WaitGroup) *ahead {
	next := e.plan.deployAfter(group)
	if next == "" {
		return nil
	}
	a := &ahead{e: e, group: next, done: make(chan struct{}), changes: map[string]*change{}}
	e.mu.Lock()
	e.ahead = a
	e.mu.Unlock()
	go func() {
		defer close(a.done)
		started.Wait()
		services := e.plan.GroupServices(next)
		if ctx.Err() != nil || e.ensureNetworks(ctx, services) != nil {
			return
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, svc := range services {
			wg.Go(func() {
				if c, err := e.prepareService(ctx, run, svc); err == nil {
					mu.Lock()
					a.changes[svc.Name] = c
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}()
	return a
}

// takeAhead returns the changes prepared for group, by service.
func (e *Engine) takeAhead(group string) map[string]*change {
	e.mu.Lock()
	a := e.ahead
	e.ahead = nil
	if a != nil && a.group == group {
		a.taken = true
	}
	e.mu.Unlock()
	if a == nil {
		return nil
	}
	if a.group != group {
		a.discard()
		return nil
	}
	<-a.done
	return a.changes
}

// discard removes the containers prepared ahead, when the group before
// them failed; once their group's step took them, they are its own and
// stay (that step may have switched them in already). It uses its own
// context: an interrupted release must not leave them behind.
func (a *ahead) discard() error {
	if a == nil {
		return nil
	}
	<-a.done
	a.e.mu.Lock()
	if a.e.ahead == a {
		a.e.ahead = nil
	}
	taken := a.taken
	a.e.mu.Unlock()
	if taken {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	for _, c := range a.changes {
		if c.id == "" {
			continue
		}
		if err := a.e.opts.Docker.Remove(ctx, c.id); err != nil {
			errs = append(errs, fmt.Errorf("%s was created ahead and could not be removed: %w", c.next.Name, err))
		}
	}
	return errors.Join(errs...)
}

// discardAhead removes what was prepared for a group the release will not
// deploy now (it stopped before that group's step took it).
func (e *Engine) discardAhead() error {
	e.mu.Lock()
	a := e.ahead
	e.mu.Unlock()
	return a.discard()
}

// deployAfter is the group deployed by the step right after the one that
// deploys group, or "" when that step deploys nothing.
func (p *Plan) deployAfter(group string) string {
	steps := p.ReleaseSteps()
	for i, s := range steps {
		if s.Deploy == group && i+1 < len(steps) {
			return steps[i+1].Deploy
		}
	}
	return ""
}
