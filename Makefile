# Bulwark. `make run` serves on embedded defaults; `make test` is the full
# test suite CI runs (.ci/run calls it).

GO        ?= go
BIN       ?= build/extproc
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/bulwark-waf/bulwark/cmd/extproc/app.Version=$(VERSION)
STATICCHECK_VERSION ?= v0.8.2

.PHONY: all build run test test-go test-race vet lint fmt bench modes settings-doc clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/extproc

# Serve ext_proc on :50051 and the admin API on :9090 with CRS and the
# bundled model, no config file needed. Pass flags with ARGS="--waf-paranoia-level 2".
run:
	$(GO) run -ldflags '$(LDFLAGS)' ./cmd/extproc $(ARGS)

# The whole suite: Go modules are fetched by go itself, the pinned Python
# requirements (LightGBM for the parity test) by model-venv.
test: model-venv lint test-go test-race model-pytest

vet:
	$(GO) vet ./...
	@fmt=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$fmt" ]; then echo "gofmt needed:"; echo "$$fmt"; exit 1; fi

test-go:
	$(GO) test -count=1 -timeout 15m ./...

# The protocol state machine, the harness, the wiring and the reload path
# under the race detector (the CRS-heavy suites run without it).
RACE_E2E := TestReloadUnderLoad|TestGracefulDrain|TestPolicySelectionAndReload|TestAttacksAndCleanTrafficInEveryMode|TestCombinationModes
test-race:
	$(GO) test -count=1 -race -timeout 10m ./filter/... ./e2e/envoysim/... ./config/... ./verdict/...
	$(GO) test -count=1 -race -timeout 10m -run '$(RACE_E2E)' ./e2e/

lint: vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# Benchmarks side by side with bare Coraza; writes docs/BENCHMARKS.md.
BENCH_COUNT ?= 5
bench:
	mkdir -p build
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) -timeout 60m ./bench/ ./model/ | tee build/bench.txt
	$(GO) run ./bench/report -command 'make bench BENCH_COUNT=$(BENCH_COUNT)' < build/bench.txt > docs/BENCHMARKS.md

# Every combination mode through the real ext_proc server on the held-out
# corpus split (make corpus first); writes docs/MODES.md.
MODES_LIMIT ?= 6000
modes: build
	@test -f $(MODEL_CORPUS)/test.jsonl || { echo "no corpus: run 'make corpus' first"; exit 1; }
	$(BIN) modes --data $(MODEL_CORPUS)/test.jsonl --limit $(MODES_LIMIT) --out docs/MODES.md

# Rewrites the settings table in README.md (config tests check it is current).
settings-doc:
	$(GO) run ./cmd/extproc settings > build/settings.md
	awk 'FNR==NR { table = table $$0 "\n"; next } /<!-- settings:begin/ { print; printf "%s", table; skip = 1; next } /<!-- settings:end/ { skip = 0 } !skip' build/settings.md README.md > build/README.md && mv build/README.md README.md

clean:
	rm -rf build

include model/model.mk
include k8s/deploy.mk
include e2e/ftw/ftw.mk
