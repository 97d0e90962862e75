package tui

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
	"unicode/utf8"
)

// Recorder writes what the cockpit sends to the terminal as an asciicast
// v2 file (header, "o" output, "r" resize and "m" marker events) that
// `asciinema play` replays. It wraps the terminal, so the program still
// sees a TTY. Secret values are masked in the recording.
type Recorder struct {
	*os.File // the terminal
	mu       sync.Mutex
	cast     *os.File
	start    time.Time
	mask     func(string) string
	carry    []byte // an incomplete UTF-8 sequence held for the next write
	err      error
}

// NewRecorder starts a recording of terminal at path.
func NewRecorder(path string, terminal *os.File, width, height int, title string, mask func(string) string) (*Recorder, error) {
	cast, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	r := &Recorder{File: terminal, cast: cast, start: time.Now(), mask: mask}
	header := map[string]any{
		"version": 2, "width": width, "height": height, "timestamp": r.start.Unix(), "title": title,
		"env": map[string]string{"TERM": os.Getenv("TERM"), "SHELL": os.Getenv("SHELL")},
	}
	b, _ := json.Marshal(header)
	if _, err := cast.Write(append(b, '\n')); err != nil {
		cast.Close()
		return nil, fmt.Errorf("recording: %w", err)
	}
	return r, nil
}

// Write sends p to the terminal and records it.
func (r *Recorder) Write(p []byte) (int, error) {
	n, err := r.File.Write(p)
	r.mu.Lock()
	defer r.mu.Unlock()
	data := append(r.carry, p[:n]...)
	cut := len(data)
	for cut > 0 && cut > len(data)-utf8.UTFMax && !utf8.Valid(data[:cut]) {
		cut--
	}
	if !utf8.Valid(data[:cut]) {
		cut = len(data) // not a split sequence: record it as it is
	}
	r.carry = append(r.carry[:0:0], data[cut:]...)
	r.event("o", r.mask(string(data[:cut])))
	return n, err
}

// Resize records a new terminal size.
func (r *Recorder) Resize(width, height int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.event("r", fmt.Sprintf("%dx%d", width, height))
}

// Marker records a named point: a deploy, a failure, a revert.
func (r *Recorder) Marker(label string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.event("m", r.mask(label))
}

func (r *Recorder) event(kind, data string) {
	if r.err != nil || (kind == "o" && data == "") {
		return
	}
	b, _ := json.Marshal([]any{time.Since(r.start).Seconds(), kind, data})
	_, r.err = r.cast.Write(append(b, '\n'))
}

// Close finishes the recording; the terminal stays open.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.cast.Close(); err != nil {
		return err
	}
	return r.err
}
