package plans

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// proxyPlan is a plan whose frontend goes through the proxy and whose
// backend does not, with the given steps.
func proxyPlan(steps string) string {
	return `project: shop
release: '2'
proxy: {ports: ["8080:80"]}
services:
  web: {image: w, group: frontend, ports: ["8080"], proxy: {port: 8080}}
  api: {image: a, group: backend}
steps:
` + steps
}

const deploys = "  - deploy: backend\n  - deploy: frontend\n"

func TestProxyStepsLoadWithTheirKindTitleAndCommand(t *testing.T) {
	p, err := Parse("p.yaml", []byte(proxyPlan(`  - pause: frontend
    timeout: 45s
  - run: ./migrate
  - resume: frontend
  - maintenance: {group: frontend, message: Back in 5 minutes}
  - name: Open the shop
    end_maintenance: frontend
  - pause: frontend
  - resume: frontend
`+deploys)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Steps {
		got = append(got, s.Kind()+"|"+s.ProxyGroup()+"|"+s.Title()+"|"+s.Command())
	}
	want := []string{
		"pause|frontend|Pause frontend|pause frontend (each request held at most 45s)",
		"run||Run: ./migrate|./migrate",
		"resume|frontend|Resume frontend|resume frontend",
		`maintenance|frontend|Maintenance frontend|maintenance frontend (503 "Back in 5 minutes")`,
		"end_maintenance|frontend|Open the shop|end maintenance frontend",
		"pause|frontend|Pause frontend|pause frontend (each request held at most 30s)",
		"resume|frontend|Resume frontend|resume frontend",
		"deploy||Deploy backend|deploy backend",
		"deploy||Deploy frontend|deploy frontend",
	}
	if !slices.Equal(got, want) {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	notes := p.ProxyStepNotes()
	wantNotes := []string{
		"step 1 pauses group frontend (web): each new request waits (kamal-proxy holds it at most 45s, the step's timeout, then answers 504) until step 3; if the release fails first, golive lets the traffic through before on_failure",
		`step 4 puts group frontend in maintenance (web): requests get 503 and the maintenance page "Back in 5 minutes" until step 5; if the release fails first, golive lets the traffic through before on_failure`,
		"step 6 pauses group frontend (web): each new request waits (kamal-proxy holds it at most 30s, the step's timeout, then answers 504) until step 7; if the release fails first, golive lets the traffic through before on_failure",
	}
	if !slices.Equal(notes, wantNotes) {
		t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(notes, "\n"), strings.Join(wantNotes, "\n"))
	}
}

func TestProxyStepErrorsNameLineColumnAndWhatToDo(t *testing.T) {
	tests := []struct {
		name, steps, want string
	}{
		{"a pause never resumed", "  - pause: frontend\n" + deploys,
			"p.yaml:8:5: step 1 pauses group frontend, but no later step lets it through: add `- resume: frontend` after the steps that need it held (golive lets it through by itself only when the release fails)"},
		{"a maintenance never ended", deploys + "  - maintenance: {group: frontend}\n",
			"p.yaml:10:5: step 3 puts group frontend in maintenance, but no later step lets it through: add `- end_maintenance: frontend` after the steps that need it held (golive lets it through by itself only when the release fails)"},
		{"an unknown group", "  - pause: shop\n  - resume: shop\n" + deploys,
			"p.yaml:8:12: step 1: pause shop, but no service has `group: shop` (groups: frontend, backend)\np.yaml:9:13: step 2: resume shop, but no service has `group: shop` (groups: frontend, backend)"},
		{"a group without proxied services", "  - maintenance: {group: backend}\n  - end_maintenance: backend\n" + deploys,
			"p.yaml:8:26: step 1: maintenance backend, but no service of group backend has proxy:, so the proxy carries none of its traffic; give them `proxy: {port: PORT}` (groups behind the proxy: frontend)\np.yaml:9:22: step 2: end_maintenance backend, but no service of group backend has proxy:, so the proxy carries none of its traffic; give them `proxy: {port: PORT}` (groups behind the proxy: frontend)"},
		{"a resume without a pause", deploys + "  - resume: frontend\n",
			"p.yaml:10:13: step 3: resume frontend, but no earlier step pauses group frontend: remove this step, or hold the group first with `- pause: frontend`"},
		{"ended the other way", "  - pause: frontend\n  - end_maintenance: frontend\n  - resume: frontend\n" + deploys,
			"p.yaml:9:22: step 2: end_maintenance frontend, but step 1 pauses group frontend: write `- resume: frontend`"},
		{"held twice", "  - maintenance: {group: frontend}\n  - pause: frontend\n  - end_maintenance: frontend\n" + deploys,
			"p.yaml:9:12: step 2 pauses group frontend, but step 1 already puts group frontend in maintenance: let it through first with `- end_maintenance: frontend`"},
		{"maintenance without a group", "  - maintenance: {message: back soon}\n" + deploys,
			"p.yaml:8:5: step 1: maintenance needs the group to put in maintenance, e.g. `maintenance: {group: frontend, message: \"Back in 5 minutes\"}`"},
		{"a timeout on resume", "  - pause: frontend\n  - resume: frontend\n    timeout: 5s\n" + deploys,
			"p.yaml:10:14: step 2: timeout goes with a command step, or with pause (how long each request is held); remove it from resume"},
		{"a negative pause timeout", "  - pause: frontend\n    timeout: -5s\n  - resume: frontend\n" + deploys,
			"p.yaml:9:14: step 1: timeout must not be negative"},
		{"a message with control characters", "  - maintenance: {group: frontend, message: \"a\\x1b[2Jb\"}\n  - end_maintenance: frontend\n" + deploys,
			"p.yaml:8:45: step 1: the maintenance message contains control characters; write plain text"},
		{"a message too long", "  - maintenance: {group: frontend, message: " + strings.Repeat("x", MaxMaintenanceMessage+1) + "}\n  - end_maintenance: frontend\n" + deploys,
			"p.yaml:8:45: step 1: the maintenance message is 1001 bytes; keep it under 1000 (it is shown on the maintenance page)"},
		{"two kinds in one step", "  - pause: frontend\n    resume: frontend\n" + deploys,
			"p.yaml:8:5: step 1 must have exactly one of run, deploy, verify, confirm, mark, pause, resume, maintenance, end_maintenance or canary"},
		{"a misspelt key", "  - maintenance: {group: frontend, mesage: x}\n  - end_maintenance: frontend\n" + deploys,
			`p.yaml:8:36: unknown field "mesage": did you mean "message"? (see the README for the plan format)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(proxyPlan(tt.steps)))
			if err == nil {
				t.Fatal("plan accepted")
			}
			if err.Error() != tt.want {
				t.Fatalf("error:\n%s\nwant:\n%s", err, tt.want)
			}
		})
	}
}

func TestProxyStepsNeedTheTopLevelProxy(t *testing.T) {
	_, err := Parse("p.yaml", []byte("project: shop\nrelease: '2'\nservices:\n  web: {image: w}\nsteps:\n  - pause: default\n  - deploy: default\n  - resume: default\n"))
	want := "p.yaml:6:12: step 1: pause default goes through the proxy, but the plan has no top-level proxy:; add `proxy: {ports: [\"80:80\"]}`, and `proxy: {port: PORT}` to the group's services\n" +
		"p.yaml:8:13: step 3: resume default goes through the proxy, but the plan has no top-level proxy:; add `proxy: {ports: [\"80:80\"]}`, and `proxy: {port: PORT}` to the group's services"
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestHeldAfterCountsTheFailedStepsGroupAsHeld(t *testing.T) {
	steps := []Step{
		{Pause: "web"},                          // 1
		{Run: "migrate"},                        // 2
		{Resume: "web"},                         // 3
		{Maintenance: &Maintenance{Group: "a"}}, // 4
		{Pause: "web"},                          // 5
		{EndMaintenance: "a"},                   // 6
		{Resume: "web"},                         // 7
	}
	tests := []struct {
		failed int
		want   []hold
	}{
		{1, []hold{{StepPause, 1}}},
		{2, []hold{{StepPause, 1}}},
		{3, []hold{{StepPause, 1}}}, // the resume failed: web may still be paused
		{4, []hold{{StepMaintenance, 4}}},
		{5, []hold{{StepMaintenance, 4}, {StepPause, 5}}},
		{6, []hold{{StepMaintenance, 4}, {StepPause, 5}}},
		{7, []hold{{StepPause, 5}}},
	}
	for _, tt := range tests {
		if got := heldAfter(steps, tt.failed); !slices.Equal(got, tt.want) {
			t.Errorf("step %d failed: held %v, want %v", tt.failed, got, tt.want)
		}
	}
	if got := heldAfter([]Step{{Deploy: "web"}, {Run: "x"}}, 2); len(got) != 0 {
		t.Errorf("no proxy steps: held %v", got)
	}
}

func TestStateFoldsRouteHoldsPerService(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 4, 12, 3, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	route := func(s int, svc, action, result, errText string) Event {
		return Event{Time: at(s), Kind: EvRoute, Project: "shop", Release: "2", Service: svc, Group: "frontend", Action: action, Result: result, Error: errText}
	}
	tests := []struct {
		name   string
		events []Event
		held   string
	}{
		{"nothing held", nil, ""},
		{"paused", []Event{route(0, "web", ActionPaused, ResultOK, "")}, "web paused since 04:12:03 UTC"},
		{"paused then resumed", []Event{route(0, "web", ActionPaused, ResultOK, ""), route(5, "web", ActionResumed, ResultOK, "")}, ""},
		{"a resume that failed leaves it held", []Event{route(0, "web", ActionPaused, ResultOK, ""), route(5, "web", ActionResumed, ResultFailed, "proxy: no answer")},
			"web paused since 04:12:03 UTC (proxy: no answer)"},
		{"a hold that failed may have held it", []Event{route(2, "www", ActionMaintenance, ResultFailed, "exec timed out")}, "www in maintenance since 04:12:05 UTC (exec timed out)"},
		{"maintenance of two services", []Event{route(1, "web", ActionMaintenance, ResultOK, ""), route(1, "www", ActionMaintenance, ResultOK, "")},
			"web in maintenance since 04:12:04 UTC, www in maintenance since 04:12:04 UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStateOf("shop", "2")
			for _, ev := range tt.events {
				s.Apply(ev)
			}
			if got := s.Held(); got != tt.held {
				t.Errorf("held = %q, want %q", got, tt.held)
			}
		})
	}
}
