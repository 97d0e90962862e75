package dockertest

import (
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
)

// CuttingEngine sits between a client and a Docker engine's unix socket
// and can cut the link: Cut closes every connection and stops listening,
// as a lost network does to a remote engine; Restore listens again.
type CuttingEngine struct {
	Host string // unix:///…: point a client here

	path, upstream string
	mu             sync.Mutex
	ln             net.Listener
	conns          map[net.Conn]bool
	wg             sync.WaitGroup
}

// NewCuttingEngine starts the proxy in front of the engine socket upstream
// (a path) and stops it when the test ends.
func NewCuttingEngine(t testing.TB, upstream string) *CuttingEngine {
	t.Helper()
	c := &CuttingEngine{path: filepath.Join(t.TempDir(), "docker.sock"), upstream: upstream, conns: map[net.Conn]bool{}}
	c.Host = "unix://" + c.path
	if err := c.Restore(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Cut(); c.wg.Wait() })
	return c
}

// Cut closes every connection through the proxy and refuses new ones.
func (c *CuttingEngine) Cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ln != nil {
		c.ln.Close()
		c.ln = nil
	}
	for conn := range c.conns {
		conn.Close()
	}
	clear(c.conns)
}

// Restore accepts connections again after Cut.
func (c *CuttingEngine) Restore() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ln != nil {
		return nil
	}
	ln, err := net.Listen("unix", c.path)
	if err != nil {
		return err
	}
	c.ln = ln
	c.wg.Add(1)
	go c.serve(ln)
	return nil
}

func (c *CuttingEngine) serve(ln net.Listener) {
	defer c.wg.Done()
	for {
		down, err := ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("unix", c.upstream)
		if err != nil {
			down.Close()
			continue
		}
		c.mu.Lock()
		if c.ln != ln {
			c.mu.Unlock()
			down.Close()
			up.Close()
			return
		}
		c.conns[down], c.conns[up] = true, true
		c.mu.Unlock()
		c.wg.Add(2)
		go c.pipe(up, down)
		go c.pipe(down, up)
	}
}

func (c *CuttingEngine) pipe(dst, src net.Conn) {
	defer c.wg.Done()
	io.Copy(dst, src)
	dst.Close()
	src.Close()
	c.mu.Lock()
	delete(c.conns, dst)
	delete(c.conns, src)
	c.mu.Unlock()
}
