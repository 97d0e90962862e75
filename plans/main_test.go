package plans

import (
	"flag"
	"testing"

	"go.uber.org/goleak"

	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/dockertest/engines"
)

// dockerParallel is how many parallel tests run at once unless -parallel
// says otherwise: the real-engine tests spend their time waiting on
// health windows and container starts, not on the CPU, so the default
// (GOMAXPROCS, 2 on the CI machine) would leave the package mostly idle.
const dockerParallel = "4"

// TestMain fails the package when a test leaves a goroutine running: every
// source, deploy and follower must stop when its context or engine ends.
func TestMain(m *testing.M) {
	flag.Parse()
	if !parallelGiven() {
		flag.Set("test.parallel", dockerParallel)
	}
	goleak.VerifyTestMain(engines.Wrap(m), dockertest.LongLivedGoroutines()...)
}

// parallelGiven tells whether -parallel was on the command line.
func parallelGiven() bool {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	return given
}
