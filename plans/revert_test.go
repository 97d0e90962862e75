package plans

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
)

// An automatic revert that could not even begin, because the Docker
// engine stayed away past the retries, is incomplete like one cut short:
// the operator is told the command that finishes it.
func TestARevertThatCouldNotBeginTellsHowToFinish(t *testing.T) {
	e := &Engine{plan: &Plan{Path: "/srv/shop/plan.yaml"}}
	lost := fmt.Errorf("list containers: %w", syscall.ECONNRESET)
	err := e.asIncomplete("run1", lost)
	var rerr *RevertError
	if !errors.As(err, &rerr) {
		t.Fatalf("got %T %v, want a *RevertError", err, err)
	}
	if !errors.Is(err, syscall.ECONNRESET) || !strings.Contains(err.Error(), "golive revert /srv/shop/plan.yaml") {
		t.Errorf("the error hides its cause or the command that finishes it: %v", err)
	}
	for _, keep := range []error{nil, ErrNothingToRevert, rerr} {
		if got := e.asIncomplete("run1", keep); got != keep {
			t.Errorf("asIncomplete(%v) = %v, want it unchanged", keep, got)
		}
	}
}
