# Bulwark. `make run` serves on embedded defaults; `make test` is the full
# test suite CI runs (.ci/run calls it).

GO        ?= go
BIN       ?= build/extproc
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/bulwark-waf/bulwark/cmd/extproc/app.Version=$(VERSION)
STATICCHECK_VERSION ?= v0.8.2

.PHONY: all help browser build run test test-go test-race vet lint fmt bench modes settings-doc clean

all: build ## build the binary (the default)

# Every target with a "## what it does" comment, from every included file.
help: ## list the targets
	@awk 'BEGIN { FS = ":[^#]*## " } /^[a-zA-Z0-9_-]+:.*## / { printf "  make %-16s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

build: ## build build/extproc (static, version from git describe)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/extproc

# Serve ext_proc on :50051 and the admin API on :9090 with CRS and the
# bundled model, no config file needed. Pass flags with ARGS="--waf-paranoia-level 2".
run: ## serve ext_proc on :50051 and admin on :9090 with embedded defaults (ARGS=... adds flags)
	$(GO) run -ldflags '$(LDFLAGS)' ./cmd/extproc $(ARGS)

# The whole suite: Go modules are fetched by go itself, the pinned Python
# requirements (LightGBM for the parity test) by model-venv.
test: model-venv browser lint test-go test-race test-k8s model-pytest leak-pytest learn-pytest ## the whole suite CI runs: lint, tests, race tests, the k8s module, the training tests

# The eval report test opens report.html in headless Chromium. Under CI it
# installs Debian's chromium when missing (and the test fails without it);
# elsewhere it says how, and the test skips with the same message.
browser: ## make sure Chromium is there for the report.html browser test
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "$$BULWARK_CHROMIUM" ]; then :; \
	elif [ "$$CI" = true ] && command -v apt-get >/dev/null 2>&1; then \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium; \
	else echo "chromium not found: apt-get install chromium (or set BULWARK_CHROMIUM); the report.html browser test will skip"; fi

vet: ## go vet and gofmt check
	$(GO) vet ./...
	@fmt=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$fmt" ]; then echo "gofmt needed:"; echo "$$fmt"; exit 1; fi

test-go: ## go test ./... of the root module
	$(GO) test -count=1 -timeout 15m ./...

# The protocol state machine, the harness, the wiring and the reload path
# under the race detector (the CRS-heavy suites run without it).
RACE_E2E := TestReloadUnderLoad|TestGracefulDrain|TestPolicySelectionAndReload|TestAttacksAndCleanTrafficInEveryMode|TestCombinationModes
test-race: ## the protocol and wiring tests under the race detector
	$(GO) test -count=1 -race -timeout 10m ./filter/... ./internal/envoysim/... ./config/... ./inspect/...
	$(GO) test -count=1 -race -timeout 10m -run '$(RACE_E2E)' ./e2e/

lint: vet ## vet plus staticcheck
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

fmt: ## gofmt every Go file
	gofmt -w $$(git ls-files '*.go')

# Benchmarks side by side with bare Coraza; writes docs/BENCHMARKS.md.
BENCH_COUNT ?= 5
bench: ## benchmarks beside bare Coraza; writes docs/BENCHMARKS.md
	mkdir -p build
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) -timeout 60m ./bench/ ./model/ | tee build/bench.txt
	$(GO) run ./bench/report -command 'make bench BENCH_COUNT=$(BENCH_COUNT)' < build/bench.txt > docs/BENCHMARKS.md
	@# The soak figures (make soak writes docs/SOAK.md) stay with the benchmarks.
	if [ -f docs/SOAK.md ]; then cat docs/SOAK.md >> docs/BENCHMARKS.md; fi

# Every combination mode through the real ext_proc server on the held-out
# corpus split (make corpus first); writes docs/MODES.md.
MODES_LIMIT ?= 6000
modes: build ## every combination mode on the held-out corpus; writes docs/MODES.md
	@test -f $(MODEL_CORPUS)/test.jsonl || { echo "no corpus: run 'make corpus' first"; exit 1; }
	$(BIN) modes --data $(MODEL_CORPUS)/test.jsonl --limit $(MODES_LIMIT) --out docs/MODES.md

# Rewrites the settings table in README.md (config tests check it is current).
settings-doc: ## rewrite README's settings table from config/
	mkdir -p build
	$(GO) run ./cmd/extproc settings > build/settings.md
	awk 'FNR==NR { table = table $$0 "\n"; next } /<!-- settings:begin/ { print; printf "%s", table; skip = 1; next } /<!-- settings:end/ { skip = 0 } !skip' build/settings.md README.md > build/README.md && mv build/README.md README.md

clean: ## remove build/
	rm -rf build

include model/model.mk
include model/learn.mk
include k8s/deploy.mk
include e2e/ftw/ftw.mk

# Fuzz every target for FUZZ_TIME each (the test command only replays the
# seed corpora in testdata/fuzz). New crashers land in testdata/fuzz.
FUZZ_TIME ?= 10m
FUZZ_TARGETS := ./filter/:FuzzStream ./model/:FuzzFields ./internal/decode/:FuzzDecoder ./model/leak/:FuzzScanner
.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZ_TIME (10m) each
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzzing $$name in $$pkg for $(FUZZ_TIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZ_TIME) $$pkg || exit 1; \
	done

# Try Bulwark without Envoy: an echo upstream on :9000, the proxy (playing
# Envoy's ext_proc filter, with Bulwark in-process) on :8080. Ctrl-C stops both.
TRY_LISTEN ?= 127.0.0.1:8080
TRY_UPSTREAM ?= 127.0.0.1:9000
.PHONY: try
try: build ## try Bulwark without Envoy: echo upstream, proxy, and the curl lines
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN) echo --listen $(TRY_UPSTREAM) & \
	$(BIN) proxy --listen $(TRY_LISTEN) --upstream http://$(TRY_UPSTREAM) --log-format text $(ARGS) & \
	sleep 4; \
	echo; echo "Try a clean request (200) and an attack (403):"; \
	echo "  curl -i -H 'Host: shop.example' 'http://$(TRY_LISTEN)/products?id=7'"; \
	echo "  curl -i -H 'Host: shop.example' \"http://$(TRY_LISTEN)/products?id=1%27%20UNION%20SELECT%20password%20FROM%20users--\""; \
	echo "Each answer carries Bulwark's verdict in the x-bulwark-metadata header. Ctrl-C stops."; \
	wait

# Soak: 1,000 concurrent streams of mixed traffic for SOAK_TIME through the
# real server with the shipped defaults, then cancelled streams and idle
# connections; fails on any wrong verdict or >10% growth after warm-up.
SOAK_TIME ?= 10m
.PHONY: soak
soak: ## 1,000 concurrent streams for SOAK_TIME (10m); fails on a wrong verdict or growth
	mkdir -p build
	$(GO) run ./bench/soak -duration $(SOAK_TIME) -streams 1000 -out docs/SOAK.md
include model/leak/leak.mk
include internal/rx/rx.mk
