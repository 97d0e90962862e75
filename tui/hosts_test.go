package tui

import (
	"slices"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/golive/golive/plans"
)

const hostsPlan = `project: shop
release: 2.4.0
hosts:
  app1: ssh://deploy@app1.internal
  app2: tcp://10.0.0.12:2376
  edge: unix:///var/run/docker.sock
services:
  api:
    image: registry.example.com/shop/api:2.4.0
    group: backend
    hosts: [app1, app2]
    rollout: {batch: 1, pause: 10s}
  web:
    image: registry.example.com/shop/web:2.4.0
    group: frontend
    hosts: [edge]
`

// TestARolloutAcrossHostsShowsARowPerServiceOnEachHostAndTheBatch: the
// cockpit lists api@app1, api@app2 and web@edge, the batch running beside
// the phase and the lock per host: on every host, or, after a release that
// could not free it everywhere, on the hosts that still hold it.
func TestARolloutAcrossHostsShowsARowPerServiceOnEachHostAndTheBatch(t *testing.T) {
	rollout := []plans.Event{
		{Kind: plans.EvApplyStart, Run: "r1", Time: clock.Add(-20 * time.Second)},
		{Kind: plans.EvLockAcquired, Actor: "alice@ops1", Host: "app1", Message: "apply"},
		{Kind: plans.EvLockAcquired, Actor: "alice@ops1", Host: "app2", Message: "apply"},
		{Kind: plans.EvLockAcquired, Actor: "alice@ops1", Host: "edge", Message: "apply"},
		{Kind: plans.EvLockAcquired, Actor: "alice@ops1", Message: "apply on app1, app2, edge"},
		{Kind: plans.EvStepStart, Run: "r1", Step: 1, StepKind: plans.StepDeploy},
		{Kind: plans.EvRolloutBatch, Run: "r1", Group: "backend", Service: "api", Message: "api: batch 1 of 2 on app1"},
		{Kind: plans.EvServiceStart, Run: "r1", Service: "api", Host: "app1"},
		{Kind: plans.EvServiceEnd, Run: "r1", Service: "api", Host: "app1", Result: plans.ResultDeployed},
		{Kind: plans.EvRolloutBatch, Run: "r1", Group: "backend", Service: "api", Message: "api: batch 2 of 2 on app2"},
		{Kind: plans.EvServiceStart, Run: "r1", Service: "api", Host: "app2"},
	}
	lost := append(slices.Clone(rollout),
		plans.Event{Kind: plans.EvHostLost, Run: "r1", Host: "app2", Error: "EOF"},
		plans.Event{Kind: plans.EvApplyEnd, Run: "r1", Result: string(plans.RevertIncomplete)},
		plans.Event{Kind: plans.EvLockReleased, Host: "app1", Result: plans.ResultOK},
		plans.Event{Kind: plans.EvLockReleased, Host: "app2", Result: plans.ResultFailed, Error: "EOF"},
		plans.Event{Kind: plans.EvLockReleased, Host: "edge", Result: plans.ResultOK},
		plans.Event{Kind: plans.EvLockReleased, Result: plans.ResultFailed, Error: "the lock is still held on app2"},
	)
	for _, tc := range []struct {
		name          string
		width, height int
		events        []plans.Event
	}{
		{"80x24", 80, 24, rollout},
		{"160x48", 160, 48, rollout},
		{"host lost 80x24", 80, 24, lost},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _, _ := newTestModel(t, hostsPlan, false)
			m.services = nil
			for _, s := range m.plan.Placements() {
				m.services = append(m.services, plans.ServiceState{Service: s.Name, Group: s.Group, Image: "registry.example.com/shop/" + s.Name[:3] + ":2.3.1", ImageID: "sha256:1a2b3c4d5e6f", Target: s.Image, State: "running"})
			}
			m = send(m, tea.WindowSizeMsg{Width: tc.width, Height: tc.height}, events(tc.events...))
			out := m.View().Content
			checkFits(t, out, tc.width, tc.height)
			golden.RequireEqual(t, []byte(out))
			if st := m.state.Service("api@app1"); st == nil || st.Result != plans.ResultDeployed {
				t.Errorf("api@app1 should be deployed in the state: %+v", st)
			}
		})
	}
}
