package tui

import (
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
// cockpit lists api@app1, api@app2 and web@edge, and the batch running.
func TestARolloutAcrossHostsShowsARowPerServiceOnEachHostAndTheBatch(t *testing.T) {
	m, _, _ := newTestModel(t, hostsPlan, false)
	m.services = nil
	for _, s := range m.plan.Placements() {
		m.services = append(m.services, plans.ServiceState{Service: s.Name, Group: s.Group, Image: "registry.example.com/shop/" + s.Name[:3] + ":2.3.1", ImageID: "sha256:1a2b3c4d5e6f", Target: s.Image, State: "running"})
	}
	m = send(m, tea.WindowSizeMsg{Width: 80, Height: 24}, events(
		plans.Event{Kind: plans.EvApplyStart, Run: "r1", Time: clock.Add(-20 * time.Second)},
		plans.Event{Kind: plans.EvLockAcquired, Actor: "alice@ops1", Message: "apply on app1, app2, edge"},
		plans.Event{Kind: plans.EvStepStart, Run: "r1", Step: 1, StepKind: plans.StepDeploy},
		plans.Event{Kind: plans.EvRolloutBatch, Run: "r1", Group: "backend", Service: "api", Message: "api: batch 1 of 2 on app1"},
		plans.Event{Kind: plans.EvServiceStart, Run: "r1", Service: "api", Host: "app1"},
		plans.Event{Kind: plans.EvServiceEnd, Run: "r1", Service: "api", Host: "app1", Result: plans.ResultDeployed},
		plans.Event{Kind: plans.EvRolloutBatch, Run: "r1", Group: "backend", Service: "api", Message: "api: batch 2 of 2 on app2"},
		plans.Event{Kind: plans.EvServiceStart, Run: "r1", Service: "api", Host: "app2"},
	))
	out := m.View().Content
	checkFits(t, out, 80, 24)
	golden.RequireEqual(t, []byte(out))
	st := m.state.Service("api@app1")
	if st == nil || st.Result != plans.ResultDeployed {
		t.Errorf("api@app1 should be deployed in the state: %+v", st)
	}
}
