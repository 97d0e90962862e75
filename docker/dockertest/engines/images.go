package engines

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/golive/golive/docker"
)

// LoadTarball loads a `docker save` tarball into every engine in parallel.
func (s *Set) LoadTarball(ctx context.Context, path string) error {
	errs := make([]error, len(s.Engines))
	var wg sync.WaitGroup
	for i, e := range s.Engines {
		wg.Go(func() {
			cli, err := docker.ConnectHost(ctx, e.Unix(), docker.HostOptions{})
			if err != nil {
				errs[i] = err
				return
			}
			defer cli.Close()
			if _, err := cli.Load(ctx, path); err != nil {
				errs[i] = fmt.Errorf("engine %s: %w", e.Name, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// LoadImages copies images from the engine the docker CLI talks to (the
// machine's own, which `docker save` only reads) into every engine.
func (s *Set) LoadImages(ctx context.Context, refs ...string) error {
	dir, err := os.MkdirTemp("", "golive-engines-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tarball := filepath.Join(dir, "images.tar")
	cmd := exec.CommandContext(ctx, "docker", append([]string{"save", "-o", tarball}, refs...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("engines: docker save %s: %v: %s", strings.Join(refs, " "), err, strings.TrimSpace(string(out)))
	}
	return s.LoadTarball(ctx, tarball)
}
