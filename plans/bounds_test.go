package plans

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// billionLaughs is the 681-byte alias bomb of issue 8: nine aliases of nine
// aliases, nine levels deep, about 387 million strings once expanded.
const billionLaughs = `project: lol
release: '1'
services:
  api:
    image: a
    labels:
      a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
      b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
      c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
      d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
      e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
      f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
      g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
      h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
      i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

func TestPlansThatWouldCostTooMuchAreRefusedBeforeDecoding(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"a billion laughs", billionLaughs, "p.yaml:11:14: aliases expand to more than 10000 values (as at *d): a plan needs far fewer; write the values out or use fewer aliases"},
		{"100,000 nested flow lists", "project: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000), "p.yaml:1:100008: the plan has more than 100000 YAML tokens (keys, values, brackets); a plan needs far fewer"},
		{"20,000 nested flow lists", "project: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000), "p.yaml:1:73: lists and mappings nest more than 64 levels deep here; a plan needs a handful of levels"},
		{"10,000 nested flow mappings", "project: " + strings.Repeat("{a: ", 10000) + "x" + strings.Repeat("}", 10000), "p.yaml:1:262: lists and mappings nest more than 64 levels deep here; a plan needs a handful of levels"},
		{"40,000 nested block lists", "project: x\nlabels:\n  " + strings.Repeat("- ", 40000) + "x\n", "p.yaml:3:129: lists and mappings nest more than 64 levels deep here; a plan needs a handful of levels"},
		{"a mapping of 1,001 keys", "project: x\nlabels:\n" + keys(1001), "p.yaml:1003:8: a mapping here has more than 1000 keys; a plan needs far fewer"},
		{"100,000 tokens", "project: x\nrelease: '1'\nlabels: [" + strings.Repeat("a,", 40000) + "a]\nservices: [" + strings.Repeat("a,", 40000) + "a]\n", "p.yaml:4:19998: the plan has more than 100000 YAML tokens (keys, values, brackets); a plan needs far fewer"},
		{"deep indentation", deepIndent(200), "p.yaml:66:130: lists and mappings nest more than 64 levels deep here; a plan needs a handful of levels"},
		{"alias before its anchor", "project: x\nrelease: *r\nx: &r 1\n", "p.yaml:2:10: alias *r refers to no anchor &r before it: define the anchor first, or write the value out"},
		{"alias inside its own anchor", "project: x\nrelease: '1'\nservices: &s {api: *s}\n", "p.yaml:3:20: alias *s refers to no anchor &s before it: define the anchor first, or write the value out"},
		{"more than a MiB", "project: x\n" + strings.Repeat("# padding\n", MaxPlanBytes/10), "p.yaml: the file is larger than 1 MiB; a plan needs a few kilobytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := Parse("p.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("plan accepted")
			}
			if err.Error() != tt.want {
				t.Fatalf("error:\n%s\nwant:\n%s", err, tt.want)
			}
			t.Logf("refused in %s", time.Since(start))
		})
	}
}

func flowKeys(n int) string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("K%d: v", i)
	}
	return strings.Join(keys, ", ")
}

func keys(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  k%d: v\n", i)
	}
	return b.String()
}

func deepIndent(levels int) string {
	var b strings.Builder
	b.WriteString("project: x\nlabels:\n")
	for i := range levels {
		b.WriteString(strings.Repeat("  ", i+1) + "k:\n")
	}
	return b.String()
}

func TestEveryNewCheckSaysWhereAndWhatToDo(t *testing.T) {
	const head = "project: shop\nrelease: '1'\n"
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"release that climbs out of the journal folder", "project: shop\nrelease: ../../etc/x\nservices: {api: {image: a}}\n",
			`p.yaml:2:10: release "../../etc/x" may contain only letters, digits, '_', '.' and '-', starting with a letter or digit (it names the journal file)`},
		{"release with an escape sequence", "project: shop\nrelease: \"\\e]0;pwned\\a2\"\nservices: {api: {image: a}}\n",
			`p.yaml:2:10: release "\x1b]0;pwned\a2" may contain only letters, digits, '_', '.' and '-', starting with a letter or digit (it names the journal file)`},
		{"project with an escape sequence", "project: \"\\e[2Jshop\"\nrelease: '1'\nservices: {api: {image: a}}\n",
			`p.yaml:1:10: project "\x1b[2Jshop" may contain only letters, digits, '_', '.' and '-', starting with a letter or digit (container names derive from it)`},
		{"release too long", "project: shop\nrelease: " + strings.Repeat("1", 129) + "x\nservices: {api: {image: a}}\n",
			"p.yaml:2:10: release is 130 characters long; at most 128 are allowed (it names the journal file)"},
		{"release that YAML reads as a number", "project: shop\nrelease: 1.10\nservices: {api: {image: a}}\n",
			"p.yaml:2:10: release 1.10 is read by YAML as the number 1.1; quote it: release: '1.10'"},
		{"group with a space", head + "services: {api: {image: a, group: back end}}\n",
			`p.yaml:3:35: service api: group "back end" may not contain spaces or control characters, and at most 128 characters`},
		{"group with a bidi override", head + "services: {api: {image: a, group: \"back\\u202eend\"}}\n",
			`p.yaml:3:35: service api: group "back\u202eend" may not contain spaces or control characters, and at most 128 characters`},
		{"duration in words", head + "services:\n  api:\n    image: a\n    health: {http: 'http://x/h', stable: 3 seconds}\n",
			`p.yaml:6:42: service api: health.stable: "3 seconds" is not a duration: write a duration such as 500ms, 30s, 2m or 1m30s`},
		{"duration without a unit", head + "services:\n  api:\n    image: a\n    stop_timeout: 30\n",
			`p.yaml:6:19: service api: stop_timeout: "30" is not a duration: give it a unit, as in 30s or 30ms`},
		{"duration as a list", head + "services:\n  api: {image: a, health: {timeout: [1s]}}\n",
			"p.yaml:4:37: service api: health.timeout must be a duration such as 500ms, 30s, 2m or 1m30s, not a list"},
		{"stable longer than timeout", head + "services:\n  api:\n    image: a\n    health: {http: 'http://x/h', timeout: 10s, stable: 30s}\n",
			"p.yaml:6:56: service api: health.stable (30s) must be shorter than health.timeout (10s): the gate must pass its first probe and then stay healthy for stable, all within timeout; shorten stable or lengthen timeout"},
		{"stable as long as the default timeout", head + "services:\n  api:\n    image: a\n    health: {http: 'http://x/h', stable: 1m}\n",
			"p.yaml:6:42: service api: health.stable (1m0s) must be shorter than health.timeout (1m0s): the gate must pass its first probe and then stay healthy for stable, all within timeout; shorten stable or lengthen timeout"},
		{"port as a number", head + "services:\n  api:\n    image: a\n    ports: [8080]\n",
			`p.yaml:6:13: service api: port 8080 is written as a number; quote it, as in "8080:8080" (HOST_PORT:CONTAINER_PORT), so that YAML cannot misread it`},
		{"port with too many parts", head + "services:\n  api:\n    image: a\n    ports: ['1:2:3:4']\n",
			`p.yaml:6:13: service api: port "1:2:3:4": expected [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTO]`},
		{"port with a word", head + "services:\n  api:\n    image: a\n    ports: ['http:80']\n",
			`p.yaml:6:13: service api: port "http:80": "http" is not a port number (1-65535)`},
		{"ports as a string", head + "services:\n  api:\n    image: a\n    ports: '8080:80'\n",
			"p.yaml:6:12: service api: ports must be a list, not a string"},
		{"empty tcp gate", head + "services:\n  api:\n    image: a\n    health: {tcp: ''}\n",
			"p.yaml:6:19: service api: health.tcp is empty: write HOST:PORT to connect to, such as 127.0.0.1:5432, or remove the key"},
		{"empty http gate", head + "services:\n  api:\n    image: a\n    health:\n      http:\n",
			"p.yaml:7:7: service api: health.http is empty: write the URL to probe, such as http://127.0.0.1:8080/health, or remove the key"},
		{"empty cmd gate", head + "services:\n  api:\n    image: a\n    health: {cmd: []}\n",
			"p.yaml:6:14: service api: health.cmd is empty: write the command to run in the container, such as [pg_isready], or remove the key"},
		{"tcp gate without a port number", head + "services:\n  api:\n    image: a\n    health: {tcp: 'db:postgres'}\n",
			`p.yaml:6:19: service api: health.tcp "db:postgres": expected HOST:PORT, such as 127.0.0.1:5432`},
		{"cmd as a number", head + "services:\n  api:\n    image: a\n    health: {cmd: 5}\n",
			"p.yaml:6:19: service api: health.cmd must be a command: a list such as [curl, -fsS, URL] or one string, not a number"},
		{"cmd with a mapping inside", head + "services:\n  api:\n    image: a\n    command: [run, {fast: true}]\n",
			"p.yaml:6:20: service api: command: a command's arguments are single values; element 2 is a mapping"},
		{"image as a list", head + "services:\n  api:\n    image: [a, b]\n",
			"p.yaml:5:12: service api: image must be a single value, not a list"},
		{"confirm as a word", head + "confirm: please\nservices: {api: {image: a}}\n",
			"p.yaml:3:10: confirm must be true or false, not a string"},
		{"a flow mapping of 1,001 keys", head + "services: {api: {image: a, env: {" + flowKeys(1001) + "}}}\n",
			"p.yaml:3:33: service api: env has more than 1000 keys; a plan needs far fewer"},
		{"services as a list", head + "services: [api, web]\n",
			"p.yaml:3:11: services must be a mapping of settings (key: value), not a list"},
		{"env as a list", head + "services:\n  api:\n    image: a\n    env: [A=1]\n",
			"p.yaml:6:10: service api: env must be a mapping of settings (key: value), not a list"},
		{"unknown key far from any", head + "colour: blue\nservices: {api: {image: a}}\n",
			`p.yaml:3:1: unknown field "colour" (check the spelling; see the README for the plan format)`},
		{"unknown key with an escape sequence", head + "\"\\e[2J\": 1\nservices: {api: {image: a}}\n",
			`p.yaml:3:1: unknown field "\x1b[2J" (check the spelling; see the README for the plan format)`},
		{"two documents", head + "services: {api: {image: a}}\n---\nproject: other\n",
			"p.yaml:4:1: the file holds 2 YAML documents; a plan is one: remove the `---` line and what follows, or split it into plan files"},
		{"a list instead of a plan", "- project: shop\n",
			"p.yaml:1:1: a plan is a mapping of settings (project:, release:, services:), not a list"},
		{"merge of a string", head + "services:\n  api: {<<: nope, image: a}\n",
			"p.yaml:4:13: service api: a merge key (<<) takes a mapping or a list of mappings, not a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("plan accepted")
			}
			if err.Error() != tt.want {
				t.Fatalf("error:\n%s\nwant:\n%s", err, tt.want)
			}
		})
	}
}

func TestCheckShowsEveryProblemInOneRun(t *testing.T) {
	plan := `project: shop
release: ../x
colour: blue
services:
  api:
    image: a
    ports: [8080]
    health:
      cmd: 5
      stable: 3 seconds
  web:
    image: w
    health: {tcp: '', timeout: 5s, stable: 10s}
`
	want := `p.yaml:2:10: release "../x" may contain only letters, digits, '_', '.' and '-', starting with a letter or digit (it names the journal file)
p.yaml:3:1: unknown field "colour" (check the spelling; see the README for the plan format)
p.yaml:7:13: service api: port 8080 is written as a number; quote it, as in "8080:8080" (HOST_PORT:CONTAINER_PORT), so that YAML cannot misread it
p.yaml:9:12: service api: health.cmd must be a command: a list such as [curl, -fsS, URL] or one string, not a number
p.yaml:10:15: service api: health.stable: "3 seconds" is not a duration: write a duration such as 500ms, 30s, 2m or 1m30s
p.yaml:13:19: service web: health.tcp is empty: write HOST:PORT to connect to, such as 127.0.0.1:5432, or remove the key
p.yaml:13:44: service web: health.stable (10s) must be shorter than health.timeout (5s): the gate must pass its first probe and then stay healthy for stable, all within timeout; shorten stable or lengthen timeout`
	_, err := Parse("p.yaml", []byte(plan))
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestProblemsNeverCarryRawEscapeSequences(t *testing.T) {
	_, err := Parse("p\x1b]0;x\a.yaml", []byte("project: x\nrelease: '1'\nservices:\n  \"\\e[31mapi\": {image: a}\n"))
	if err == nil {
		t.Fatal("plan accepted")
	}
	if strings.ContainsAny(err.Error(), "\x1b\a") {
		t.Fatalf("raw control characters in %q", err)
	}
}

func TestStableZeroMeansZeroAndAbsentMeansTheDefault(t *testing.T) {
	p, err := Parse("/p.yaml", []byte("project: x\nrelease: '1'\nservices:\n"+
		"  api: {image: a, health: {http: 'http://x/h', stable: 0s}}\n"+
		"  web: {image: w, health: {http: 'http://x/h'}}\n"+
		"  db: {image: d, health: {tcp: 'db:5432', stable:}}\n"+
		"  mq: {image: m, health: {tcp: 'mq:5672', stable: 2s}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		service, what string
		want          time.Duration
	}{
		{"api", "stable: 0s", 0},
		// The default plan must beat docker-compose up plus a health wait
		// (README, Performance): 300 ms, windows overlapping the next group.
		{"web", "no stable", 300 * time.Millisecond},
		{"db", "an empty stable", 300 * time.Millisecond},
		{"mq", "stable: 2s", 2 * time.Second},
	}
	for _, tt := range tests {
		if got := p.Service(tt.service).Health.Stable; got != tt.want {
			t.Errorf("%s became %s, want %s", tt.what, got, tt.want)
		}
	}
}

func TestAliasesWithinTheBudgetStillWork(t *testing.T) {
	p, err := Parse("/p.yaml", []byte(`project: x
release: '1'
services:
  api: &svc
    image: a
    health: &gate {http: 'http://x/h', timeout: 20s}
  web:
    <<: *svc
    image: w
    health: *gate
`))
	if err != nil {
		t.Fatal(err)
	}
	web := p.Service("web")
	if web.Image != "w" || web.Health.Timeout != 20*time.Second || web.Health.HTTP != "http://x/h" {
		t.Fatalf("web = %+v", web)
	}
	if got := strings.Join([]string{p.Services[0].Name, p.Services[1].Name}, ","); got != "api,web" {
		t.Fatalf("services = %s", got)
	}
}

func TestEnvFileMustBeARegularFileOfBoundedSize(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.env")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	big := filepath.Join(dir, "big.env")
	if err := os.WriteFile(big, []byte(strings.Repeat("A=1\n", MaxEnvFileBytes/4+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.env"), []byte("# ok\nA=1\nnot a pair\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, want string
	}{
		{"a FIFO", "fifo.env", "read env_file " + fifo + ": not a regular file (it is a named pipe); name a plain file"},
		{"a folder", ".", "read env_file " + dir + ": not a regular file (it is a folder); name a plain file"},
		{"too large", "big.env", "read env_file " + big + ": larger than 1 MiB; golive reads at most that much"},
		{"missing", "nope.env", "read env_file: open " + filepath.Join(dir, "nope.env") + ": no such file or directory"},
		{"not KEY=VALUE", "bad.env", "env_file " + filepath.Join(dir, "bad.env") + ":3: expected KEY=VALUE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := filepath.Join(dir, "plan.yaml")
			done := make(chan error, 1)
			go func() {
				_, err := Parse(plan, []byte("project: x\nrelease: '1'\nservices:\n  api: {image: a, env_file: '"+tt.file+"'}\n"))
				done <- err
			}()
			select {
			case err := <-done:
				want := plan + ":4:29: service api: " + tt.want
				if err == nil || err.Error() != want {
					t.Fatalf("error:\n%v\nwant:\n%s", err, want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("loading the plan hangs")
			}
		})
	}
}

func TestLoadRefusesAPlanFileLargerThanTheCap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.yaml")
	if err := os.WriteFile(path, make([]byte, MaxPlanBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if want := "read plan " + path + ": larger than 1 MiB; golive reads at most that much"; err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestAPlanWithHundredsOfProblemsListsTheFirstHundred(t *testing.T) {
	var b strings.Builder
	b.WriteString("project: x\nrelease: '1'\nservices:\n")
	for i := range 150 {
		fmt.Fprintf(&b, "  s%d: {group: g}\n", i)
	}
	_, err := Parse("p.yaml", []byte(b.String()))
	var perr *PlanError
	if !errors.As(err, &perr) {
		t.Fatalf("error %v", err)
	}
	if n := len(perr.Problems); n != 101 {
		t.Fatalf("%d problems", n)
	}
	if first, last := perr.Problems[0].Message, perr.Problems[100].Message; first != "service s0 has no image: add `image: NAME:TAG`" || last != "50 more problems not shown; fix these first" {
		t.Fatalf("first %q, last %q", first, last)
	}
}

func TestAServiceOfTheWrongKindIsReportedOnce(t *testing.T) {
	_, err := Parse("p.yaml", []byte("project: x\nrelease: '1'\nservices:\n  api: 5\n  web: {image: w}\n"))
	if want := "p.yaml:4:8: service api must be a mapping of settings (key: value), not a number"; err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestTaggedStringsAreReadPastTheirTag(t *testing.T) {
	p, err := Parse("/p.yaml", []byte("project: x\nrelease: !!str 2\nservices:\n  api: {image: a, health: {http: 'http://x/h', stable: !!str 3s}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Release != "2" || p.Services[0].Health.Stable != 3*time.Second {
		t.Fatalf("release %q, stable %s", p.Release, p.Services[0].Health.Stable)
	}
}

func TestALargeRealisticPlanIsWithinTheLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("project: big\nrelease: 2026.11.26-rc1\nservices:\n")
	for s := range 100 {
		fmt.Fprintf(&b, "  svc-%d:\n    image: registry.example.com/team/svc-%d:2026.11.26-rc1\n    group: g%d\n", s, s, s%5)
		fmt.Fprintf(&b, "    ports: [\"127.0.0.1:%d:8080\"]\n    health: {http: 'http://127.0.0.1:%d/health', timeout: 30s, stable: 2s}\n    env:\n", 10000+s, 10000+s)
		for e := range 20 {
			fmt.Fprintf(&b, "      SETTING_%d: \"value-%d, with a comma and a -dash\"\n", e, e)
		}
	}
	p, err := Parse("/p.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Services) != 100 {
		t.Fatalf("%d services", len(p.Services))
	}
}

func TestAComposeFileIsReadWithinTheSameLimits(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.yaml"), 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	deep := "services: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "deep.yaml"), []byte(deep), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bomb.yaml"), []byte(strings.Replace(billionLaughs, "project: lol\nrelease: '1'\n", "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	plan := filepath.Join(dir, "plan.yaml")
	tests := []struct{ file, want string }{
		{"fifo.yaml", "read compose file " + filepath.Join(dir, "fifo.yaml") + ": not a regular file (it is a named pipe); name a plain file"},
		{"deep.yaml", filepath.Join(dir, "deep.yaml") + ":1:74: lists and mappings nest more than 64 levels deep here; a plan needs a handful of levels"},
		{"bomb.yaml", filepath.Join(dir, "bomb.yaml") + ":9:14: aliases expand to more than 10000 values (as at *d): a plan needs far fewer; write the values out or use fewer aliases"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := Parse(plan, []byte("project: x\nrelease: '1'\ncompose: "+tt.file+"\n"))
			want := plan + ":1:1: services is missing or empty: a plan deploys at least one service\n" + plan + ":3:10: compose: " + tt.want
			if err == nil || err.Error() != want {
				t.Fatalf("error:\n%v\nwant:\n%s", err, want)
			}
		})
	}
}
