package tui

import "testing"

// TestSourceLabelKeepsATasksNode: at 160 columns the cockpit cut
// api.10@glt245e1c9a0 to api.10@glt245…, hiding the node.
func TestSourceLabelKeepsATasksNode(t *testing.T) {
	for _, c := range []struct {
		src   string
		width int
		want  string
	}{
		{"api.10@glt245e1c9a0", 20, "api.10@glt245e1c9a0"},
		{"shop-api.10@glt245e1c9a0", 20, "sho….10@glt245e1c9a0"},
		{"api.10@glt245e1c9a0", 14, "…@glt245e1c9a0"},
		{"logs/application.log", 14, "logs/applicat…"},
		{"api", 14, "api"},
	} {
		if got := sourceLabel(c.src, c.width); got != c.want {
			t.Errorf("sourceLabel(%q, %d) = %q, want %q", c.src, c.width, got, c.want)
		}
	}
}
