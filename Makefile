# golive: the two commands a newcomer needs are `make demo` and `make test`.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN     := bin/golive

.PHONY: build test test-deps fuzz bench bench-logs bench-release bench-hosts bench-swarm bench-proxy proxy-image demo demo-compose demo-broken demo-revert demo-clean demo-hosts clean-hosts lint clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/golive

# The whole suite, against the real Docker engine (and tmux, OpenSSH and
# asciinema where tests need them: a test whose tool is missing skips and says why).
test: test-deps
	$(GO) test -race -count=1 -timeout 12m ./...
	$(MAKE) fuzz

# Feeds the plan loader generated plans for FUZZTIME: no panic, no hang,
# bounded memory. New failing inputs land in plans/testdata/fuzz.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./plans

# Installs the tools the end-to-end tests use, with apt when running as root
# and they are missing; otherwise it says which are missing and goes on.
test-deps:
	@missing=""; \
	command -v tmux >/dev/null || missing="$$missing tmux"; \
	{ [ -x /usr/sbin/sshd ] || command -v sshd >/dev/null; } || missing="$$missing openssh-server"; \
	command -v ssh >/dev/null || missing="$$missing openssh-client"; \
	command -v asciinema >/dev/null || missing="$$missing asciinema"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "test-deps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null \
			|| echo "test-deps: could not install$$missing; the tests that need them skip"; \
	else \
		echo "test-deps: missing$$missing (not root or no apt); the tests that need them skip"; \
	fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# A two-service release timed side by side: golive's engine, a minimal
# Engine API program and docker-compose (when installed), alternating; medians.
bench-release:
	$(GO) run ./bench/release -n 7

# A release across three engines (2 services × 3 hosts): golive all at
# once and in batches of 1 against a shell loop of docker -H commands, and
# what a host connection costs. Root only: it starts its own engines.
bench-hosts:
	$(GO) run ./bench/hosts -n 5

# A Swarm update and revert of 4 replicas on a 3-node swarm of test engines
# (root): golive against `docker service update --rollback`, same run, medians.
bench-swarm:
	$(GO) test -run '^$$' -bench . -benchtime 5x ./bench/swarm

# A revert under load (a GET every 5 ms): golive's blue/green switch back
# while the old version is warm and its stop-first revert, next to the raw
# floors (one `kamal-proxy deploy` exec; docker stop + start), alternating;
# p50/p95, ratios, and the requests that failed during each deploy.
bench-proxy:
	$(GO) run ./bench/proxy -n 7

# golive logs against grep, docker logs and docker logs -f, alternately on
# the same generated data, with ratios (needs the Docker engine and its CLI).
bench-logs:
	$(GO) run ./bench/logs

# kamal-proxy at the version go.mod pins (its tool directive), built
# statically into an image FROM scratch: golive/kamal-proxy:v0.9.2.
proxy-image:
	$(GO) run ./docker/scratch/mkproxy

# Builds the demo images FROM scratch, deploys version 1 as "what runs now",
# then opens the cockpit on the demo release plan (version 2): press D to
# deploy, watch the error lines, R to revert, q to quit. Its frontend
# takes traffic through kamal-proxy (proxy-image), blue/green: R switches
# it back at once. Without a terminal it carries out the plan headless.
demo: build proxy-image
	$(GO) run ./examples/demo/mkimages
	$(BIN) apply examples/demo/current.yaml --yes
	@if [ -t 0 ] && [ -t 1 ]; then \
		$(BIN) examples/demo/plan.yaml --record examples/demo/.golive/demo.cast; \
	else \
		$(BIN) apply examples/demo/plan.yaml --yes; \
	fi
	@echo
	@echo "Now: $(BIN) status examples/demo/plan.yaml    (what runs)"
	@echo "     $(BIN) logs --plan examples/demo/plan.yaml (follow the logs)"
	@echo "     make demo-revert                            (put version 1 back)"
	@echo "     make demo-clean                             (remove the demo containers)"

# The same demo release with its services read from examples/demo/compose.yaml
# (plan-compose.yaml says `compose: compose.yaml`): version 1 from the same
# file first (DEMO_VERSION=1), so R reverts to containers with the same
# healthchecks.
demo-compose: build
	$(GO) run ./examples/demo/mkimages
	DEMO_VERSION=1 $(BIN) apply examples/demo/plan-compose.yaml --yes
	@if [ -t 0 ] && [ -t 1 ]; then \
		$(BIN) examples/demo/plan-compose.yaml; \
	else \
		$(BIN) apply examples/demo/plan-compose.yaml --yes; \
	fi

# A release that fails its health gate and is reverted, then its postmortem.
demo-broken: build
	$(GO) run ./examples/demo/mkimages
	$(BIN) apply examples/demo/current.yaml --yes
	-$(BIN) apply examples/demo/plan-broken.yaml --yes
	$(BIN) report --format html -o examples/demo/.golive/postmortem.html $$(ls -t examples/demo/.golive/journal/golive-demo-2.0.1-*.jsonl | head -1)
	@echo "open examples/demo/.golive/postmortem.html"

demo-revert: build
	$(BIN) revert examples/demo/plan.yaml

demo-clean:
	@docker rm -f $$(docker ps -aq --filter label=io.golive.project=golive-demo) golive-lock-golive-demo >/dev/null 2>&1 || true
	@docker volume rm $$(docker volume ls -q --filter label=io.golive.project=golive-demo) >/dev/null 2>&1 || true
	@kill $$(cat examples/demo/.golive/requests/pid 2>/dev/null) >/dev/null 2>&1 || true
	@docker rm -f golive-demo-proxy >/dev/null 2>&1 || true
	@docker network rm golive-demo_default golive-demo-proxy >/dev/null 2>&1 || true
	rm -rf examples/demo/.golive

# Two extra Docker engines on this machine, each in its own network
# namespace (needs root; the machine's own engine is left alone), with the
# demo's version 1 deployed on each by its own plan.
demo-hosts: build
	$(GO) run ./examples/demo/mkimages
	$(GO) run ./examples/hosts start
	$(BIN) apply examples/hosts/.golive/release-1.yaml --yes
	@echo
	@echo "Now: $(BIN) examples/hosts/.golive/release-2.yaml   (the cockpit: D rolls api out one engine at a time, R reverts)"
	@echo "     $(BIN) logs --plan examples/hosts/.golive/release-2.yaml   (every service on every engine, as api@app1 …)"
	@echo "     make clean-hosts                                         (stop the engines, remove their files)"

clean-hosts:
	$(GO) run ./examples/hosts stop

lint:
	gofmt -l . | (! grep .)
	$(GO) vet ./...

clean:
	rm -rf bin
