#!/usr/bin/env python3
"""Raw LightGBM scores of the leak model's class ensembles for feature rows:
the Python side of model/leak/parity_test.go.

usage: predict.py MODEL_FILE FEATURES.csv > RAW.csv   (one column per class)
"""
import csv
import gzip
import json
import sys

import lightgbm as lgb
import numpy as np


def main():
    model_path, rows_path = sys.argv[1], sys.argv[2]
    with open(model_path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    doc = json.loads(raw)
    with open(rows_path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        if header != doc["feature_names"]:
            raise SystemExit("feature header does not match the model's feature names")
        x = np.array([[float(v) for v in row] for row in r], dtype=np.float64)
    cols = []
    for c in doc["classes"]:
        booster = lgb.Booster(model_str=doc["models"][c]["lightgbm_model"])
        cols.append(booster.predict(x, raw_score=True))
    w = csv.writer(sys.stdout)
    for row in np.array(cols).T:
        w.writerow([repr(float(v)) for v in row])


if __name__ == "__main__":
    main()
