package plans

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/golive/golive/docker"
)

func TestParseProcStat(t *testing.T) {
	tail := " 1 1 1 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 123456 1000 10"
	tests := []struct {
		name, line string
		want       procStat
		ok         bool
	}{
		{"running", "42 (golive) R" + tail, procStat{"R", "123456"}, true},
		{"sleeping", "42 (golive) S" + tail, procStat{"S", "123456"}, true},
		{"zombie", "42 (golive) Z" + tail, procStat{"Z", "123456"}, true},
		{"name with spaces and parens", "42 (a) b (c)) Z" + tail, procStat{"Z", "123456"}, true},
		{"no command name", "42 golive R" + tail, procStat{}, false},
		{"truncated", "42 (golive) R 1 1", procStat{}, false},
		{"empty", "", procStat{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseProcStat([]byte(tt.line))
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseProcStat(%q) = %+v, %v; want %+v, %v", tt.line, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestZombieHolderIsGone: a golive killed but not yet reaped by its parent
// holds no lock any more, though kill(pid, 0) still succeeds on it.
func TestZombieHolderIsGone(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	reaped := false
	t.Cleanup(func() {
		if !reaped {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	host, _ := os.Hostname()
	info := docker.LockInfo{Host: host, PID: pid, Started: processStart(pid)}
	if !processAlive(pid) || !HolderAlive(info) {
		t.Fatalf("running child %d counted as gone", pid)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := parseProcStat(b); st.state == "Z" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d never became a zombie", pid)
		}
	}
	if processAlive(pid) {
		t.Errorf("zombie %d counted as alive", pid)
	}
	if HolderAlive(info) {
		t.Errorf("lock of zombie %d counted as held by a live process", pid)
	}
	_ = cmd.Wait()
	reaped = true
	if processAlive(pid) || HolderAlive(info) {
		t.Errorf("reaped %d counted as alive", pid)
	}
}
