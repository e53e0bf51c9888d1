#!/usr/bin/env python3
"""Raw LightGBM predictions for feature rows: the Python side of the
leaves parity test (model/parity_test.go).

usage: predict.py MODEL_FILE FEATURES.csv [lightgbm_model|gate_model] > RAW.csv
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
    key = sys.argv[3] if len(sys.argv) > 3 else "lightgbm_model"
    booster = lgb.Booster(model_str=doc[key])
    with open(rows_path, newline="") as f:
        r = csv.reader(f)
        next(r)
        x = np.array([[float(v) for v in row] for row in r], dtype=np.float64)
    pred = booster.predict(x, raw_score=True)
    pred = pred.reshape(len(x), -1)
    w = csv.writer(sys.stdout)
    for row in pred:
        w.writerow([repr(float(v)) for v in row])


if __name__ == "__main__":
    main()
