package plans

import (
	"strings"
	"testing"
)

func TestAMarkStepShowsItsURLFilledInWithSecretsHidden(t *testing.T) {
	env := map[string]string{"QA_MARK": "https://marks.example/api", "TOKEN_URL": "https://bot:hunter22@hooks.example/t?key=abc"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	mask := func(s string) string { return strings.ReplaceAll(s, "marks.example", "****") }
	n := Notice{Project: "shop", Release: "2.4.0"}
	tests := []struct{ name, raw, want string }{
		{"a variable and a template are filled in", "${QA_MARK}/{{.Release}}", "https://****/api/2.4.0"},
		{"credentials and the query are left out", "${TOKEN_URL}", "https://hooks.example/t (credentials and query hidden)"},
		{"an unset variable is left as written", "${NOPE}/{{.Project}}", "${NOPE}/shop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shownURL(tt.raw, n, lookup, mask); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
