// Package benchkit holds what the side-by-side benchmarks share: finding
// the module, building golive's programs and demo images for them and
// picking free ports.
package benchkit

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/golive/golive/docker/scratch"
)

// ModuleRoot is the directory of the golive module the benchmark runs in.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the golive module")
	}
	return filepath.Dir(mod), nil
}

// GoBuild builds package pkg of the module at root into out, with env added.
func GoBuild(root, out, pkg string, env ...string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	return nil
}

// FreePorts are n distinct TCP ports free on 127.0.0.1 a moment ago.
func FreePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// DemoApp builds the demo service of the module at root into dir, static
// and for linux/amd64, ready to be the only file of an image FROM scratch.
func DemoApp(root, dir string) (string, error) {
	app := filepath.Join(dir, "app")
	return app, GoBuild(root, app, "./examples/demo/app", "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
}

// Tarball writes images into one `docker load` tarball in dir.
func Tarball(dir string, images map[string]v1.Image) (string, error) {
	path := filepath.Join(dir, "images.tar")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := scratch.WriteTarball(f, images); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}
