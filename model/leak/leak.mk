# Response-leakage model (issue 11). Included from the top-level Makefile.
#
#   make train-leak   vendored real responses + generated families (fixed
#                     seed) -> Go features -> LightGBM -> model/leak/leak.model.gz,
#                     then the held-out evaluation beside CRS outbound
#   make leak-eval    the evaluation alone (docs/LEAKAGE.md's tables), by
#                     leaktool and by `extproc eval` (plots in build/leak/eval-report)
#   make leak-bench   the leakage benchmarks
#
# The corpus and features are generated under build/leak and never committed.

LEAK_SEED     ?= 20261201
LEAK_BENIGN   ?= 250
LEAK_LEAKY    ?= 150
LEAK_DIR      ?= build/leak
LEAK_TOOL     ?= build/leaktool
LEAK_MODEL    ?= model/leak/leak.model.gz
LEAK_PY       := $(abspath $(MODEL_VENV))/bin/python

.PHONY: train-leak leak-corpus leak-eval leak-bench leak-pytest FORCE_LEAK_TOOL

FORCE_LEAK_TOOL:
$(LEAK_TOOL): FORCE_LEAK_TOOL
	go build -o $@ ./model/leak/internal/leaktool

leak-corpus: $(MODEL_DEPS_STAMP) ## generate the leakage corpus (fixed seed)
	cd model/leak/train && PYTHONHASHSEED=0 $(LEAK_PY) -m leaktrain corpus --seed $(LEAK_SEED) \
		--benign $(LEAK_BENIGN) --leaky $(LEAK_LEAKY) --data $(abspath data/responses) --out $(abspath $(LEAK_DIR))/corpus

train-leak: leak-corpus $(LEAK_TOOL) ## train the leakage model; writes model/leak/leak.model.gz
	mkdir -p $(LEAK_DIR)/features
	for s in train valid test; do \
		$(LEAK_TOOL) features --data $(LEAK_DIR)/corpus/$$s.jsonl --out $(LEAK_DIR)/features/$$s.csv || exit 1; \
	done
	cd model/leak/train && PYTHONHASHSEED=0 $(LEAK_PY) -m leaktrain train --seed $(LEAK_SEED) \
		--corpus $(abspath $(LEAK_DIR))/corpus --features $(abspath $(LEAK_DIR))/features \
		--out $(abspath $(LEAK_MODEL)) --metrics $(abspath $(LEAK_DIR))/metrics.json
	$(MAKE) -f $(firstword $(MAKEFILE_LIST)) leak-eval

leak-eval: $(LEAK_TOOL) $(MODEL_EXTPROC) ## evaluate the leakage model and CRS outbound on the held-out splits
	@test -f $(LEAK_DIR)/corpus/test.jsonl || { echo "no leak corpus: run 'make leak-corpus' first"; exit 1; }
	$(LEAK_TOOL) eval --model $(LEAK_MODEL) --data $(LEAK_DIR)/corpus/test.jsonl --misses $(LEAK_DIR)/misses.txt | tee $(LEAK_DIR)/eval.md
	# the same responses through the server's core (extproc eval: per class,
	# CRS outbound side by side, histogram.png and roc.png)
	$(MODEL_EXTPROC) eval --model $(LEAK_MODEL) --data $(LEAK_DIR)/corpus/test.responses.jsonl \
		--out-dir $(LEAK_DIR)/eval-report --predictions $(LEAK_DIR)/eval-report/predictions.csv | tee $(LEAK_DIR)/eval-extproc.txt

leak-pytest: $(MODEL_DEPS_STAMP) ## pytest of the leakage training package
	$(LEAK_PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r model/leak/train/requirements-test.txt
	cd model/leak/train && $(LEAK_PY) -m pytest -q tests

leak-bench: ## leakage scanner and decoder benchmarks
	go test -run '^$$' -bench . -benchmem -benchtime 2s -timeout 30m ./model/leak/ ./internal/decode/ | tee $(LEAK_DIR)-bench.txt
