package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWritesLeaveTheFileWholeWithTheUsersModeAndNoTemporaryFile(t *testing.T) {
	mask := syscall.Umask(0o022)
	defer syscall.Umask(mask)
	for _, tc := range []struct {
		name     string
		write    func(string, []byte) error
		existing bool
		want     string
		wantErr  error
	}{
		{"Write creates a file", Write, false, "new", nil},
		{"Write replaces a file", Write, true, "new", nil},
		{"WriteNew creates a file", WriteNew, false, "new", nil},
		{"WriteNew leaves a file of the same name alone", WriteNew, true, "old", fs.ErrExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.md")
			if tc.existing {
				if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := tc.write(path, []byte("new")); !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if data, _ := os.ReadFile(path); string(data) != tc.want {
				t.Fatalf("the file holds %q, want %q", data, tc.want)
			}
			if fi, _ := os.Stat(path); !tc.existing && fi.Mode().Perm() != 0o644 {
				t.Fatalf("mode %v, want 0644 (0666 less the umask 022)", fi.Mode().Perm())
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Fatalf("the folder holds %d entries, want the file alone", len(entries))
			}
		})
	}
}

func TestAMissingFolderIsNamed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gone")
	for _, write := range []func(string, []byte) error{Write, WriteNew} {
		if err := write(filepath.Join(dir, "out.md"), nil); err == nil || !strings.Contains(err.Error(), "folder "+dir+" does not exist") {
			t.Fatalf("error %v", err)
		}
	}
}
