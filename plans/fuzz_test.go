package plans

import (
	"errors"
	"os"
	"runtime/metrics"
	"strings"
	"testing"
)

// maxParseAlloc is more than any input of at most MaxPlanBytes may make
// Parse allocate; a bigger figure means a limit is missing.
const maxParseAlloc = 512 << 20

// FuzzLoad feeds the plan loader arbitrary text: it must never panic or
// hang, must keep its memory bounded, and must either return a plan that
// holds up or a *PlanError whose text is safe for a terminal.
func FuzzLoad(f *testing.F) {
	shop, err := os.ReadFile("testdata/shop.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(shop),
		billionLaughs,
		"project: x\nrelease: '1'\nservices:\n  api: &s {image: a, health: &h {http: 'http://x/h', stable: 0s}}\n  web: {<<: *s, image: w, health: *h}\n",
		"a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
		"a: &a {<<: *a}\n",
		// Nesting just past MaxPlanDepth: small seeds keep the fuzzer fast,
		// and deeper inputs are refused at the same check.
		"project: " + strings.Repeat("[", 70) + strings.Repeat("]", 70),
		"project: " + strings.Repeat("{a: ", 70) + "x" + strings.Repeat("}", 70),
		"labels:\n  " + strings.Repeat("- ", 70) + "x\n",
		deepIndent(70),
		"project: shop\nrelease: ../../etc/x\nservices: {api: {image: a, ports: [8080], health: {tcp: '', cmd: 5, stable: 3 seconds}}}\n",
		"project: \"\\e[2J\"\nrelease: \"\\e]0;x\\a\"\n\"\\x9b31m\": 1\n",
		"---\nproject: a\n---\nproject: b\n",
		"? [a, b]\n: c\n",
		"project: !!str 1\nrelease: !!binary aGVsbG8=\nservices: {api: {image: a, env: {A: !!int 1}}}\n",
		"services:\n  api:\n    image: a\n    command: |\n      run\n      fast\n",
	} {
		f.Add([]byte(seed))
	}
	allocs := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		metrics.Read(allocs)
		before := allocs[0].Value.Uint64()
		p, err := Parse("/fuzz/plan.yaml", data)
		metrics.Read(allocs)
		if used := allocs[0].Value.Uint64() - before; used > maxParseAlloc {
			t.Fatalf("Parse of %d bytes allocated %d MiB", len(data), used>>20)
		}
		if err != nil {
			var perr *PlanError
			if !errors.As(err, &perr) || len(perr.Problems) == 0 {
				t.Fatalf("error %T without problems: %v", err, err)
			}
			if p != nil {
				t.Fatal("a plan and an error")
			}
			msg := err.Error()
			if strings.Contains(msg, "the YAML decoder failed") {
				t.Fatalf("the shape pass let through YAML that makes the decoder panic: %s", msg)
			}
			for _, r := range msg {
				if r != '\n' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)) {
					t.Fatalf("control character %U in %q", r, msg)
				}
			}
			return
		}
		if !namePattern.MatchString(p.Project) || !namePattern.MatchString(p.Release) || len(p.Services) == 0 {
			t.Fatalf("accepted plan with project %q, release %q, %d services", p.Project, p.Release, len(p.Services))
		}
		for _, s := range p.Services {
			if s.Image == "" || !namePattern.MatchString(s.Name) || !plainWord(s.Group) {
				t.Fatalf("accepted service %+v", s)
			}
			if h := s.Health; h.Timeout <= 0 || h.Interval <= 0 || h.Stable < 0 || h.Stable >= h.Timeout {
				t.Fatalf("accepted health %+v", h)
			}
		}
	})
}
