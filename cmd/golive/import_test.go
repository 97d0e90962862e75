package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportWritesAPlanThatChecksAndRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	compose := writeFile(t, dir, "compose.yaml", `name: shop
services:
  db:
    image: postgres:16
    environment: {POSTGRES_PASSWORD: "${PG_PASSWORD}"}
    volumes: [pg:/var/lib/postgresql/data]
    healthcheck: {test: "pg_isready", interval: 2s}
  app:
    image: shop/app:${TAG:-1.4}
    ports: ["8080:8080"]
    depends_on: {db: {condition: service_healthy}}
    privileged: true
volumes:
  pg: {}
`)
	writeFile(t, dir, ".env", "PG_PASSWORD=do-not-copy-me\n")
	plan := filepath.Join(dir, "plan.yaml")

	code, stdout, stderr := cli(t, "import", compose, "-o", plan, "--release", "1.4")
	if code != 0 {
		t.Fatalf("import exited %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "wrote "+plan+": 2 services") {
		t.Errorf("stdout %q", stdout)
	}
	if !strings.Contains(stderr, "compose.yaml:12:5: service app: privileged is not honoured") {
		t.Errorf("stderr lacks the warning with its line: %q", stderr)
	}
	text, err := os.ReadFile(plan)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"release: \"1.4\"", "group: db", "group: app", "image: shop/app:1.4", "POSTGRES_PASSWORD: ${PG_PASSWORD}", "test: [CMD-SHELL, pg_isready]", "shop_pg:/var/lib/postgresql/data"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(string(text), "do-not-copy-me") {
		t.Errorf("the plan copies a secret from .env:\n%s", text)
	}
	if code, _, stderr := cli(t, "check", plan); code != 0 {
		t.Errorf("check of the imported plan exited %d: %s", code, stderr)
	}

	code, _, stderr = cli(t, "import", compose, "-o", plan)
	if code != exitUsage || !strings.Contains(stderr, "exists; pass --force") {
		t.Errorf("a second import exited %d: %s", code, stderr)
	}
	if after, _ := os.ReadFile(plan); string(after) != string(text) {
		t.Errorf("a refused import changed the plan")
	}
	if code, _, stderr := cli(t, "import", compose, "-o", plan, "--force"); code != 0 {
		t.Errorf("import --force exited %d: %s", code, stderr)
	}
	code, stdout, _ = cli(t, "import", compose)
	if code != 0 || !strings.HasPrefix(stdout, "# Written by `golive import") {
		t.Errorf("import to stdout exited %d: %q", code, stdout)
	}
	if code, _, stderr := cli(t, "import", filepath.Join(dir, "missing.yaml")); code != exitUsage || strings.Contains(stderr, "goroutine") {
		t.Errorf("import of a missing file exited %d: %s", code, stderr)
	}
	if _, stdout, _ := cli(t, "--help"); !strings.Contains(stdout, "golive import COMPOSE") {
		t.Errorf("--help does not list import")
	}
}

func TestCheckWarnsOfWebhookVariablesThatAreNotSet(t *testing.T) {
	dir := t.TempDir()
	plan := writeFile(t, dir, "plan.yaml", `project: shop
release: "1"
services: {api: {image: shop/api:1}}
notify:
  - url: ${GOLIVE_TEST_UNSET_HOOK}
steps:
  - mark: {url: "https://grafana.example.com/api/annotations", headers: {Authorization: "Bearer ${GOLIVE_TEST_UNSET_TOKEN}"}}
  - deploy: default
`)
	code, _, stderr := cli(t, "check", plan)
	if code != 0 {
		t.Fatalf("check exited %d: %s", code, stderr)
	}
	for _, want := range []string{
		"warning: notify 1 (${GOLIVE_TEST_UNSET_HOOK}): url uses GOLIVE_TEST_UNSET_HOOK, not set in your environment",
		"warning: step 1 (mark https://grafana.example.com/api/annotations): header Authorization uses GOLIVE_TEST_UNSET_TOKEN",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestImportRefusesAComposeFileWithNothingToDeploy(t *testing.T) {
	dir := t.TempDir()
	compose := writeFile(t, dir, "compose.yaml", "services:\n  web:\n    build: .\n  worker:\n    build: ./worker\n")
	plan := filepath.Join(dir, "plan.yaml")
	code, stdout, stderr := cli(t, "import", compose, "-o", plan)
	if code != exitUsage || !strings.Contains(stderr, "no service of "+compose+" has an image") || !strings.Contains(stderr, "service web has no image") {
		t.Errorf("import of build-only services exited %d: %q %q", code, stdout, stderr)
	}
	if _, err := os.Stat(plan); !os.IsNotExist(err) {
		t.Errorf("a plan with no service was written: %v", err)
	}
	if code, stdout, _ := cli(t, "import", compose); code != exitUsage || stdout != "" {
		t.Errorf("import to stdout exited %d and printed %q", code, stdout)
	}
}

// TestImportReadsTheComposeFileWithinThePlansLimits: a compose file too
// large, or of too many services, is refused before it is parsed.
func TestImportReadsTheComposeFileWithinThePlansLimits(t *testing.T) {
	dir := t.TempDir()
	var many strings.Builder
	many.WriteString("services:\n")
	for i := range 3000 {
		fmt.Fprintf(&many, "  s%d:\n    image: img/s%d:1\n", i, i)
	}
	tests := []struct{ name, text, want string }{
		{"3,000 services", many.String(), "a mapping here has more than 1000 keys"},
		{"more than a MiB", "services:\n" + strings.Repeat("# padding\n", 120000), "larger than 1 MiB; golive reads at most that much"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			compose := writeFile(t, dir, fmt.Sprintf("compose-%d.yaml", i), tt.text)
			if code, stdout, stderr := cli(t, "import", compose); code != exitUsage || stdout != "" || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, %q, %q", code, stdout, stderr)
			}
		})
	}
}
