package plans

import "testing"

func TestDeployAfter(t *testing.T) {
	groups := []*Service{{Name: "db", Group: "data"}, {Name: "api", Group: "backend"}, {Name: "web", Group: "frontend"}}
	tests := []struct {
		name  string
		steps []Step
		group string
		want  string
	}{
		{name: "the default steps prepare the next group", group: "backend", want: "frontend"},
		{name: "the last group has none after it", group: "frontend", want: ""},
		{name: "a confirm step between two deploys prepares nothing", steps: []Step{{Deploy: "backend"}, {Confirm: "go on?"}, {Deploy: "frontend"}}, group: "backend", want: ""},
		{name: "a command before a deploy does not stop the deploy before it", steps: []Step{{Run: "migrate"}, {Deploy: "backend"}, {Deploy: "frontend"}}, group: "backend", want: "frontend"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Plan{Services: groups, Steps: tt.steps}
			if got := p.deployAfter(tt.group); got != tt.want {
				t.Fatalf("deployAfter(%s) = %q, want %q", tt.group, got, tt.want)
			}
		})
	}
}
