package plans

import (
	"strings"
	"testing"
)

func TestTheIssueExamplePlanLoads(t *testing.T) {
	p, err := Load("testdata/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Groups(), ","); got != "backend,frontend" {
		t.Errorf("groups = %s", got)
	}
	if p.Services[0].Name != "api" || p.Services[1].Name != "web" {
		t.Errorf("services out of file order: %s, %s", p.Services[0].Name, p.Services[1].Name)
	}
	if got := p.Services[0].ContainerName(p.Project); got != "shop-api" {
		t.Errorf("container name = %s", got)
	}
	if h := p.Services[0].Health; h.Timeout.String() != "30s" || h.Stable.String() != "3s" {
		t.Errorf("health = %+v", h)
	}
	if p.Services[1].Health.Stable != DefaultStable || p.Services[1].Restart != DefaultRestart {
		t.Errorf("defaults not applied: %+v", p.Services[1])
	}
	if k := p.Steps[1].Kind(); k != StepRun || p.Steps[1].Before == "" {
		t.Errorf("migrate step = %+v", p.Steps[1])
	}
}

func TestPlanWithoutStepsDeploysEachGroupInOrder(t *testing.T) {
	p, err := Parse("/p.yaml", []byte("project: x\nrelease: '1'\nservices:\n  web: {image: w, group: front}\n  api: {image: a, group: back}\n  db: {image: d, group: front}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, s := range p.ReleaseSteps() {
		titles = append(titles, s.Title())
	}
	if got := strings.Join(titles, "; "); got != "Deploy front; Deploy back" {
		t.Fatalf("steps = %s", got)
	}
}

func TestPlanErrorsNameLineColumnAndWhatToDo(t *testing.T) {
	const head = "project: shop\nrelease: '1'\n"
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"bad YAML", "project: [shop\n", "p.yaml:1:10: sequence end token ']' not found"},
		{"unknown key", head + "services:\n  api:\n    imag: x\n", `p.yaml:5:5: unknown field "imag": did you mean "image"? (see the README for the plan format)`},
		{"missing project", "release: '1'\nservices: {api: {image: a}}\n", "p.yaml:1:1: project is missing: add `project: NAME`, the stable name of the system (container names derive from it)"},
		{"bad project name", "project: my shop\nrelease: '1'\nservices: {api: {image: a}}\n", `p.yaml:1:10: project "my shop" may contain only letters, digits, '_', '.' and '-', starting with a letter or digit (container names derive from it)`},
		{"missing release", "project: shop\nservices: {api: {image: a}}\n", "p.yaml:1:1: release is missing: add `release: NAME`, for example the version you are shipping"},
		{"no services", head, "p.yaml:1:1: services is missing or empty: a plan deploys at least one service"},
		{"no image", head + "services:\n  api:\n    group: backend\n", "p.yaml:4:3: service api has no image: add `image: NAME:TAG`"},
		{"bad image", head + "services:\n  api:\n    image: Shop/API\n", `p.yaml:5:12: service api: image "Shop/API" is not a valid image reference (invalid reference format: repository name (API) must be lowercase)`},
		{"bad on_failure", head + "on_failure: retry\nservices: {api: {image: a}}\n", "p.yaml:3:13: on_failure is \"retry\"; expected revert (put back what ran before) or stop (leave it to fix forward)"},
		{"bad port", head + "services:\n  api:\n    image: a\n    ports: [\"8080:99999\"]\n", `p.yaml:6:13: service api: port "8080:99999": "99999" is not a port number (1-65535)`},
		{"same host port twice", head + "services:\n  api: {image: a, ports: [\"8080:80\"]}\n  web: {image: w, ports: [\"8080:81\"]}\n", "p.yaml:5:27: services api and web both publish host port 8080"},
		{"two health checks", head + "services:\n  api:\n    image: a\n    health: {http: 'http://x/h', tcp: 'x:1'}\n", "p.yaml:6:5: service api: health has more than one check; choose one of http, tcp, cmd or docker"},
		{"bad health url", head + "services:\n  api:\n    image: a\n    health: {http: 'localhost:8080/h'}\n", `p.yaml:6:20: service api: health.http "localhost:8080/h" is not an http:// or https:// URL`},
		{"bad duration", head + "services:\n  api:\n    image: a\n    health: {timeout: soon}\n", `p.yaml:6:23: service api: health.timeout: "soon" is not a duration: write a duration such as 500ms, 30s, 2m or 1m30s`},
		{"step with two actions", head + "services: {api: {image: a}}\nsteps:\n  - run: x\n    verify: y\n", "p.yaml:4:1: group \"default\" is never deployed: add a step `- deploy: default`\np.yaml:5:5: step 1 must have exactly one of run, deploy, verify, confirm, mark, pause, resume, maintenance, end_maintenance or canary"},
		{"deploy of unknown group", head + "services: {api: {image: a, group: backend}}\nsteps:\n  - deploy: backnd\n", "p.yaml:4:1: group \"backend\" is never deployed: add a step `- deploy: backend`\np.yaml:5:13: step 1 deploys group \"backnd\", but no service has `group: backnd` (groups: backend)"},
		{"before without run", head + "services: {api: {image: a}}\nsteps:\n  - deploy: default\n    before: ./check\n", "p.yaml:5:5: step 1: before and after go with run, not with deploy"},
		{"bad secret name", head + "services: {api: {image: a}}\nsecrets: [DB-PASS]\n", `p.yaml:4:11: secret "DB-PASS" is not an environment variable name`},
		{"bad log pattern", head + "services: {api: {image: a}}\nlogs: {errors: ['(oops']}\n", "p.yaml:4:17: logs.errors pattern: error parsing regexp: missing closing ): `(oops`"},
		{"missing tarball", head + "services: {api: {image: a}}\npreload: {load: [images.tar]}\n", "p.yaml:4:18: preload tarball images.tar: no such file or directory (create it with `docker save -o images.tar IMAGE...`)"},
		{"duplicate container", head + "services:\n  api: {image: a}\n  web: {image: w, container: shop-api}\n", "p.yaml:5:3: services api and web would both use the container name shop-api: set a distinct `container:`"},
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

func TestServiceEnvTakesVariablesFromTheOperatorAndMasksSecrets(t *testing.T) {
	p, err := Parse("/p.yaml", []byte("project: x\nrelease: '1'\nsecrets: [DEPLOY_KEY]\nservices:\n  api:\n    image: a\n    env: {DB_PASSWORD: '${PW}', HOST: '${DB_HOST:-db}', URL: 'postgres://u:${PW}@db'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PW": "hunter22", "DEPLOY_KEY": "k3y-value"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	got, err := p.ServiceEnv(p.Services[0], lookup)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "DB_PASSWORD=hunter22 HOST=db URL=postgres://u:hunter22@db" {
		t.Fatalf("env = %v", got)
	}
	m := NewMasker(p, lookup)
	if s := m.Mask("connect postgres://u:hunter22@db with k3y-value"); s != "connect postgres://u:****@db with ****" {
		t.Fatalf("masked = %s", s)
	}
	_, err = p.ServiceEnv(p.Services[0], func(string) (string, bool) { return "", false })
	if err == nil || err.Error() != "service api: env uses PW, not set in your environment; export it before running golive" {
		t.Fatalf("missing variable: %v", err)
	}
}
