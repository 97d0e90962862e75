package docker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/scratch"
)

func TestCheckImageOnTheRealEngineAndAnInProcessRegistry(t *testing.T) {
	cli := dockertest.Client(t)
	project := dockertest.Project(t, cli)
	reg := dockertest.Registry(t)
	local := dockertest.ImageRef(project, "api:1")
	dockertest.LoadDemoImage(t, cli, local, scratch.Config{Env: []string{"VERSION=1"}})
	pushed := reg + "/" + project + "/api:7"
	dockertest.Push(t, pushed, scratch.Config{Env: []string{"VERSION=7"}})
	closed := fmt.Sprintf("127.0.0.1:%d", dockertest.FreePort(t))
	tests := []struct {
		name string
		ref  string
		want docker.Availability
	}{
		{"an image the engine has", local, docker.ImagePresent},
		{"an image only the registry has", pushed, docker.ImageInRegistry},
		{"a tag the registry lacks", reg + "/" + project + "/api:8", docker.ImageMissing},
		{"a repository the registry lacks", reg + "/" + project + "/nothing:1", docker.ImageMissing},
		{"a registry that does not answer", closed + "/" + project + "/api:1", docker.ImageUnchecked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			got, err := cli.CheckImage(ctx, tt.ref)
			t.Logf("%s: %v, %v", tt.ref, got, err)
			if got != tt.want {
				t.Fatalf("availability %d (%v), want %d", got, err, tt.want)
			}
			if (err != nil) != (tt.want == docker.ImageMissing || tt.want == docker.ImageUnchecked) {
				t.Fatalf("error %v with availability %d", err, got)
			}
		})
	}
	if id, _ := cli.ImageID(context.Background(), pushed); id != "" {
		t.Fatal("checking an image pulled it")
	}
}
