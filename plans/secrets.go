package plans

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/golive/golive/logs"
)

// LookupEnv finds an operator environment variable; os.LookupEnv in production.
type LookupEnv func(string) (string, bool)

// looksSecret reports whether an environment key names a secret by convention.
func looksSecret(key string) bool {
	k := strings.ToUpper(key)
	for _, word := range []string{"PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY", "CREDENTIAL"} {
		if strings.Contains(k, word) {
			return true
		}
	}
	return false
}

// ServiceEnv is the container environment of s: its env_file, then its env
// map with ${VAR} (or ${VAR:-default}) taken from the operator's
// environment, sorted by key.
func (p *Plan) ServiceEnv(s *Service, lookup LookupEnv) ([]string, error) {
	vars := map[string]string{}
	if s.EnvFile != "" {
		fileVars, err := readEnvFile(p.Resolve(s.EnvFile))
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", s.Name, err)
		}
		for k, v := range fileVars {
			vars[k] = v
		}
	}
	var missing []string
	for k, v := range s.Env {
		vars[k] = os.Expand(v, func(name string) string {
			name, def, hasDefault := strings.Cut(name, ":-")
			val, ok := lookup(name)
			switch {
			case ok && val != "":
				return val
			case hasDefault:
				return def
			case !ok:
				missing = append(missing, name)
			}
			return val
		})
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("service %s: env uses %s, not set in your environment; export it before running golive", s.Name, strings.Join(slices.Compact(missing), ", "))
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env, nil
}

// readEnvFile reads KEY=VALUE lines from a regular file of at most
// MaxEnvFileBytes.
func readEnvFile(path string) (map[string]string, error) {
	data, err := readCapped(path, "env_file", MaxEnvFileBytes, true)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			return nil, fmt.Errorf("env_file %s:%d: expected KEY=VALUE", path, n+1)
		}
		vars[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return vars, nil
}

// Masker hides secret values in any text golive writes: log lines as they
// are ingested, the journal, reports and recordings.
type Masker struct {
	secrets *logs.Secrets
	keys    map[string]bool // environment keys whose values are secret
}

// NewMasker collects the values to hide: the variables the plan lists under
// secrets, and every service env value whose key looks secret or is built
// from a listed secret.
func NewMasker(p *Plan, lookup LookupEnv) *Masker {
	m := &Masker{secrets: logs.NewSecrets(), keys: map[string]bool{}}
	for _, name := range p.Secrets {
		m.keys[name] = true
		if v, ok := lookup(name); ok {
			m.secrets.Add(v)
		}
	}
	for _, s := range p.Services {
		for k, v := range s.Env {
			for _, name := range p.Secrets {
				if strings.Contains(v, "${"+name+"}") || strings.Contains(v, "${"+name+":-") || strings.Contains(v, "$"+name) {
					m.keys[k] = true
				}
			}
		}
		env, err := p.ServiceEnv(s, lookup)
		if err != nil {
			continue
		}
		m.AddEnv(env)
	}
	return m
}

// AddEnv masks from now on the secret values of a container environment
// (KEY=value entries): a previous container's environment holds the
// previous value of a secret that changed since.
func (m *Masker) AddEnv(env []string) {
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); m.keys[k] || looksSecret(k) {
			m.secrets.Add(v)
		}
	}
}

// Secrets are the values the log follower masks as it ingests lines.
func (m *Masker) Secrets() *logs.Secrets { return m.secrets }

// Mask returns s with every secret value replaced by ****.
func (m *Masker) Mask(s string) string {
	if m == nil || s == "" {
		return s
	}
	return m.secrets.MaskString(s)
}
