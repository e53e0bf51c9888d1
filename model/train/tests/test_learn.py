"""Site-adapted training (bulwark_train.site) and its Dask path
(bulwark_train.dask_train) on a small corpus and a two-worker LocalCluster.

The site is the real apache-logs source, held out of the small base
corpus; its early part is labelled by `extproc learn label` with the
small base model, its later part is never trained on.
"""
import gzip
import json
import os
import subprocess

import lightgbm as lgb
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from bulwark_train import corpus, dask_train as dt, site, train

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DATA = os.path.join(ROOT, "data")
SMALL = ["--synthetic-benign", "1500", "--browser-benign", "300", "--generator-attacks", "1200",
         "--list-attacks", "1200", "--holdout-per-class", "20", "--holdout-benign", "apache-logs", "--holdout-payloads", "fuzzdb"]
SEED = 20260501
ROUNDS = 40


def extproc():
    exe = os.environ.get("BULWARK_EXTPROC")
    if not exe:
        exe = os.path.join(ROOT, "build", "extproc-model")
        subprocess.run(["go", "build", "-o", exe, "./cmd/extproc"], cwd=ROOT, check=True)
    return exe


@pytest.fixture(scope="module")
def cluster():
    with dt.Cluster("local:2") as c:
        assert c.workers == 2
        yield c


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A small base corpus, its feature matrices and a base model trained
    on them by the base pipeline (bulwark_train.train)."""
    d = tmp_path_factory.mktemp("base")
    cdir, fdir = d / "corpus", d / "features"
    corpus.main(["--seed", str(SEED), "--data", DATA, "--out", str(cdir)] + SMALL)
    os.makedirs(fdir)
    exe = extproc()
    names = subprocess.run([exe, "features", "--names"], check=True, capture_output=True, text=True).stdout
    (fdir / "names.txt").write_text(names)
    for s in corpus.SPLITS:
        subprocess.run([exe, "features", "--data", str(cdir / f"{s}.jsonl"), "--out", str(fdir / f"{s}.f64"),
                        "--meta", str(fdir / f"{s}.meta.csv")], check=True, capture_output=True)
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1764547200")
    model = d / "base.model.gz"
    train.main(["--seed", str(SEED), "--features", str(fdir), "--corpus", str(cdir), "--names", str(fdir / "names.txt"),
                "--out", str(model), "--metrics", str(d / "metrics.json"), "--rounds", str(ROUNDS)])
    return {"dir": d, "corpus": cdir, "model": model, "exe": exe, "names": dt.feature_names(exe)[2]}


def test_sharded_features_are_the_single_process_features(base, cluster):
    path = str(base["corpus"] / "valid.jsonl")
    nfeat = len(base["names"])
    local = dt.extract(base["exe"], nfeat, [(path, None, 1.0)], None, shard_records=10**9).local()
    sharded = dt.extract(base["exe"], nfeat, [(path, None, 1.0)], cluster.client, shard_records=300)
    assert len(sharded.parts) > 2, "the corpus must span several shards"
    d = sharded.local()
    np.testing.assert_array_equal(local["X"], d["X"])
    np.testing.assert_array_equal(local["y"], d["y"])
    assert list(local["ids"]) == list(d["ids"])


def test_dask_model_matches_single_process(base, cluster):
    """Distributed parity on a small corpus: <= 0.002 ROC AUC apart on the
    same validation set. The issue's <= 0.001 is measured at scale (137,129
    rows: 0.00002 apart) by `python -m bulwark_train.dask_train parity`, see
    docs/LEARNING.md; a test-sized corpus has fewer rows per leaf, so the
    two histogram constructions differ more."""
    nfeat = len(base["names"])
    src = [(str(base["corpus"] / "train.jsonl"), None, 1.0)]
    local_rows = dt.extract(base["exe"], nfeat, src, None)
    dask_rows = dt.extract(base["exe"], nfeat, src, cluster.client, shard_records=1000)
    assert local_rows.counts.tolist() == dask_rows.counts.tolist()
    single = lgb.Booster(model_str=dt.train(local_rows, base["names"], SEED, ROUNDS))
    dist = lgb.Booster(model_str=dt.train(dask_rows, base["names"], SEED, ROUNDS, cluster.client))
    v = dt.extract(base["exe"], nfeat, [(str(base["corpus"] / "valid.jsonl"), None, 1.0)]).local()
    auc = lambda b: roc_auc_score(v["y"] > 0, 1 - b.predict(v["X"])[:, 0])
    a1, a2 = auc(single), auc(dist)
    print(f"valid field AUC: single process {a1:.5f}, two-worker LocalCluster {a2:.5f}")
    assert abs(a1 - a2) <= 0.002, (a1, a2)
    assert a1 > 0.9


def site_records():
    with gzip.open(os.path.join(DATA, "traffic", "benign", "apache-logs.jsonl.gz"), "rt") as f:
        return [json.loads(l) for l in f if l.strip()]


def label(base, recs, path, out):
    with open(path, "w") as f:
        for r in recs:
            f.write(json.dumps({k: r[k] for k in ("id", "method", "uri", "headers", "body")}) + "\n")
    p = subprocess.run([base["exe"], "learn", "label", "--samples", str(path), "--out", str(out), "--model", str(base["model"]),
                        "--log-level", "error"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "labelled" in p.stdout
    return [json.loads(l) for l in open(out)]


def run_site(base, labelled, out, workdir, *extra):
    args = ["--labelled", str(labelled), "--base-model", str(base["model"]), "--base-corpus", str(base["corpus"]),
            "--extproc", base["exe"], "--out", str(out), "--workdir", str(workdir), "--seed", str(SEED),
            "--rounds", str(ROUNDS), "--report", str(workdir / "report.json")] + list(extra)
    with pytest.raises(SystemExit) as e:
        site.main(args)
    return e.value.code, json.load(open(workdir / "report.json"))


def test_site_model_on_dask(base, cluster, tmp_path):
    recs = site_records()
    early = recs[: len(recs) * 6 // 10]
    labelled = label(base, early, tmp_path / "early.jsonl", tmp_path / "labelled.jsonl")
    assert {r["label"] for r in labelled} <= {"benign", "attack", "suspect"}
    assert sum(r["label"] == "benign" for r in labelled) > len(early) * 0.9
    out = tmp_path / "site.model.gz"
    # The test's base corpus is small: one benign request of its test split
    # is 0.27% of it, and LightGBM's data-parallel reductions over two
    # workers, whose ranks the scheduler assigns anew each run, can move one
    # request across the threshold (the site model measured 1, 2 and 3 of
    # them in runs of the same code). The test allows that one request; the
    # production default (0.0002) is for a full corpus.
    code, rep = run_site(base, tmp_path / "labelled.jsonl", out, tmp_path / "work", "--scheduler", cluster.client.scheduler.address,
                         "--fpr-slack", "0.003")
    assert code == 0, rep["gates"]
    doc = json.loads(gzip.decompress(out.read_bytes()))
    lin = doc["lineage"]
    assert lin["base_model"]["sha256"] and lin["site_data"]["labelled_sha256"]
    assert lin["site_data"]["benign"] + lin["site_data"]["attack"] + lin["site_data"]["suspect_excluded"] == len(early)
    assert lin["gates"]["passed"] and lin["training"]["scheduler"].startswith("tcp://")
    op = lin["training"]["calibration"]
    assert op["operating_point"] <= op["threshold"] == doc["default_threshold"]
    assert op["site_false_positives_at_operating_point"] <= op["allowed_false_positives"] >= op["base_false_positives"]
    assert "site_model_on_base_test" in lin["metrics"]
    assert doc["lightgbm_model"].split("\n", 3)[1].endswith("v3")
    # leaves (the Go server) reads it, and it scores the site's later traffic.
    late = tmp_path / "late.jsonl"
    with open(late, "w") as f:
        for r in recs[len(recs) * 6 // 10:]:
            f.write(json.dumps(r) + "\n")
    p = subprocess.run([base["exe"], "eval", "--model", str(out), "--data", str(late), "--no-crs", "--json",
                        "--out-dir", str(tmp_path / "eval"), "--log-level", "error", "--response-inspect=false"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_poisoned_site_model_is_refused(base, tmp_path):
    """Attacks passed off as the site's benign traffic (with a heavy site
    weight) make a model that misses attacks on the base validation set:
    it must be refused and nothing written."""
    poison = tmp_path / "labelled.jsonl"
    n = 0
    with open(base["corpus"] / "train.jsonl") as src, open(poison, "w") as f:
        for line in src:
            r = json.loads(line)
            if r["label"] != "attack":
                continue
            r.update(label="benign", weight=1, time="2026-11-01T00:00:00Z")
            r.pop("attack_part", None), r.pop("attack_field", None)
            f.write(json.dumps(r) + "\n")
            n += 1
    assert n > 500
    out = tmp_path / "site.model.gz"
    code, rep = run_site(base, poison, out, tmp_path / "work", "--site-weight", "20")
    assert code == 3
    assert not out.exists() and not os.path.exists(str(out) + ".tmp")
    assert not rep["gates"]["passed"] and rep["gates"]["refused_because"]


def score_of(p):
    """model.ScoreFromProb, away from the rounding boundaries."""
    return np.clip(np.floor(99 - 98 * p + 0.5), 1, 99)


@pytest.mark.parametrize("t_from,t_to", [(21, 23), (5, 29), (28, 29), (1, 50)])
def test_remapped_calibration_flags_at_the_threshold_what_scored_at_the_operating_point(t_from, t_to):
    rng = np.random.default_rng(SEED)
    xs = np.sort(rng.uniform(0, 1, 40))
    k = {"x": xs.tolist(), "y": np.sort(rng.uniform(0, 1, 40)).tolist()}
    k2 = site.remap_knots(k, site.flag_bound(t_from), site.flag_bound(t_to))
    assert all(b >= a for a, b in zip(k2["x"], k2["x"][1:])) and all(b >= a for a, b in zip(k2["y"], k2["y"][1:]))
    raw = rng.uniform(-0.05, 1.05, 20000)
    before, after = np.interp(raw, k["x"], k["y"]), np.interp(raw, k2["x"], k2["y"])
    edge = (np.abs(before - site.flag_bound(t_from)) < 1e-9)
    assert ((score_of(before) <= t_from) == (score_of(after) <= t_to))[~edge].all()
    # The map is monotone: what scored lower still scores lower or the same.
    order = np.argsort(before)
    assert (np.diff(after[order]) >= -1e-12).all()


def test_site_split_holds_out_the_latest_and_validates_whole_endpoints():
    recs = []
    for i in range(700):
        ep = i % 90
        recs.append({"id": f"r{i}", "method": "GET", "uri": f"/api/v{ep}/item/{1000 + i}?q={i}", "headers": {"host": "shop.example"},
                     "label": "benign"})
    train_, valid, late = site.split_site(recs, 0.2)
    assert late == recs[-140:]
    eps = lambda rs: {site.endpoint(r) for r in rs}
    assert eps(train_) and eps(valid) and not eps(train_) & eps(valid)
    assert 40 <= len(valid) <= 100, len(valid)
    assert site.endpoint(recs[0]) == "GET shop.example/api/v0/item/:id"
    # One busy endpoint: whole endpoints cannot make the slice, ids do.
    one = [{"id": f"r{i}", "method": "POST", "uri": "/graphql", "headers": {"host": "a"}, "label": "benign"} for i in range(700)]
    train_, valid, _ = site.split_site(one, 0.2)
    assert 40 <= len(valid) <= 120 and len(train_) + len(valid) == 560


@pytest.mark.parametrize("row,names,want", [
    ({"part": "header", "field": "authorization"}, ["header:authorization"], True),
    ({"part": "body", "field": "user.token"}, ["json:user.token"], True),
    ({"part": "body", "field": "user.token.x"}, ["json:user.token"], True),
    ({"part": "query", "field": "token"}, ["query:token"], True),
    ({"part": "query", "field": "q"}, ["query:token"], False),
    ({"part": "cookie", "field": "token"}, ["query:token"], False),
    ({"part": "query", "field": "q"}, None, False),
])
def test_redacted_fields_do_not_train(row, names, want):
    assert dt.is_redacted(row, names) is want


def test_scheduler_specs():
    assert dt.parse_scheduler("") == ("", None)
    assert dt.parse_scheduler("local") == ("local", 2)
    assert dt.parse_scheduler("local:3") == ("local", 3)
    assert dt.parse_scheduler("tcp://10.0.0.1:8786") == ("tcp", "tcp://10.0.0.1:8786")
    for bad in ("local:0", "http://x", "dask"):
        with pytest.raises(SystemExit):
            dt.parse_scheduler(bad)
