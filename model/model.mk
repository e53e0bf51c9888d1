# Model pipeline (issue 3). Included from the top-level Makefile.
#
#   make corpus      regenerate the labelled corpus (fixed seed) in build/corpus
#   make train       corpus -> Go feature matrix -> LightGBM -> model/bulwark.model.gz
#   make model-eval  `extproc eval` of the committed model on the held-out splits
#
# Generated data stays under build/ and is never committed.

MODEL_PYTHON   ?= python3
MODEL_VENV     ?= .venv
MODEL_SEED     ?= 20260501
MODEL_BENIGN   ?= 120000
MODEL_ATTACKS  ?= 80000
MODEL_CORPUS   ?= build/corpus
MODEL_FEATURES ?= build/features
MODEL_FILE     ?= model/bulwark.model.gz
MODEL_EVAL_DIR ?= build/model-eval
# The extproc binary writes the feature matrix, so training uses exactly the
# Go feature code that serves.
MODEL_EXTPROC_PKG ?= ./cmd/extproc
MODEL_EXTPROC  ?= build/extproc-model
MODEL_SPLITS   := train valid test family_test

MODEL_DEPS_STAMP := $(MODEL_VENV)/.bulwark-model-deps

.PHONY: corpus train model-eval model-venv

model-venv: $(MODEL_DEPS_STAMP) ## the pinned Python environment for training and the parity test

$(MODEL_DEPS_STAMP): model/train/requirements.txt
	test -x $(MODEL_VENV)/bin/python || $(MODEL_PYTHON) -m venv $(MODEL_VENV)
	$(MODEL_VENV)/bin/pip install --quiet --disable-pip-version-check -r model/train/requirements.txt
	touch $@

$(MODEL_EXTPROC): FORCE_MODEL_BUILD
	go build -o $@ $(MODEL_EXTPROC_PKG)

.PHONY: FORCE_MODEL_BUILD
FORCE_MODEL_BUILD:

corpus: $(MODEL_DEPS_STAMP) ## generate the labelled corpus (fixed seed) in build/corpus
	PYTHONHASHSEED=0 $(MODEL_VENV)/bin/python model/train/gen_corpus.py --seed $(MODEL_SEED) \
		--benign $(MODEL_BENIGN) --attacks $(MODEL_ATTACKS) --out $(MODEL_CORPUS)

train: corpus $(MODEL_EXTPROC) ## corpus, features, LightGBM, then model-eval; writes model/bulwark.model.gz
	mkdir -p $(MODEL_FEATURES)
	$(MODEL_EXTPROC) features --names > $(MODEL_FEATURES)/names.txt
	for s in $(MODEL_SPLITS); do \
		$(MODEL_EXTPROC) features --data $(MODEL_CORPUS)/$$s.jsonl \
			--out $(MODEL_FEATURES)/$$s.f64 --meta $(MODEL_FEATURES)/$$s.meta.csv || exit 1; \
	done
	$(MODEL_VENV)/bin/python model/train/train.py --seed $(MODEL_SEED) --features $(MODEL_FEATURES) \
		--corpus $(MODEL_CORPUS) --names $(MODEL_FEATURES)/names.txt \
		--out $(MODEL_FILE) --metrics build/model-metrics.json
	$(MAKE) -f $(firstword $(MAKEFILE_LIST)) model-eval

model-eval: $(MODEL_EXTPROC) ## extproc eval of the committed model on the held-out splits (plots, report.html)
	@test -f $(MODEL_CORPUS)/test.jsonl || { echo "no corpus: run 'make corpus' first"; exit 1; }
	mkdir -p $(MODEL_EVAL_DIR)
	for s in test family_test; do \
		$(MODEL_EXTPROC) eval --model $(MODEL_FILE) --data $(MODEL_CORPUS)/$$s.jsonl \
			--out-dir $(MODEL_EVAL_DIR)/$$s --predictions $(MODEL_EVAL_DIR)/$$s/predictions.csv \
			| tee $(MODEL_EVAL_DIR)/$$s.txt || exit 1; \
	done
