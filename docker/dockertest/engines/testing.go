package engines

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// TestPrefix names what the shared test engines create, so a test run
// cleans up after a crashed test run but never touches a demo's engines.
const TestPrefix = "glt"

var shared struct {
	once sync.Once
	set  *Set
	err  error
}

// Get returns the engines shared by this test binary, starting count of
// them on first use; it skips the test with a one-line reason when they
// cannot run here (not root, a tool missing). The binary's TestMain must
// use Main or Wrap so they are stopped at the end.
func Get(t testing.TB, count int) *Set {
	t.Helper()
	if err := Available(); err != nil {
		t.Skip(err.Error())
	}
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		shared.set, shared.err = Start(ctx, Config{Count: count, Prefix: TestPrefix})
	})
	if shared.err != nil {
		t.Fatalf("start %d Docker engines: %v", count, shared.err)
	}
	if len(shared.set.Engines) < count {
		t.Fatalf("this test binary started %d engines and this test wants %d: ask for the largest count first", len(shared.set.Engines), count)
	}
	return shared.set
}

// Runner is what testing.M and goleak.VerifyTestMain have in common.
type Runner interface{ Run() int }

type stopAfter struct{ m Runner }

func (w stopAfter) Run() int {
	code := w.m.Run()
	if shared.set != nil {
		if err := shared.set.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop the test Docker engines:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// Wrap returns m whose Run also stops the shared engines afterwards, for
// goleak.VerifyTestMain(engines.Wrap(m), ...).
func Wrap(m Runner) Runner { return stopAfter{m} }

// Main runs the tests and stops the shared engines; call it from TestMain.
func Main(m *testing.M) { os.Exit(Wrap(m).Run()) }
