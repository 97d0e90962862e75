package plans

import "strings"

// swarmTasks folds a Swarm service's task events into its status.
func (s *State) swarmTasks(ev Event) {
	svc := s.service(ev.Service, ev.Group)
	if ev.Kind == EvSwarmTask {
		svc.TaskNews = ev.Message + " " + ev.Result
		if ev.Error != "" {
			svc.TaskNews += ": " + ev.Error
		}
		return
	}
	t := &SwarmTasks{Desired: ev.Counts["desired"], Running: ev.Counts["running"], Updated: ev.Counts["updated"], Update: ev.Result, Nodes: map[string]int{}}
	for k, n := range ev.Counts {
		if node, ok := strings.CutPrefix(k, "node:"); ok {
			t.Nodes[node] = n
		}
	}
	svc.Tasks = t
	if ev.Error != "" {
		svc.TaskNews = ev.Message + ": " + ev.Error
	}
}
