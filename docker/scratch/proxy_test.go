package scratch

import (
	"archive/tar"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

func TestProxyImageHasWhatKamalProxyNeedsToRun(t *testing.T) {
	img, err := ProxyImage([]byte("binary"))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cf.Config.Cmd, []string{"kamal-proxy", "run"}) || len(cf.Config.Entrypoint) != 0 {
		t.Errorf("cmd %v, entrypoint %v: want the upstream `kamal-proxy run`, so `docker exec NAME kamal-proxy …` works", cf.Config.Cmd, cf.Config.Entrypoint)
	}
	if !slices.Contains(cf.Config.Env, "PATH=/usr/local/bin") || !slices.Contains(cf.Config.Env, "HOME=/home/kamal-proxy") {
		t.Errorf("env = %v", cf.Config.Env)
	}
	modes := map[string]int64{}
	tr := tar.NewReader(mutate.Extract(img))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		modes[strings.TrimSuffix(h.Name, "/")] = h.Mode
	}
	for name, mode := range map[string]int64{
		"tmp":                                  0o1777, // its control socket
		"home/kamal-proxy/.config/kamal-proxy": 0o700,  // its state
		"usr/local/bin/kamal-proxy":            0o755,
	} {
		if got, ok := modes[name]; !ok || got != mode {
			t.Errorf("%s: mode %o (present %v), want %o", name, got, ok, mode)
		}
	}
}
