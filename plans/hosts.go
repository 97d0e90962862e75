package plans

import (
	"fmt"
	"math"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golive/golive/docker"
)

// HostPlaceholder in a health gate's http or tcp is replaced by the
// address of the host the gated container runs on.
const HostPlaceholder = "{host}"

// HostEntry is one named Docker engine of a plan's `hosts:`: a URL, or a
// mapping that also sets the address gates probe and the TLS certificates.
type HostEntry struct {
	URL string `yaml:"url"`
	// Address replaces {host} in gates; default: the URL's host name, or
	// 127.0.0.1 for a unix:// engine.
	Address string `yaml:"address"`
	// CertPath is a folder with ca.pem, cert.pem and key.pem for tcp:// with TLS.
	CertPath string `yaml:"cert_path"`
}

// UnmarshalYAML accepts `name: URL` and `name: {url: …, address: …, cert_path: …}`.
func (h *HostEntry) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err == nil {
		*h = HostEntry{URL: s}
		return nil
	}
	var m map[string]string
	if err := unmarshal(&m); err != nil {
		return fmt.Errorf("a host is a URL (tcp://HOST:PORT, ssh://USER@HOST, unix:///PATH) or a mapping with url, address and cert_path")
	}
	for k, v := range m {
		switch k {
		case "url":
			h.URL = v
		case "address":
			h.Address = v
		case "cert_path":
			h.CertPath = v
		default:
			return fmt.Errorf("a host has no setting %q; it takes url, address and cert_path", k)
		}
	}
	return nil
}

// Rollout says how many hosts of a service change at a time, and how
// long to wait between two batches.
type Rollout struct {
	Batch BatchSize     `yaml:"batch"`
	Pause time.Duration `yaml:"pause"`
}

// BatchSize is a number of hosts, or a percentage of a service's hosts.
type BatchSize struct {
	N       int
	Percent bool
}

// UnmarshalYAML accepts `2` and `"50%"`.
func (b *BatchSize) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return fmt.Errorf("rollout.batch is a number of hosts (1) or a percentage (\"50%%\")")
	}
	text, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	n, err := strconv.Atoi(text)
	if err != nil || n < 1 || pct && n > 100 {
		return fmt.Errorf("rollout.batch %q: expected a whole number of hosts of at least 1, or a percentage from 1%% to 100%%", s)
	}
	*b = BatchSize{N: n, Percent: pct}
	return nil
}

// Of is how many of n hosts one batch holds (at least one).
func (b BatchSize) Of(n int) int {
	size := b.N
	if b.Percent {
		size = int(math.Ceil(float64(n) * float64(b.N) / 100))
	}
	if size < 1 || size > n {
		return n
	}
	return size
}

// RolloutNotes says which services' rollout changes every one of their
// hosts in one batch, which a batch size meant as "a few at a time" does
// silently when the service has no more hosts than that.
func (p *Plan) RolloutNotes() []string {
	var notes []string
	for _, svc := range p.Services {
		if svc.Rollout == nil {
			continue
		}
		n := len(p.ServiceHosts(svc))
		if n > 1 && svc.Rollout.Batch.Of(n) == n {
			notes = append(notes, fmt.Sprintf("%s: rollout batch %s covers all its %d hosts: they all change at once; set rollout.batch below %d to change them a few at a time", svc.Name, svc.Rollout.Batch, n, n))
		}
	}
	return notes
}

// String writes a batch size as the plan does: 2 or 50%.
func (b BatchSize) String() string {
	if b.Percent {
		return strconv.Itoa(b.N) + "%"
	}
	return strconv.Itoa(b.N)
}

// HasHosts says the plan names its Docker engines under `hosts:`.
func (p *Plan) HasHosts() bool { return len(p.Hosts) > 0 }

// HostNames lists the plan's hosts in name order, the order locks are taken in.
func (p *Plan) HostNames() []string {
	names := make([]string, 0, len(p.Hosts))
	for name := range p.Hosts {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// ServiceHosts lists the hosts a service runs on, in name order: those
// its `hosts:` names, or every host of the plan.
func (p *Plan) ServiceHosts(svc *Service) []string {
	if len(svc.Hosts) == 0 {
		return p.HostNames()
	}
	names := slices.Clone(svc.Hosts)
	slices.Sort(names)
	return slices.Compact(names)
}

// HostAddress is what {host} stands for in the gates of services on host.
func (p *Plan) HostAddress(host string) string {
	h := p.Hosts[host]
	if h == nil {
		return ""
	}
	if h.Address != "" {
		return h.Address
	}
	u, err := url.Parse(h.URL)
	if err != nil || u.Scheme == "unix" || u.Hostname() == "" {
		return "127.0.0.1"
	}
	return u.Hostname()
}

// HostOptions are the connection options of a named host.
func (p *Plan) HostOptions(host string) docker.HostOptions {
	h := p.Hosts[host]
	if h == nil || h.CertPath == "" {
		return docker.HostOptions{}
	}
	return docker.HostOptions{CertDir: p.Resolve(h.CertPath)}
}

// onHost is the part of the plan that runs on one host: the services
// placed on it, with {host} in their gates filled in. Its engine locks,
// deploys, records and reverts on that host as a single-host plan does.
func (p *Plan) onHost(host string) *Plan {
	sub := *p
	sub.Hosts, sub.Services, sub.Steps = nil, nil, nil
	addr := p.HostAddress(host)
	for _, svc := range p.Services {
		if !slices.Contains(p.ServiceHosts(svc), host) {
			continue
		}
		s := *svc
		s.Health.HTTP = strings.ReplaceAll(s.Health.HTTP, HostPlaceholder, addr)
		s.Health.TCP = strings.ReplaceAll(s.Health.TCP, HostPlaceholder, addr)
		sub.Services = append(sub.Services, &s)
	}
	return &sub
}

// Placement is one service on one host: "api@app1" in logs and state.
func Placement(service, host string) string {
	if host == "" || service == "" {
		return service
	}
	return service + "@" + host
}

// Placements is what the release's state lists: each service, or each
// service on each of its hosts ("api@app1").
func (p *Plan) Placements() []PlannedService {
	var out []PlannedService
	for _, svc := range p.Services {
		if !p.HasHosts() {
			out = append(out, PlannedService{Name: svc.Name, Group: svc.Group, Image: svc.Image})
			continue
		}
		for _, h := range p.ServiceHosts(svc) {
			out = append(out, PlannedService{Name: Placement(svc.Name, h), Group: svc.Group, Image: svc.Image})
		}
	}
	return out
}

// hosts validates `hosts:`, each service's `hosts:` and `rollout:`.
func (v *validator) hosts() {
	p := v.plan
	if p.HasHosts() && p.Docker.Host != "" {
		v.at("$.docker.host", "docker.host and hosts are both set: with hosts, name every engine under hosts and remove docker.host")
	}
	if p.HasHosts() && p.Docker.Swarm {
		v.at("$.docker.swarm", "docker.swarm and hosts are both set: a Swarm places services on its nodes itself; keep one of them")
	}
	for _, name := range p.HostNames() {
		at := "$.hosts." + name
		v.name(at, "host name", name, "it names the host in logs, state and the journal")
		h := p.Hosts[name]
		if h == nil || h.URL == "" {
			v.at(at, "host %s has no URL: write `%s: tcp://HOST:2376`, `ssh://USER@HOST` or `unix:///var/run/docker.sock`", name, name)
			continue
		}
		u, err := url.Parse(h.URL)
		if err != nil || !slices.Contains([]string{"unix", "tcp", "ssh"}, u.Scheme) {
			v.at(at, "host %s: %q is not a Docker engine URL; write tcp://HOST:PORT, ssh://USER@HOST or unix:///PATH", name, h.URL)
			continue
		}
		if h.CertPath != "" && u.Scheme != "tcp" {
			v.at(at, "host %s: cert_path applies to tcp:// hosts only", name)
		}
		if h.CertPath != "" {
			if _, err := os.Stat(p.Resolve(h.CertPath)); err != nil {
				v.at(at, "host %s: cert_path %s: %v (a folder with ca.pem, cert.pem and key.pem)", name, h.CertPath, err)
			}
		}
	}
	if p.HasHosts() {
		for i, step := range p.Steps {
			if group := step.ProxyGroup(); group != "" {
				v.at(fmt.Sprintf("$.steps[%d].%s", i, step.Kind()), "step %d: %s does not run across several hosts yet; remove the step (each host's proxy switches its services blue/green without it)", i+1, step.Kind())
			}
		}
	}
	for _, svc := range p.Services {
		at := "$.services." + svc.Name
		if !p.HasHosts() {
			if len(svc.Hosts) > 0 {
				v.at(at+".hosts", "service %s names hosts but the plan has no `hosts:`; add the named engines under a top-level hosts:", svc.Name)
			}
			if svc.Rollout != nil {
				v.at(at+".rollout", "service %s: rollout needs several hosts; add a top-level `hosts:`", svc.Name)
			}
			if strings.Contains(svc.Health.HTTP+svc.Health.TCP, HostPlaceholder) {
				v.at(at+".health", "service %s: {host} in a gate needs a top-level `hosts:`; write the address instead", svc.Name)
			}
			continue
		}
		if svc.Hosts != nil && len(svc.Hosts) == 0 {
			v.at(at+".hosts", "service %s: hosts: [] places it on no host; name its hosts, or remove hosts: to run it on every host", svc.Name)
		}
		for i, h := range svc.Hosts {
			if p.Hosts[h] == nil {
				v.at(fmt.Sprintf("%s.hosts[%d]", at, i), "service %s: host %q is not under the plan's hosts (%s)", svc.Name, h, strings.Join(p.HostNames(), ", "))
			}
		}
		if svc.Rollout != nil && svc.Rollout.Batch.N == 0 {
			v.at(at+".rollout", "service %s: rollout has no batch; write rollout: {batch: 1} (hosts at a time) or {batch: \"50%%\"}", svc.Name)
		}
		if svc.Rollout != nil && svc.Rollout.Pause < 0 {
			v.at(at+".rollout.pause", "service %s: rollout.pause must not be negative", svc.Name)
		}
		v.proxiedGate(svc)
	}
}

// proxiedGate refuses an http or tcp gate on a proxied service placed on a
// host golive does not run on: that gate goes straight to the new
// container's address on the host's proxy network, which only the host
// itself reaches.
func (v *validator) proxiedGate(svc *Service) {
	p := v.plan
	if svc.Proxy == nil || p.Proxy == nil || svc.Health.HTTP == "" && svc.Health.TCP == "" {
		return
	}
	kind := "http"
	if svc.Health.HTTP == "" {
		kind = "tcp"
	}
	var remote []string
	for _, h := range p.ServiceHosts(svc) {
		if p.Hosts[h] != nil && !p.hostIsLocal(h) {
			remote = append(remote, h)
		}
	}
	if len(remote) == 0 {
		return
	}
	v.at("$.services."+svc.Name+".health."+kind,
		"service %s: its health.%s goes straight to each new container on the proxy network of its host, which golive cannot reach on %s (only a unix:// host's containers are reachable from here); "+
			"use health: {docker: true} (the image's HEALTHCHECK, run on the host) or health.cmd, or remove health.%s (the proxy checks %s on the host before it switches)",
		svc.Name, kind, strings.Join(remote, ", "), kind, svc.Proxy.Health)
}

// hostIsLocal says the named host is the Docker engine of the machine
// golive runs on (a unix:// socket): its containers' addresses are reachable.
func (p *Plan) hostIsLocal(host string) bool {
	u, err := url.Parse(p.Hosts[host].URL)
	return err == nil && u.Scheme == "unix"
}
