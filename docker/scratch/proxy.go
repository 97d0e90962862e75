package scratch

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

const (
	// KamalProxyVersion is the kamal-proxy release the tool directive in go.mod pins.
	KamalProxyVersion = "v0.9.2"
	// KamalProxyPackage is the kamal-proxy command, built from the module cache.
	KamalProxyPackage = "github.com/basecamp/kamal-proxy/cmd/kamal-proxy"
	// ProxyRef is the tag of the kamal-proxy image built here, standing in
	// for the upstream basecamp/kamal-proxy image where no registry is reachable.
	ProxyRef = "golive/kamal-proxy:" + KamalProxyVersion
)

// BuildKamalProxy compiles the pinned kamal-proxy as a static linux/amd64
// binary into out. dir is any folder inside the golive module, whose
// go.mod and go.sum say which version and which checksums to use.
func BuildKamalProxy(ctx context.Context, dir, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, KamalProxyPackage)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build kamal-proxy %s: %w\n%s", KamalProxyVersion, err, msg)
	}
	return nil
}

// ProxyImage makes a linux/amd64 image FROM scratch that runs kamal-proxy
// the way the upstream image does (`kamal-proxy run`, ports 80 and 443):
// the binary on the PATH so `docker exec NAME kamal-proxy deploy …` works,
// a /tmp for its control socket and a home folder for its state.
func ProxyImage(binary []byte) (v1.Image, error) {
	img, cf, err := fromScratch([]entry{
		{name: "tmp/", mode: 0o1777},
		{name: "usr/", mode: 0o755},
		{name: "usr/local/", mode: 0o755},
		{name: "usr/local/bin/", mode: 0o755},
		{name: "home/", mode: 0o755},
		{name: "home/kamal-proxy/", mode: 0o755},
		{name: "home/kamal-proxy/.config/", mode: 0o755},
		{name: "home/kamal-proxy/.config/kamal-proxy/", mode: 0o700},
		{name: "usr/local/bin/kamal-proxy", mode: 0o755, body: binary},
	})
	if err != nil {
		return nil, err
	}
	cf.Config.Env = []string{"PATH=/usr/local/bin", "HOME=/home/kamal-proxy"}
	cf.Config.Cmd = []string{"kamal-proxy", "run"}
	cf.Config.ExposedPorts = map[string]struct{}{"80/tcp": {}, "443/tcp": {}}
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.title":   "kamal-proxy built FROM scratch by golive",
		"org.opencontainers.image.version": KamalProxyVersion,
		"org.opencontainers.image.source":  "https://github.com/basecamp/kamal-proxy",
	}
	return mutate.ConfigFile(img, cf)
}

// WriteProxyTarball builds kamal-proxy (dir as for BuildKamalProxy) and
// writes its image, tagged ProxyRef, to path in `docker save` format.
func WriteProxyTarball(ctx context.Context, dir, path string) error {
	tmp, err := os.MkdirTemp("", "golive-kamal-proxy-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "kamal-proxy")
	if err := BuildKamalProxy(ctx, dir, bin); err != nil {
		return err
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	img, err := ProxyImage(binary)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteTarball(f, map[string]v1.Image{ProxyRef: img}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
