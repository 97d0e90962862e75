package plans

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/dockertest/engines"
)

// TestMain fails the package when a test leaves a goroutine running: every
// source, deploy and follower must stop when its context or engine ends.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(engines.Wrap(m), dockertest.LongLivedGoroutines()...)
}
