package engines

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	firstSlot = 200
	lastSlot  = 249
	netnsDir  = "/run/netns"
	lockDir   = "/run/lock"
)

// ErrSlotInUse says that the address range a Config asked for is taken.
var ErrSlotInUse = errors.New("the address range is in use on this machine")

// Clean removes what sets with this prefix left behind when their process
// died without stopping them (namespaces, links, processes, cgroups,
// files), skipping any slot whose owner still holds its lock.
func Clean(prefix, dir string) error {
	if dir == "" {
		dir = DefaultDir
	}
	var errs []error
	for _, slot := range leftoverSlots(prefix, dir) {
		lock, err := lockSlot(slot)
		if err != nil {
			continue
		}
		errs = append(errs, cleanSlot(prefix, dir, slot, nil))
		lock.Close()
	}
	return errors.Join(errs...)
}

// leftoverSlots lists the slots that have anything named with prefix:
// namespaces, host links, folders or cgroups.
func leftoverSlots(prefix, dir string) []int {
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `(\d{3})(sw|h|e\d+)?$`)
	var names []string
	for _, d := range []string{netnsDir, "/sys/class/net", dir} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			names = append(names, e.Name())
		}
	}
	for _, g := range cgroupDirs(prefix + "*") {
		names = append(names, filepath.Base(g))
	}
	var slots []int
	for _, name := range names {
		if m := re.FindStringSubmatch(name); m != nil {
			slot, _ := strconv.Atoi(m[1])
			if !slices.Contains(slots, slot) {
				slots = append(slots, slot)
			}
		}
	}
	slices.Sort(slots)
	return slots
}

// claimSlot picks the configured slot, or a free one from a random start,
// and returns it with its lock held.
func claimSlot(cfg Config) (int, *os.File, error) {
	candidates := []int{cfg.Slot}
	if cfg.Slot == 0 {
		n := lastSlot - firstSlot + 1
		start := rand.IntN(n)
		candidates = candidates[:0]
		for i := range n {
			candidates = append(candidates, firstSlot+(start+i)%n)
		}
	}
	for _, slot := range candidates {
		if slot < 1 || slot > 254 || slotInUse(slot) {
			continue
		}
		lock, err := lockSlot(slot)
		if err != nil {
			continue
		}
		if slotInUse(slot) {
			lock.Close()
			continue
		}
		return slot, lock, nil
	}
	if cfg.Slot != 0 {
		return 0, nil, fmt.Errorf("engines: 10.%d.0.0/16: %w; pick another slot or 0 for any", cfg.Slot, ErrSlotInUse)
	}
	return 0, nil, fmt.Errorf("engines: no free address range 10.%d-%d.0.0/16 on this machine", firstSlot, lastSlot)
}

// lockSlot takes the machine-wide lock of a slot without waiting. The lock
// goes with the process, so a crashed run's slot can be cleaned and reused.
func lockSlot(slot int) (*os.File, error) {
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(lockDir, fmt.Sprintf("golive-engines-%d.lock", slot)), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// slotInUse reports whether any address or route of the host overlaps 10.S.0.0/16.
func slotInUse(slot int) bool {
	_, slotNet, _ := net.ParseCIDR(fmt.Sprintf("10.%d.0.0/16", slot))
	overlaps := func(n *net.IPNet) bool { return n.Contains(slotNet.IP) || slotNet.Contains(n.IP) }
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && overlaps(n) {
			return true
		}
	}
	routes, _ := os.ReadFile("/proc/net/route")
	for _, line := range strings.Split(string(routes), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		dest, err1 := hex.DecodeString(f[1])
		mask, err2 := hex.DecodeString(f[7])
		if err1 != nil || err2 != nil || len(dest) != 4 || len(mask) != 4 || binary.LittleEndian.Uint32(mask) == 0 {
			continue
		}
		slices.Reverse(dest)
		slices.Reverse(mask)
		if overlaps(&net.IPNet{IP: net.IP(dest), Mask: net.IPMask(mask)}) {
			return true
		}
	}
	return false
}

// cleanSlot stops the slot's engines (SIGTERM to each dockerd, then
// SIGKILL to whatever still runs in their namespaces and cgroups), and
// removes the namespaces, the host link and the files. own are engines
// this process started, whose exit it can wait for directly.
func cleanSlot(prefix, dir string, slot int, own []*Engine) error {
	base := fmt.Sprintf("%s%d", prefix, slot)
	var namespaces []string
	entries, _ := os.ReadDir(netnsDir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), base+"e") {
			namespaces = append(namespaces, e.Name())
		}
	}
	var wg sync.WaitGroup
	for _, ns := range namespaces {
		var done chan struct{}
		for _, e := range own {
			if e.Namespace == ns && e.done != nil {
				done = e.done
			}
		}
		wg.Go(func() { stopNamespace(ns, done) })
	}
	wg.Wait()
	var errs []error
	for _, g := range cgroupDirs(base + "e*") {
		if err := removeCgroup(g); err != nil {
			errs = append(errs, err)
		}
	}
	for _, ns := range append(namespaces, base+"sw") {
		if _, err := os.Stat(filepath.Join(netnsDir, ns)); err == nil {
			errs = append(errs, run(context.Background(), []string{"netns", "del", ns}))
		}
	}
	// Deleting a namespace takes its end of the link with it, and the host
	// end follows asynchronously: gone by now is as good as deleted.
	link := filepath.Join("/sys/class/net", base+"h")
	if _, err := os.Stat(link); err == nil {
		if err := run(context.Background(), []string{"link", "del", base + "h"}); err != nil {
			if _, still := os.Stat(link); still == nil {
				errs = append(errs, err)
			}
		}
	}
	if err := os.RemoveAll(filepath.Join(dir, base)); err != nil {
		errs = append(errs, fmt.Errorf("engines: %w", err))
	}
	return errors.Join(errs...)
}

// stopNamespace sends SIGTERM to the dockerd in namespace ns, waits up to
// 15 s for it to end (done, when this process started it), then kills
// every process still in the namespace.
func stopNamespace(ns string, done chan struct{}) {
	pids, _ := namespacePIDs(ns)
	var daemons []int
	for _, pid := range pids {
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) == "dockerd" {
			daemons = append(daemons, pid)
			syscall.Kill(pid, syscall.SIGTERM)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	if done != nil {
		select {
		case <-done:
		case <-time.After(time.Until(deadline)):
		}
	}
	waitGone(daemons, deadline)
	pids, _ = namespacePIDs(ns)
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	waitGone(pids, time.Now().Add(5*time.Second))
	if done != nil {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}
}

// waitGone waits until none of pids runs any more (ended or a zombie).
func waitGone(pids []int, deadline time.Time) {
	for _, pid := range pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

// namespacePIDs lists the processes whose network namespace is ns.
func namespacePIDs(ns string) ([]int, error) {
	var want syscall.Stat_t
	if err := syscall.Stat(filepath.Join(netnsDir, ns), &want); err != nil {
		return nil, fmt.Errorf("engines: namespace %s: %w", ns, err)
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", pid), &st) == nil && st.Ino == want.Ino && st.Dev == want.Dev {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// cgroupDirs lists the cgroup folders whose name matches pattern, in every
// hierarchy, up to three levels down: a relative --cgroup-parent lands
// below the cgroup dockerd was started in, which differs per controller
// when this process runs in a nested cgroup (as under a session manager).
func cgroupDirs(pattern string) []string {
	roots := []string{"/sys/fs/cgroup"}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
		roots, _ = filepath.Glob("/sys/fs/cgroup/*") // v1: one hierarchy per folder
	}
	var dirs []string
	for _, root := range roots {
		if fi, err := os.Lstat(root); err != nil || !fi.IsDir() {
			continue
		}
		depth := strings.Count(root, "/")
		filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() || path == root {
				return nil
			}
			if ok, _ := filepath.Match(pattern, d.Name()); ok {
				dirs = append(dirs, path)
				return filepath.SkipDir
			}
			if strings.Count(path, "/")-depth >= 3 {
				return filepath.SkipDir
			}
			return nil
		})
	}
	return dirs
}

// removeCgroup kills what still runs in a cgroup tree and removes its
// folders, deepest first.
func removeCgroup(root string) error {
	var dirs []string
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	for _, d := range dirs {
		procs, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		for _, f := range strings.Fields(string(procs)) {
			if pid, err := strconv.Atoi(f); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	slices.Reverse(dirs)
	deadline := time.Now().Add(5 * time.Second)
	for _, d := range dirs {
		for {
			err := syscall.Rmdir(d)
			if err == nil || errors.Is(err, syscall.ENOENT) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("engines: remove cgroup %s: %w", d, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}
