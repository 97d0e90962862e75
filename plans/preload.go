package plans

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golive/golive/docker"
)

// maxParallelPulls bounds concurrent pulls so a large plan does not swamp the link.
const maxParallelPulls = 4

// Images lists the plan's distinct target images in plan order, then the
// proxy's image when the plan has a proxy.
func (p *Plan) Images() []string {
	var images []string
	seen := map[string]bool{}
	for _, s := range p.Services {
		if !seen[s.Image] {
			seen[s.Image] = true
			images = append(images, s.Image)
		}
	}
	if p.Proxy != nil && !seen[p.Proxy.Image] {
		images = append(images, p.Proxy.Image)
	}
	return images
}

// Preload makes every target image present on the Docker host: tarballs
// named under preload.load are loaded, then missing images are pulled in
// parallel. It never touches a container.
func (e *Engine) Preload(ctx context.Context) error {
	if e.hosts != nil {
		return e.preloadHosts(ctx)
	}
	if e.plan.Docker.Swarm {
		return e.swarmPreload(ctx)
	}
	start := time.Now()
	images := e.plan.Images()
	e.Emit(Event{Kind: EvPreloadStart, Message: fmt.Sprintf("%d images", len(images))})
	for _, f := range e.plan.Preload.Load {
		loaded, err := e.opts.Docker.Load(ctx, e.plan.Resolve(f))
		if err != nil {
			e.Emit(Event{Kind: EvPreloadLoad, Result: ResultFailed, Message: f, Error: err.Error()})
			e.Emit(Event{Kind: EvPreloadEnd, Result: ResultFailed, DurationMS: ms(time.Since(start)), Error: err.Error()})
			return fmt.Errorf("preload: %w", err)
		}
		e.Emit(Event{Kind: EvPreloadLoad, Result: ResultOK, Message: fmt.Sprintf("%s: %v", f, loaded)})
	}
	errs := make([]error, len(images))
	sem := make(chan struct{}, maxParallelPulls)
	var wg sync.WaitGroup
	for i, ref := range images {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = e.preloadImage(ctx, ref)
		}()
	}
	wg.Wait()
	err := errors.Join(errs...)
	if err != nil {
		e.Emit(Event{Kind: EvPreloadEnd, Result: ResultFailed, DurationMS: ms(time.Since(start)), Error: err.Error()})
		return fmt.Errorf("preload failed, no container was touched:\n%w", err)
	}
	e.Emit(Event{Kind: EvPreloadEnd, Result: ResultOK, DurationMS: ms(time.Since(start))})
	return nil
}

func (e *Engine) preloadImage(ctx context.Context, ref string) error {
	start := time.Now()
	id, err := e.opts.Docker.ImageID(ctx, ref)
	if err != nil {
		e.Emit(Event{Kind: EvPreloadImage, Image: ref, Result: ResultFailed, Error: err.Error()})
		return err
	}
	if id != "" {
		e.Emit(Event{Kind: EvPreloadImage, Image: ref, ImageID: id, Result: ResultPresent})
		return nil
	}
	lastStatus := map[string]string{}
	err = e.opts.Docker.Pull(ctx, ref, func(p docker.PullProgress) {
		changed := lastStatus[p.Layer] != p.Status
		lastStatus[p.Layer] = p.Status
		e.Emit(Event{Kind: EvPreloadProgress, Image: ref, Layer: p.Layer, Message: p.Status, Current: p.Current, Total: p.Total, Transient: !changed})
	})
	if err == nil {
		id, err = e.opts.Docker.ImageID(ctx, ref)
		if err == nil && id == "" {
			err = fmt.Errorf("pull %s finished but the engine does not have the image", ref)
		}
	}
	if err != nil {
		e.Emit(Event{Kind: EvPreloadImage, Image: ref, Result: ResultFailed, DurationMS: ms(time.Since(start)), Error: err.Error()})
		return err
	}
	e.Emit(Event{Kind: EvPreloadImage, Image: ref, ImageID: id, Result: ResultPulled, DurationMS: ms(time.Since(start))})
	return nil
}

func ms(d time.Duration) int64 { return d.Milliseconds() }
