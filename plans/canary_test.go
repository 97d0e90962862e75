package plans

import (
	"strings"
	"testing"
)

func TestCanaryStepsAreChecked(t *testing.T) {
	const services = `project: shop
release: '2'
proxy: {}
services:
  web: {image: w, ports: ["8080"], proxy: {}, group: front}
  api: {image: a, group: back}
steps:
`
	tests := []struct{ name, steps, want string }{
		{"valid", "  - canary: {service: web, percent: 10, for: 5m}\n  - deploy: back\n  - deploy: front\n", ""},
		{"unknown service", "  - canary: {service: shop, percent: 10, for: 5m}\n  - deploy: back\n  - deploy: front\n", `canary of service "shop", which the plan does not have`},
		{"service without proxy", "  - canary: {service: api, percent: 10, for: 5m}\n  - deploy: back\n  - deploy: front\n", "canary of service api, which has no proxy:"},
		{"percent out of range", "  - canary: {service: web, percent: 100, for: 5m}\n  - deploy: back\n  - deploy: front\n", "canary percent 100"},
		{"no duration", "  - canary: {service: web, percent: 10}\n  - deploy: back\n  - deploy: front\n", "canary for:"},
		{"after its group's deploy", "  - deploy: back\n  - deploy: front\n  - canary: {service: web, percent: 10, for: 5m}\n", "must come before the step that deploys its group front"},
		{"with another kind", "  - canary: {service: web, percent: 10, for: 5m}\n    run: echo\n  - deploy: back\n  - deploy: front\n", "exactly one of run, deploy, verify, confirm, mark, pause, resume, maintenance, end_maintenance or canary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("/p.yaml", []byte(services+tt.steps))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if st := p.ReleaseSteps()[0]; st.Kind() != StepCanary || st.Title() != "Canary web: 10% for 5m" {
					t.Errorf("step %s %q", st.Kind(), st.Title())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
