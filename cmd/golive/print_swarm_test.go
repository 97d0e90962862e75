package main

import (
	"testing"

	"github.com/golive/golive/plans"
)

func TestHeadlessApplyPrintsSwarmTasksAndPins(t *testing.T) {
	tests := []struct {
		name string
		ev   plans.Event
		want string
	}{
		{"tasks counted", plans.Event{Kind: plans.EvSwarmTasks, Service: "api", Message: "3/4 running · updated 2 of 4 · updating"},
			"  api: 3/4 running · updated 2 of 4 · updating"},
		{"the manager lost", plans.Event{Kind: plans.EvSwarmTasks, Service: "api", Message: "the Swarm manager does not answer; still trying", Error: "EOF"},
			"  api: the Swarm manager does not answer; still trying: EOF"},
		{"a task failed", plans.Event{Kind: plans.EvSwarmTask, Service: "api", Message: "api.3@node2", Result: "failed", Error: "task: non-zero exit (2): dockerexec: unhealthy container"},
			"    api.3@node2 failed: task: non-zero exit (2): dockerexec: unhealthy container"},
		{"an image pinned offline", plans.Event{Kind: plans.EvPreloadImage, Image: "shop/api:2", ImageID: "sha256:0123456789abcdef", Result: plans.ResultPresent,
			Message: "pinned to the local image ID 0123456789ab (offline: no registry digest; every node must have this image loaded)"},
			"  ✓ shop/api:2 present (0123456789ab): pinned to the local image ID 0123456789ab (offline: no registry digest; every node must have this image loaded)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatEvent(tt.ev, 3); got != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
