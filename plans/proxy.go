package plans

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distribution/reference"

	"github.com/golive/golive/docker"
)

// ProxyConfig is the plan's `proxy:`: the kamal-proxy container (one per
// Docker host, shared by projects) through which services that set their
// own `proxy:` take traffic, so a new version can start beside the old one.
type ProxyConfig struct {
	Ports     []string `yaml:"ports"`     // published by the proxy; default 80:80
	Image     string   `yaml:"image"`     // default basecamp/kamal-proxy:v0.9.2
	Container string   `yaml:"container"` // default golive-proxy
	Network   string   `yaml:"network"`   // the network proxied services join; default golive-proxy
}

// ServiceProxy is a service's `proxy:`: how the proxy reaches it and checks it.
type ServiceProxy struct {
	Port       int           `yaml:"port"`        // the container port the proxy sends to
	Host       string        `yaml:"host"`        // Host header served; any when empty
	PathPrefix string        `yaml:"path_prefix"` // served below this path; all when empty
	Health     string        `yaml:"health"`      // the proxy's own health check path
	Drain      time.Duration `yaml:"drain"`       // in-flight requests to the old version may take this long
	KeepWarm   time.Duration `yaml:"keep_warm"`   // the old version keeps running this long after a switch
}

// Defaults for `proxy:` keys a plan may leave out.
const (
	DefaultProxyPort   = "80:80"
	DefaultProxyHealth = "/up"
	DefaultProxyDrain  = 30 * time.Second
	DefaultKeepWarm    = 10 * time.Minute
)

// ProxyNotes say, for `check`, how each service with proxy: is replaced:
// blue/green through which proxy, and where its health gate goes.
func (p *Plan) ProxyNotes() []string {
	if p.Proxy == nil {
		return nil
	}
	var notes []string
	for _, s := range p.Services {
		sp := s.Proxy
		if sp == nil {
			continue
		}
		note := fmt.Sprintf("%s: blue/green through proxy %s (network %s, ports %s) for %s: the new version starts beside the old, takes the traffic once healthy (proxy check %s), the old one stays warm %s for an instant revert",
			s.Name, p.Proxy.Container, p.Proxy.Network, strings.Join(p.Proxy.Ports, ", "), routeName(sp), sp.Health, shortDuration(sp.KeepWarm))
		switch {
		case s.Health.HTTP != "":
			note += fmt.Sprintf("; health.http goes straight to each container at port %d (its path only)", sp.Port)
		case s.Health.TCP != "":
			note += fmt.Sprintf("; health.tcp goes straight to each container at port %d", sp.Port)
		}
		notes = append(notes, note)
	}
	return notes
}

// ProxySpec is the proxy container the plan asks for, defaults applied.
func (p *Plan) ProxySpec() (docker.ProxySpec, error) {
	if p.Proxy == nil {
		return docker.ProxySpec{}, fmt.Errorf("the plan has no proxy:")
	}
	spec := docker.ProxySpec{Name: p.Proxy.Container, Image: p.Proxy.Image, Network: p.Proxy.Network}
	for _, s := range p.Proxy.Ports {
		port, err := docker.ParsePort(s)
		if err != nil {
			return docker.ProxySpec{}, fmt.Errorf("proxy: %w", err)
		}
		spec.Ports = append(spec.Ports, port)
	}
	return spec, nil
}

// ProxyService is the name the service has in the shared proxy: unique
// across the projects that share it.
func (s *Service) ProxyService(project string) string { return project + "-" + s.Name }

// proxy validates the plan's and the services' `proxy:` and fills in defaults.
func (v *validator) proxy() {
	p := v.plan
	var proxyPorts []docker.Port
	if cfg := p.Proxy; cfg != nil {
		if len(cfg.Ports) == 0 {
			cfg.Ports = []string{DefaultProxyPort}
		}
		if cfg.Image == "" {
			cfg.Image = docker.DefaultProxyImage
		} else if _, err := reference.ParseNormalizedNamed(cfg.Image); err != nil {
			v.at("$.proxy.image", "proxy.image %q is not a valid image reference (%v)", cfg.Image, err)
		}
		if cfg.Container == "" {
			cfg.Container = docker.DefaultProxyName
		} else if !namePattern.MatchString(cfg.Container) {
			v.at("$.proxy.container", "proxy.container %q may contain only letters, digits, '_', '.' and '-'", cfg.Container)
		}
		if cfg.Network == "" {
			cfg.Network = docker.DefaultProxyNetwork
		} else if !namePattern.MatchString(cfg.Network) {
			v.at("$.proxy.network", "proxy.network %q may contain only letters, digits, '_', '.' and '-'", cfg.Network)
		}
		for i, s := range cfg.Ports {
			at := fmt.Sprintf("$.proxy.ports[%d]", i)
			port, err := docker.ParsePort(s)
			switch {
			case err != nil:
				v.at(at, "proxy: %v", err)
			case port.HostPort == "":
				v.at(at, "proxy port %q publishes no host port: write HOST_PORT:CONTAINER_PORT, e.g. 80:80", s)
			case port.ContainerPort != "80" && port.ContainerPort != "443" || port.Proto != "tcp":
				v.at(at, "proxy port %q: kamal-proxy listens on 80 (HTTP) and 443 (HTTPS) inside its container; publish one of them, e.g. 8080:80", s)
			default:
				proxyPorts = append(proxyPorts, port)
			}
		}
	}
	routes := map[string]string{}
	for _, s := range p.Services {
		v.serviceProxy(s, proxyPorts, routes)
	}
}

// serviceProxy validates one service's `proxy:` and its ports against the proxy's.
func (v *validator) serviceProxy(s *Service, proxyPorts []docker.Port, routes map[string]string) {
	at := "$.services." + s.Name
	var containerPorts []string
	for i, spec := range s.Ports {
		port, err := docker.ParsePort(spec)
		if err != nil {
			continue // reported with the service's ports
		}
		containerPorts = append(containerPorts, port.ContainerPort)
		if port.HostPort == "" {
			continue
		}
		if slices.ContainsFunc(proxyPorts, func(pp docker.Port) bool { return sameHostPort(pp, port) }) {
			v.at(fmt.Sprintf("%s.ports[%d]", at, i), "service %s publishes host port %s, which the proxy publishes: remove it from the service or from proxy.ports", s.Name, port.HostPort)
		} else if s.Proxy != nil {
			v.at(fmt.Sprintf("%s.ports[%d]", at, i), "service %s has proxy:, so its old and new containers run side by side and cannot both publish host port %s: publish only the container port (%q) and let traffic come through the proxy", s.Name, port.HostPort, port.ContainerPort)
		}
	}
	sp := s.Proxy
	if sp == nil {
		return
	}
	at += ".proxy"
	if v.plan.Proxy == nil {
		v.at(at, "service %s has proxy:, but the plan has no top-level proxy: to run it; add `proxy: {ports: [\"80:80\"]}`", s.Name)
	}
	switch {
	case sp.Port == 0 && len(containerPorts) == 1:
		sp.Port, _ = strconv.Atoi(containerPorts[0])
	case sp.Port == 0:
		v.at(at, "service %s: proxy.port is missing: the container port the proxy sends traffic to, e.g. `port: 8080`", s.Name)
	case sp.Port < 1 || sp.Port > 65535:
		v.at(at+".port", "service %s: proxy.port %d is not a port number (1-65535)", s.Name, sp.Port)
	case len(containerPorts) > 0 && !slices.Contains(containerPorts, strconv.Itoa(sp.Port)):
		v.at(at+".port", "service %s: proxy.port %d is none of the service's container ports (%s)", s.Name, sp.Port, strings.Join(containerPorts, ", "))
	}
	if sp.Host != "" && strings.ContainsAny(sp.Host, "/: \t") {
		v.at(at+".host", "service %s: proxy.host %q is a host name, without scheme, port or path (e.g. shop.example.com)", s.Name, sp.Host)
	}
	if sp.PathPrefix != "" && !strings.HasPrefix(sp.PathPrefix, "/") {
		v.at(at+".path_prefix", "service %s: proxy.path_prefix %q must start with /", s.Name, sp.PathPrefix)
	}
	if sp.Health == "" {
		sp.Health = DefaultProxyHealth
	} else if !strings.HasPrefix(sp.Health, "/") {
		v.at(at+".health", "service %s: proxy.health %q is the path the proxy checks on the container, starting with / (e.g. /up)", s.Name, sp.Health)
	}
	if sp.Drain < 0 || sp.KeepWarm < 0 {
		v.at(at, "service %s: proxy durations must not be negative", s.Name)
	}
	if sp.Drain == 0 {
		sp.Drain = DefaultProxyDrain
	}
	if sp.KeepWarm == 0 {
		sp.KeepWarm = DefaultKeepWarm
	}
	route := sp.Host + sp.PathPrefix
	if other, dup := routes[route]; dup {
		v.at(at, "services %s and %s both take traffic for %s through the proxy: give one a different host or path_prefix", other, s.Name, routeName(sp))
	}
	routes[route] = s.Name
}

// sameHostPort reports whether two published ports take the same host port:
// on the same address, or one of them on every address.
func sameHostPort(a, b docker.Port) bool {
	wildcard := func(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" }
	return a.HostPort == b.HostPort && a.Proto == b.Proto && (a.HostIP == b.HostIP || wildcard(a.HostIP) || wildcard(b.HostIP))
}

func routeName(sp *ServiceProxy) string {
	host := sp.Host
	if host == "" {
		host = "any host"
	}
	if sp.PathPrefix == "" {
		return host
	}
	return host + " " + sp.PathPrefix
}
