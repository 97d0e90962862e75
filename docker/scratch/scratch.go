// Package scratch builds container images FROM scratch out of one static
// binary, with no Dockerfile and no registry: for the demo and for tests.
package scratch

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Config is what the image sets beyond its one file.
type Config struct {
	Env    []string
	Labels map[string]string
	Cmd    []string
	// Healthcheck, when set, is the image's HEALTHCHECK test (CMD form).
	Healthcheck []string
}

// Image makes a linux/amd64 image whose only file is binary at /app, its entrypoint.
func Image(binary []byte, cfg Config) (v1.Image, error) {
	img, cf, err := fromScratch([]entry{{name: "app", mode: 0o755, body: binary}})
	if err != nil {
		return nil, err
	}
	cf.Config.Entrypoint = []string{"/app"}
	cf.Config.Cmd = cfg.Cmd
	cf.Config.Env = cfg.Env
	cf.Config.Labels = cfg.Labels
	if len(cfg.Healthcheck) > 0 {
		// 10 s to answer: on a loaded machine the engine's exec of the check
		// takes seconds, and a healthy task must not be called unhealthy;
		// a check that answers "unhealthy" still fails at once.
		cf.Config.Healthcheck = &v1.HealthConfig{Test: append([]string{"CMD"}, cfg.Healthcheck...), Interval: 500e6, Timeout: 10e9, Retries: 3}
	}
	return mutate.ConfigFile(img, cf)
}

// entry is one file of an image's only layer, or a folder when its name ends in "/".
type entry struct {
	name string
	mode int64
	body []byte
}

// fromScratch makes a linux/amd64 image FROM scratch whose only layer holds
// entries, and a copy of its config file for the caller to fill in and set.
func fromScratch(entries []entry) (v1.Image, *v1.ConfigFile, error) {
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, static.NewLayer(layer.Bytes(), types.DockerLayer))
	if err != nil {
		return nil, nil, err
	}
	img = mutate.MediaType(img, types.DockerManifestSchema2)
	img = mutate.ConfigMediaType(img, types.DockerConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	return img, cf, nil
}

// WriteTarball writes images in `docker save` format, each under its reference.
func WriteTarball(w io.Writer, images map[string]v1.Image) error {
	refs := map[name.Reference]v1.Image{}
	for ref, img := range images {
		tag, err := name.NewTag(ref)
		if err != nil {
			return fmt.Errorf("image reference %s: %w", ref, err)
		}
		refs[tag] = img
	}
	return tarball.MultiRefWrite(refs, w)
}
