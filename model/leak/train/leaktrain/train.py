"""Trains one binary LightGBM ensemble per leakage class on the Go feature
matrix, calibrates each with isotonic regression on the validation split,
and writes the model file leaves serves."""
import csv
import datetime
import gzip
import hashlib
import json
import os

import lightgbm as lgb
import numpy as np
from sklearn.isotonic import IsotonicRegression

from .corpus import CLASSES

FORMAT = "bulwark-leak-model/1"
SCHEMA = "leak-features/3"


def read_features(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        names = next(r)[1:]
        ids, rows = [], []
        for row in r:
            ids.append(row[0])
            rows.append([float(v) for v in row[1:]])
    if not rows:
        raise SystemExit(f"{path}: no rows")
    return names, ids, np.array(rows, dtype=np.float64)


def read_labels(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            out[r["id"]] = r
    return out


def score_from_prob(p):
    return np.clip(np.round(99 - 98 * p), 1, 99).astype(int)


# Validated detections of a class only ever make that class more likely:
# LightGBM is told so, so that no tree learns "one key alone is clean"
# from the co-occurrence patterns of the generated families.
MONOTONE = {
    "secret": ["aws_key_id", "aws_secret", "private_key_body", "stripe_live", "github_token", "slack_token", "google_key",
               "other_token", "password_hash", "conn_string", "secret_assign", "env_secret_key"],
    "pii": ["email", "email_distinct", "email_per_kb", "phone", "phone_per_kb", "card", "iban", "ssn", "national_id"],
    "error": ["java_frame", "python_trace", "python_frame", "go_panic", "go_frame", "node_frame", "php_error", "dotnet_error",
              "dotnet_frame", "django_debug", "rails_error", "ruby_frame", "spring_error", "express_error", "sql_mysql",
              "sql_postgres", "sql_mssql", "sql_oracle", "sql_sqlite", "frames_per_kb", "error_page", "status_5xx"],
    "source": ["php_open", "env_line", "env_secret_key", "git_meta", "dir_listing", "passwd_line", "directive_line", "config_key", "sql_dump"],
}


def params(seed, names=None, cls=None):
    extra = {}
    if names is not None:
        mono = set(MONOTONE[cls])
        unknown = mono - set(names)
        if unknown:
            raise SystemExit(f"monotone features not in the schema: {sorted(unknown)}")
        extra = {"monotone_constraints": [1 if n in mono else 0 for n in names], "monotone_constraints_method": "advanced"}
    return {**extra, "objective": "binary", "learning_rate": 0.08, "num_leaves": 15, "min_data_in_leaf": 10,
            "feature_fraction": 0.9, "bagging_fraction": 0.9, "bagging_freq": 1, "lambda_l2": 1.0,
            "seed": seed, "bagging_seed": seed, "feature_fraction_seed": seed, "deterministic": True,
            "num_threads": 2, "verbose": -1, "force_col_wise": True}


def calibrate(raw_valid, y_valid):
    p = 1 / (1 + np.exp(-raw_valid))
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    iso.fit(p, y_valid)
    x = [float(v) for v in iso.X_thresholds_]
    y = [float(v) for v in iso.y_thresholds_]
    if len(x) < 2:
        raise SystemExit("isotonic calibration collapsed to one knot")
    return {"x": x, "y": y}


def apply_cal(cal, p):
    return np.interp(p, cal["x"], cal["y"])


def run(seed, corpus_dir, feat_dir, out_path, metrics_path):
    data = {}
    for sp in ("train", "valid", "test"):
        names, ids, x = read_features(os.path.join(feat_dir, f"{sp}.csv"))
        labels = read_labels(os.path.join(corpus_dir, f"{sp}.jsonl"))
        if len(labels) != len(ids):
            raise SystemExit(f"{sp}: {len(ids)} feature rows for {len(labels)} records")
        y = {c: np.array([c in labels[i]["labels"] for i in ids], dtype=np.float64) for c in CLASSES}
        data[sp] = (ids, x, y, labels)
    names_ref = names
    models, metrics = {}, {"classes": {}}
    _, xt, yt, _ = data["train"]
    _, xv, yv, _ = data["valid"]
    for c in CLASSES:
        if yt[c].sum() < 50 or yv[c].sum() < 10:
            raise SystemExit(f"class {c}: too few positives ({yt[c].sum()} train, {yv[c].sum()} valid)")
        dtrain = lgb.Dataset(xt, yt[c], feature_name=names_ref, free_raw_data=False)
        dvalid = lgb.Dataset(xv, yv[c], reference=dtrain)
        p = params(seed, names_ref, c)
        booster = lgb.train(p, dtrain, num_boost_round=300, valid_sets=[dvalid],
                            callbacks=[lgb.early_stopping(30, verbose=False)])
        booster = lgb.train(p, dtrain, num_boost_round=booster.best_iteration or 300)
        cal = calibrate(booster.predict(xv, raw_score=True), yv[c])
        models[c] = {"lightgbm_model": booster.model_to_string(), "calibration": cal}
        metrics["classes"][c] = {"trees": booster.num_trees(), "train_pos": int(yt[c].sum()), "valid_pos": int(yv[c].sum())}
    # Default threshold: 20, the request model's default (score <= 20 is a
    # calibrated probability >= 0.806), so that both models flag on one
    # scale; the validation split's benign false-positive rate at it is
    # recorded, and training fails loudly if it exceeds 0.5 %.
    benign = np.array([all(yv[c][i] == 0 for c in CLASSES) for i in range(len(xv))])
    overall = np.full(len(xv), 99)
    for c in CLASSES:
        b = lgb.Booster(model_str=models[c]["lightgbm_model"])
        p = apply_cal(models[c]["calibration"], 1 / (1 + np.exp(-b.predict(xv, raw_score=True))))
        overall = np.minimum(overall, score_from_prob(p))
    threshold = 20
    if float(np.mean(overall[benign] <= threshold)) > 0.005:
        raise SystemExit(f"validation benign FPR at threshold {threshold} is {np.mean(overall[benign] <= threshold):.4f}")
    metrics["default_threshold_valid_fpr"] = float(np.mean(overall[benign] <= threshold))
    h = hashlib.sha256()
    for sp in ("train", "valid"):
        with open(os.path.join(corpus_dir, f"{sp}.jsonl"), "rb") as f:
            h.update(f.read())
    doc = {"format": FORMAT, "schema_version": SCHEMA, "feature_names": names_ref, "classes": CLASSES,
           "default_threshold": threshold, "training_data_sha256": h.hexdigest(),
           "trainer": f"lightgbm {lgb.__version__}, model/leak/train/leaktrain", "created": datetime.date.today().isoformat(),
           "models": models, "metrics": metrics}
    raw = json.dumps(doc, sort_keys=True).encode()
    with open(out_path, "wb") as f:
        with gzip.GzipFile(filename="", fileobj=f, mode="wb", mtime=0, compresslevel=9) as gz:
            gz.write(raw)
    with open(metrics_path, "w") as f:
        json.dump({"default_threshold": threshold, **metrics}, f, indent=2)
    print(f"wrote {out_path}: threshold {threshold}, {metrics}")
