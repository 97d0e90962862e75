package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

// imageCheckTimeout bounds the whole image check of `golive check`, so a
// registry that does not answer delays it by at most this much.
const imageCheckTimeout = 15 * time.Second

// warnUnavailableImages writes a warning for every image of the plan that
// is neither on the engine nor resolvable in its registry, and says which
// it could not check. It changes nothing and never makes check fail.
func warnUnavailableImages(plan *plans.Plan, stderr io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), imageCheckTimeout)
	defer cancel()
	cli, err := docker.Connect(ctx, plan.Docker.Host)
	if err != nil {
		fmt.Fprintf(stderr, "warning: could not check that the images exist: %s\n", logs.SanitizeString(err.Error()))
		return
	}
	defer cli.Close()
	var images []string
	users := map[string][]string{}
	for _, s := range plan.Services {
		if users[s.Image] == nil {
			images = append(images, s.Image)
		}
		users[s.Image] = append(users[s.Image], s.Name)
	}
	type answer struct {
		found docker.Availability
		err   error
	}
	answers := make([]answer, len(images))
	var wg sync.WaitGroup
	for i, ref := range images {
		wg.Go(func() {
			found, err := cli.CheckImage(ctx, ref)
			answers[i] = answer{found, err}
		})
	}
	wg.Wait()
	for i, ref := range images {
		a := answers[i]
		why := ""
		if a.err != nil {
			why = logs.SanitizeString(a.err.Error())
		}
		who := "service " + users[ref][0]
		if len(users[ref]) > 1 {
			who = "services " + strings.Join(users[ref], ", ")
		}
		switch a.found {
		case docker.ImageMissing:
			fmt.Fprintf(stderr, "warning: image %s (%s) is neither on the engine nor in its registry (%s): build and push it, or fix its name and tag\n", ref, who, why)
		case docker.ImageUnchecked:
			fmt.Fprintf(stderr, "warning: image %s (%s) is not on the engine and its registry could not be asked (%s): apply will pull it, or preload it\n", ref, who, why)
		}
	}
}
