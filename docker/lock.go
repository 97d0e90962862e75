package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/client"
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
	LabelLockStart  = "io.golive.lock.process-start"
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
	// Started is when the holding process started (its /proc start time),
	// so a new process that reused the PID is not taken for the holder.
	Started string
	ID      string // the lock container's ID
}

// HeldError is returned when somebody else holds the lock.
type HeldError struct{ LockInfo }

func (e *HeldError) Error() string {
	process := ""
	if e.PID > 0 {
		process = fmt.Sprintf(" (process %d on %s)", e.PID, e.Host)
	}
	return fmt.Sprintf("another release holds the lock %s: %s%s, %s since %s (%s ago); wait for it, or if that release is dead run `golive unlock PLAN`",
		e.Name, e.Holder, process, e.Operation, e.Since.Local().Format("2006-01-02 15:04:05"), time.Since(e.Since).Round(time.Second))
}

// AcquireLock takes the lock named name atomically: it creates a container
// that is never started, whose name the engine keeps unique. Extra labels
// (for example the project) are stored on it.
func (c *Client) AcquireLock(ctx context.Context, name string, info LockInfo, labels map[string]string) error {
	_, err := c.TakeLock(ctx, name, info, labels)
	return err
}

// TakeLock is AcquireLock that also returns the lock container's ID, which
// lets the holder tell its own lock from one taken after it was broken.
func (c *Client) TakeLock(ctx context.Context, name string, info LockInfo, labels map[string]string) (string, error) {
	if err := c.ensureLockImage(ctx); err != nil {
		return "", err
	}
	all := map[string]string{
		LabelLockHolder: info.Holder,
		LabelLockSince:  info.Since.UTC().Format(time.RFC3339Nano),
		LabelLockState:  info.StateDir,
		LabelLockOp:     info.Operation,
		LabelLockHost:   info.Host,
		LabelLockPID:    strconv.Itoa(info.PID),
		LabelLockStart:  info.Started,
	}
	for k, v := range labels {
		all[k] = v
	}
	for attempt := 0; ; attempt++ {
		id, err := c.Create(ctx, Spec{Name: name, Image: lockImage, Cmd: []string{"golive-lock"}, Labels: all})
		if err == nil {
			return id, nil
		}
		if !IsConflict(err) {
			return "", fmt.Errorf("take lock %s: %w", name, err)
		}
		held, ierr := c.Lock(ctx, name)
		if ierr == nil && held == nil {
			// The engine names the container that holds the name, which
			// the name may not lead to yet while another one is removed.
			if m := conflictID.FindStringSubmatch(err.Error()); m != nil {
				held, ierr = c.Lock(ctx, m[1])
			}
		}
		if ierr != nil {
			return "", fmt.Errorf("take lock %s: %w", name, ierr)
		}
		if held != nil {
			held.Name = name
			return "", &HeldError{*held}
		}
		if attempt == 50 {
			return "", &HeldError{LockInfo{Name: name, Holder: "another process (the lock's name stayed taken while golive tried to take it for 10 s)", Since: time.Now()}}
		}
		// Released between our create and inspect: try again.
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(time.Duration(min(10*(attempt+1), 200)) * time.Millisecond):
		}
	}
}

// conflictID finds the container ID in the engine's "name is already in use" error.
var conflictID = regexp.MustCompile(`already in use by container "?([0-9a-f]{12,64})`)

// Lock returns who holds the lock, or nil when it is free.
func (c *Client) Lock(ctx context.Context, name string) (*LockInfo, error) {
	ct, err := c.Inspect(ctx, name)
	if err != nil || ct == nil {
		return nil, err
	}
	since, _ := time.Parse(time.RFC3339Nano, ct.Labels[LabelLockSince])
	pid, _ := strconv.Atoi(ct.Labels[LabelLockPID])
	return &LockInfo{Name: name, Holder: ct.Labels[LabelLockHolder], Since: since, StateDir: ct.Labels[LabelLockState],
		Operation: ct.Labels[LabelLockOp], Host: ct.Labels[LabelLockHost], PID: pid, Started: ct.Labels[LabelLockStart], ID: ct.ID}, nil
}

// RemoveLock frees the lock held by the lock container id, and only that
// one: a lock taken by someone else after it is left alone. A lock already
// gone, or being removed by another process, is not an error.
func (c *Client) RemoveLock(ctx context.Context, id string) error {
	if err := c.remove(ctx, id); err != nil && !strings.Contains(err.Error(), "already in progress") {
		return fmt.Errorf("release lock %s: %w", ShortID(id), err)
	}
	return nil
}

// ReleaseLock frees the lock; freeing a free lock is not an error.
func (c *Client) ReleaseLock(ctx context.Context, name string) error {
	if err := c.remove(ctx, name); err != nil && !strings.Contains(err.Error(), "already in progress") {
		return fmt.Errorf("release lock %s: %w", name, err)
	}
	return nil
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

// Record is a small fact golive keeps on the Docker host, where every
// operator sees it: a volume with labels and no content. Creating one is
// atomic and cheap.
type Record struct {
	Name   string
	Labels map[string]string
}

// CreateRecord stores labels in a new record named name. It is atomic: the
// record exists whole or not at all. A record of that name that exists
// already is left as it is.
func (c *Client) CreateRecord(ctx context.Context, name string, labels map[string]string) error {
	ctx, end := c.call(ctx, c.timeouts.Change, "create record "+name)
	_, err := c.api.VolumeCreate(ctx, client.VolumeCreateOptions{Name: name, Labels: labels})
	if err = end(err); err != nil {
		return fmt.Errorf("record %s: %w", name, err)
	}
	return nil
}

// Records returns every record that carries all these labels.
func (c *Client) Records(ctx context.Context, labels map[string]string) ([]Record, error) {
	f := client.Filters{}
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	ctx, end := c.call(ctx, c.timeouts.Query, "list records")
	res, err := c.api.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err = end(err); err != nil {
		return nil, fmt.Errorf("list records: %w", err)
	}
	out := make([]Record, 0, len(res.Items))
	for _, v := range res.Items {
		out = append(out, Record{Name: v.Name, Labels: v.Labels})
	}
	return out, nil
}

// RemoveRecord deletes a record; one that is not there is not an error.
func (c *Client) RemoveRecord(ctx context.Context, name string) error {
	ctx, end := c.call(ctx, c.timeouts.Change, "remove record "+name)
	_, err := c.api.VolumeRemove(ctx, name, client.VolumeRemoveOptions{Force: true})
	if err = end(err); err != nil && !IsNotFound(err) {
		return fmt.Errorf("remove record %s: %w", name, err)
	}
	return nil
}
