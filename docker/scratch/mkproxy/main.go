// Command mkproxy builds kamal-proxy at the version go.mod pins, as an image
// FROM scratch tagged golive/kamal-proxy:VERSION, and loads it into the
// Docker engine (DOCKER_HOST, else the local socket): no registry needed.
// `make proxy-image` runs it.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/scratch"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mkproxy:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "golive-proxy-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tarball := filepath.Join(dir, "image.tar")
	if err := scratch.WriteProxyTarball(ctx, ".", tarball); err != nil {
		return fmt.Errorf("%w (run from the golive repository)", err)
	}
	cli, err := docker.Connect(ctx, "")
	if err != nil {
		return err
	}
	defer cli.Close()
	if _, err := cli.Load(ctx, tarball); err != nil {
		return err
	}
	fmt.Println("loaded", scratch.ProxyRef)
	return nil
}
