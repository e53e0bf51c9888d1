"""Each real benign source as one site: learn on its early part, test on
its later part (docs/LEARNING.md, `make learn-sites`).

    python -m bulwark_train.site_sim --extproc BIN --data data --out DIR [--sites lighthouse:fuzzdb,...]

Per site S (with payload source P):
1. Base corpus without S and without P (bulwark_train.corpus
   --holdout-benign S --holdout-payloads P), base model trained on it by
   the base pipeline: the model a site gets out of the box, which has
   never seen S.
2. S in file order (captures in the order the source lists them): the
   first --early fraction is the site's collected traffic; it is labelled
   by `extproc learn label` (rules at paranoia 1-4 and the base model) and
   `extproc learn train` trains the site model on it.
3. The rest of S is never touched until the test: its benign requests, and
   P's payloads (plain and obfuscated) placed into copies of them.
   Both models are scored by `extproc eval` at their threshold.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time

from . import corpus, payloads, real, synth
from .attacks import SQLMapPayloads
from .obfuscation import obfuscate

SITES = "lighthouse:fuzzdb,chrome-har:PayloadsAllTheThings,pagexray:fuzzdb,apache-logs:PayloadsAllTheThings"
SIZES = ["--synthetic-benign", "15000", "--browser-benign", "3000", "--generator-attacks", "12000", "--list-attacks", "8000"]


def sh(args, **kw):
    print("+ " + " ".join(str(a) for a in args), file=sys.stderr, flush=True)
    return subprocess.run([str(a) for a in args], check=True, **kw)


def base_model(a, site, psrc, d):
    cdir, fdir, model = os.path.join(d, "corpus"), os.path.join(d, "features"), os.path.join(d, "base.model.gz")
    if os.path.exists(model):
        return cdir, model
    sh([sys.executable, "-m", "bulwark_train.corpus", "--seed", a.seed, "--data", a.data, "--holdout-benign", site,
        "--holdout-payloads", psrc, "--out", cdir] + SIZES)
    os.makedirs(fdir, exist_ok=True)
    with open(os.path.join(fdir, "names.txt"), "w") as f:
        sh([a.extproc, "features", "--names"], stdout=f)
    for s in corpus.SPLITS:
        sh([a.extproc, "features", "--data", os.path.join(cdir, f"{s}.jsonl"), "--out", os.path.join(fdir, f"{s}.f64"),
            "--meta", os.path.join(fdir, f"{s}.meta.csv")], capture_output=True)
    sh([sys.executable, "-m", "bulwark_train.train", "--seed", a.seed, "--features", fdir, "--corpus", cdir,
        "--names", os.path.join(fdir, "names.txt"), "--out", model + ".tmp", "--metrics", os.path.join(d, "base-metrics.json"),
        "--rounds", a.base_rounds], stdout=subprocess.DEVNULL)
    os.replace(model + ".tmp", model)
    return cdir, model


def late_attacks(a, late, psrc):
    """P's payloads placed into copies of the site's later requests."""
    r = random.Random(f"{a.seed}:{psrc}")
    sm = SQLMapPayloads()
    lists = payloads.load(a.data)[psrc]
    out, n = [], 0
    for cls in corpus.CLASSES:
        lines = lists[cls]
        chosen = lines if len(lines) <= a.per_class else [lines[j] for j in sorted(r.sample(range(len(lines)), a.per_class))]
        for line in chosen:
            for variant in ("plain", "obfuscated"):
                payload, wire, obf = payloads.fill(r, line), False, []
                if variant == "obfuscated":
                    payload, wire, obf = obfuscate(r, cls, payload, sm)
                placed, part, field = real.place(r, r.choice(late), payload, wire, cls, synth.enc_query, synth.enc_path)
                out.append(corpus.attack_rec(f"late-atk-{n}", placed, cls, part, field, f"{psrc}:{cls}", obf, psrc))
                n += 1
    return out


def evaluate(a, model, data, d):
    p = sh([a.extproc, "eval", "--model", model, "--data", data, "--no-crs", "--json", "--out-dir", d, "--log-level", "error",
            "--response-inspect=false"],
           capture_output=True, text=True)
    rep = json.loads(p.stdout)
    rate = lambda g: g["model"]["flagged"] / g["model"]["n"] if g["model"]["n"] else 0.0
    res = {"threshold": rep["threshold"], "benign": rep["overall_benign"]["model"]["n"],
           "fp": rep["overall_benign"]["model"]["flagged"], "fpr": rate(rep["overall_benign"]),
           "attacks": rep["overall_attack"]["model"]["n"], "tp": rep["overall_attack"]["model"]["flagged"],
           "tpr": rate(rep["overall_attack"]), "auc": rep.get("model_auc")}
    if rep.get("obfuscated"):
        res["tpr_obfuscated"] = rate(rep["obfuscated"])
    res["per_class_tpr"] = {g["name"]: rate(g) for g in rep.get("categories", []) if g.get("attack")}
    return res


def run_site(a, site, psrc):
    d = os.path.join(a.out, site)
    os.makedirs(d, exist_ok=True)
    t0 = time.time()
    cdir, base = base_model(a, site, psrc, d)
    recs = real.load_benign(a.data, site)
    cut = int(len(recs) * a.early)
    early, late = recs[:cut], recs[cut:]
    with open(os.path.join(d, "early.jsonl"), "w") as f:
        for r in early:
            f.write(json.dumps({k: r[k] for k in ("id", "method", "uri", "headers", "body")}) + "\n")
    lab = sh([a.extproc, "learn", "label", "--samples", os.path.join(d, "early.jsonl"), "--out", os.path.join(d, "labelled.jsonl"),
              "--model", base, "--log-level", "error"], capture_output=True, text=True)
    with open(os.path.join(d, "label.txt"), "w") as f:
        f.write(lab.stdout)
    labels = {}
    with open(os.path.join(d, "labelled.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            labels[r["label"]] = labels.get(r["label"], 0) + 1
    site_model = os.path.join(d, "site.model.gz")
    args = [a.extproc, "learn", "train", "--labelled", os.path.join(d, "labelled.jsonl"), "--out", site_model,
            "--base-model", base, "--base-corpus", cdir, "--python", sys.executable, "--workdir", os.path.join(d, "work"),
            "--trainer", os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            "--trainer-args", f"--report {os.path.join(d, 'train-report.json')}"]
    if a.scheduler:
        args += ["--scheduler", a.scheduler]
    env = dict(os.environ, SOURCE_DATE_EPOCH=os.environ.get("SOURCE_DATE_EPOCH", "1764547200"))
    tr = subprocess.run([str(x) for x in args], capture_output=True, text=True, env=env)
    with open(os.path.join(d, "train.txt"), "w") as f:
        f.write(tr.stdout + tr.stderr)
    refused = tr.returncode != 0
    if refused and "refused" not in tr.stderr:
        raise SystemExit(f"{site}: learn train failed:\n{tr.stderr[-3000:]}")
    test = os.path.join(d, "late-test.jsonl")
    with open(test, "w") as f:
        for r in late:
            f.write(json.dumps(dict(r, label="benign")) + "\n")
        for r in late_attacks(a, late, psrc):
            f.write(json.dumps(r) + "\n")
    res = {"site": site, "payloads": psrc, "records": len(recs), "early": len(early), "late": len(late), "labels": labels,
           "base": evaluate(a, base, test, os.path.join(d, "eval-base")), "refused": refused}
    with open(os.path.join(d, "train-report.json")) as f:
        rep = json.load(f)
    res["gates"] = rep["gates"]
    res["site_holdout"] = {k: rep["metrics"][k].get("fpr") for k in ("base_model_on_site_holdout", "site_model_on_site_holdout")}
    res["base_valid"] = {k: {m: rep["metrics"][k].get(m) for m in ("auc", "tpr", "fpr")} for k in ("base_model_on_base_valid", "site_model_on_base_valid")}
    res["base_test"] = {k: {m: rep["metrics"][k].get(m) for m in ("auc", "tpr", "fpr")} for k in ("base_model_on_base_test", "site_model_on_base_test")
                        if k in rep["metrics"]}
    res["calibration"] = rep["training"].get("calibration")
    if not refused:
        res["adapted"] = evaluate(a, site_model, test, os.path.join(d, "eval-site"))
    res["seconds"] = round(time.time() - t0)
    with open(os.path.join(d, "result.json"), "w") as f:
        json.dump(res, f, indent=2, sort_keys=True)
    print(json.dumps(res, sort_keys=True), file=sys.stderr, flush=True)
    return res


def table(results):
    pct = lambda v: f"{100 * v:.2f}%"
    out = ["| site | early / late requests | labelled early (benign / attack / suspect) | late benign FPR: base → adapted | late attacks TPR: base → adapted | obfuscated TPR: base → adapted | operating point | gates |",
           "|---|---:|---|---|---|---|---|---|"]
    for r in results:
        b, s = r["base"], r.get("adapted")
        l = r["labels"]
        c = r.get("calibration") or {}
        opp = f"{c['operating_point']} → {c['threshold']}" if c else ""
        lab = f"{l.get('benign', 0)} / {l.get('attack', 0)} / {l.get('suspect', 0)}"
        if s is None:
            out.append(f"| {r['site']} | {r['early']} / {r['late']} | {lab} | {pct(b['fpr'])} ({b['fp']}/{b['benign']}) → refused | {pct(b['tpr'])} → refused | | {opp} | refused: {'; '.join(r['gates']['refused_because'])} |")
            continue
        out.append(f"| {r['site']} | {r['early']} / {r['late']} | {lab} | {pct(b['fpr'])} ({b['fp']}/{b['benign']}) → {pct(s['fpr'])} ({s['fp']}/{s['benign']}) | "
                   f"{pct(b['tpr'])} → {pct(s['tpr'])} (n={b['attacks']}) | {pct(b.get('tpr_obfuscated', 0))} → {pct(s.get('tpr_obfuscated', 0))} | {opp} | passed |")
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--extproc", required=True)
    ap.add_argument("--data", default="data")
    ap.add_argument("--out", required=True)
    ap.add_argument("--sites", default=SITES)
    ap.add_argument("--early", type=float, default=0.6)
    ap.add_argument("--per-class", type=int, default=60)
    ap.add_argument("--base-rounds", type=int, default=100)
    ap.add_argument("--scheduler", default="")
    ap.add_argument("--seed", type=int, default=20260501)
    a = ap.parse_args(argv)
    results = []
    for pair in a.sites.split(","):
        site, psrc = pair.split(":")
        results.append(run_site(a, site, psrc))
        with open(os.path.join(a.out, "sites.md"), "w") as f:
            f.write(table(results))
    print(table(results))


if __name__ == "__main__":
    main()
