package docker

import (
	"context"
	"fmt"

	"github.com/distribution/reference"
	"github.com/moby/moby/client"
)

// PinnedImage is an image reference a Swarm service can be pinned to, so
// that every node runs the same bytes.
type PinnedImage struct {
	// Ref is name@sha256:digest when a registry knows the image, or else
	// the local image ID (sha256:…), which every node that loaded the same
	// image has too.
	Ref string
	// Offline says Ref is the local image ID: no registry digest is known,
	// so every node must have the image loaded already.
	Offline bool
	// ImageID is the manager's local image ID; "" when it lacks the image.
	ImageID string
}

// PinImage resolves ref for a Swarm service. An image the manager has
// with a registry digest is pinned to that digest; one it has without
// (loaded or built there) to its image ID; one it lacks to the digest its
// registry resolves the reference to.
func (c *Client) PinImage(ctx context.Context, ref string) (PinnedImage, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return PinnedImage{}, fmt.Errorf("image %s: %w", ref, err)
	}
	qctx, end := c.call(ctx, c.timeouts.Query, "inspect image "+ref)
	res, err := c.api.ImageInspect(qctx, ref)
	err = end(err)
	switch {
	case err == nil:
		for _, rd := range res.RepoDigests {
			if d, err := reference.ParseNormalizedNamed(rd); err == nil && d.Name() == named.Name() {
				return PinnedImage{Ref: rd, ImageID: res.ID}, nil
			}
		}
		return PinnedImage{Ref: res.ID, Offline: true, ImageID: res.ID}, nil
	case !IsNotFound(err):
		return PinnedImage{}, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	dctx, end := c.call(ctx, c.timeouts.Change, "look up "+ref+" in its registry")
	dist, err := c.api.DistributionInspect(dctx, ref, client.DistributionInspectOptions{})
	if err = end(err); err != nil {
		return PinnedImage{}, fmt.Errorf("image %s is not on the manager and its registry cannot resolve it: %s; load it on every node (docker load) or push it", ref, rootCause(err))
	}
	return PinnedImage{Ref: reference.FamiliarString(reference.TrimNamed(named)) + "@" + dist.Descriptor.Digest.String()}, nil
}
