package main

import (
	"context"
	"fmt"
	"io"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

// checkSwarmImages says what each image of a Swarm plan would be pinned
// to on its manager: a registry digest, or offline the local image ID
// that every node must hold. It changes nothing and never makes check fail.
func checkSwarmImages(plan *plans.Plan, stdout, stderr io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), imageCheckTimeout)
	defer cancel()
	cli, err := docker.Connect(ctx, plan.Docker.Host)
	if err != nil {
		fmt.Fprintf(stderr, "warning: could not check the images on the Swarm manager: %s\n", logs.SanitizeString(err.Error()))
		return
	}
	defer cli.Close()
	for _, ref := range plan.Images() {
		pin, err := cli.PinImage(ctx, ref)
		if err != nil {
			fmt.Fprintf(stderr, "warning: %s\n", logs.SanitizeString(err.Error()))
			continue
		}
		fmt.Fprintf(stdout, "image %s: %s\n", logs.SanitizeString(ref), plans.PinNote(pin))
	}
}
