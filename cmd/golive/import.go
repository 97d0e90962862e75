package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/golive/golive/internal/atomicfile"
	"github.com/golive/golive/plans"
)

const importUsage = `Usage: golive import COMPOSE.yaml [-o PLAN.yaml] [--force] [--release NAME]

Writes a plan from a compose file: one deploy group per depends_on layer,
image, command, entrypoint, environment, env_file, ports, volumes, the first
network with its aliases, labels, restart, stop_grace_period, and healthcheck
(the container runs it; the health gate waits for it). What golive does not
honour is reported with its line, on stderr and as comments in the plan.
Environment values written with ${VAR} stay so: no secret is copied.

  -o FILE         write the plan to FILE (default: standard output)
  --force         replace FILE if it exists (default: refuse)
  --release NAME  the plan's release (default: imported)

To keep the compose file the single source of truth instead, write a plan
with ` + "`compose: compose.yaml`" + ` (see the README).
`

func runImport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("golive import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, importUsage) }
	out := fs.String("o", "", "plan file to write")
	force := fs.Bool("force", false, "replace an existing plan file")
	release := fs.String("release", "imported", "the plan's release")
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(positional) != 1 {
		fmt.Fprintf(stderr, "golive import: expected one compose file, got %d arguments\n\n%s", len(positional), importUsage)
		return exitUsage
	}
	source := positional[0]
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(stderr, "golive import:", err)
		return exitEnvironment
	}
	if *out != "" {
		if !*force {
			if _, err := os.Stat(*out); err == nil {
				fmt.Fprintf(stderr, "golive import: %s exists; pass --force to replace it, or -o another file\n", *out)
				return exitUsage
			}
		}
		if dir, err = filepath.Abs(filepath.Dir(*out)); err != nil {
			fmt.Fprintln(stderr, "golive import:", err)
			return exitEnvironment
		}
	}
	c, err := plans.LoadCompose(context.Background(), source, plans.ComposeOptions{Dir: dir, KeepRefs: true})
	if err != nil {
		fmt.Fprintln(stderr, "golive import:", err)
		return exitUsage
	}
	for _, w := range c.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if len(c.Services) == 0 {
		fmt.Fprintf(stderr, "golive import: no service of %s has an image, so the plan would deploy nothing and `golive check` would refuse it; give the services `image: NAME:TAG` (golive deploys images, it does not build them)\n", source)
		return exitUsage
	}
	text, err := c.PlanText(*release, source)
	if err != nil {
		fmt.Fprintln(stderr, "golive import:", err)
		return exitEnvironment
	}
	if *out == "" {
		stdout.Write(text)
		return exitOK
	}
	if err := atomicfile.Write(*out, text); err != nil {
		fmt.Fprintf(stderr, "golive import: write %s: %v\n", *out, err)
		return exitEnvironment
	}
	fmt.Fprintf(stdout, "wrote %s: %d services from %s, %d warnings; check it with `golive check %s`\n", *out, len(c.Services), source, len(c.Warnings), *out)
	return exitOK
}
