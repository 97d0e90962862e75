package docker_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
)

func TestCallsToAStalledEngineEndInAnErrorThatNamesTheCall(t *testing.T) {
	engine := dockertest.NewStallingEngine(t)
	ctx := context.Background()
	cli, err := docker.Connect(ctx, engine.Host)
	if err != nil {
		t.Fatalf("connect through the proxy: %v", err)
	}
	defer cli.Close()
	cli.SetTimeouts(docker.Timeouts{Query: time.Second, Change: time.Second, StopMargin: time.Second, Idle: time.Second})
	if _, err := cli.Inspect(ctx, "golive-no-such-container"); err != nil {
		t.Fatalf("inspect before the stall: %v", err)
	}
	engine.Stall()
	calls := []struct {
		name string
		call func() error
		want string
	}{
		{"inspect", func() error { _, err := cli.Inspect(ctx, "golive-x"); return err }, "inspect container golive-x: no answer from the Docker engine within 1s"},
		{"list", func() error { _, err := cli.List(ctx, map[string]string{"io.golive.project": "x"}); return err }, "list containers: no answer from the Docker engine within 1s"},
		{"stop", func() error { return cli.Stop(ctx, "golive-x", 1) }, "stop container golive-x: no answer from the Docker engine within 2s"},
		{"remove", func() error { return cli.Remove(ctx, "golive-x") }, "remove container golive-x: no answer"},
		{"image", func() error { _, err := cli.ImageID(ctx, "golive-x:1"); return err }, "inspect image golive-x:1: no answer"},
		{"pull", func() error { return cli.Pull(ctx, "127.0.0.1:1/golive-x:1", nil) }, "pull 127.0.0.1:1/golive-x:1: no progress from the Docker engine for 1s"},
		{"log tail", func() error { _, err := cli.LastLines(ctx, "golive-x", 5); return err }, "logs of container golive-x: no answer"},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "it may be stalled") {
				t.Fatalf("error = %v, want one containing %q", err, c.want)
			}
			var te *docker.TimeoutError
			if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v is not a docker.TimeoutError and a deadline", err)
			}
		})
	}
}
