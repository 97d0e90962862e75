package plans_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/plans"
)

func TestNoticesFollowTheEngineEvents(t *testing.T) {
	tests := []struct {
		name   string
		events []plans.Event
		want   []string // event: text fragment, per notice
	}{
		{
			name: "a deployed release says what changed",
			events: []plans.Event{
				{Kind: plans.EvApplyStart, Run: "r1"},
				{Kind: plans.EvServiceStart, Service: "api", Image: "shop/api:2", PrevImage: "shop/api:1"},
				{Kind: plans.EvServiceEnd, Service: "api", Image: "shop/api:2", PrevImage: "shop/api:1", Result: plans.ResultOK},
				{Kind: plans.EvServiceEnd, Service: "web", Image: "shop/web:2", Result: plans.ResultUnchanged},
				{Kind: plans.EvApplyEnd, Run: "r1", Result: string(plans.Deployed), DurationMS: 61_000},
			},
			want: []string{"start: shop 2: release started by tester@ci", "done: shop 2: deployed by tester@ci in 1m1s; api shop/api:1 → shop/api:2"},
		},
		{
			name: "a release stopped before it changed anything",
			events: []plans.Event{
				{Kind: plans.EvApplyStart, Run: "r2"},
				{Kind: plans.EvApplyEnd, Run: "r2", Result: string(plans.Aborted), Error: "held by someone"},
			},
			want: []string{"start: ", "failed: shop 2: release FAILED before changing anything"},
		},
		{
			name: "a failed release names its first error",
			events: []plans.Event{
				{Kind: plans.EvApplyStart, Run: "r3"},
				{Kind: plans.EvLogError, Service: "api", Line: "Unknown column 'x'"},
				{Kind: plans.EvApplyEnd, Run: "r3", Result: string(plans.Failed)},
			},
			want: []string{"start: ", "failed: shop 2: release FAILED by tester@ci in 0s; first error: api: Unknown column 'x'"},
		},
		{
			name: "a revert of its own is told, and one with nothing to undo is not",
			events: []plans.Event{
				{Kind: plans.EvRevertStart, Run: "r1"},
				{Kind: plans.EvRevertService, Service: "api", Image: "shop/api:2", PrevImage: "shop/api:1", Result: plans.ResultReverted},
				{Kind: plans.EvRevertEnd, Run: "r1", Result: plans.ResultReverted, DurationMS: 2000},
				{Kind: plans.EvRevertEnd, Result: plans.ResultNothing},
			},
			want: []string{"reverted: shop 2: reverted to the previous images by tester@ci in 2s; api shop/api:2 → shop/api:1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHook(t)
			p, err := plans.Parse("plan.yaml", []byte("project: shop\nrelease: \"2\"\nservices: {api: {image: a}, web: {image: b}}\nnotify: [{url: "+h.srv.URL+"/hook}]\n"))
			must(t, err)
			e := plans.NewEngine(p, plans.Options{Actor: "tester@ci", Now: func() time.Time { return time.Unix(1e9, 0) }})
			for _, ev := range tc.events {
				e.Emit(ev)
			}
			e.Close()
			var got []string
			for _, r := range h.requests("/hook") {
				var n plans.Notice
				must(t, json.Unmarshal(r.body, &n))
				got = append(got, n.Event+": "+n.Text)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("notices %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("notice %d: %q, want it to start with %q", i+1, got[i], w)
				}
			}
		})
	}
}

func TestANewServiceThatAFailedReleaseRemovedHadNoImageBefore(t *testing.T) {
	h := newHook(t)
	p, err := plans.Parse("plan.yaml", []byte("project: shop\nrelease: \"2\"\nservices: {api: {image: a}}\nnotify: [{url: "+h.srv.URL+"/hook, on: [reverted]}]\n"))
	must(t, err)
	e := plans.NewEngine(p, plans.Options{Actor: "tester@ci", Now: func() time.Time { return time.Unix(1e9, 0) }})
	for _, ev := range []plans.Event{
		{Kind: plans.EvApplyStart, Run: "r1"},
		{Kind: plans.EvServiceStart, Service: "api", Image: "shop/api:2"},
		{Kind: plans.EvServiceEnd, Service: "api", Image: "shop/api:2", Result: plans.ResultDeployed},
		{Kind: plans.EvRevertStart, Run: "r1"},
		{Kind: plans.EvRevertService, Service: "api", Image: "shop/api:2", Result: plans.ResultReverted},
		{Kind: plans.EvRevertEnd, Run: "r1", Result: plans.ResultReverted},
		{Kind: plans.EvApplyEnd, Run: "r1", Result: string(plans.Reverted)},
	} {
		e.Emit(ev)
	}
	e.Close()
	reqs := h.requests("/hook")
	if len(reqs) != 1 {
		t.Fatalf("%d notices, want 1", len(reqs))
	}
	var n plans.Notice
	must(t, json.Unmarshal(reqs[0].body, &n))
	if len(n.Services) != 1 || n.Services[0].Before != "" || n.Services[0].After != "" || n.Services[0].Result != plans.ResultReverted {
		t.Errorf("services %+v, want api with nothing before and after, reverted", n.Services)
	}
}
