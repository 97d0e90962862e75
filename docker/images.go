package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/moby/moby/client"
)

// ImageID returns the ID (sha256:…) of a local image, or "" when the engine
// does not have it.
func (c *Client) ImageID(ctx context.Context, ref string) (string, error) {
	ctx, end := c.call(ctx, c.timeouts.Query, "inspect image "+ref)
	res, err := c.api.ImageInspect(ctx, ref)
	err = end(err)
	if IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("inspect image %s: %w", ref, err)
	}
	return res.ID, nil
}

// PullProgress is one update from an image pull: a layer's status and bytes.
type PullProgress struct {
	Image   string
	Layer   string
	Status  string
	Current int64
	Total   int64
}

// Pull fetches ref from its registry, reporting progress as it goes. Errors
// that the engine reports inside the progress stream are returned.
func (c *Client) Pull(ctx context.Context, ref string, progress func(PullProgress)) error {
	ctx, touch, end := c.transfer(ctx, "pull "+ref)
	defer end(nil)
	resp, err := c.api.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return pullError(ref, end(err))
	}
	defer resp.Close()
	for msg, err := range resp.JSONMessages(ctx) {
		if err != nil {
			return pullError(ref, end(err))
		}
		touch()
		if msg.Error != nil {
			return pullError(ref, errors.New(msg.Error.Message))
		}
		p := PullProgress{Image: ref, Layer: msg.ID, Status: msg.Status}
		if msg.Progress != nil {
			p.Current, p.Total = msg.Progress.Current, msg.Progress.Total
		}
		if progress != nil {
			progress(p)
		}
	}
	return nil
}

func pullError(ref string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "not found"), strings.Contains(msg, "manifest unknown"), strings.Contains(msg, "pull access denied"):
		return fmt.Errorf("pull %s: image not found in its registry (%s); check the name and tag, or `docker login` to that registry", ref, msg)
	case strings.Contains(msg, "no such host"), strings.Contains(msg, "connection refused"), strings.Contains(msg, "i/o timeout"):
		return fmt.Errorf("pull %s: registry unreachable (%s); check the network, or preload the image with `preload: {load: [FILE.tar]}`", ref, msg)
	}
	return fmt.Errorf("pull %s: %w", ref, err)
}

// Load imports the images in a `docker save` tarball and returns the
// references (or IDs) the engine reports as loaded.
func (c *Client) Load(ctx context.Context, path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load images: %w", err)
	}
	defer f.Close()
	ctx, touch, end := c.transfer(ctx, "load images from "+path)
	defer end(nil)
	res, err := c.api.ImageLoad(ctx, progress{f, touch}, client.ImageLoadWithQuiet(true))
	if err != nil {
		return nil, fmt.Errorf("load images from %s: %w", path, end(err))
	}
	defer res.Close()
	var loaded []string
	dec := json.NewDecoder(progress{res, touch})
	for {
		var msg struct {
			Stream      string
			ErrorDetail *struct{ Message string } `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			break
		} else if err != nil {
			return loaded, fmt.Errorf("load images from %s: %w", path, end(err))
		}
		if msg.ErrorDetail != nil {
			return loaded, fmt.Errorf("load images from %s: %s (is it a `docker save` tarball?)", path, msg.ErrorDetail.Message)
		}
		for _, prefix := range []string{"Loaded image: ", "Loaded image ID: "} {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(msg.Stream), prefix); ok {
				loaded = append(loaded, rest)
			}
		}
	}
	return loaded, nil
}

// Import creates an image named ref from a root filesystem tarball.
func (c *Client) Import(ctx context.Context, rootfs io.Reader, ref string, changes []string) error {
	ctx, touch, end := c.transfer(ctx, "import image "+ref)
	res, err := c.api.ImageImport(ctx, client.ImageImportSource{Source: progress{rootfs, touch}, SourceName: "-"}, ref, client.ImageImportOptions{Changes: changes})
	if err == nil {
		_, err = io.Copy(io.Discard, progress{res, touch})
		res.Close()
	}
	if err = end(err); err != nil {
		return fmt.Errorf("import image %s: %w", ref, err)
	}
	return nil
}

// Tag gives the image source the additional name target.
func (c *Client) Tag(ctx context.Context, source, target string) error {
	ctx, end := c.call(ctx, c.timeouts.Change, "tag image "+source)
	_, err := c.api.ImageTag(ctx, client.ImageTagOptions{Source: source, Target: target})
	if err = end(err); err != nil {
		return fmt.Errorf("tag image %s as %s: %w", source, target, err)
	}
	return nil
}

// RemoveImage deletes an image reference (and the image when no other
// reference or container uses it).
func (c *Client) RemoveImage(ctx context.Context, ref string) error {
	ctx, end := c.call(ctx, c.timeouts.Change, "remove image "+ref)
	_, err := c.api.ImageRemove(ctx, ref, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	if err = end(err); err != nil && !IsNotFound(err) {
		return fmt.Errorf("remove image %s: %w", ref, err)
	}
	return nil
}

// Availability says whether an image can be had for a deploy.
type Availability int

// What CheckImage found.
const (
	// ImagePresent: the engine has the image.
	ImagePresent Availability = iota
	// ImageInRegistry: the engine lacks it, but its registry resolves the reference.
	ImageInRegistry
	// ImageMissing: neither the engine nor its registry has it.
	ImageMissing
	// ImageUnchecked: the engine lacks it and its registry could not be asked.
	ImageUnchecked
)

// CheckImage says whether ref is present on the engine or, failing that,
// resolvable in its registry. The registry lookup goes through the engine
// (the distribution endpoint) and fetches the manifest only, so nothing is
// downloaded. The error says why the answer is ImageMissing or ImageUnchecked.
func (c *Client) CheckImage(ctx context.Context, ref string) (Availability, error) {
	id, err := c.ImageID(ctx, ref)
	if err != nil {
		return ImageUnchecked, err
	}
	if id != "" {
		return ImagePresent, nil
	}
	ctx, end := c.call(ctx, c.timeouts.Change, "look up "+ref+" in its registry")
	_, err = c.api.DistributionInspect(ctx, ref, client.DistributionInspectOptions{})
	err = end(err)
	switch {
	case err == nil:
		return ImageInRegistry, nil
	case IsNotFound(err), strings.Contains(err.Error(), "manifest unknown"):
		return ImageMissing, fmt.Errorf("%s", rootCause(err))
	}
	return ImageUnchecked, fmt.Errorf("%s", rootCause(err))
}
