package main

import (
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/plans"
)

func TestHeadlessPrintsWhatEachProxyStepDidToTraffic(t *testing.T) {
	tests := []struct {
		name string
		ev   plans.Event
		want string
	}{
		{"paused", plans.Event{Service: "web", Action: plans.ActionPaused, Result: plans.ResultOK, Message: "paused: new requests wait, each at most 30s, then get 504"},
			"  web: paused: new requests wait, each at most 30s, then get 504"},
		{"let through on the failure path", plans.Event{Service: "web", Action: plans.ActionResumed, Result: plans.ResultOK, Message: "serving again: the release failed while step 1 had it paused, and golive never leaves traffic held"},
			"  web: serving again: the release failed while step 1 had it paused, and golive never leaves traffic held"},
		{"a command that failed", plans.Event{Service: "web", Action: plans.ActionResumed, Result: plans.ResultFailed, Command: "kamal-proxy resume shop-web", Error: "proxy: no answer"},
			"  ✗ web: kamal-proxy resume shop-web: proxy: no answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ev.Kind = plans.EvRoute
			if got := formatEvent(tt.ev, 3); got != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestTheHeadlessSummaryTellsTrafficStillHeld(t *testing.T) {
	s := plans.NewStateOf("shop", "2")
	at := time.Date(2026, 11, 26, 4, 12, 3, 0, time.UTC)
	s.Apply(plans.Event{Time: at, Kind: plans.EvRoute, Project: "shop", Release: "2", Service: "web", Action: plans.ActionPaused, Result: plans.ResultOK})
	if got := summaryLines(s); !strings.Contains(got, "\n  traffic held by the proxy: web paused since 04:12:03 UTC\n") {
		t.Errorf("summary:\n%s", got)
	}
	s.Apply(plans.Event{Time: at.Add(time.Second), Kind: plans.EvRoute, Project: "shop", Release: "2", Service: "web", Action: plans.ActionResumed, Result: plans.ResultOK})
	if got := summaryLines(s); strings.Contains(got, "traffic held") {
		t.Errorf("summary after resume:\n%s", got)
	}
}

func TestCheckTellsWhatEachProxyStepDoesToTraffic(t *testing.T) {
	plan := writeFile(t, t.TempDir(), "plan.yaml", `project: shop
release: '1'
proxy: {}
services: {web: {image: w, proxy: {port: 8080}}}
steps:
  - pause: default
    timeout: 45s
  - run: ./migrate
  - deploy: default
  - resume: default
`)
	code, out, errout := cli(t, "check", plan)
	want := "  step 1 pauses group default (web): each new request waits (kamal-proxy holds it at most 45s, the step's timeout, then answers 504) until step 4; if the release fails first, golive lets the traffic through before on_failure\n"
	if code != 0 || !strings.Contains(out, want) {
		t.Fatalf("check: exit %d\n%s\n%s", code, out, errout)
	}
}
