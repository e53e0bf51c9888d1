"""Train a site-adapted model: the base corpus plus a site's own labelled
traffic (`extproc learn label`), weighted, behind two gates.

    python -m bulwark_train.site --labelled L.jsonl --base-model BASE --base-corpus DIR \
        --extproc BIN --out MODEL [--scheduler local[:N]|tcp://HOST:PORT]

`extproc learn train` runs this with itself as BIN. Steps:

1. The site's records labelled benign or attack (suspects stay out) are
   ordered by time; the latest --holdout fraction is held out. Of the rest,
   whole endpoints (method, host, path with ids folded; picked by a hash of
   their name) validate until they make one record in seven, the others
   train: near copies of one request never sit on both sides.
2. Features come from BIN (`extproc features`), sharded over Dask workers
   when a scheduler is given.
3. LightGBM trains on base train + site train, with the base pipeline's
   parameters and class weights; site benign fields weigh --site-weight
   times a base field, and each site record also carries the weight its
   evidence earned. Calibration is fitted on base valid + site valid. The
   threshold is the base model's number, so policies keep their meaning,
   and so is the operating point: when at the threshold the site model
   flags more of the benign calibration requests than the base model does,
   beyond the FPR gate's slack, the calibration is mapped (monotonically)
   so that the most permissive score at which it does not lands on the
   threshold.
4. Gates: the model is refused (exit status 3, nothing written) when on the
   base validation split its request-level ROC AUC is lower than the base
   model's by more than the larger of --tolerance and two standard errors
   of the base model's AUC there, or its TPR at the threshold is lower
   by more than a point, or its FPR is higher by more than --fpr-slack; or
   when its FPR on the base test split (if the corpus has one: nothing is
   chosen on it) is higher by more than --fpr-slack; or when its FPR on
   the site's held-out benign traffic is higher than the base model's
   there.
5. The model file is the base pipeline's format plus "lineage": the base
   model, the data window, hashes of every input and both models' metrics.
"""
import argparse
import datetime
import gzip
import hashlib
import json
import os
import re
import sys
import urllib.parse

import lightgbm as lgb
import numpy as np

from . import dask_train as dt
from . import train as base_train

SITE_VALID_EVERY = 7  # one site record in seven validates (by id hash)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_model(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        doc = json.loads(gzip.decompress(raw))
    except OSError:
        doc = json.loads(raw)
    booster = lgb.Booster(model_str=doc["lightgbm_model"])
    gate = None
    if doc.get("gate_model"):
        gate = {"booster": lgb.Booster(model_str=doc["gate_model"]), "max_raw": doc["gate_max_raw"]}
    return doc, booster, gate, hashlib.sha256(raw).hexdigest()


def parse_time(s):
    if not s or s.startswith("0001-01-01"):
        return None
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def read_labelled(path):
    """The site's records, in time order (records without a time keep their
    file order, after timed ones that precede them)."""
    recs, suspects, bad = [], 0, 0
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if not line.strip():
                continue
            r = json.loads(line)
            lab = r.get("label")
            if lab == "suspect":
                suspects += 1
                continue
            if lab not in ("benign", "attack"):
                bad += 1
                continue
            if lab == "attack" and not r.get("category"):
                raise SystemExit(f"{path} line {i + 1}: attack without a class (category)")
            r["_pos"] = i
            r["_t"] = parse_time(r.get("time", ""))
            recs.append(r)
    if bad:
        raise SystemExit(f"{path}: {bad} records have a label other than benign, attack or suspect")
    # Stable by time; untimed records sort by position among themselves.
    recs.sort(key=lambda r: (r["_t"].timestamp() if r["_t"] else float("-inf"), r["_pos"]))
    return recs, suspects


# Path segments that name one object of many (a number, a UUID, a long hex
# or base64 token): requests differing only in them hit the same endpoint.
_ID_SEGMENT = re.compile(r"^(?:\d+|[0-9a-fA-F-]{8,}|[A-Za-z0-9_-]{20,})(\.[A-Za-z0-9]{1,5})?$")


def endpoint(r):
    """The endpoint a record hits: method, host and path, with the path
    segments that are object ids folded. Records of one endpoint are near
    copies of each other (the same beacon, the same API call with other
    values), so they go to the same split: a validation slice that shares
    endpoints with training would measure memory, not how the model does on
    the site's next, unseen endpoint, which is where late false positives
    come from."""
    path = urllib.parse.urlsplit(r.get("uri") or "/").path
    segs = [":id" if _ID_SEGMENT.match(x) else x for x in path.split("/")]
    host = ""
    for k, v in (r.get("headers") or {}).items():
        if k.lower() in ("host", ":authority"):
            host = str(v).lower()
    return f"{r.get('method', '')} {host}{'/'.join(segs)}"


def _h(s):
    return int(hashlib.sha256(s.encode()).hexdigest()[:8], 16)


def split_site(recs, holdout):
    """(train, valid, held out). The held-out slice is the latest --holdout
    of the records, as the site's future is. Of the rest, whole endpoints
    (in the order of a hash of their name) validate until they make one
    record in SITE_VALID_EVERY; when the site has too few endpoints for
    that (one busy API), the remainder is filled by a hash of the id."""
    n_hold = max(1, int(round(len(recs) * holdout))) if holdout > 0 else 0
    if len(recs) - n_hold < 2:
        raise SystemExit(f"only {len(recs)} usable site records: too few to train and hold out")
    early, late = recs[:len(recs) - n_hold], recs[len(recs) - n_hold:]
    want = len(early) // SITE_VALID_EVERY
    groups = {}
    for r in early:
        groups.setdefault(endpoint(r), []).append(r)
    valid_ep, n = set(), 0
    for ep in sorted(groups, key=lambda e: (_h(e), e)):
        if n >= want:
            break
        if n + len(groups[ep]) <= want or n == 0 and len(groups[ep]) <= 2 * want:
            valid_ep.add(ep)
            n += len(groups[ep])
    train, valid = [], []
    for r in early:
        ep = endpoint(r)
        if ep in valid_ep or n < want // 2 and _h(r["id"]) % SITE_VALID_EVERY == 0:
            valid.append(r)
        else:
            train.append(r)
    return train, valid, late


def write_jsonl(path, recs, split):
    keys = ("id", "label", "category", "method", "uri", "headers", "body", "attack_part", "attack_field", "redacted")
    with open(path, "w", encoding="utf-8") as f:
        for r in recs:
            o = {k: r[k] for k in keys if k in r and r[k] not in (None, "")}
            if o["label"] == "benign":
                # A class means an attack class to the feature writer and
                # the evaluation; benign records carry none.
                for k in ("category", "attack_part", "attack_field"):
                    o.pop(k, None)
            o.setdefault("headers", {})
            o.setdefault("body", "")
            o.update(family="site", obfuscation="none", split=split)
            f.write(json.dumps(o, ensure_ascii=False, sort_keys=True) + "\n")


def window(recs):
    ts = [r["_t"] for r in recs if r["_t"]]
    if not ts:
        return None, None
    return min(ts), max(ts)


def fmt(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if t else ""


def evaluate(rows, path, booster, cal, threshold, gate):
    d = rows.local()
    if len(d["y"]) == 0:
        ids = base_train.read_ids(path)
        return {"requests": len(ids), "benign": sum(1 for v in ids.values() if v[0] == "benign"), "fpr": 0.0}
    return base_train.eval_split("", d["X"], d["y"], d["meta"], booster, cal, threshold, base_train.read_ids(path), gate)


def calibrate(booster, x, y):
    p = booster.predict(x)
    cal = {"attack": base_train.knots(base_train.calibrate(1 - p[:, 0], y > 0))}
    for i, c in enumerate(base_train.CLASSES):
        cal[c] = base_train.knots(base_train.calibrate(p[:, i + 1], y == i + 1))
    return cal


def flag_bound(t):
    """The calibrated probability above which a field scores t or less
    (model.ScoreFromProb: round(99 - 98 p))."""
    return (98.5 - t) / 98


def remap_knots(k, src, dst):
    """Calibration knots followed by g, the piecewise-linear map with
    g(0) = 0, g(src) = dst, g(1) = 1. A knot is inserted wherever the curve
    crosses src, so the new curve is exactly g of the old one between knots
    (the server interpolates linearly, as np.interp does)."""
    xs, ys = [float(v) for v in k["x"]], [float(v) for v in k["y"]]
    nx, ny = [], []
    for i, (x, y) in enumerate(zip(xs, ys)):
        if i and (ys[i - 1] - src) * (y - src) < 0:
            nx.append(xs[i - 1] + (src - ys[i - 1]) * (x - xs[i - 1]) / (y - ys[i - 1]))
            ny.append(src)
        nx.append(x)
        ny.append(y)
    g = lambda v: v * dst / src if v <= src else dst + (v - src) * (1 - dst) / (1 - src)
    return {"x": nx, "y": [min(1.0, max(0.0, g(v))) for v in ny]}


def request_overall(x, meta, ids, booster, cal, gate):
    """Request-level overall scores (min over fields, 99 for requests with
    no scored field) in the order of ids."""
    overall, _, _ = base_train.field_scores(x, booster, cal, gate) if len(meta) else (np.zeros(0), None, None)
    req = base_train.request_scores(meta, overall)
    return np.array([req.get(i, 99) for i in ids])


def operating_point(x, meta, ids, benign, booster, cal, base_booster, base_cal, base_gate, threshold, fpr_slack):
    """The site model's operating point, chosen on the calibration requests
    (base valid + site valid: nothing later than the early part): the most
    permissive score t <= threshold at which it flags no more of their
    benign requests than the base model does at the threshold, give or take
    the FPR gate's slack (one request in 5,000 at the default: a lone
    benign request crossing over is noise, and would otherwise move the
    operating point by as many score points as it takes). Continuing
    the base model sharpens its scores, and the shipped threshold sits just
    under a cluster of benign validation requests (it was picked there), so
    at the same number the site model would flag what the base model did
    not. Mapping t to the threshold keeps ml.threshold meaning "the base
    model's false-positive rate" while the site model ranks better."""
    # The base model as it serves, early-exit gate included; the site
    # model's gate is fitted after this, on the mapped calibration, and a
    # gate only ever clears fields, so without it the choice errs towards
    # caution.
    base = request_overall(x, meta, ids, base_booster, base_cal, base_gate)
    site = request_overall(x, meta, ids, booster, cal, None)
    base_fp = int((base[benign] <= threshold).sum())
    allowed = base_fp + int(fpr_slack * int(benign.sum()))
    t = threshold
    while t > 1 and int((site[benign] <= t).sum()) > allowed:
        t -= 1
    return t, {"benign_requests": int(benign.sum()), "base_false_positives": base_fp, "allowed_false_positives": allowed,
               "site_false_positives_at_threshold": int((site[benign] <= threshold).sum()),
               "site_false_positives_at_operating_point": int((site[benign] <= t).sum()),
               "operating_point": t, "threshold": threshold}


def train_gate(rows, names, seed, x_valid, y_valid, booster, cal, threshold, gate_rounds, gate_loss):
    """The early-exit gate, exactly as the base pipeline builds it."""
    d = rows.local()
    params = dt.lgb_params(seed)
    params.update(objective="binary", num_leaves=15, learning_rate=0.4, min_data_in_leaf=20)
    params.pop("num_class")
    ds = lgb.Dataset(d["X"], label=(d["y"] > 0).astype(int), weight=np.where(d["y"] > 0, 10.0, 1.0),
                     feature_name=names, free_raw_data=False)
    text = lgb.train(params, ds, num_boost_round=gate_rounds).model_to_string()
    gb = lgb.Booster(model_str=text)
    max_raw, _, _ = base_train.gate_cutoff(gb, x_valid, y_valid, booster, cal, threshold, gate_loss)
    return {"booster": gb, "max_raw": max_raw}, text


def auc_se(auc, n_pos, n_neg):
    """Hanley and McNeil's standard error of a ROC AUC."""
    if n_pos < 1 or n_neg < 1:
        return 0.0
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    return max(0.0, var) ** 0.5


def auc_tolerance(base_v, a):
    """How much lower the site model's base-validation AUC may be: the
    larger of --tolerance and two standard errors of the base model's AUC
    there. A retrain of the base model on its own data lands that far off
    (its rounds were picked on this very split), so a tighter bound would
    refuse every model, good or bad, on noise."""
    se = auc_se(base_v.get("auc", 0.0), base_v.get("attacks", 0), base_v.get("benign", 0))
    return max(a.tolerance, 2 * se), se


def verdict(base_v, site_v, base_h, site_h, a, base_t=None, site_t=None):
    """The reasons to refuse, empty when the site model may be emitted.
    The site model's operating point was matched to the base model's on
    base validation (operating_point), so its FPR there passes nearly by
    construction; the base test split, which nothing was chosen on, is
    where a matched FPR that does not hold shows."""
    why = []
    tol, _ = auc_tolerance(base_v, a)
    if "auc" in base_v and site_v.get("auc", 0) < base_v["auc"] - tol:
        why.append(f"base validation ROC AUC {site_v.get('auc', 0):.5f} < base model's {base_v['auc']:.5f} - {tol:.5f}")
    if "tpr" in base_v and site_v.get("tpr", 0) < base_v["tpr"] - 0.01:
        why.append(f"base validation TPR {site_v.get('tpr', 0):.4f} is more than a point under the base model's {base_v['tpr']:.4f}")
    if site_v.get("fpr", 0) > base_v.get("fpr", 0) + a.fpr_slack:
        why.append(f"base validation FPR {site_v.get('fpr', 0):.5f} > base model's {base_v.get('fpr', 0):.5f} + {a.fpr_slack}")
    if base_t and site_t and site_t.get("fpr", 0) > base_t.get("fpr", 0) + a.fpr_slack:
        why.append(f"base test FPR {site_t.get('fpr', 0):.5f} > base model's {base_t.get('fpr', 0):.5f} + {a.fpr_slack}")
    if site_h.get("fpr", 0) > base_h.get("fpr", 0):
        why.append(f"site held-out FPR {site_h.get('fpr', 0):.5f} > base model's {base_h.get('fpr', 0):.5f}")
    return why


def created(last):
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if last:
        return fmt(last)
    raise SystemExit("the model's date comes from SOURCE_DATE_EPOCH or the labelled records' times; neither is set")


def build(a):
    schema, fingerprint, names = dt.feature_names(a.extproc)
    nfeat = len(names)
    base_train.EVIDENCE = names.index("evidence")
    base_doc, base_booster, base_gate, base_sha = load_model(a.base_model)
    if base_doc.get("feature_fingerprint") != fingerprint:
        raise SystemExit(f"base model {a.base_model} was trained on features {base_doc.get('schema_version')} "
                         f"({base_doc.get('feature_fingerprint')}); {a.extproc} writes {schema} ({fingerprint})")
    threshold = int(base_doc["default_threshold"])
    base_cal = base_doc["calibration"]
    base_rounds = int(base_doc.get("metrics", {}).get("best_iteration") or 150)
    rounds = a.rounds or (a.continue_rounds if a.mode == "continue" else base_rounds)

    recs, suspects = read_labelled(a.labelled)
    s_train, s_valid, s_hold = split_site(recs, a.holdout)
    os.makedirs(a.workdir, exist_ok=True)
    paths = {n: os.path.join(a.workdir, f"site_{n}.jsonl") for n in ("train", "valid", "holdout")}
    write_jsonl(paths["train"], s_train, "train")
    write_jsonl(paths["valid"], s_valid, "valid")
    write_jsonl(paths["holdout"], [r for r in s_hold if r["label"] == "benign"], "holdout")
    def weight(r):
        w = float(r.get("weight") or 1.0)
        # Attacks only the rules and the model vouch for are often the
        # site's own odd traffic (a consent string, a log beacon): they
        # count for little next to the base corpus's attacks, unless the
        # operator confirmed them.
        if r["label"] == "attack" and not str(r.get("reason", "")).startswith("attack: operator feedback"):
            w *= a.auto_attack_weight
        return w
    weights = {r["id"]: weight(r) for r in recs}
    base_paths = {s: os.path.join(a.base_corpus, f"{s}.jsonl") for s in ("train", "valid")}
    for p in base_paths.values():
        if not os.path.exists(p):
            raise SystemExit(f"base corpus {p} is missing: run `make corpus` (or pass --base-corpus)")
    if os.path.exists(os.path.join(a.base_corpus, "test.jsonl")):
        base_paths["test"] = os.path.join(a.base_corpus, "test.jsonl")

    count = lambda rs, lab: sum(1 for r in rs if r["label"] == lab)
    print(f"site: {len(recs)} records ({count(recs, 'benign')} benign, {count(recs, 'attack')} attack; {suspects} suspects left out): "
          f"train {len(s_train)}, valid {len(s_valid)}, held out {len(s_hold)} (latest {a.holdout:.0%})", file=sys.stderr)

    cluster = dt.Cluster(a.scheduler) if a.scheduler else None
    client = cluster.client if cluster else None
    try:
        # Site benign fields count site_weight times; attack records keep
        # their evidence weight (the class weights come on top).
        labels = {r["id"]: r["label"] for r in recs}
        site_w = {rid: w * (a.site_weight if labels[rid] == "benign" else 1.0) for rid, w in weights.items()}
        train_rows = dt.extract(a.extproc, nfeat, [(base_paths["train"], None, 1.0), (paths["train"], site_w, 1.0)], client, a.shard_records)
        print(f"features: {len(train_rows)} training rows, class counts {train_rows.counts.tolist()}"
              f"{f' on {cluster.workers} Dask workers' if cluster else ''}", file=sys.stderr)
        init = base_doc["lightgbm_model"] if a.mode == "continue" else None
        text = dt.train(train_rows, names, a.seed, rounds, client, init)
        booster = lgb.Booster(model_str=text)

        base_valid = dt.extract(a.extproc, nfeat, [(base_paths["valid"], None, 1.0)], client, a.shard_records)
        site_valid = dt.extract(a.extproc, nfeat, [(paths["valid"], None, 1.0)], client, a.shard_records)
        site_hold = dt.extract(a.extproc, nfeat, [(paths["holdout"], None, 1.0)], client, a.shard_records)
        # The base corpus's test split, when it has one: neither model chose
        # anything on it, so it checks the FPR the calibration matched on
        # validation.
        base_test = dt.extract(a.extproc, nfeat, [(base_paths["test"], None, 1.0)], client, a.shard_records) if base_paths.get("test") else None
        bv, sv = base_valid.local(), site_valid.local()
        xv = np.concatenate([bv["X"], sv["X"]]) if len(sv["y"]) else bv["X"]
        yv = np.concatenate([bv["y"], sv["y"]]) if len(sv["y"]) else bv["y"]
        cal = calibrate(booster, xv, yv)
        ids_v = list(base_train.read_ids(base_paths["valid"]).items()) + list(base_train.read_ids(paths["valid"]).items())
        op_t, op = operating_point(xv, bv["meta"] + sv["meta"], [i for i, _ in ids_v], np.array([l[0] == "benign" for _, l in ids_v]),
                                   booster, cal, base_booster, base_cal, base_gate, threshold, a.fpr_slack)
        if op_t < threshold:
            src, dst = flag_bound(op_t), flag_bound(threshold)
            cal = {c: remap_knots(k, src, dst) for c, k in cal.items()}
        print(f"operating point: score {op_t} -> threshold {threshold} ({op['site_false_positives_at_threshold']} benign calibration requests "
              f"flagged at the threshold, {op['site_false_positives_at_operating_point']} at {op_t}, the base model {op['base_false_positives']} "
              f"of {op['benign_requests']}, {op['allowed_false_positives']} allowed)", file=sys.stderr)
        gate, gate_text = train_gate(train_rows, names, a.seed, xv, yv, booster, cal, threshold, a.gate_rounds, a.gate_loss)
        # Everything evaluated below is small: bring it home before the
        # cluster goes.
        base_valid, site_valid, site_hold = base_valid.to_local(), site_valid.to_local(), site_hold.to_local()
        base_test = base_test.to_local() if base_test is not None else None
    finally:
        if cluster:
            cluster.close()

    m = {
        "base_model_on_base_valid": evaluate(base_valid, base_paths["valid"], base_booster, base_cal, threshold, base_gate),
        "site_model_on_base_valid": evaluate(base_valid, base_paths["valid"], booster, cal, threshold, gate),
        "base_model_on_site_holdout": evaluate(site_hold, paths["holdout"], base_booster, base_cal, threshold, base_gate),
        "site_model_on_site_holdout": evaluate(site_hold, paths["holdout"], booster, cal, threshold, gate),
    }
    if base_test is not None:
        m["base_model_on_base_test"] = evaluate(base_test, base_paths["test"], base_booster, base_cal, threshold, base_gate)
        m["site_model_on_base_test"] = evaluate(base_test, base_paths["test"], booster, cal, threshold, gate)
    why = verdict(m["base_model_on_base_valid"], m["site_model_on_base_valid"], m["base_model_on_site_holdout"], m["site_model_on_site_holdout"], a,
                  m.get("base_model_on_base_test"), m.get("site_model_on_base_test"))
    for k in sorted(m, key=lambda k: (k.split("_on_")[1], k)):
        v = m[k]
        print(f"{k}: requests {v.get('requests')}, AUC {v.get('auc', float('nan')):.5f}, TPR {v.get('tpr', float('nan')):.4f}, FPR {v.get('fpr', float('nan')):.5f}", file=sys.stderr)
    first, last = window(recs)
    lineage = {
        "kind": "site-adapted",
        "base_model": {"sha256": base_sha, "created": base_doc.get("created"), "training_data_sha256": base_doc.get("training_data_sha256"),
                       "trainer": base_doc.get("trainer"), "default_threshold": threshold},
        "base_corpus": {f"{k}_sha256": sha256_file(v) for k, v in sorted(base_paths.items())},
        "site_data": {"labelled_sha256": sha256_file(a.labelled), "window_start": fmt(first), "window_end": fmt(last),
                      "records": len(recs) + suspects, "benign": count(recs, "benign"), "attack": count(recs, "attack"),
                      "suspect_excluded": suspects, "train": len(s_train), "valid": len(s_valid), "holdout": len(s_hold),
                      "holdout_start": fmt(window(s_hold)[0]), "train_sha256": sha256_file(paths["train"]),
                      "holdout_sha256": sha256_file(paths["holdout"])},
        "training": {"mode": a.mode, "rounds": rounds, "site_weight": a.site_weight, "auto_attack_weight": a.auto_attack_weight, "seed": a.seed, "scheduler": a.scheduler or "in-process",
                     "rows": len(train_rows), "class_counts": train_rows.counts.tolist(), "calibration": op},
        "gates": {"tolerance_auc": auc_tolerance(m["base_model_on_base_valid"], a)[0], "base_auc_se": auc_tolerance(m["base_model_on_base_valid"], a)[1],
                  "min_tolerance_auc": a.tolerance, "fpr_slack": a.fpr_slack, "passed": not why, "refused_because": why},
        "metrics": m,
    }
    if why:
        print("refused: " + "; ".join(why), file=sys.stderr)
        if a.report:
            with open(a.report, "w") as f:
                json.dump(lineage, f, indent=2, sort_keys=True)
        return 3
    h = hashlib.sha256()
    h.update(bytes.fromhex(base_doc.get("training_data_sha256") or "00"))
    h.update(bytes.fromhex(lineage["site_data"]["train_sha256"]))
    metrics = dict(base_doc.get("metrics", {}))
    metrics.update(default_threshold=threshold, best_iteration=int(booster.current_iteration()), valid=m["site_model_on_base_valid"],
                   site_holdout=m["site_model_on_site_holdout"])
    doc = {
        "format": "bulwark-model/1", "schema_version": schema, "feature_names": names,
        "feature_fingerprint": fingerprint, "outputs": base_train.OUTPUTS,
        "training_data_sha256": h.hexdigest(), "created": created(last),
        "trainer": f"lightgbm {lgb.__version__}" + (" (dask)" if a.scheduler else ""), "default_threshold": threshold,
        "calibration": cal, "gate_max_raw": gate["max_raw"], "gate_model": gate_text,
        "novelty_floor": base_train.NOVELTY_FLOOR, "metrics": metrics, "lineage": lineage, "lightgbm_model": text,
    }
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as z:
            z.write(json.dumps(doc, sort_keys=True).encode())
    os.replace(tmp, a.out)
    if a.report:
        with open(a.report, "w") as f:
            json.dump(lineage, f, indent=2, sort_keys=True)
    print(f"wrote {a.out}: site model over base {base_sha[:12]}, data {fmt(first)} .. {fmt(last)}", file=sys.stderr)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--labelled", required=True)
    ap.add_argument("--base-model", required=True)
    ap.add_argument("--base-corpus", required=True)
    ap.add_argument("--extproc", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--scheduler", default="")
    ap.add_argument("--holdout", type=float, default=0.2)
    ap.add_argument("--site-weight", type=float, default=3.0)
    ap.add_argument("--auto-attack-weight", type=float, default=0.25,
                    help="weight factor of site attacks labelled by the rules and the model alone (operator-confirmed ones keep theirs)")
    ap.add_argument("--mode", choices=["continue", "retrain"], default="continue",
                    help="continue the base model with more rounds on base + site data, or retrain from scratch")
    ap.add_argument("--continue-rounds", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=0, help="boosting rounds (default: --continue-rounds, or the base model's best iteration with --mode retrain)")
    ap.add_argument("--tolerance", type=float, default=0.001, help="how much lower the base-validation ROC AUC may at least be (two standard errors when larger)")
    ap.add_argument("--fpr-slack", type=float, default=0.0002, help="how much higher the base-validation FPR may be")
    ap.add_argument("--gate-rounds", type=int, default=20)
    ap.add_argument("--gate-loss", type=float, default=0.02)
    ap.add_argument("--shard-records", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20260501)
    ap.add_argument("--report", default="", help="also write the lineage and metrics as JSON here")
    a = ap.parse_args(argv)
    if not 0 <= a.holdout < 1:
        raise SystemExit("--holdout must be in [0, 1)")
    sys.exit(build(a))


if __name__ == "__main__":
    main()
