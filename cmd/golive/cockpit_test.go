package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/scratch"
)

// tmux drives one real tmux session for a test.
type tmux struct {
	t       *testing.T
	session string
	socket  string
}

func newTmux(t *testing.T, width, height int, command string, env ...string) *tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("skipped: tmux is not installed (make test-deps installs it)")
	}
	tm := &tmux{t: t, session: fmt.Sprintf("golive-%d", time.Now().UnixNano()), socket: filepath.Join(t.TempDir(), "tmux.sock")}
	args := []string{"-f", "/dev/null", "new-session", "-d", "-s", tm.session, "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), "-e", "TERM=xterm-256color"}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	tm.run(append(args, command)...)
	// Let programs in the pane set the clipboard, so an OSC 52 that got through would show as a paste buffer.
	tm.run("set-option", "-g", "set-clipboard", "on")
	t.Cleanup(func() { exec.Command("tmux", "-S", tm.socket, "kill-server").Run() })
	return tm
}

func (tm *tmux) run(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", tm.socket}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

func (tm *tmux) screen() string { return tm.run("capture-pane", "-p", "-t", tm.session) }

func (tm *tmux) keys(keys ...string) {
	tm.run(append([]string{"send-keys", "-t", tm.session}, keys...)...)
}

// screenDeadline bounds every wait on the screen: generous, as the
// engine, the terminal and the race detector share a loaded machine.
const screenDeadline = 2 * time.Minute

// waitScreen waits until what is on the screen and returns the screen.
func (tm *tmux) waitScreen(what string) string {
	tm.t.Helper()
	return tm.waitUntil(fmt.Sprintf("%q on screen", what), func(s string) bool { return strings.Contains(s, what) })
}

// waitUntil polls the screen until cond holds and returns that screen.
func (tm *tmux) waitUntil(what string, cond func(screen string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(screenDeadline)
	for {
		s := tm.screen()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out waiting for %s; the screen:\n%s", what, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cockpitFixture deploys v1 of an api and a web service and writes the v2 plan.
func cockpitFixture(t *testing.T, apiEnv string) (plan string, apiPort, webPort int, dir string) {
	return releaseFixture(t, releaseVars{APIEnv: apiEnv})
}

// releaseVars change the v2 plan of releaseFixture.
type releaseVars struct {
	APIEnv    string // extra env entries for api, YAML flow style
	APIHealth string // extra health entries for api, YAML flow style
	Stable    string // api's health.stable (500ms)
	Timeout   string // api's health.timeout (20s)
	Head      string // plan keys before services (confirm: true)
	Steps     string // a steps: section
}

// releaseFixture deploys v1 of an api and a web service and writes the v2 plan.
func releaseFixture(t *testing.T, v2 releaseVars) (plan string, apiPort, webPort int, dir string) {
	docker := dockertest.Client(t)
	project := dockertest.Project(t, docker)
	for _, img := range []string{"api:1", "api:2", "web:1", "web:2"} {
		v := img[len(img)-1:]
		dockertest.LoadDemoImage(t, docker, dockertest.ImageRef(project, img), scratch.Config{Env: []string{"VERSION=" + v, "LOG_EVERY=100ms"}})
	}
	apiPort, webPort = dockertest.FreePort(t), dockertest.FreePort(t)
	dir = t.TempDir()
	write := func(v string, vars releaseVars) string {
		return writeFile(t, dir, "plan-"+v+".yaml", fmt.Sprintf(`project: %[1]s
release: "%[2]s"
%[8]s
services:
  api:
    image: %[3]s
    group: backend
    ports: ["127.0.0.1:%[4]d:8080"]
    env: {ROLE: api%[7]s}
    health: {http: "http://127.0.0.1:%[4]d/health", timeout: %[12]s, stable: %[11]s, interval: 100ms%[9]s}
  web:
    image: %[5]s
    group: frontend
    ports: ["127.0.0.1:%[6]d:8080"]
    env: {ROLE: web}
    health: {tcp: "127.0.0.1:%[6]d", timeout: 20s, stable: 500ms, interval: 100ms}
%[10]s`, project, v, dockertest.ImageRef(project, "api:"+v), apiPort, dockertest.ImageRef(project, "web:"+v), webPort,
			vars.APIEnv, vars.Head, vars.APIHealth, vars.Steps, cmp.Or(vars.Stable, "500ms"), cmp.Or(vars.Timeout, "20s")))
	}
	if code, out, errout := cli(t, "apply", write("1", releaseVars{})); code != 0 {
		t.Fatalf("apply v1: %d\n%s%s", code, out, errout)
	}
	return write("2", v2), apiPort, webPort, dir
}

func waitVersion(t *testing.T, port int, want string) {
	t.Helper()
	dockertest.WaitFor(t, fmt.Sprintf("version %s on port %d", want, port), func() bool { return serviceVersion(port) == want })
}

// TestCockpitInTmuxDeploysAndRevertsWithOneKey runs the real binary in
// real tmux against the real Docker engine, and checks the recording with
// the real asciinema when it is installed.
func TestCockpitInTmuxDeploysAndRevertsWithOneKey(t *testing.T) {
	plan, apiPort, webPort, dir := cockpitFixture(t, "")
	cast := filepath.Join(dir, "session.cast")
	tm := newTmux(t, 120, 40, fmt.Sprintf("%s %s --record %s; echo COCKPIT-EXITED $?; sleep 600", golive, plan, cast))
	tm.waitScreen("READY")
	tm.keys("D")
	tm.waitScreen("DEPLOYING")
	waitVersion(t, apiPort, "2")
	waitVersion(t, webPort, "2")
	tm.waitScreen("DEPLOYED")
	tm.keys("R")
	waitVersion(t, webPort, "1")
	waitVersion(t, apiPort, "1")
	tm.waitScreen("REVERTED")
	tm.keys("q")
	tm.waitScreen("COCKPIT-EXITED 0")

	f, err := os.Open(cast)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sc.Scan()
	var header struct{ Version, Width, Height int }
	if err := json.Unmarshal(sc.Bytes(), &header); err != nil || header.Version != 2 || header.Width != 120 || header.Height != 40 {
		t.Fatalf("cast header %s: %v", sc.Text(), err)
	}
	var markers []string
	outputs := 0
	for sc.Scan() {
		var ev []any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || len(ev) != 3 {
			t.Fatalf("cast event %s: %v", sc.Text(), err)
		}
		switch ev[1] {
		case "m":
			markers = append(markers, ev[2].(string))
		case "o":
			outputs++
		}
	}
	if got := strings.Join(markers, ", "); got != "apply 2, apply done, revert 2, revert done" || outputs < 10 {
		t.Fatalf("markers %q, %d output events", got, outputs)
	}
	if _, err := exec.LookPath("asciinema"); err != nil {
		t.Log("asciinema is not installed: the recording was checked as JSON only")
		return
	}
	// asciinema reads the terminal it runs on, so it runs in tmux too.
	player := newTmux(t, 120, 40, fmt.Sprintf("asciinema cat %s > %s 2>&1; echo CAT-EXITED $?; sleep 600", cast, filepath.Join(dir, "cat.out")))
	player.waitScreen("CAT-EXITED 0")
	replay, _ := os.ReadFile(filepath.Join(dir, "cat.out"))
	if !strings.Contains(string(replay), "DEPLOYING") || !strings.Contains(string(replay), "golive") {
		t.Fatalf("asciinema cat did not replay the session (%d bytes)", len(replay))
	}
}

// TestContainerOutputCannotTamperWithTheTerminal shows a service that
// prints OSC 52, title, clear-screen, DCS and APC sequences in the cockpit
// in real tmux: the pane title, the paste buffers and the screen stay intact.
func TestContainerOutputCannotTamperWithTheTerminal(t *testing.T) {
	// api logs nothing after its injection, so only web's lines move the
	// log pane while the screen is read.
	plan, _, _, _ := cockpitFixture(t, ", INJECT: 'true', LOG_EVERY: 1h")
	tm := newTmux(t, 120, 40, fmt.Sprintf("%s %s; echo COCKPIT-EXITED; sleep 600", golive, plan))
	tm.waitScreen("READY")
	tm.keys("D")
	// Each line's text after its sequences on screen means tmux has read
	// the sequences: the screen is taken then, before newer lines scroll
	// these away.
	injected := []string{"INJECT osc52  end", "INJECT title  end", "INJECT clear  end", "INJECT bidi"}
	screen := tm.waitUntil(fmt.Sprintf("%q on screen", injected), func(s string) bool {
		for _, want := range injected {
			if !strings.Contains(s, want) {
				return false
			}
		}
		return true
	})
	if !strings.HasPrefix(screen, "golive · ") {
		t.Fatalf("the screen lost its header:\n%s", screen)
	}
	if title := tm.run("display-message", "-p", "-t", tm.session, "#{pane_title}"); strings.Contains(title, "PWNED") {
		t.Fatalf("a container set the pane title: %s", title)
	}
	if buffers := tm.run("list-buffers"); strings.TrimSpace(buffers) != "" {
		t.Fatalf("a container wrote the clipboard: %s", buffers)
	}
	stopAndQuit(tm)
}

// stopAndQuit quits the cockpit, with a second q when a release still
// runs (it stops it, on_failure applies), and waits until the cockpit has
// exited: one still deploying when the test cleans up could leave a
// container behind.
func stopAndQuit(tm *tmux) {
	tm.t.Helper()
	tm.keys("q")
	screen := tm.waitUntil("the cockpit to quit or ask for a second q", func(s string) bool {
		return strings.Contains(s, "press q again") || strings.Contains(s, "COCKPIT-EXITED")
	})
	if !strings.Contains(screen, "COCKPIT-EXITED") {
		tm.keys("q")
		tm.waitScreen("COCKPIT-EXITED")
	}
}

// TestWatchSeesTheReleaseLiveAndCannotChangeIt runs a deployer's cockpit
// and a pair's watch in two real tmux sessions against the real engine.
func TestWatchSeesTheReleaseLiveAndCannotChangeIt(t *testing.T) {
	plan, apiPort, _, _ := cockpitFixture(t, "")
	watcher := newTmux(t, 100, 30, fmt.Sprintf("%s watch %s; echo WATCH-EXITED $?; sleep 600", golive, plan))
	watcher.waitScreen("READ-ONLY")
	deployer := newTmux(t, 100, 30, fmt.Sprintf("%s %s; sleep 600", golive, plan))
	deployer.waitScreen("READY")
	watcher.keys("D")
	watcher.waitScreen("read-only:")
	if serviceVersion(apiPort) != "1" {
		t.Fatal("the watch view deployed")
	}
	deployer.keys("D")
	watcher.waitScreen("is deploying")
	waitVersion(t, apiPort, "2")
	watcher.waitScreen("DEPLOYED")
	deployer.keys("q")
	watcher.waitUntil("the watch view to show the release ended and deployed", func(s string) bool {
		return strings.Contains(s, "READ-ONLY · no release running") && strings.Contains(s, "DEPLOYED")
	})
	watcher.keys("q")
	watcher.waitScreen("WATCH-EXITED 0")
}

// TestCockpitSurvivesAResizeStormAndSaysWhenTooSmall resizes the real tmux
// window many times while the cockpit runs, down below 80×24 and back.
func TestCockpitSurvivesAResizeStormAndSaysWhenTooSmall(t *testing.T) {
	plan, _, _, _ := cockpitFixture(t, "")
	tm := newTmux(t, 120, 40, fmt.Sprintf("%s %s; echo COCKPIT-EXITED $?; sleep 600", golive, plan))
	tm.waitScreen("READY")
	for i := 0; i < 30; i++ {
		tm.run("resize-window", "-t", tm.session, "-x", fmt.Sprint(80+i*3), "-y", fmt.Sprint(24+i%10))
	}
	tm.run("resize-window", "-t", tm.session, "-x", "70", "-y", "20")
	tm.waitScreen("needs a terminal of at least 80×24; this one is 70×20")
	tm.run("resize-window", "-t", tm.session, "-x", "80", "-y", "24")
	screen := tm.waitScreen("READY")
	if !strings.HasPrefix(screen, "golive · ") {
		t.Fatalf("after the storm:\n%s", screen)
	}
	tm.keys("q")
	tm.waitScreen("COCKPIT-EXITED 0")
}

// TestCockpitOverSSH runs the cockpit through a real sshd and ssh client on
// 127.0.0.1, inside tmux, as an operator on release night does.
func TestCockpitOverSSH(t *testing.T) {
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		sshd = "/usr/sbin/sshd"
	}
	if _, err := os.Stat(sshd); err != nil {
		t.Skip("skipped: OpenSSH's sshd is not installed (make test-deps installs it)")
	}
	for _, tool := range []string{"ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipped: %s is not installed (make test-deps installs it)", tool)
		}
	}
	plan, apiPort, _, _ := cockpitFixture(t, "")
	dir := t.TempDir()
	for _, k := range []string{"host", "client"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v %s", err, out)
		}
	}
	pub, _ := os.ReadFile(filepath.Join(dir, "client.pub"))
	writeFile(t, dir, "authorized_keys", string(pub))
	port := dockertest.FreePort(t)
	config := writeFile(t, dir, "sshd_config", fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
PidFile %s
`, port, filepath.Join(dir, "host"), filepath.Join(dir, "authorized_keys"), filepath.Join(dir, "sshd.pid")))
	os.MkdirAll("/run/sshd", 0o755)
	daemon := exec.Command(sshd, "-D", "-e", "-f", config)
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { daemon.Process.Kill(); daemon.Wait() })
	ssh := fmt.Sprintf("ssh -tt -i %s -p %d -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR %s@127.0.0.1",
		filepath.Join(dir, "client"), port, currentUser(t))
	remote := fmt.Sprintf("TERM=screen-256color %s %s", golive, plan)
	tm := newTmux(t, 100, 30, fmt.Sprintf("%s '%s'; echo SSH-EXITED $?; sleep 600", ssh, remote))
	screen := tm.waitScreen("READY")
	if !strings.Contains(screen, "(ssh from 127.0.0.1)") {
		t.Fatalf("the operator is not shown as coming over SSH:\n%s", screen)
	}
	tm.keys("D")
	waitVersion(t, apiPort, "2")
	tm.waitScreen("DEPLOYED")
	tm.keys("R")
	waitVersion(t, apiPort, "1")
	tm.waitScreen("REVERTED")
	tm.keys("q")
	tm.waitScreen("SSH-EXITED 0")
}

func currentUser(t *testing.T) string {
	out, err := exec.Command("id", "-un").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// TestCockpitWithoutColourKeepsEveryStateReadable runs the cockpit in real
// tmux with NO_COLOR on a 16-colour TERM: no colour reaches the terminal,
// and the phase and log levels read as words and symbols.
func TestCockpitWithoutColourKeepsEveryStateReadable(t *testing.T) {
	plan, _, _, _ := cockpitFixture(t, ", INJECT: 'true'")
	tm := newTmux(t, 100, 30, fmt.Sprintf("NO_COLOR=1 TERM=xterm %s %s; echo COCKPIT-EXITED; sleep 600", golive, plan), "NO_COLOR=1")
	tm.waitScreen("READY")
	tm.keys("D")
	tm.waitScreen("✖") // the injected error line, marked in the gutter
	screen := tm.run("capture-pane", "-e", "-p", "-t", tm.session)
	for _, colour := range []string{"\x1b[31", "\x1b[32", "\x1b[33", "\x1b[36", "\x1b[38;", "\x1b[41", "\x1b[42", "\x1b[48;", ";31m", ";41m"} {
		if strings.Contains(screen, colour) {
			t.Fatalf("colour %q reached a NO_COLOR terminal:\n%q", colour, screen)
		}
	}
	if !strings.Contains(screen, "DEPLOYING") && !strings.Contains(screen, "DEPLOYED") {
		t.Fatalf("the phase does not read without colour:\n%s", screen)
	}
	stopAndQuit(tm)
}
