package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// lockImage is the empty image lock containers are created from; it is
// imported on first use so the lock works on an engine with no registry.
const lockImage = "golive/lock:1"

// Lock label keys.
const (
	LabelLockHolder = "io.golive.lock.holder"
	LabelLockSince  = "io.golive.lock.since"
	LabelLockState  = "io.golive.lock.state"
	LabelLockOp     = "io.golive.lock.operation"
	LabelLockHost   = "io.golive.lock.host"
	LabelLockPID    = "io.golive.lock.pid"
)

// LockInfo says who holds a release lock and since when.
type LockInfo struct {
	Name      string
	Holder    string
	Since     time.Time
	StateDir  string
	Operation string
	Host      string // the machine the holding process runs on
	PID       int    // the holding process
}

// HeldError is returned when somebody else holds the lock.
type HeldError struct{ LockInfo }

func (e *HeldError) Error() string {
	return fmt.Sprintf("another release holds the lock %s: %s, %s since %s (%s ago); wait for it, or if that release is dead run `golive unlock PLAN`",
		e.Name, e.Holder, e.Operation, e.Since.Local().Format("2006-01-02 15:04:05"), time.Since(e.Since).Round(time.Second))
}

// AcquireLock takes the lock named name atomically: it creates a container
// that is never started, whose name the engine keeps unique. Extra labels
// (for example the project) are stored on it.
func (c *Client) AcquireLock(ctx context.Context, name string, info LockInfo, labels map[string]string) error {
	all := map[string]string{
		LabelLockHolder: info.Holder,
		LabelLockSince:  info.Since.UTC().Format(time.RFC3339Nano),
		LabelLockState:  info.StateDir,
		LabelLockOp:     info.Operation,
		LabelLockHost:   info.Host,
		LabelLockPID:    strconv.Itoa(info.PID),
	}
	for k, v := range labels {
		all[k] = v
	}
	err := c.createFromLockImage(ctx, Spec{Name: name, Image: lockImage, Cmd: []string{"golive-lock"}, Labels: all})
	if err == nil {
		return nil
	}
	if !IsConflict(err) {
		return fmt.Errorf("take lock %s: %w", name, err)
	}
	held, ierr := c.Lock(ctx, name)
	if ierr != nil {
		return fmt.Errorf("take lock %s: %w", name, ierr)
	}
	if held == nil { // released between our create and inspect: try once more
		return c.AcquireLock(ctx, name, info, labels)
	}
	return &HeldError{*held}
}

// Lock returns who holds the lock, or nil when it is free.
func (c *Client) Lock(ctx context.Context, name string) (*LockInfo, error) {
	ct, err := c.Inspect(ctx, name)
	if err != nil || ct == nil {
		return nil, err
	}
	since, _ := time.Parse(time.RFC3339Nano, ct.Labels[LabelLockSince])
	pid, _ := strconv.Atoi(ct.Labels[LabelLockPID])
	return &LockInfo{Name: name, Holder: ct.Labels[LabelLockHolder], Since: since, StateDir: ct.Labels[LabelLockState],
		Operation: ct.Labels[LabelLockOp], Host: ct.Labels[LabelLockHost], PID: pid}, nil
}

// ReleaseLock frees the lock; freeing a free lock is not an error.
func (c *Client) ReleaseLock(ctx context.Context, name string) error {
	if err := c.remove(ctx, name); err != nil {
		return fmt.Errorf("release lock %s: %w", name, err)
	}
	return nil
}

// createFromLockImage creates a container of the lock image, making the
// image first when the engine does not have it yet (one round-trip less on
// every release than asking first).
func (c *Client) createFromLockImage(ctx context.Context, spec Spec) error {
	_, err := c.Create(ctx, spec)
	if IsNotFound(err) {
		if err := c.ensureLockImage(ctx); err != nil {
			return err
		}
		_, err = c.Create(ctx, spec)
	}
	return err
}

func (c *Client) ensureLockImage(ctx context.Context) error {
	id, err := c.ImageID(ctx, lockImage)
	if err != nil || id != "" {
		return err
	}
	var empty bytes.Buffer
	tw := tar.NewWriter(&empty)
	if err := tw.WriteHeader(&tar.Header{Name: "golive-lock", Mode: 0o644, Size: 0, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := c.Import(ctx, &empty, lockImage, []string{"LABEL io.golive.role=lock"}); err != nil {
		return errors.Join(errors.New("prepare the lock image"), err)
	}
	return nil
}

// WriteRecord stores labels in a never-started container named name,
// replacing an earlier record of that name. Records keep small facts on the
// Docker host where every operator sees them.
func (c *Client) WriteRecord(ctx context.Context, name string, labels map[string]string) error {
	if err := c.Remove(ctx, name); err != nil {
		return err
	}
	return c.createFromLockImage(ctx, Spec{Name: name, Image: lockImage, Cmd: []string{"golive-record"}, Labels: labels})
}

// ReadRecord returns the labels of the record named name, or nil when there is none.
func (c *Client) ReadRecord(ctx context.Context, name string) (map[string]string, error) {
	ct, err := c.Inspect(ctx, name)
	if err != nil || ct == nil {
		return nil, err
	}
	return ct.Labels, nil
}
