// Package engines starts extra Docker engines on this machine, for tests
// and demos that need several hosts: each engine runs in its own network
// namespace with its own data root, exec root, cgroup parent and bridge,
// behind a "switch" namespace that the host joins, so the host reaches
// engine N at 10.S.0.(10+N) (tcp port 2375, no TLS) and by its unix socket.
//
// The machine's own engine is never touched, and no engine ever runs in
// the host's network namespace (it would take over or delete docker0).
// A run owns the whole 10.S.0.0/16 ("slot" S, 200-249) while it holds the
// slot's lock file: 10.S.0.0/24 is the switch, 10.S.N.0/24 engine N's
// bridge, 10.S.16N.0/20 its address pool; 10.S.128.0/17 is left free for
// Swarm overlay pools.
package engines

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// MaxEngines is the most engines one Set can hold (the address plan's limit).
const MaxEngines = 15

// Config says which engines to start and where.
type Config struct {
	// Count is how many engines to start, 1 to MaxEngines.
	Count int
	// Prefix names every namespace, link, folder and cgroup of the set
	// ("glt" for tests); runs with different prefixes never clean each other up.
	Prefix string
	// Dir holds each engine's data root, exec root, socket and log; default DefaultDir.
	Dir string
	// Slot is the second octet of the set's 10.S.0.0/16; 0 picks a free one.
	Slot int
	// Detach lets the engines outlive this process (for a human's demo);
	// otherwise they get SIGTERM when it dies.
	Detach bool
	// TLS makes every engine listen on port 2376 with TLS and client
	// certificates (Set.CertDir) instead of plain TCP on 2375.
	TLS bool
}

// DefaultDir is where engines keep their files unless Config.Dir says otherwise.
const DefaultDir = "/run/golive-engines"

// Engine is one running dockerd.
type Engine struct {
	// Index is N, from 1.
	Index int
	// Name is the engine's host name, as `docker info` reports it.
	Name string
	// Namespace is the network namespace it runs in.
	Namespace string
	// Addr is its address on the switch, reachable from the host.
	Addr string
	// Dir holds its data root, exec root, socket, pid file and log.
	Dir string
	// StartTime is how long it took from exec to answering on its socket.
	StartTime time.Duration

	tls  bool
	cmd  *exec.Cmd
	done chan struct{}
}

// TCP is the engine's tcp:// URL: port 2375, or 2376 with TLS.
func (e *Engine) TCP() string {
	if e.tls {
		return "tcp://" + net.JoinHostPort(e.Addr, "2376")
	}
	return "tcp://" + net.JoinHostPort(e.Addr, "2375")
}

// Socket is the path of the engine's unix socket.
func (e *Engine) Socket() string { return filepath.Join(e.Dir, "docker.sock") }

// Unix is the engine's unix:// URL.
func (e *Engine) Unix() string { return "unix://" + e.Socket() }

// Memory is the resident memory of every process in the engine's network
// namespace: dockerd, its containerd and the containers' shims.
func (e *Engine) Memory() (int64, error) {
	pids, err := namespacePIDs(e.Namespace)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, pid := range pids {
		total += residentBytes(pid)
	}
	return total, nil
}

// Set is a group of engines started together, with their switch.
type Set struct {
	// Engines are the running engines, Engines[0] being N=1.
	Engines []*Engine
	// Slot is S in 10.S.0.0/16.
	Slot int
	// HostAddr is the host's address on the switch (10.S.0.1), where a
	// registry for the engines can listen.
	HostAddr string
	// CertDir holds the client's ca.pem, cert.pem and key.pem when the
	// engines speak TLS (Config.TLS).
	CertDir string

	cfg  Config
	lock *os.File
}

// Start cleans up what crashed runs with the same prefix left, then
// creates the switch and starts cfg.Count engines in parallel, each ready
// to answer when Start returns. On error nothing of the set is left.
func Start(ctx context.Context, cfg Config) (*Set, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if cfg.Count < 1 || cfg.Count > MaxEngines {
		return nil, fmt.Errorf("engines: count %d: start 1 to %d engines", cfg.Count, MaxEngines)
	}
	if cfg.Prefix == "" || len(cfg.Prefix) > 5 || strings.ContainsAny(cfg.Prefix, "0123456789/ ") {
		return nil, fmt.Errorf("engines: prefix %q: use 1 to 5 letters", cfg.Prefix)
	}
	if cfg.Dir == "" {
		cfg.Dir = DefaultDir
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("engines: %w", err)
	}
	if err := Clean(cfg.Prefix, cfg.Dir); err != nil {
		return nil, err
	}
	slot, lock, err := claimSlot(cfg)
	if err != nil {
		return nil, err
	}
	s := &Set{Slot: slot, HostAddr: fmt.Sprintf("10.%d.0.1", slot), cfg: cfg, lock: lock}
	if err := s.start(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Set) name(suffix string) string { return fmt.Sprintf("%s%d%s", s.cfg.Prefix, s.Slot, suffix) }

func (s *Set) start(ctx context.Context) error {
	sw, hostLink := s.name("sw"), s.name("h")
	if err := run(ctx,
		[]string{"netns", "add", sw},
		[]string{"-n", sw, "link", "add", "br0", "type", "bridge"},
		[]string{"-n", sw, "link", "set", "br0", "up"},
		[]string{"link", "add", hostLink, "type", "veth", "peer", "name", "host", "netns", sw},
		[]string{"addr", "add", s.HostAddr + "/24", "dev", hostLink},
		[]string{"link", "set", hostLink, "up"},
		[]string{"-n", sw, "link", "set", "host", "master", "br0", "up"},
	); err != nil {
		return err
	}
	dir := filepath.Join(s.cfg.Dir, s.name(""))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("engines: %w", err)
	}
	config := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(config, []byte("{}\n"), 0o600); err != nil {
		return fmt.Errorf("engines: %w", err)
	}
	for n := 1; n <= s.cfg.Count; n++ {
		s.Engines = append(s.Engines, &Engine{
			Index:     n,
			Name:      s.name(fmt.Sprintf("e%d", n)),
			Namespace: s.name(fmt.Sprintf("e%d", n)),
			Addr:      fmt.Sprintf("10.%d.0.%d", s.Slot, 10+n),
			Dir:       filepath.Join(dir, fmt.Sprintf("e%d", n)),
			tls:       s.cfg.TLS,
		})
	}
	if s.cfg.TLS {
		s.CertDir = filepath.Join(dir, "client")
		if err := writeCerts(s.CertDir, s.Engines); err != nil {
			return fmt.Errorf("engines: TLS certificates: %w", err)
		}
	}
	errs := make([]error, len(s.Engines))
	var wg sync.WaitGroup
	for i, e := range s.Engines {
		wg.Go(func() { errs[i] = s.startEngine(ctx, e, config) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *Set) startEngine(ctx context.Context, e *Engine, config string) error {
	sw := s.name("sw")
	link := fmt.Sprintf("e%d", e.Index)
	if err := run(ctx,
		[]string{"netns", "add", e.Namespace},
		[]string{"-n", sw, "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", e.Namespace},
		[]string{"-n", sw, "link", "set", link, "master", "br0", "up"},
		[]string{"-n", e.Namespace, "addr", "add", e.Addr + "/24", "dev", "eth0"},
		[]string{"-n", e.Namespace, "link", "set", "eth0", "up"},
		[]string{"-n", e.Namespace, "link", "set", "lo", "up"},
	); err != nil {
		return err
	}
	if err := os.MkdirAll(e.Dir, 0o700); err != nil {
		return fmt.Errorf("engines: %w", err)
	}
	logFile, err := os.Create(filepath.Join(e.Dir, "dockerd.log"))
	if err != nil {
		return fmt.Errorf("engines: %w", err)
	}
	defer logFile.Close()
	n := e.Index
	args := []string{"nsenter", "--net=/run/netns/" + e.Namespace,
		"unshare", "--mount", "--uts", "--propagation", "slave",
		"sh", "-c", `hostname "$0" && exec "$@"`, e.Name,
		"dockerd",
		"--config-file", config,
		"--data-root", filepath.Join(e.Dir, "data"),
		"--exec-root", filepath.Join(e.Dir, "exec"),
		"--pidfile", filepath.Join(e.Dir, "docker.pid"),
		"-H", e.Unix(),
		"-H", e.TCP(),
		"--storage-driver=overlay2",
		"--cgroup-parent", e.Namespace,
		"--bip", fmt.Sprintf("10.%d.%d.1/24", s.Slot, n),
		"--default-address-pool", fmt.Sprintf("base=10.%d.%d.0/20,size=24", s.Slot, 16*n),
		"--insecure-registry", fmt.Sprintf("10.%d.0.0/24", s.Slot),
	}
	if e.tls {
		args = append(args, "--tlsverify",
			"--tlscacert", filepath.Join(s.CertDir, "ca.pem"),
			"--tlscert", filepath.Join(e.Dir, "server-cert.pem"),
			"--tlskey", filepath.Join(e.Dir, "server-key.pem"))
	} else {
		args = append(args, "--tls=false")
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1"}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if !s.cfg.Detach {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
	}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("engines: start %s: %w", e.Name, err)
	}
	e.cmd, e.done = cmd, make(chan struct{})
	go func() {
		cmd.Wait()
		close(e.done)
	}()
	if err := waitReady(ctx, e, 30*time.Second); err != nil {
		return err
	}
	e.StartTime = time.Since(began)
	return nil
}

// waitReady polls the engine's socket until it answers /_ping, its
// process ends or the limit passes.
func waitReady(ctx context.Context, e *Engine, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		if ping(ctx, e.Socket()) {
			return nil
		}
		select {
		case <-e.done:
			return fmt.Errorf("engines: dockerd %s exited at start: %s", e.Name, logTail(e))
		case <-ctx.Done():
			return fmt.Errorf("engines: dockerd %s not ready after %s: %s", e.Name, limit, logTail(e))
		case <-tick.C:
		}
	}
}

func ping(ctx context.Context, socket string) bool {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("GET /_ping HTTP/1.0\r\n\r\n")); err != nil {
		return false
	}
	status, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.Contains(status, " 200 ")
}

func logTail(e *Engine) string {
	b, _ := os.ReadFile(filepath.Join(e.Dir, "dockerd.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return "last log lines: " + strings.Join(lines, " | ")
}

// Stop stops every engine in parallel (SIGTERM, then SIGKILL after 15 s),
// removes their containers' cgroups, namespaces and files, and frees the
// slot. Stopping twice is harmless.
func (s *Set) Stop() error {
	if s.lock == nil {
		return nil
	}
	err := cleanSlot(s.cfg.Prefix, s.cfg.Dir, s.Slot, s.Engines)
	s.lock.Close()
	s.lock = nil
	return err
}

// run runs each `ip` command in turn, stopping at the first failure.
func run(ctx context.Context, cmds ...[]string) error {
	for _, args := range cmds {
		if out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("engines: ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// Available says why engines cannot start here, or nil when they can.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("extra Docker engines need root (network namespaces)")
	}
	for _, tool := range []string{"ip", "nsenter", "unshare", "dockerd"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("extra Docker engines need %s on PATH", tool)
		}
	}
	if !hasCapabilities(capNetAdmin, capSysAdmin) {
		return errors.New("extra Docker engines need CAP_NET_ADMIN and CAP_SYS_ADMIN (this looks like an unprivileged container)")
	}
	return nil
}

const (
	capNetAdmin = 12
	capSysAdmin = 21
)

// hasCapabilities reports whether this process holds every capability bit given.
func hasCapabilities(bits ...uint) bool {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "CapEff:"); ok {
			eff, err := strconv.ParseUint(strings.TrimSpace(rest), 16, 64)
			if err != nil {
				return false
			}
			for _, b := range bits {
				if eff&(1<<b) == 0 {
					return false
				}
			}
			return true
		}
	}
	return false
}

func residentBytes(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// Abandon lets go of the set as if this process had died: the engines keep
// running and the slot's lock is released, so Clean treats it as a
// crashed run's leftovers. For testing Clean.
func (s *Set) Abandon() {
	s.lock.Close()
	s.lock = nil
}
