// Command proxy measures how long a revert takes to put all of a
// service's traffic back on its previous version, from the revert call to
// the first of the requests (sent every 5 ms) after which every answer
// comes from the old version: golive's blue/green revert while the old
// version is warm, golive's stop-first revert of the same service without
// proxy:, and the raw floors of each (one `kamal-proxy deploy` exec that
// switches back; `docker stop` of the new container and `docker start` of
// the old one), alternating in the same run, n rounds, medians, p95 and
// ratios. It also counts the requests that failed during each deploy.
// `make bench-proxy` runs it; it needs a Docker engine and Go.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/golive/golive/docker"
)

func main() {
	n := flag.Int("n", 7, "rounds (each runs every contender once)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *n); err != nil {
		fmt.Fprintln(os.Stderr, "bench-proxy:", err)
		os.Exit(1)
	}
}

// The contenders, in the table's order.
const (
	blueGreen    = "golive blue/green, warm"
	blueGreenCLI = "  as a golive revert process"
	stopFirst    = "golive stop-first"
	rawSwitch    = "raw kamal-proxy deploy exec"
	rawStart     = "raw docker stop + start"
)

// bench is one run's setup: images, the proxy, plans, the raw containers.
type bench struct {
	id     string
	dir    string
	cli    *docker.Client
	images map[string]string // "1" → reference
	proxy  *docker.Proxy
	ports  struct{ proxy, direct, raw int }
	state  string
	bin    string            // the golive command
	plans  map[string]string // "bg1", "bg2", "sf1", "sf2" → plan file
	raw    map[string]string // "switch1", "switch2", "start1", "start2" → container ID
}

// outcome is one contender's measurements.
type outcome struct {
	revert      []time.Duration // revert call → all traffic on the old version
	call        []time.Duration // how long the revert call itself took
	deployFails []int           // failed requests during a deploy
	deploySent  []int
}

func run(ctx context.Context, n int) error {
	if n < 1 {
		return errors.New("-n must be at least 1")
	}
	b, err := setup(ctx)
	if b != nil {
		defer b.cleanup()
	}
	if err != nil {
		return err
	}
	results := map[string]*outcome{}
	for _, c := range []string{blueGreen, blueGreenCLI, stopFirst, rawSwitch, rawStart} {
		results[c] = &outcome{}
	}
	fmt.Fprintf(os.Stderr, "bench-proxy: %d rounds", n)
	order := []string{blueGreen, blueGreenCLI, stopFirst, rawSwitch, rawStart}
	for range n {
		fmt.Fprint(os.Stderr, ".")
		for _, who := range order {
			if err := b.round(ctx, who, results[who]); err != nil {
				return fmt.Errorf("%s: %w", who, err)
			}
		}
		// Each round starts with another contender, so none always runs first.
		order = append(order[1:], order[0])
	}
	fmt.Fprintln(os.Stderr)
	report(n, results)
	return nil
}

// round deploys version 2 and reverts to version 1 under load, once.
func (b *bench) round(ctx context.Context, who string, o *outcome) error {
	var url, host string
	var deploy, revert func() error
	switch who {
	case blueGreen:
		url = fmt.Sprintf("http://127.0.0.1:%d/version", b.ports.proxy)
		deploy = func() error { return b.apply(ctx, "bg2") }
		revert = func() error { return b.revert(ctx, "bg2") }
	case blueGreenCLI:
		url = fmt.Sprintf("http://127.0.0.1:%d/version", b.ports.proxy)
		deploy = func() error { return b.apply(ctx, "bg2") }
		revert = func() error {
			if out, err := exec.CommandContext(ctx, b.bin, "revert", b.plans["bg2"]).CombinedOutput(); err != nil {
				return fmt.Errorf("golive revert: %w\n%s", err, out)
			}
			return nil
		}
	case stopFirst:
		url = fmt.Sprintf("http://127.0.0.1:%d/version", b.ports.direct)
		deploy = func() error { return b.apply(ctx, "sf2") }
		revert = func() error { return b.revert(ctx, "sf2") }
	case rawSwitch:
		url, host = fmt.Sprintf("http://127.0.0.1:%d/version", b.ports.proxy), "floor.invalid"
		deploy = func() error { return b.switchTo(ctx, b.raw["switch2"]) }
		revert = func() error { return b.switchTo(ctx, b.raw["switch1"]) }
	case rawStart:
		url = fmt.Sprintf("http://127.0.0.1:%d/version", b.ports.raw)
		deploy = func() error {
			if err := b.cli.Stop(ctx, b.raw["start1"], 10); err != nil {
				return err
			}
			return b.cli.Start(ctx, b.raw["start2"])
		}
		revert = func() error {
			if err := b.cli.Stop(ctx, b.raw["start2"], 10); err != nil {
				return err
			}
			return b.cli.Start(ctx, b.raw["start1"])
		}
	}
	p := startPoll(url, host)
	time.Sleep(200 * time.Millisecond)
	from := time.Now()
	err := deploy()
	to := time.Now()
	time.Sleep(500 * time.Millisecond)
	rs := p.end()
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	sent, failed := 0, 0
	for _, r := range rs {
		if r.start.Before(from) || r.start.After(to) {
			continue
		}
		sent++
		if r.version == "" {
			failed++
		}
	}
	o.deploySent, o.deployFails = append(o.deploySent, sent), append(o.deployFails, failed)
	if who == rawStart {
		// The raw floor waits for the old version to listen, as a gate would,
		// before the revert starts.
		if err := waitVersion(ctx, url, "2"); err != nil {
			return err
		}
	}

	p = startPoll(url, host)
	time.Sleep(300 * time.Millisecond)
	from = time.Now()
	err = revert()
	to = time.Now()
	if err != nil {
		p.end()
		return fmt.Errorf("revert: %w", err)
	}
	if err := waitVersion(ctx, url, "1", host); err != nil {
		p.end()
		return err
	}
	time.Sleep(300 * time.Millisecond)
	rs = p.end()
	// The last request started after the call that old version 1 did not
	// answer: every one after it did.
	last := from
	for _, r := range rs {
		if r.version != "1" && r.start.After(last) {
			last = r.start
		}
	}
	if last.After(to.Add(2 * time.Second)) {
		return fmt.Errorf("revert: requests were still not answered by version 1 %s after the call returned", last.Sub(to).Round(time.Millisecond))
	}
	o.revert = append(o.revert, last.Sub(from))
	o.call = append(o.call, to.Sub(from))
	return nil
}

// response is one poll: when it started and the version that answered
// ("" when it failed).
type response struct {
	start   time.Time
	version string
}

// poll sends GET url (with Host host, when set) every 5 ms until ended.
type poll struct {
	stop chan struct{}
	done chan []response
}

func startPoll(url, host string) *poll {
	p := &poll{stop: make(chan struct{}), done: make(chan []response)}
	go func() {
		tr := &http.Transport{MaxIdleConnsPerHost: 64}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		var mu sync.Mutex
		var rs []response
		var wg sync.WaitGroup
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				wg.Wait()
				slices.SortFunc(rs, func(a, b response) int { return a.start.Compare(b.start) })
				p.done <- rs
				return
			case <-tick.C:
			}
			wg.Go(func() {
				r := response{start: time.Now(), version: get(c, url, host)}
				mu.Lock()
				rs = append(rs, r)
				mu.Unlock()
			})
		}
	}()
	return p
}

func (p *poll) end() []response {
	close(p.stop)
	return <-p.done
}

// get returns the version that answered GET url, or "" when none did.
func get(c *http.Client, url, host string) string {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return ""
	}
	if host != "" {
		req.Host = host
	}
	resp, err := c.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return ""
	}
	return strings.TrimSpace(string(body))
}

// waitVersion waits until version answers GET url.
func waitVersion(ctx context.Context, url, version string, host ...string) error {
	c := &http.Client{Timeout: time.Second}
	h := ""
	if len(host) > 0 {
		h = host[0]
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if get(c, url, h) == version {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return fmt.Errorf("version %s does not answer %s after 30s", version, url)
}
