package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRDuringTheStableWindowInTmuxStopsTheReleaseAndPutsV1Back presses R
// in the real cockpit at 80×24 while v2 of the api is in its stable
// window: with confirm: true it asks on a line of its own, Esc does not
// answer, y stops the release and v1 answers again over HTTP.
func TestRDuringTheStableWindowInTmuxStopsTheReleaseAndPutsV1Back(t *testing.T) {
	plan, apiPort, webPort, _ := releaseFixture(t, releaseVars{Head: "confirm: true", Stable: "2m", Timeout: "3m",
		APIEnv: ", ERROR_RATE: '0.3'", APIHealth: ", errors: {max: 1000, per: 1m}"})
	tm := newTmux(t, 80, 24, fmt.Sprintf("%s %s; echo COCKPIT-EXITED $?; sleep 600", golive, plan))
	tm.waitScreen("READY")
	tm.keys("D")
	tm.waitScreen("? Deploy 2:")
	tm.keys("y")
	waitVersion(t, apiPort, "2")
	tm.waitScreen("/1000 per 1m") // the api's error budget, filling up during stable
	tm.keys("R")
	tm.waitScreen("? Stop the release where it is and revert what it changed?")
	// A search under way makes Esc seen: it clears the search.
	tm.keys("/")
	tm.keys("payment", "Enter")
	tm.waitScreen("search payment")
	tm.keys("Escape")
	if screen := tm.waitUntil("Esc to clear the search", func(s string) bool { return !strings.Contains(s, "search payment") }); !strings.Contains(screen, "? Stop the release where it is") || !strings.Contains(screen, "DEPLOYING") {
		t.Fatalf("Esc answered the question:\n%s", screen)
	}
	tm.keys("y")
	waitVersion(t, apiPort, "1")
	tm.waitScreen("REVERTED")
	if v := serviceVersion(webPort); v != "1" {
		t.Fatalf("web answers %s after the stopped release", v)
	}
	tm.keys("q")
	tm.waitScreen("COCKPIT-EXITED")
}

// TestAPendingConfirmStepInTmuxLeavesErrorsOnlyAndSearchWorking waits at
// the plan's confirm step in the real cockpit: x, /, s and Esc work and
// do not answer; y goes on to the next group.
func TestAPendingConfirmStepInTmuxLeavesErrorsOnlyAndSearchWorking(t *testing.T) {
	plan, apiPort, webPort, dir := releaseFixture(t, releaseVars{APIEnv: ", ERROR_RATE: '0.3'",
		Steps: "steps:\n  - deploy: backend\n  - confirm: QA regression pass done?\n  - deploy: frontend\n"})
	tm := newTmux(t, 100, 30, fmt.Sprintf("cd %s && %s %s; echo COCKPIT-EXITED $?; sleep 600", dir, golive, plan))
	tm.waitScreen("READY")
	tm.keys("D")
	tm.waitScreen("? QA regression pass done?")
	tm.keys("x")
	tm.waitScreen("errors only")
	tm.waitScreen("Unknown column") // v2's first error line, to search for
	tm.keys("/")
	tm.keys("unknown column", "Enter")
	tm.waitScreen("search unknown column")
	tm.waitScreen("match ")
	tm.keys("s") // save what errors only shows
	tm.waitScreen("saved ")
	saved, _ := filepath.Glob(filepath.Join(dir, "golive-*.log"))
	if len(saved) != 1 {
		t.Fatalf("saved files: %v", saved)
	}
	if data, _ := os.ReadFile(saved[0]); !strings.Contains(string(data), "Unknown column") || strings.Contains(string(data), "level=info") {
		t.Fatalf("the saved file is not what errors only showed:\n%s", data)
	}
	tm.keys("Escape")
	screen := tm.waitUntil("Esc to clear the search", func(s string) bool { return !strings.Contains(s, "search unknown column") })
	if !strings.Contains(screen, "? QA regression pass done?") {
		t.Fatalf("after Esc the question should wait:\n%s", screen)
	}
	if a, w := serviceVersion(apiPort), serviceVersion(webPort); a != "2" || w != "1" {
		t.Fatalf("while the question waits: api %s, web %s", a, w)
	}
	tm.keys("y")
	waitVersion(t, webPort, "2")
	tm.waitScreen("DEPLOYED")
	tm.keys("q")
	tm.waitScreen("COCKPIT-EXITED 0")
}
