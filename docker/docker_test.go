package docker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/dockertest"
	"github.com/golive/golive/docker/scratch"
)

func TestParsePort(t *testing.T) {
	tests := []struct {
		in   string
		want docker.Port
		err  string
	}{
		{in: "8080", want: docker.Port{ContainerPort: "8080", Proto: "tcp"}},
		{in: "80:8080", want: docker.Port{HostPort: "80", ContainerPort: "8080", Proto: "tcp"}},
		{in: "127.0.0.1:80:8080/udp", want: docker.Port{HostIP: "127.0.0.1", HostPort: "80", ContainerPort: "8080", Proto: "udp"}},
		{in: "[::1]:80:8080", want: docker.Port{HostIP: "::1", HostPort: "80", ContainerPort: "8080", Proto: "tcp"}},
		{in: "99999", err: `port "99999": "99999" is not a port number (1-65535)`},
		{in: "localhost:80:80", err: `port "localhost:80:80": "localhost" is not an IP address`},
		{in: "80/icmp", err: `port "80/icmp": protocol must be tcp, udp or sctp`},
		{in: "1:2:3:4", err: `port "1:2:3:4": expected [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTO]`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := docker.ParsePort(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error = %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestRealEngineRunsAScratchImageWithAPublishedPort(t *testing.T) {
	cli := dockertest.Client(t)
	project := dockertest.Project(t, cli)
	ctx := context.Background()
	ref := dockertest.ImageRef(project, "api:1")
	dockertest.LoadDemoImage(t, cli, ref, scratch.Config{Env: []string{"VERSION=1"}})
	port := dockertest.FreePort(t)
	id, err := cli.Create(ctx, docker.Spec{
		Name: project + "-api", Image: ref,
		Ports:  []docker.Port{{HostIP: "127.0.0.1", HostPort: fmt.Sprint(port), ContainerPort: "8080", Proto: "tcp"}},
		Labels: map[string]string{"io.golive.project": project},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	body := waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/version", port))
	if body != "1\n" {
		t.Fatalf("version = %q, want 1", body)
	}
	ct, err := cli.Inspect(ctx, project+"-api")
	if err != nil || ct == nil || !ct.Running {
		t.Fatalf("inspect: %+v %v", ct, err)
	}
	if len(ct.Spec.Ports) != 1 || ct.Spec.Ports[0].HostPort != fmt.Sprint(port) {
		t.Fatalf("spec ports = %+v", ct.Spec.Ports)
	}
	lines, err := cli.LastLines(ctx, id, 5)
	if err != nil || len(lines) == 0 || !strings.Contains(lines[0], "starting api version=1") {
		t.Fatalf("last lines = %q, %v", lines, err)
	}
}

func TestLockIsExclusiveAndNamesItsHolder(t *testing.T) {
	cli := dockertest.Client(t)
	project := dockertest.Project(t, cli)
	ctx := context.Background()
	name := "golive-lock-" + project
	since := time.Now()
	if err := cli.AcquireLock(ctx, name, docker.LockInfo{Holder: "alice@ops1", Since: since, Operation: "apply"}, map[string]string{"io.golive.project": project}); err != nil {
		t.Fatal(err)
	}
	err := cli.AcquireLock(ctx, name, docker.LockInfo{Holder: "bob@ops2", Since: time.Now(), Operation: "apply"}, nil)
	var held *docker.HeldError
	if !errors.As(err, &held) || held.Holder != "alice@ops1" || held.Operation != "apply" {
		t.Fatalf("second acquire: %v", err)
	}
	if !strings.Contains(err.Error(), "alice@ops1") || !strings.Contains(err.Error(), "golive unlock") {
		t.Fatalf("message does not name the holder and the way out: %v", err)
	}
	if err := cli.ReleaseLock(ctx, name); err != nil {
		t.Fatal(err)
	}
	if info, err := cli.Lock(ctx, name); err != nil || info != nil {
		t.Fatalf("lock after release: %+v %v", info, err)
	}
	if err := cli.ReleaseLock(ctx, name); err != nil {
		t.Fatalf("releasing a free lock: %v", err)
	}
}

func TestPullFromAnInProcessRegistryReportsProgress(t *testing.T) {
	cli := dockertest.Client(t)
	project := dockertest.Project(t, cli)
	reg := dockertest.Registry(t)
	ref := reg + "/" + project + "/api:7"
	dockertest.Push(t, ref, scratch.Config{Env: []string{"VERSION=7"}})
	t.Cleanup(func() { cli.RemoveImage(context.Background(), ref) })
	var updates int
	if err := cli.Pull(context.Background(), ref, func(docker.PullProgress) { updates++ }); err != nil {
		t.Fatal(err)
	}
	if id, _ := cli.ImageID(context.Background(), ref); id == "" || updates == 0 {
		t.Fatalf("image id %q after %d progress updates", id, updates)
	}
	err := cli.Pull(context.Background(), reg+"/"+project+"/missing:1", nil)
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("pull of a missing image: %v", err)
	}
}

func waitHTTP(t *testing.T, url string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
