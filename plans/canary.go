package plans

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golive/golive/docker"
)

// Canary is the step `canary: {service, percent, for}`: the service's new
// version starts beside the old one and, once it passes its gate, takes
// percent of the requests that carry kamal-proxy's rollout cookie for
// `for`, judged all along by its health gate and error gate; then it takes
// all the traffic, as a blue/green deploy does. The deploy step of its
// group later finds it deployed and leaves it alone.
type Canary struct {
	Service string        `yaml:"service"`
	Percent int           `yaml:"percent"`
	For     time.Duration `yaml:"for"`
}

// StepCanary is the kind of a canary step.
const StepCanary = "canary"

// ActionCanary is the service.container event of a canary: the new version
// takes Current percent of the rollout traffic for DurationMS.
const ActionCanary = "canary"

// canary validates the plan's canary steps: each names a service with
// proxy:, deployed by a later step, once.
func (v *validator) canary() {
	p := v.plan
	seen := map[string]bool{}
	for i, s := range p.Steps {
		c := s.Canary
		if c == nil {
			continue
		}
		at := fmt.Sprintf("$.steps[%d].canary", i)
		svc := p.Service(c.Service)
		switch {
		case svc == nil:
			v.at(at+".service", "step %d: canary of service %q, which the plan does not have", i+1, c.Service)
			continue
		case svc.Proxy == nil:
			v.at(at+".service", "step %d: canary of service %s, which has no proxy:; a canary splits the traffic through the proxy", i+1, c.Service)
		case seen[c.Service]:
			v.at(at+".service", "step %d: a second canary of service %s", i+1, c.Service)
		}
		seen[c.Service] = true
		if c.Percent < 1 || c.Percent > 99 {
			v.at(at+".percent", "step %d: canary percent %d: give the share of the traffic the new version takes, 1 to 99", i+1, c.Percent)
		}
		if c.For <= 0 {
			v.at(at+".for", "step %d: canary for: how long the new version takes its share before it takes all the traffic, e.g. `for: 5m`", i+1)
		}
		if !slices.ContainsFunc(p.Steps[i+1:], func(later Step) bool { return later.Deploy == svc.Group }) {
			v.at(at, "step %d: canary of %s must come before the step that deploys its group %s", i+1, c.Service, svc.Group)
		}
	}
}

// canaryStep deploys a canary's service: prepared as a deploy step does,
// then carried out beside the running version with the canary's share
// before the switch.
func (e *Engine) canaryStep(ctx context.Context, run string, c Canary) error {
	svc := e.plan.Service(c.Service)
	if err := e.ensureNetworks(ctx, []*Service{svc}); err != nil {
		return err
	}
	start := time.Now()
	ch, err := e.prepareService(ctx, run, svc)
	if err != nil {
		if ch.next.Name != "" {
			e.Emit(withKind(ch.ev, EvServiceStart))
		}
		return fmt.Errorf("%s: %w", svc.Name, e.serviceFailed(ch.ev, start, err))
	}
	if !ch.unchanged && !beside(svc, ch) {
		if err := e.opts.Docker.Remove(context.WithoutCancel(ctx), ch.id); err != nil {
			return fmt.Errorf("%s: %w", svc.Name, err)
		}
		return fmt.Errorf("canary of %s: no version of it runs to share the traffic with; deploy it once first", svc.Name)
	}
	ch.canary = &c
	if err := e.deployService(ctx, run, svc, ch, func() {}, func() {}); err != nil {
		return fmt.Errorf("%s: %w", svc.Name, err)
	}
	return nil
}

// canaryPhase gives the new container id the canary's share of the
// rollout traffic and watches it for c.For with its gate; at the end, or
// on failure, the share goes back to the old version (rollout stop): the
// switch that follows gives the new one all the traffic.
func (e *Engine) canaryPhase(ctx context.Context, svc *Service, ev Event, c *Canary, ct *docker.Container) error {
	p, err := e.proxyHandle()
	if err != nil {
		return err
	}
	route := svc.ProxyService(e.plan.Project)
	if err := p.RolloutDeploy(ctx, route, proxyTarget(ct.ID, svc.Proxy.Port), 0, svc.Proxy.Drain); err != nil {
		return fmt.Errorf("canary: %w", err)
	}
	stop := func() error {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := p.RolloutStop(sctx, route); err != nil && !errors.Is(err, docker.ErrProxyNoRollout) {
			return err
		}
		return nil
	}
	if err := p.RolloutSet(ctx, route, c.Percent); err != nil {
		return errors.Join(fmt.Errorf("canary: %w", err), stop())
	}
	cev := withAction(ev, ActionCanary, fmt.Sprintf("canary: %s takes %d%% of the rollout traffic for %s", docker.ShortID(ct.ID), c.Percent, shortDuration(c.For)))
	cev.Current, cev.DurationMS = int64(c.Percent), ms(c.For)
	e.Emit(cev)
	watched := *e.gateOf(svc, ct)
	watched.Health.Timeout += c.For
	if err := e.waitGate(ctx, &watched, ct.ID, c.For, nil, e.cutSignal()); err != nil {
		return errors.Join(fmt.Errorf("canary: %w", err), stop())
	}
	return stop()
}
