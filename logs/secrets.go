package logs

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// SecretMark is what stands in a line where a secret value was.
const SecretMark = "****"

// MinSecretLen is the shortest value masked: shorter ones would mask common text.
const MinSecretLen = 4

// Secrets masks secret values in log lines as they are ingested, so no
// buffer, search, journal or recording ever holds them. Values can be
// added while sources run (a previous container's environment shows the
// previous value of a rotated secret); safe for concurrent use.
type Secrets struct {
	mu     sync.Mutex
	values atomic.Pointer[[][]byte] // longest first
}

// NewSecrets masks values (those shorter than MinSecretLen are ignored).
func NewSecrets(values ...string) *Secrets {
	s := &Secrets{}
	s.Add(values...)
	return s
}

// Add masks more values from now on.
func (s *Secrets) Add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var list [][]byte
	if p := s.values.Load(); p != nil {
		list = slices.Clone(*p)
	}
	for _, v := range values {
		if len(v) < MinSecretLen || slices.ContainsFunc(list, func(b []byte) bool { return string(b) == v }) {
			continue
		}
		list = append(list, []byte(v))
	}
	// Longest first, so a secret that contains another is masked whole.
	slices.SortStableFunc(list, func(a, b []byte) int { return len(b) - len(a) })
	s.values.Store(&list)
}

// Len is how many values are masked.
func (s *Secrets) Len() int {
	if s == nil {
		return 0
	}
	if p := s.values.Load(); p != nil {
		return len(*p)
	}
	return 0
}

// Mask returns line with every secret value replaced by SecretMark and
// whether it held any: line itself when not (the usual case, without
// copying), else the masked text built in scratch[:0].
func (s *Secrets) Mask(line, scratch []byte) ([]byte, bool) {
	if s == nil {
		return line, false
	}
	p := s.values.Load()
	if p == nil {
		return line, false
	}
	out := line
	masked := false
	for _, v := range *p {
		if !bytes.Contains(out, v) {
			continue
		}
		next := scratch[:0]
		if masked {
			next = nil // out is scratch: build into a fresh slice
		}
		rest := out
		for {
			i := bytes.Index(rest, v)
			if i < 0 {
				break
			}
			next = append(next, rest[:i]...)
			next = append(next, SecretMark...)
			rest = rest[i+len(v):]
		}
		out, masked = append(next, rest...), true
	}
	return out, masked
}

// MaskString is Mask for a string.
func (s *Secrets) MaskString(text string) string {
	if s == nil || s.Len() == 0 {
		return text
	}
	p := s.values.Load()
	hit := false
	for _, v := range *p {
		if strings.Contains(text, string(v)) {
			hit = true
			break
		}
	}
	if !hit {
		return text
	}
	out, _ := s.Mask([]byte(text), nil)
	return string(out)
}
