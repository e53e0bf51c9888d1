"""Two runs with one seed must give byte-identical corpora and models; a
different seed must not. Small sizes keep it to a minute."""
import filecmp
import hashlib
import os
import random
import subprocess
import sys

import pytest

from bulwark_train import corpus, draw, real, splits, train

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DATA = os.path.join(ROOT, "data")
SMALL = ["--synthetic-benign", "300", "--browser-benign", "100", "--generator-attacks", "400",
         "--list-attacks", "400", "--holdout-per-class", "20", "--holdout-benign", "apache-logs", "--holdout-payloads", "fuzzdb"]


def build(out, seed):
    corpus.main(["--seed", str(seed), "--data", DATA, "--out", str(out)] + SMALL)
    return {s: hashlib.sha256(open(os.path.join(out, f"{s}.jsonl"), "rb").read()).hexdigest() for s in corpus.SPLITS}


def test_corpus_is_a_function_of_the_seed(tmp_path):
    a = build(tmp_path / "a", 7)
    # Anything drawing from the global generator in between must not matter.
    random.seed(12345)
    random.random()
    b = build(tmp_path / "b", 7)
    assert a == b
    c = build(tmp_path / "c", 8)
    assert a["train"] != c["train"]


def extproc():
    exe = os.environ.get("BULWARK_EXTPROC")
    if not exe:
        exe = os.path.join(ROOT, "build", "extproc-model")
        subprocess.run(["go", "build", "-o", exe, "./cmd/extproc"], cwd=ROOT, check=True)
    return exe


def features(exe, cdir, fdir):
    os.makedirs(fdir, exist_ok=True)
    with open(os.path.join(fdir, "names.txt"), "w") as f:
        subprocess.run([exe, "features", "--names"], stdout=f, check=True)
    for s in corpus.SPLITS:
        subprocess.run([exe, "features", "--data", os.path.join(cdir, f"{s}.jsonl"), "--out", os.path.join(fdir, f"{s}.f64"),
                        "--meta", os.path.join(fdir, f"{s}.meta.csv")], check=True, capture_output=True)


def test_model_is_byte_identical(tmp_path, monkeypatch):
    exe = extproc()
    cdir = tmp_path / "corpus"
    build(cdir, 11)
    features(exe, cdir, tmp_path / "f")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    outs = []
    for i in range(2):
        out = tmp_path / f"m{i}.gz"
        train.main(["--features", str(tmp_path / "f"), "--corpus", str(cdir), "--names", str(tmp_path / "f" / "names.txt"),
                    "--out", str(out), "--metrics", str(tmp_path / f"m{i}.json"), "--rounds", "20", "--gate-rounds", "5"])
        outs.append(out)
    assert filecmp.cmp(outs[0], outs[1], shallow=False)


def test_model_date_needs_source_date_epoch(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    with pytest.raises(SystemExit):
        train.created()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert train.created() == "1970-01-01T00:00:00Z"


def test_sqlmap_tampers_all_load():
    from bulwark_train.attacks import SQLMapPayloads
    sm = SQLMapPayloads()
    assert len(sm.tampers) == 26


def test_splits_keep_captures_together():
    recs = real.load_benign(DATA, "lighthouse")
    by_capture = {}
    for rec in recs:
        by_capture.setdefault(real.capture_of(rec), set()).add(splits.real_split(real.capture_of(rec)))
    assert all(len(v) == 1 for v in by_capture.values())
    assert {"train", "valid"} == set().union(*by_capture.values())


def test_draw_uses_only_the_given_generator():
    r1, r2 = random.Random(3), random.Random(3)
    random.seed(1)
    a = [draw.uuid4(r1), draw.jwt(r1), draw.rstr(r1)]
    random.seed(2)
    b = [draw.uuid4(r2), draw.jwt(r2), draw.rstr(r2)]
    assert a == b
