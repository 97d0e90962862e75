# golive: the two commands a newcomer needs are `make demo` and `make test`.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN     := bin/golive

.PHONY: build test bench bench-release demo demo-broken demo-revert demo-clean lint clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/golive

# The whole suite, against the real Docker engine (and tmux where tests need it).
test:
	$(GO) test -race -count=1 -timeout 12m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# A two-service release timed side by side: golive's engine, a minimal
# Engine API program and docker-compose (when installed), alternating; medians.
bench-release:
	$(GO) run ./bench/release -n 7

# Builds the demo images FROM scratch, deploys version 1 as "what runs now",
# then opens the cockpit on the demo release plan (version 2): press D to
# deploy, watch the error lines, R to revert, q to quit. Without a
# terminal it carries out the plan headless instead.
demo: build
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
	-docker rm -f $$(docker ps -aq --filter label=io.golive.project=golive-demo) golive-lock-golive-demo golive-record-golive-demo 2>/dev/null
	rm -rf examples/demo/.golive

lint:
	gofmt -l . | (! grep .)
	$(GO) vet ./...

clean:
	rm -rf bin
