package main

import (
	"context"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/plans"
)

// TestHostsLostMidRolloutTellsWhatIsUnknownAndRevertFinishesItsReturn cuts
// h2's link while its batch deploys: on_failure puts h1 back, the outcome
// says h2 is unknown and the revert incomplete with the command that
// finishes it, and h3 is never touched; once h2 answers again, that
// command from a fresh process puts h2 back.
func TestHostsLostMidRolloutTellsWhatIsUnknownAndRevertFinishesItsReturn(t *testing.T) {
	project, clients, write := hostsProject(t)
	if code, out, errs := cli(t, "apply", write("1", "", ""), "--yes"); code != 0 {
		t.Fatalf("apply v1: exit %d\n%s%s", code, out, errs)
	}
	link, hosts := cutLinkToH2(t, clients)
	plan2 := write("2", hosts, "    rollout: {batch: 1}\n")
	cmd := exec.Command(golive, "apply", plan2, "--yes")
	var out dockertest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dockertest.WaitFor(t, "h2's batch to start deploying", func() bool { return strings.Contains(out.String(), "api@h2: deploying") })
	link.Cut()
	err := cmd.Wait()
	stdout := out.String()
	if code := cmd.ProcessState.ExitCode(); code != exitFailed {
		t.Fatalf("a rollout that lost a host: exit %d (%v), want %d:\n%s", code, err, exitFailed, stdout)
	}
	for _, want := range []string{"h2: ✗ the host does not answer", "api@h2 unknown (host unreachable)", "api@h1 " + dockertest.ImageRef(project, "api:1") + " (reverted)",
		"api@h3 not changed", "revert is INCOMPLETE", "once the cause is fixed: golive revert " + plan2} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the outcome should say %q:\n%s", want, stdout)
		}
	}
	reachable := map[string]*docker.Client{"h1": clients["h1"], "h3": clients["h3"]}
	if got := images(t, project, reachable); got["h1"] != "1" || got["h3"] != "1" {
		t.Fatalf("on_failure puts h1 back and never touches h3: %v\n%s", got, stdout)
	}
	if err := link.Restore(); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := cli(t, "revert", plan2, "--yes")
	if code != 0 {
		t.Fatalf("revert once h2 answers again: exit %d\n%s%s", code, stdout, stderr)
	}
	if got := images(t, project, clients); got["h1"] != "1" || got["h2"] != "1" || got["h3"] != "1" {
		t.Errorf("after the revert every host runs v1: %v\n%s", got, stdout)
	}
	for name, c := range clients {
		if held, err := c.Lock(context.Background(), "golive-lock-"+project); err != nil || held != nil {
			t.Errorf("host %s: lock left %v (%v)", name, held, err)
		}
	}
}

// TestHostsDownStatusAndUnlockGoOnWithTheOthers: with h2 not answering,
// status shows h1's and h3's rows and h2's as unreachable, and on which
// host the lock is held; unlock breaks it where it can and names h2; both
// end non-zero.
func TestHostsDownStatusAndUnlockGoOnWithTheOthers(t *testing.T) {
	project, clients, write := hostsProject(t)
	if code, out, errs := cli(t, "apply", write("1", "", ""), "--yes"); code != 0 {
		t.Fatalf("apply v1: exit %d\n%s%s", code, out, errs)
	}
	link, hosts := cutLinkToH2(t, clients)
	plan := write("2", hosts, "")
	link.Cut()
	lock := "golive-lock-" + project
	if _, err := clients["h1"].TakeLock(context.Background(), lock, docker.LockInfo{Holder: "ops@elsewhere", Host: "elsewhere", Operation: "apply", Since: time.Now()},
		map[string]string{plans.LabelProject: project}); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := cli(t, "status", plan)
	if code != exitEnvironment {
		t.Fatalf("status with a host down: exit %d, want %d\n%s%s", code, exitEnvironment, stdout, stderr)
	}
	for _, row := range []struct{ service, state string }{{"api@h1", "running"}, {"api@h2", "unreachable"}, {"api@h3", "running"}} {
		if !slices.ContainsFunc(strings.Split(stdout, "\n"), func(l string) bool {
			f := strings.Fields(l)
			return len(f) > 3 && f[0] == row.service && f[3] == row.state
		}) {
			t.Errorf("status should show %s %s:\n%s", row.service, row.state, stdout)
		}
	}
	if !strings.Contains(stderr, "host h2 is unreachable") {
		t.Errorf("status should name the host down:\n%s", stderr)
	}
	if !regexp.MustCompile(`lock held by ops@elsewhere \(apply since [0-9:]+\) on h1\n`).MatchString(stdout) {
		t.Errorf("status should say on which host the lock is held:\n%s", stdout)
	}

	code, stdout, stderr = cli(t, "unlock", plan, "--force")
	if code != exitEnvironment {
		t.Fatalf("unlock with a host down: exit %d, want %d\n%s%s", code, exitEnvironment, stdout, stderr)
	}
	if !regexp.MustCompile(`broke the lock of ops@elsewhere .* on h1\n`).MatchString(stdout) || !strings.Contains(stderr, "host h2 is unreachable") {
		t.Errorf("unlock should break h1's lock and name h2:\n%s%s", stdout, stderr)
	}
	if held, err := clients["h1"].Lock(context.Background(), lock); err != nil || held != nil {
		t.Errorf("h1's lock left: %v (%v)", held, err)
	}
}
