package plans

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/docker"
)

func TestPlanProxyTakesDefaultsAndItsImageIsPreloaded(t *testing.T) {
	p, err := Parse("/p.yaml", []byte(`project: shop
release: '2'
proxy: {}
services:
  web:
    image: shop/web:2
    ports: ["8080"]
    proxy: {host: shop.example.com}
  api:
    image: shop/api:2
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := *p.Proxy; !slices.Equal(got.Ports, []string{"80:80"}) || got.Image != "basecamp/kamal-proxy:v0.9.2" || got.Container != "golive-proxy" || got.Network != "golive-proxy" {
		t.Errorf("proxy defaults = %+v", got)
	}
	want := ServiceProxy{Port: 8080, Host: "shop.example.com", Health: "/up", Drain: 30 * time.Second, KeepWarm: 10 * time.Minute}
	if got := *p.Services[0].Proxy; got != want {
		t.Errorf("service proxy = %+v, want %+v", got, want)
	}
	if p.Services[1].Proxy != nil {
		t.Errorf("a service without proxy: got %+v", p.Services[1].Proxy)
	}
	if got := p.Images(); !slices.Equal(got, []string{"shop/web:2", "shop/api:2", "basecamp/kamal-proxy:v0.9.2"}) {
		t.Errorf("images = %v", got)
	}
	if got := p.ProxyNotes(); len(got) != 1 || !strings.HasPrefix(got[0], "web: blue/green through proxy golive-proxy (network golive-proxy, ports 80:80) for shop.example.com:") || !strings.Contains(got[0], "stays warm 10m") {
		t.Errorf("notes = %v", got)
	}
	spec, err := p.ProxySpec()
	if err != nil || spec.Name != "golive-proxy" || !slices.Equal(spec.Ports, []docker.Port{{HostPort: "80", ContainerPort: "80", Proto: "tcp"}}) {
		t.Errorf("proxy spec = %+v, %v", spec, err)
	}
	if got := p.Services[0].ProxyService(p.Project); got != "shop-web" {
		t.Errorf("proxy service name = %s", got)
	}
}

func TestPlanWithoutProxyHasNoWarningAndNoProxyImage(t *testing.T) {
	p, err := Parse("/p.yaml", []byte("project: x\nrelease: '1'\nservices: {web: {image: w}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Proxy != nil || len(p.ProxyNotes()) != 0 || !slices.Equal(p.Images(), []string{"w"}) {
		t.Errorf("proxy %+v, warnings %v, images %v", p.Proxy, p.ProxyNotes(), p.Images())
	}
}

func TestPlanProxyErrorsNameLineColumnAndWhatToDo(t *testing.T) {
	const head = "project: shop\nrelease: '1'\n"
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"service proxy without a plan proxy", head + "services:\n  web:\n    image: w\n    proxy: {port: 8080}\n", "p.yaml:6:5: service web has proxy:, but the plan has no top-level proxy: to run it; add `proxy: {ports: [\"80:80\"]}`"},
		{"proxy port without host port", head + "proxy: {ports: ['80']}\nservices: {web: {image: w}}\n", `p.yaml:3:17: proxy port "80" publishes no host port: write HOST_PORT:CONTAINER_PORT, e.g. 80:80`},
		{"proxy port kamal-proxy does not listen on", head + "proxy: {ports: ['8080:8080']}\nservices: {web: {image: w}}\n", `p.yaml:3:17: proxy port "8080:8080": kamal-proxy listens on 80 (HTTP) and 443 (HTTPS) inside its container; publish one of them, e.g. 8080:80`},
		{"bad proxy port", head + "proxy:\n  ports: ['80:80:80:80']\nservices: {web: {image: w}}\n", `p.yaml:4:11: proxy: port "80:80:80:80": expected [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTO]`},
		{"bad proxy image", head + "proxy: {image: Kamal/Proxy}\nservices: {web: {image: w}}\n", `p.yaml:3:16: proxy.image "Kamal/Proxy" is not a valid image reference (invalid reference format: repository name (Proxy) must be lowercase)`},
		{"bad proxy container", head + "proxy: {container: 'my proxy'}\nservices: {web: {image: w}}\n", `p.yaml:3:20: proxy.container "my proxy" may contain only letters, digits, '_', '.' and '-'`},
		{"service publishes the proxy's host port", head + "proxy: {ports: ['8080:80']}\nservices:\n  api: {image: a, ports: ['127.0.0.1:8080:9000']}\n", "p.yaml:5:27: service api publishes host port 8080, which the proxy publishes: remove it from the service or from proxy.ports"},
		{"proxied service publishes a host port", head + "proxy: {}\nservices:\n  web:\n    image: w\n    ports: ['8081:8080']\n    proxy: {port: 8080}\n", `p.yaml:7:13: service web has proxy:, so its old and new containers run side by side and cannot both publish host port 8081: publish only the container port ("8080") and let traffic come through the proxy`},
		{"proxy port not among the container ports", head + "proxy: {}\nservices:\n  web:\n    image: w\n    ports: ['8080', '9090']\n    proxy: {port: 3000}\n", "p.yaml:8:19: service web: proxy.port 3000 is none of the service's container ports (8080, 9090)"},
		{"proxy port missing", head + "proxy: {}\nservices:\n  web:\n    image: w\n    proxy: {host: shop.example.com}\n", "p.yaml:7:5: service web: proxy.port is missing: the container port the proxy sends traffic to, e.g. `port: 8080`"},
		{"proxy port out of range", head + "proxy: {}\nservices:\n  web:\n    image: w\n    proxy: {port: 70000}\n", "p.yaml:7:19: service web: proxy.port 70000 is not a port number (1-65535)"},
		{"host with a scheme", head + "proxy: {}\nservices:\n  web:\n    image: w\n    proxy: {port: 80, host: 'https://shop.example.com'}\n", `p.yaml:7:29: service web: proxy.host "https://shop.example.com" is a host name, without scheme, port or path (e.g. shop.example.com)`},
		{"path prefix without slash", head + "proxy: {}\nservices:\n  web:\n    image: w\n    proxy: {port: 80, path_prefix: api}\n", `p.yaml:7:36: service web: proxy.path_prefix "api" must start with /`},
		{"health that is a URL", head + "proxy: {}\nservices:\n  web:\n    image: w\n    proxy: {port: 80, health: 'http://x/up'}\n", `p.yaml:7:31: service web: proxy.health "http://x/up" is the path the proxy checks on the container, starting with / (e.g. /up)`},
		{"bad drain duration", head + "proxy: {}\nservices:\n  web:\n    image: w\n    proxy: {port: 80, drain: later}\n", `p.yaml:7:30: service web: proxy.drain: "later" is not a duration: write a duration such as 500ms, 30s, 2m or 1m30s`},
		{"negative keep_warm", head + "proxy: {}\nservices:\n  web:\n    image: w\n    proxy: {port: 80, keep_warm: -1m}\n", "p.yaml:7:5: service web: proxy durations must not be negative"},
		{"two services on one route", head + "proxy: {}\nservices:\n  web: {image: w, proxy: {port: 80}}\n  www: {image: x, proxy: {port: 80}}\n", "p.yaml:6:19: services web and www both take traffic for any host through the proxy: give one a different host or path_prefix"},
		{"unknown proxy key", head + "proxy: {}\nservices:\n  web: {image: w, proxy: {port: 80, keepwarm: 1m}}\n", `p.yaml:5:37: unknown field "keepwarm": did you mean "keep_warm"? (see the README for the plan format)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("plan accepted")
			}
			if err.Error() != tt.want {
				t.Fatalf("error:\n%s\nwant:\n%s", err, tt.want)
			}
		})
	}
}
