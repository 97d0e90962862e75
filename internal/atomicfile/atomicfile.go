// Package atomicfile writes files that are either whole or not there: a
// reader, or a crash part-way, never sees half of one.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Write writes data to path, replacing a file of that name.
func Write(path string, data []byte) error {
	return write(path, data, os.Rename)
}

// WriteNew writes data to path, and fails rather than replace a file of
// that name.
func WriteNew(path string, data []byte) error {
	return write(path, data, os.Link)
}

// write writes data to a temporary file beside path, synced, and puts it
// at path with place. The file gets the mode any file the user creates
// gets (0666 less the umask: the kernel applies it, so no process-wide
// setting is read or changed).
func write(path string, data []byte, place func(tmp, path string) error) error {
	suffix := make([]byte, 6)
	rand.Read(suffix)
	tmpName := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+hex.EncodeToString(suffix))
	tmp, err := os.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("folder %s does not exist", filepath.Dir(path))
	}
	if err != nil {
		return err
	}
	defer os.Remove(tmpName)
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return place(tmpName, path)
}
