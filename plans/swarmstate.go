package plans

import "strings"

// swarmTasks folds a Swarm service's task counts into its status.
func (s *State) swarmTasks(ev Event) {
	svc := s.service(ev.Service, ev.Group)
	t := &SwarmTasks{Desired: ev.Counts["desired"], Running: ev.Counts["running"], Updated: ev.Counts["updated"], Update: ev.Result, Nodes: map[string]int{}}
	for k, n := range ev.Counts {
		if node, ok := strings.CutPrefix(k, "node:"); ok {
			t.Nodes[node] = n
		}
	}
	svc.Tasks = t
}
