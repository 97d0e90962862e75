package dockertest

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// StallingEngine sits between a client and the real Docker engine on a
// unix socket and, once Stall is called, stops passing anything on: the
// engine seems alive (connections open) but never answers, as a stalled
// daemon does.
type StallingEngine struct {
	Host string // unix:///…: point a client here

	ln      net.Listener
	stalled chan struct{}
	stall   sync.Once
	done    chan struct{}
	mu      sync.Mutex
	conns   []net.Conn
	closed  bool
	wg      sync.WaitGroup
}

// NewStallingEngine starts the proxy in front of DOCKER_HOST (a unix socket)
// or /var/run/docker.sock and stops it when the test ends.
func NewStallingEngine(t testing.TB) *StallingEngine {
	t.Helper()
	upstream := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		if !strings.HasPrefix(h, "unix://") {
			t.Skipf("the stalling engine needs a unix socket, DOCKER_HOST is %s", h)
		}
		upstream = strings.TrimPrefix(h, "unix://")
	}
	path := filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	s := &StallingEngine{Host: "unix://" + path, ln: ln, stalled: make(chan struct{}), done: make(chan struct{})}
	s.wg.Add(1)
	go s.serve(upstream)
	t.Cleanup(s.close)
	return s
}

// Stall makes the engine stop answering, for good.
func (s *StallingEngine) Stall() { s.stall.Do(func() { close(s.stalled) }) }

func (s *StallingEngine) serve(upstream string) {
	defer s.wg.Done()
	for {
		down, err := s.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("unix", upstream)
		if err != nil {
			down.Close()
			continue
		}
		s.mu.Lock()
		s.conns = append(s.conns, down, up)
		closed := s.closed
		s.mu.Unlock()
		if closed {
			down.Close()
			up.Close()
			return
		}
		s.wg.Add(2)
		go s.pipe(up, down)
		go s.pipe(down, up)
	}
}

// pipe copies src to dst until stalled, then holds what it read.
func (s *StallingEngine) pipe(dst, src net.Conn) {
	defer s.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-s.stalled:
			<-s.done
			return
		default:
		}
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (s *StallingEngine) close() {
	s.ln.Close()
	close(s.done)
	s.mu.Lock()
	s.closed = true
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
