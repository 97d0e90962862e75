package plans

import (
	"fmt"
	"time"

	"github.com/moby/moby/api/types/container"
)

// Healthcheck is a HEALTHCHECK the container runs (as a compose file writes
// it), replacing the image's own; `health: {docker: true}` then waits for it.
type Healthcheck struct {
	Test        HealthTest    `yaml:"test"`
	Interval    time.Duration `yaml:"interval"`
	Timeout     time.Duration `yaml:"timeout"`
	StartPeriod time.Duration `yaml:"start_period"`
	Retries     int           `yaml:"retries"`
}

// HealthTest is a healthcheck command: [CMD, arg...], [CMD-SHELL, "command"]
// or [NONE]; a plain string means CMD-SHELL.
type HealthTest []string

// UnmarshalYAML accepts a list or a shell command string.
func (t *HealthTest) UnmarshalYAML(unmarshal func(any) error) error {
	var list []string
	if err := unmarshal(&list); err == nil {
		*t = list
		return nil
	}
	var s string
	if err := unmarshal(&s); err != nil {
		return fmt.Errorf("expected a healthcheck test as a list ([CMD, arg, ...]) or a shell command string")
	}
	*t = HealthTest{"CMD-SHELL", s}
	return nil
}

// config is the engine's form of the healthcheck.
func (h *Healthcheck) config() *container.HealthConfig {
	if h == nil {
		return nil
	}
	return &container.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries}
}

// healthcheck checks a service's container healthcheck.
func (v *validator) healthcheck(s *Service, at string) {
	h := s.Healthcheck
	if h == nil {
		return
	}
	switch {
	case len(h.Test) == 0:
		v.at(at, "service %s: healthcheck has no test: add `test: [CMD, /path/to/check]`", s.Name)
	case h.Test[0] == "NONE":
	case h.Test[0] == "CMD" && len(h.Test) > 1, h.Test[0] == "CMD-SHELL" && len(h.Test) == 2:
	default:
		v.at(at+".test", "service %s: healthcheck test %q: expected [CMD, program, args...], [CMD-SHELL, \"command\"] or [NONE]", s.Name, []string(h.Test))
	}
	if h.Interval < 0 || h.Timeout < 0 || h.StartPeriod < 0 || h.Retries < 0 {
		v.at(at, "service %s: healthcheck durations and retries must not be negative", s.Name)
	}
}
