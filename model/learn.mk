# Site-adapted models (`extproc learn`). Included from the top-level Makefile.
#
#   make learn-venv     model-venv plus model/train/requirements-learn.txt (dask, distributed)
#   make learn-pytest   site training and its Dask path on a two-worker LocalCluster (part of make test)
#   make learn-bench    rows per second at LEARN_BENCH_ROWS rows, one worker and two (not in make test)
#   make learn-sites    every real benign source as a site: learn early, test late (docs/LEARNING.md)

LEARN_DEPS_STAMP := $(MODEL_VENV)/.bulwark-learn-deps
LEARN_BENCH_ROWS ?= 1000000
LEARN_BENCH_DIR  ?= build/learn-bench
LEARN_SITES_DIR  ?= build/learn-sites

.PHONY: learn-venv learn-pytest learn-bench learn-sites

learn-venv: $(LEARN_DEPS_STAMP) ## model-venv plus dask and distributed (model/train/requirements-learn.txt)

$(LEARN_DEPS_STAMP): $(MODEL_DEPS_STAMP) model/train/requirements-learn.txt
	$(MODEL_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r model/train/requirements-learn.txt
	touch $@

learn-pytest: $(LEARN_DEPS_STAMP) $(MODEL_EXTPROC) ## site-adapted training and its Dask path on a two-worker LocalCluster
	BULWARK_EXTPROC=$(CURDIR)/$(MODEL_EXTPROC) PYTHONHASHSEED=0 PYTHONPATH=$(CURDIR)/model/train \
		$(MODEL_VENV)/bin/python -m pytest -q -p no:cacheprovider model/train/tests/test_learn.py

# The records cycled through are the real benign sources, decompressed.
learn-bench: $(LEARN_DEPS_STAMP) $(MODEL_EXTPROC) ## learn rows per second at 1M rows, one Dask worker and two
	mkdir -p $(LEARN_BENCH_DIR)
	for s in lighthouse chrome-har pagexray apache-logs; do gzip -dc data/traffic/benign/$$s.jsonl.gz; done > $(LEARN_BENCH_DIR)/real.jsonl
	PYTHONHASHSEED=0 PYTHONPATH=$(CURDIR)/model/train $(MODEL_VENV)/bin/python -m bulwark_train.dask_train bench \
		--extproc $(CURDIR)/$(MODEL_EXTPROC) --data $(LEARN_BENCH_DIR)/real.jsonl --rows $(LEARN_BENCH_ROWS) \
		--workers 1,2 --workdir $(LEARN_BENCH_DIR) --out $(LEARN_BENCH_DIR)/bench.json


# Each real benign source as a site (base model without it, learn on its
# first 60%, test on the rest with held-out payloads placed in it); about
# 10 minutes a site on 2 cores. Writes $(LEARN_SITES_DIR)/sites.md.
learn-sites: $(LEARN_DEPS_STAMP) $(MODEL_EXTPROC) ## each real benign source as a site: learn early, test late (docs/LEARNING.md)
	mkdir -p $(LEARN_SITES_DIR)
	SOURCE_DATE_EPOCH=$(MODEL_EPOCH) PYTHONHASHSEED=0 PYTHONPATH=$(CURDIR)/model/train $(MODEL_VENV)/bin/python -m bulwark_train.site_sim \
		--extproc $(CURDIR)/$(MODEL_EXTPROC) --data data --out $(LEARN_SITES_DIR)
