package docker

import "testing"

func TestRecordedSpecsCompareBySpecNotByBytes(t *testing.T) {
	a := RecordedSpec(`{"Name":"api","TaskTemplate":{"ContainerSpec":{"Image":"sha256:1","Env":["A=1"]}}}`)
	tests := []struct {
		name string
		b    RecordedSpec
		want bool
	}{
		{"spaced and reordered", RecordedSpec(`{ "TaskTemplate": {"ContainerSpec": {"Env": ["A=1"], "Image": "sha256:1"}}, "Name": "api" }`), true},
		{"another env", RecordedSpec(`{"Name":"api","TaskTemplate":{"ContainerSpec":{"Image":"sha256:1","Env":["A=2"]}}}`), false},
		{"not JSON", RecordedSpec(`{`), false},
		{"nothing", nil, false},
	}
	for _, tt := range tests {
		if got := a.Equal(tt.b); got != tt.want {
			t.Errorf("%s: Equal = %t, want %t", tt.name, got, tt.want)
		}
	}
	if got := a.Image(); got != "sha256:1" {
		t.Errorf("Image = %q", got)
	}
}
