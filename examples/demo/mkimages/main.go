// Command mkimages builds the demo images FROM scratch out of the demo
// service and loads them into the local Docker engine: no registry needed.
//
//	golive-demo/api:1  golive-demo/api:2 (logs an "Unknown column" error now and then)
//	golive-demo/web:1  golive-demo/web:2
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/docker/scratch"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mkimages:", err)
		os.Exit(1)
	}
}

func run() error {
	dir, err := os.MkdirTemp("", "golive-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "app")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./examples/demo/app")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build the demo service (run from the repository root): %w", err)
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	images := map[string]v1.Image{}
	for ref, env := range map[string][]string{
		"golive-demo/api:1": {"VERSION=1", "ROLE=api", "ERROR_RATE=0"},
		"golive-demo/api:2": {"VERSION=2", "ROLE=api", "ERROR_RATE=0.15"},
		"golive-demo/web:1": {"VERSION=1", "ROLE=web", "ERROR_RATE=0"},
		"golive-demo/web:2": {"VERSION=2", "ROLE=web", "ERROR_RATE=0.02"},
	} {
		img, err := scratch.Image(binary, scratch.Config{Env: env, Labels: map[string]string{"org.opencontainers.image.title": "golive demo " + ref}})
		if err != nil {
			return err
		}
		images[ref] = img
	}
	tarball := filepath.Join(dir, "images.tar")
	f, err := os.Create(tarball)
	if err != nil {
		return err
	}
	if err := scratch.WriteTarball(f, images); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cli, err := docker.Connect(ctx, "")
	if err != nil {
		return err
	}
	defer cli.Close()
	loaded, err := cli.Load(ctx, tarball)
	if err != nil {
		return err
	}
	fmt.Printf("loaded %d demo images: %v\n", len(loaded), loaded)
	return nil
}
