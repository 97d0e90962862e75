package main

import (
	"context"
	"fmt"
	"io"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

// checkSwarm says what each image of a Swarm plan would be pinned to on
// its manager: a registry digest, or offline the local image ID that
// every node must hold. It fails (false) only when docker.host answers and
// is not a Swarm manager, which every apply would find out; it changes
// nothing.
func checkSwarm(plan *plans.Plan, stdout, stderr io.Writer) bool {
	ctx, cancel := context.WithTimeout(context.Background(), imageCheckTimeout)
	defer cancel()
	cli, err := docker.Connect(ctx, plan.Docker.Host)
	if err != nil {
		fmt.Fprintf(stderr, "warning: could not check the images on the Swarm manager: %s\n", logs.SanitizeString(err.Error()))
		return true
	}
	defer cli.Close()
	if why, err := cli.NotSwarmManager(ctx); err == nil && why != "" {
		fmt.Fprintf(stderr, "golive check: docker.host %s is not a Swarm manager; %s\n", logs.SanitizeString(cli.Host()), why)
		return false
	}
	for _, ref := range plan.Images() {
		pin, err := cli.PinImage(ctx, ref)
		if err != nil {
			fmt.Fprintf(stderr, "warning: %s\n", logs.SanitizeString(err.Error()))
			continue
		}
		fmt.Fprintf(stdout, "image %s: %s\n", logs.SanitizeString(ref), plans.PinNote(pin))
	}
	return true
}
