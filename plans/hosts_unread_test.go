package plans_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/plans"
)

// unreadable is a host whose containers cannot be listed (its engine went away).
type unreadable struct{ plans.Docker }

func (unreadable) List(context.Context, map[string]string) ([]docker.Container, error) {
	return nil, errors.New("Cannot connect to the Docker daemon")
}

// TestHostsRevertNamesAHostItCannotRead: when one host cannot be read, the
// revert's start says so instead of "0 hosts", and the revert ends
// incomplete naming it, after putting back the hosts that answer.
func TestHostsRevertNamesAHostItCannotRead(t *testing.T) {
	f := newHostsFixture(t)
	for _, v := range []string{"1", "2"} {
		if err := f.apply(f.plan(v, "")); err != nil {
			t.Fatal(err)
		}
	}
	hosts := map[string]plans.Docker{}
	for name, c := range f.clients {
		hosts[name] = c
	}
	hosts["h2"] = unreadable{f.clients["h2"]}
	var start string
	e := plans.NewEngine(f.plan("2", ""), plans.Options{Hosts: hosts, StateDir: filepath.Join(f.dir, ".golive"), Actor: "tester@ci", OnEvent: func(ev plans.Event) {
		if ev.Kind == plans.EvRevertStart && ev.Host == "" {
			start = ev.Message
		}
	}})
	t.Cleanup(e.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := e.Revert(ctx)
	if err == nil || !strings.Contains(err.Error(), "host h2") {
		t.Errorf("the revert should end incomplete naming h2: %v", err)
	}
	if want := "2 hosts, in order: h3, h1; not read (what they run is unknown): h2"; start != want {
		t.Errorf("revert start %q, want %q", start, want)
	}
	if got := f.running(); got["h1"] != f.want("1")["h1"] || got["h3"] != f.want("1")["h3"] {
		t.Errorf("h1 and h3 should run v1 again: %v", got)
	}
}
