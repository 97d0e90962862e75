package dockertest

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Response is one request of a load: when it started and ended, the
// version that answered (the body of the demo service's /version) and how
// it failed, if it did.
type Response struct {
	Start, End time.Time
	Version    string
	Status     int
	Err        error // a connection error or a broken answer
}

// Failed reports whether the request did not get a 200.
func (r Response) Failed() bool { return r.Err != nil || r.Status != http.StatusOK }

// Load sends GET url at rate per second until stop is closed or max
// requests were sent, each in its own goroutine so a slow answer never
// lowers the rate, counts the answered ones in answered (when not nil),
// and returns every response in start order. Each request gives up after
// 10 seconds, so a load ends at most that long after stop.
func Load(url string, rate, max int, stop <-chan struct{}, answered *atomic.Int64) []Response {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	results := make([]Response, max)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	n := 0
	for ; n < max; n++ {
		select {
		case <-stop:
			wg.Wait()
			return results[:n]
		case <-tick.C:
		}
		wg.Add(1)
		go func(r *Response) {
			defer wg.Done()
			r.Start = time.Now()
			resp, err := client.Get(url)
			if err == nil {
				body, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				r.Status, r.Version, err = resp.StatusCode, strings.TrimSpace(string(body)), rerr
			}
			r.Err, r.End = err, time.Now()
			if answered != nil {
				answered.Add(1)
			}
		}(&results[n])
	}
	wg.Wait()
	return results[:n]
}

// LoadTally counts a load's responses: failed ones (Errors of them without
// any answer) and those of each version.
type LoadTally struct {
	Sent, Failed, Errors int
	Versions             map[string]int
}

// Tally counts responses.
func Tally(rs []Response) LoadTally {
	t := LoadTally{Sent: len(rs), Versions: map[string]int{}}
	for _, r := range rs {
		switch {
		case r.Err != nil:
			t.Failed++
			t.Errors++
		case r.Failed():
			t.Failed++
		default:
			t.Versions[r.Version]++
		}
	}
	return t
}
