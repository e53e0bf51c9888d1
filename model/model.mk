# Model pipeline. Included from the top-level Makefile.
#
#   make corpus      build the labelled corpus (fixed seed) in build/corpus
#   make train       corpus -> Go feature matrix -> LightGBM -> model/bulwark.model.gz, then model-eval
#   make model-eval  `extproc eval` of the committed model on the held-out splits
#   make model-loso  leave-one-source-out: for each real benign source, train
#                    without it (and without one payload source), measure on it
#   make model-pytest  the trainer's tests (determinism of corpus and model)
#
# Generated data stays under build/ and is never committed.

MODEL_PYTHON   ?= python3
MODEL_VENV     ?= .venv
MODEL_SEED     ?= 20260501
MODEL_CORPUS   ?= build/corpus
MODEL_FEATURES ?= build/features
MODEL_FILE     ?= model/bulwark.model.gz
MODEL_EVAL_DIR ?= build/model-eval
MODEL_LOSO_DIR ?= build/loso
# Corpus sizes (records); the defaults keep corpus + training under a minute on 2 idle cores.
MODEL_SIZES    ?= --synthetic-benign 30000 --browser-benign 6000 --generator-attacks 24000 --list-attacks 16000
# The default threshold shipped in the model, chosen on the leave-one-source-out
# runs (make model-loso, build/loso/report.md); empty lets the trainer pick it on valid.
MODEL_THRESHOLD ?= 25
# The model's timestamp (2026-12-01T00:00:00Z, the data snapshot): fixed, so a rebuild is byte-identical.
MODEL_EPOCH    ?= 1796083200
# The extproc binary writes the feature matrix, so training uses exactly the
# Go feature code that serves.
MODEL_EXTPROC_PKG ?= ./cmd/extproc
MODEL_EXTPROC  ?= build/extproc-model
MODEL_SPLITS   := train valid test family_test holdout
MODEL_PY       := PYTHONHASHSEED=0 PYTHONPATH=model/train SOURCE_DATE_EPOCH=$(MODEL_EPOCH) $(MODEL_VENV)/bin/python -m

MODEL_DEPS_STAMP := $(MODEL_VENV)/.bulwark-model-deps

.PHONY: corpus train model-eval model-venv model-loso model-carriers model-pytest

model-venv: $(MODEL_DEPS_STAMP) ## the pinned Python environment for training and the parity test

$(MODEL_DEPS_STAMP): model/train/requirements.txt
	test -x $(MODEL_VENV)/bin/python || $(MODEL_PYTHON) -m venv $(MODEL_VENV)
	$(MODEL_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r model/train/requirements.txt
	touch $@

$(MODEL_EXTPROC): FORCE_MODEL_BUILD
	go build -o $@ $(MODEL_EXTPROC_PKG)

.PHONY: FORCE_MODEL_BUILD
FORCE_MODEL_BUILD:

corpus: $(MODEL_DEPS_STAMP) ## generate the labelled corpus (fixed seed) in build/corpus
	$(MODEL_PY) bulwark_train.corpus --seed $(MODEL_SEED) --data data $(MODEL_SIZES) --out $(MODEL_CORPUS)

# train-one CORPUS FEATURES MODEL METRICS: features and LightGBM for one corpus.
define model_train_one
	mkdir -p $(2)
	$(MODEL_EXTPROC) features --names > $(2)/names.txt
	for s in $(MODEL_SPLITS); do \
		$(MODEL_EXTPROC) features --data $(1)/$$s.jsonl \
			--out $(2)/$$s.f64 --meta $(2)/$$s.meta.csv || exit 1; \
	done
	$(MODEL_PY) bulwark_train.train --seed $(MODEL_SEED) --features $(2) \
		--corpus $(1) --names $(2)/names.txt --out $(3) --metrics $(4) $(5)
endef

train: corpus $(MODEL_EXTPROC) ## corpus, features, LightGBM; writes model/bulwark.model.gz
	$(call model_train_one,$(MODEL_CORPUS),$(MODEL_FEATURES),$(MODEL_FILE),build/model-metrics.json,$(if $(MODEL_THRESHOLD),--threshold $(MODEL_THRESHOLD)))
	$(MAKE) -f $(firstword $(MAKEFILE_LIST)) model-eval

model-eval: $(MODEL_EXTPROC) ## extproc eval of the committed model on the held-out splits (plots, report.html)
	@test -f $(MODEL_CORPUS)/test.jsonl || { echo "no corpus: run 'make corpus' first"; exit 1; }
	mkdir -p $(MODEL_EVAL_DIR)
	for s in test family_test holdout; do \
		test -s $(MODEL_CORPUS)/$$s.jsonl || continue; \
		$(MODEL_EXTPROC) eval --model $(MODEL_FILE) --data $(MODEL_CORPUS)/$$s.jsonl \
			--out-dir $(MODEL_EVAL_DIR)/$$s --predictions $(MODEL_EVAL_DIR)/$$s/predictions.csv \
			| tee $(MODEL_EVAL_DIR)/$$s.txt || exit 1; \
	done

# Each real benign source is held out once, together with one payload
# source; the model trained without them is evaluated (with CRS PL1 side
# by side) on the held-out requests and on the held-out payloads placed in
# them. report.py then sums it up per source, kind and class and for each
# combination mode.
MODEL_LOSO := lighthouse:fuzzdb chrome-har:PayloadsAllTheThings pagexray:fuzzdb apache-logs:PayloadsAllTheThings

model-loso: $(MODEL_DEPS_STAMP) $(MODEL_EXTPROC) ## leave-one-source-out training and evaluation on the real benign sources
	set -e; for pair in $(MODEL_LOSO); do \
		b=$${pair%%:*}; p=$${pair##*:}; d=$(MODEL_LOSO_DIR)/$$b; \
		$(MODEL_PY) bulwark_train.corpus --seed $(MODEL_SEED) --data data $(MODEL_SIZES) \
			--holdout-benign $$b --holdout-payloads $$p --out $$d/corpus; \
		$(MAKE) -f $(firstword $(MAKEFILE_LIST)) --no-print-directory model-loso-one LOSO_DIR=$$d; \
	done
	$(MODEL_PY) bulwark_train.report --loso $(MODEL_LOSO_DIR) --out $(MODEL_LOSO_DIR)/report.md

model-loso-one: ## one leave-one-source-out run (SOURCE=...)
	$(call model_train_one,$(LOSO_DIR)/corpus,$(LOSO_DIR)/features,$(LOSO_DIR)/model.gz,$(LOSO_DIR)/metrics.json)
	$(MODEL_EXTPROC) eval --model $(LOSO_DIR)/model.gz --data $(LOSO_DIR)/corpus/holdout.jsonl \
		--out-dir $(LOSO_DIR)/eval --predictions $(LOSO_DIR)/predictions.csv > $(LOSO_DIR)/eval.txt

# XML, SOAP and GraphQL requests (bulwark_train.carriers), formats the
# corpus has none of, scored by the lighthouse run's model, which never saw
# fuzzdb: run make model-loso first (docs/MODEL.md, "API formats").
MODEL_CARRIERS_DIR ?= build/carriers
MODEL_CARRIERS_MODEL ?= $(MODEL_LOSO_DIR)/lighthouse/model.gz
MODEL_CARRIERS_THRESHOLD ?= 25

model-carriers: $(MODEL_DEPS_STAMP) $(MODEL_EXTPROC) ## the model on XML, SOAP and GraphQL API requests with fuzzdb payloads placed in them
	@test -f $(MODEL_CARRIERS_MODEL) || { echo "no $(MODEL_CARRIERS_MODEL): run 'make model-loso' first, or set MODEL_CARRIERS_MODEL"; exit 1; }
	$(MODEL_PY) bulwark_train.carriers --data data --payloads fuzzdb --out $(MODEL_CARRIERS_DIR)/fuzzdb.jsonl
	$(MODEL_EXTPROC) eval --model $(MODEL_CARRIERS_MODEL) --data $(MODEL_CARRIERS_DIR)/fuzzdb.jsonl --threshold $(MODEL_CARRIERS_THRESHOLD) \
		--predictions $(MODEL_CARRIERS_DIR)/predictions.csv | tee $(MODEL_CARRIERS_DIR)/eval.txt

model-pytest: $(MODEL_DEPS_STAMP) $(MODEL_EXTPROC) ## pytest of the training package
	BULWARK_EXTPROC=$(CURDIR)/$(MODEL_EXTPROC) PYTHONPATH=model/train $(MODEL_VENV)/bin/python -m pytest -q model/train/tests --ignore=model/train/tests/test_learn.py
