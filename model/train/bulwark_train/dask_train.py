"""Feature extraction and LightGBM training, in one process or on Dask.

Feature rows always come from the Go feature writer (`extproc features`),
so training sees exactly the features that serve. On Dask, a JSON Lines
corpus is cut into shards of whole records on the client; each shard is
sent to a worker, which runs the feature writer on it and keeps the rows
(the client only learns their shape and class counts); LightGBM's own Dask
integration (`lightgbm.dask`) then trains on the distributed rows, one
LightGBM machine per worker. The extproc binary must exist at the same path
on every worker (docs/LEARNING.md: one image for scheduler and workers).

    python -m bulwark_train.dask_train bench --extproc BIN --data FILE --rows 1000000 --workers 1,2

Schedulers: "" trains in this process; "local" or "local:N" starts a
LocalCluster of N (default 2) single-threaded worker processes;
"tcp://HOST:PORT" connects to a running scheduler.
"""
import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time

import lightgbm as lgb
import numpy as np

NUM_OUTPUTS = 5


def feature_names(extproc):
    out = subprocess.run([extproc, "features", "--names"], check=True, capture_output=True, text=True).stdout
    lines = [l.strip() for l in out.splitlines() if l.strip()]
    return lines[0], lines[1].split("=", 1)[1], lines[2:]


def features_of_bytes(extproc, data, nfeat, weights=None, redacted=None):
    """Run the feature writer on JSON Lines bytes. Returns X (rows x nfeat
    float64), y (int32), ids (object array) and w (per-row record weight
    from weights[id], 1 when absent). Rows of the fields redacted[id] names
    are left out."""
    with tempfile.TemporaryDirectory(prefix="bulwark-features-") as d:
        xp, mp = os.path.join(d, "x.f64"), os.path.join(d, "meta.csv")
        p = subprocess.run([extproc, "features", "--data", "-", "--out", xp, "--meta", mp],
                           input=data, capture_output=True)
        if p.returncode != 0:
            raise RuntimeError(f"{extproc} features failed ({p.returncode}): {p.stderr.decode(errors='replace')[-2000:]}")
        x = np.fromfile(xp, dtype="<f8").reshape(-1, nfeat)
        with open(mp, newline="") as f:
            meta = list(csv.DictReader(f))
    if len(meta) != x.shape[0]:
        raise RuntimeError(f"feature writer: {len(meta)} meta rows for {x.shape[0]} matrix rows")
    if redacted:
        keep = [not is_redacted(m, redacted.get(m["id"])) for m in meta]
        x, meta = x[np.array(keep, dtype=bool)], [m for m, k in zip(meta, keep) if k]
    y = np.array([int(m["y"]) for m in meta], dtype=np.int32)
    ids = np.array([m["id"] for m in meta], dtype=object)
    w = np.ones(len(meta))
    if weights:
        w = np.array([weights.get(m["id"], 1.0) for m in meta])
    return {"X": x, "y": y, "ids": ids, "w": w, "meta": meta}


def is_redacted(m, names):
    """Whether a feature row is a field the collector replaced by a keyed
    hash ("header:authorization", "query:token", "json:a.b"): its value is
    a hash, not what the server will see, so it must not teach the model."""
    if not names:
        return False
    part, field = m["part"], m["field"]
    top = field
    for sep in ".?[":
        i = top.find(sep)
        if i > 0:
            top = top[:i]
    for n in names:
        p, _, f = n.partition(":")
        if p == "json":
            p = "body"
        if p == part and (f == field or f == top or field.startswith(f + ".") or field.startswith(f + "[")):
            return True
    return False


def shards_of(path, shard_records):
    """Whole JSON lines of path, shard_records at a time, as bytes."""
    buf, n = io.BytesIO(), 0
    with open(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            buf.write(line)
            n += 1
            if n == shard_records:
                yield buf.getvalue()
                buf, n = io.BytesIO(), 0
    if n:
        yield buf.getvalue()


def parse_scheduler(spec):
    """(kind, arg): ("", None) in process, ("local", N), ("tcp", address)."""
    if not spec:
        return "", None
    if spec == "local" or spec.startswith("local:"):
        n = int(spec.split(":", 1)[1]) if ":" in spec else 2
        if n < 1:
            raise SystemExit(f"--scheduler {spec}: need at least one worker")
        return "local", n
    if spec.startswith("tcp://") or spec.startswith("tls://"):
        return "tcp", spec
    raise SystemExit(f"--scheduler {spec!r}: use local[:N] or tcp://HOST:PORT")


class Cluster:
    """A Dask client for --scheduler, closed (with its LocalCluster) on exit."""

    def __init__(self, spec):
        from distributed import Client, LocalCluster
        kind, arg = parse_scheduler(spec)
        self.cluster = None
        if kind == "local":
            # Worker processes, one thread each: LightGBM runs one machine
            # per worker, and feature writers are processes anyway.
            self.cluster = LocalCluster(n_workers=arg, threads_per_worker=1, processes=True,
                                        dashboard_address=None, host="127.0.0.1", silence_logs=40)
            self.client = Client(self.cluster)
        elif kind == "tcp":
            self.client = Client(arg, timeout=60)
        else:
            raise SystemExit("Cluster needs a scheduler")
        self.workers = len(self.client.scheduler_info()["workers"])
        if self.workers == 0:
            self.close()
            raise SystemExit(f"--scheduler {spec}: the scheduler has no workers")

    def close(self):
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Rows:
    """Feature rows of one or more corpora: in memory (in process) or as
    futures on Dask workers."""

    def __init__(self, parts, client=None):
        self.parts = parts  # list of dicts (local) or futures (Dask)
        self.client = client
        if client is None:
            self.sizes = [len(p["y"]) for p in parts]
            self.counts = sum((np.bincount(p["y"], minlength=NUM_OUTPUTS) for p in parts), np.zeros(NUM_OUTPUTS, int))
        else:
            info = client.gather(client.map(_shape, parts, pure=False))
            self.sizes = [n for n, _ in info]
            self.counts = sum((c for _, c in info), np.zeros(NUM_OUTPUTS, int))

    def __len__(self):
        return int(sum(self.sizes))

    def to_local(self):
        """The same rows, gathered into this process."""
        if self.client is None:
            return self
        return Rows(self.client.gather(self.parts))

    def local(self):
        """Every row on the client: X, y, w, ids, meta."""
        parts = self.parts if self.client is None else self.client.gather(self.parts)
        out = {"X": np.concatenate([p["X"] for p in parts]) if parts else np.zeros((0, 0)),
               "y": np.concatenate([p["y"] for p in parts]) if parts else np.zeros(0, np.int32),
               "w": np.concatenate([p["w"] for p in parts]) if parts else np.zeros(0),
               "ids": np.concatenate([p["ids"] for p in parts]) if parts else np.zeros(0, object)}
        out["meta"] = [m for p in parts for m in p["meta"]]
        return out


def _shape(p):
    return len(p["y"]), np.bincount(p["y"], minlength=NUM_OUTPUTS)


def extract(extproc, nfeat, sources, client=None, shard_records=2000):
    """Feature rows of sources: a list of (path, weights or None, scale).
    scale multiplies the record weights of the whole file (the site's
    benign traffic counts more than the base corpus's). Records may list
    their redacted fields ("redacted"), whose rows are left out."""
    parts = []
    for path, weights, scale in sources:
        for shard in shards_of(path, shard_records):
            sub, red = None, {}
            for line in shard.splitlines():
                rec = json.loads(line)
                if rec.get("redacted"):
                    red[rec.get("id")] = rec["redacted"]
                if weights and rec.get("id") in weights:
                    sub = sub or {}
                    sub[rec["id"]] = weights[rec["id"]]
            if client is None:
                parts.append(_features_scaled(extproc, shard, nfeat, sub, scale, red))
            else:
                parts.append(client.submit(_features_scaled, extproc, shard, nfeat, sub, scale, red, pure=False))
    return Rows(parts, client)


def _features_scaled(extproc, shard, nfeat, weights, scale, redacted=None):
    p = features_of_bytes(extproc, shard, nfeat, weights, redacted)
    p["w"] = p["w"] * scale
    return p


def class_weights(counts):
    """train.py's per-class weights: rare attack classes up to 10x."""
    counts = np.asarray(counts, dtype=float)
    w = np.ones(NUM_OUTPUTS)
    w[1:] = np.minimum(10.0, counts[0] / (4 * np.maximum(counts[1:], 1)))
    return w


def lgb_params(seed, threads=2):
    """The base pipeline's LightGBM parameters (train.py)."""
    return {
        "objective": "multiclass", "num_class": NUM_OUTPUTS, "learning_rate": 0.1, "num_leaves": 31,
        "min_data_in_leaf": 20, "feature_fraction": 0.9, "bagging_fraction": 0.8, "bagging_freq": 1,
        "lambda_l2": 1.0, "max_bin": 255, "num_threads": threads, "seed": seed, "deterministic": True,
        "force_row_wise": True, "verbose": -1,
    }


def train_local(rows, names, seed, rounds, threads=2, init_model=None):
    d = rows.local()
    cw = class_weights(rows.counts)
    ds = lgb.Dataset(d["X"], label=d["y"], weight=cw[d["y"]] * d["w"], feature_name=names, free_raw_data=False)
    init = lgb.Booster(model_str=init_model) if init_model else None
    booster = lgb.train(lgb_params(seed, threads), ds, num_boost_round=rounds, init_model=init)
    return booster.model_to_string()


def train_dask(client, rows, names, seed, rounds, init_model=None):
    """LightGBM's Dask estimator on the rows where the workers hold them."""
    import dask.array as da
    from lightgbm.dask import DaskLGBMRegressor
    nfeat = len(names)
    cw = class_weights(rows.counts)
    xs, ys, ws = [], [], []
    for fut, n in zip(rows.parts, rows.sizes):
        if n == 0:
            continue
        xs.append(da.from_delayed(client.submit(_get, fut, "X", pure=False), shape=(n, nfeat), dtype="f8"))
        ys.append(da.from_delayed(client.submit(_get, fut, "y", pure=False), shape=(n,), dtype="i4"))
        ws.append(da.from_delayed(client.submit(_weight, fut, cw, pure=False), shape=(n,), dtype="f8"))
    X, y, w = da.concatenate(xs), da.concatenate(ys), da.concatenate(ws)
    p = lgb_params(seed, threads=1)
    # The regressor wrapper with the multiclass objective, not
    # DaskLGBMClassifier: the classifier label-encodes each worker's own
    # labels, so a worker whose rows lack a class (a shard of the site's
    # benign traffic) would train on shifted or missing classes. Here the
    # labels are the model outputs 0..4 everywhere and num_class is fixed.
    est = DaskLGBMRegressor(
        client=client, objective="multiclass", num_class=NUM_OUTPUTS, n_estimators=rounds, learning_rate=p["learning_rate"],
        num_leaves=p["num_leaves"], min_child_samples=p["min_data_in_leaf"], colsample_bytree=p["feature_fraction"],
        subsample=p["bagging_fraction"], subsample_freq=p["bagging_freq"], reg_lambda=p["lambda_l2"],
        max_bin=p["max_bin"], random_state=seed, deterministic=True, force_row_wise=True, verbose=-1,
        tree_learner="data")
    kw = {"init_model": lgb.Booster(model_str=init_model)} if init_model else {}
    est.fit(X, y, sample_weight=w, feature_name=names, **kw)
    return est.booster_.model_to_string()


def _get(p, k):
    return p[k]


def _weight(p, cw):
    return cw[p["y"]] * p["w"]


def train(rows, names, seed, rounds, client=None, init_model=None):
    """A LightGBM text model; with init_model (a model text), the new
    rounds continue it (its trees are kept, the new ones fit what it gets
    wrong on these rows)."""
    if client is not None:
        text = train_dask(client, rows, names, seed, rounds, init_model)
    else:
        text = train_local(rows, names, seed, rounds, init_model=init_model)
    if "version=v3" not in text.split("\n", 3)[1]:
        raise SystemExit("LightGBM wrote a model format leaves cannot read; pin lightgbm 3.3.x")
    return text


def replicate(path, out, n_records):
    """A corpus of n_records lines cycling through path's, with fresh ids:
    the benchmark's 1M rows from real records."""
    with open(path, "rb") as f:
        lines = [l for l in f if l.strip()]
    with open(out, "w", encoding="utf-8") as o:
        for i in range(n_records):
            rec = json.loads(lines[i % len(lines)])
            rec["id"] = f"{rec.get('id', '')}~{i}"
            o.write(json.dumps(rec) + "\n")


def bench(a):
    """Rows per second of feature extraction and of training, per worker count."""
    _, _, names = feature_names(a.extproc)
    nfeat = len(names)
    # Find how many records make the rows asked for.
    probe = features_of_bytes(a.extproc, b"".join(list(shards_of(a.data, 500))[:1]), nfeat)
    with open(a.data, "rb") as f:
        first = sum(1 for l, _ in zip(f, range(500)) if l.strip())
    per_record = max(1e-9, len(probe["y"]) / max(1, first))
    n_records = int(a.rows / per_record) + 1
    big = os.path.join(a.workdir, "bench.jsonl")
    os.makedirs(a.workdir, exist_ok=True)
    replicate(a.data, big, n_records)
    results = []
    for nw in [int(v) for v in a.workers.split(",")]:
        with Cluster(f"local:{nw}") as c:
            t0 = time.perf_counter()
            rows = extract(a.extproc, nfeat, [(big, None, 1.0)], c.client, a.shard_records)
            t1 = time.perf_counter()
            train(rows, names, a.seed, a.rounds, c.client)
            t2 = time.perf_counter()
            n = len(rows)
            results.append({"workers": nw, "rows": n, "records": n_records, "features_s": t1 - t0, "train_s": t2 - t1,
                            "features_rows_per_s": n / (t1 - t0), "train_rows_per_s": n / (t2 - t1),
                            "total_rows_per_s": n / (t2 - t0), "rounds": a.rounds})
            print(json.dumps(results[-1]), file=sys.stderr)
    print(json.dumps(results, indent=2))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(results, f, indent=2)


def parity(a):
    """ROC AUC on one validation set of the single-process model and the
    model trained on a LocalCluster of --workers, same rows and parameters."""
    from sklearn.metrics import roc_auc_score
    _, _, names = feature_names(a.extproc)
    nfeat = len(names)
    v = extract(a.extproc, nfeat, [(a.valid, None, 1.0)]).local()
    y = v["y"] > 0
    out = {"train": a.train, "valid": a.valid, "rounds": a.rounds, "workers": a.workers}
    local_rows = extract(a.extproc, nfeat, [(a.train, None, 1.0)])
    t0 = time.perf_counter()
    single = lgb.Booster(model_str=train(local_rows, names, a.seed, a.rounds))
    out["single_seconds"] = time.perf_counter() - t0
    out["rows"] = len(local_rows)
    with Cluster(f"local:{a.workers}") as c:
        rows = extract(a.extproc, nfeat, [(a.train, None, 1.0)], c.client, a.shard_records)
        t0 = time.perf_counter()
        dist = lgb.Booster(model_str=train(rows, names, a.seed, a.rounds, c.client))
        out["dask_seconds"] = time.perf_counter() - t0
    out["auc_single"] = float(roc_auc_score(y, 1 - single.predict(v["X"])[:, 0]))
    out["auc_dask"] = float(roc_auc_score(y, 1 - dist.predict(v["X"])[:, 0]))
    out["auc_difference"] = abs(out["auc_single"] - out["auc_dask"])
    print(json.dumps(out, indent=2))


def main(argv=None):
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("parity", help="single-process against LocalCluster AUC on one validation set")
    p.add_argument("--extproc", required=True)
    p.add_argument("--train", required=True)
    p.add_argument("--valid", required=True)
    p.add_argument("--rounds", type=int, default=100)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--shard-records", type=int, default=5000)
    p.add_argument("--seed", type=int, default=20260501)
    b = sub.add_parser("bench", help="rows per second at ROWS rows on a LocalCluster of each worker count")
    b.add_argument("--extproc", required=True)
    b.add_argument("--data", required=True, help="JSON Lines records to cycle through")
    b.add_argument("--rows", type=int, default=1_000_000)
    b.add_argument("--workers", default="1,2")
    b.add_argument("--rounds", type=int, default=50)
    b.add_argument("--shard-records", type=int, default=5000)
    b.add_argument("--seed", type=int, default=20260501)
    b.add_argument("--workdir", default="build/learn-bench")
    b.add_argument("--out", default="")
    a = ap.parse_args(argv)
    if a.cmd == "bench":
        bench(a)
    elif a.cmd == "parity":
        parity(a)


if __name__ == "__main__":
    main()
