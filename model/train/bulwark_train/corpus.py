"""Build the labelled corpus as JSON Lines, one file per split.

    python -m bulwark_train.corpus --seed S --out DIR [--holdout-benign SRC] [--holdout-payloads SRC]

Everything is a function of the seed and the vendored data. Splits:
train and valid (captures of the real sources kept in training, generated
records by hash), test (generated), family_test (generator families never
trained on) and holdout: every request of the held-out real benign source,
plus the held-out payload source's attacks placed into those same requests
(or into validation carriers when no benign source is held out).
"""
import argparse
import json
import os
import random
import sys

from . import payloads, real, splits, synth
from .attacks import ATTACKS, SQLMapPayloads
from .benign import Benign, Pools
from .draw import chance, pick
from .obfuscation import obfuscate

CLASSES = ["sqli", "xss", "rce", "traversal"]
SPLITS = ["train", "valid", "test", "family_test", "holdout"]


class Writer:
    def __init__(self, out):
        os.makedirs(out, exist_ok=True)
        self.files = {s: open(os.path.join(out, f"{s}.jsonl"), "w", encoding="utf-8") for s in SPLITS}
        self.counts = {}

    def write(self, split, rec):
        rec["split"] = split
        self.files[split].write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
        key = (split, rec["label"], rec.get("family", "").split(":")[0] if rec["label"] == "benign" else rec["category"])
        self.counts[key] = self.counts.get(key, 0) + 1

    def close(self):
        for f in self.files.values():
            f.close()


def benign_rec(rid, base, family, category, source):
    rec = {k: base[k] for k in ("method", "uri", "headers", "body")}
    rec.update(id=rid, label="benign", category=category, family=family, obfuscation="none", source=source)
    return rec


def attack_rec(rid, base, cls, part, field, family, obf, source):
    rec = dict(base)
    rec.update(id=rid, label="attack", category=cls, attack_part=part, attack_field=field,
               family=family, obfuscation="+".join(obf) or "none", source=source)
    return rec


def browser_variant(r, rec, browsers, uas):
    """A real request re-sent by another browser: its header set replaced by
    a browserforge one (client hints included), other headers kept."""
    h = {k: v for k, v in rec["headers"].items()
         if not (k.startswith("sec-ch-") or k in ("user-agent", "accept-language", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "sec-fetch-user"))}
    h.update(pick(r, browsers))
    if chance(r, 0.2):
        h["user-agent"] = pick(r, uas)
    h = real.with_client_hints(r, h)
    out = dict(rec)
    out["headers"] = h
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=20260501)
    ap.add_argument("--data", default="data", help="the repository's data/ directory")
    ap.add_argument("--out", required=True)
    ap.add_argument("--synthetic-benign", type=int, default=30000)
    ap.add_argument("--browser-benign", type=int, default=6000)
    ap.add_argument("--generator-attacks", type=int, default=24000)
    ap.add_argument("--list-attacks", type=int, default=16000)
    ap.add_argument("--holdout-benign", default="", choices=("",) + real.BENIGN_SOURCES)
    ap.add_argument("--holdout-payloads", default="", choices=("",) + payloads.SOURCES)
    ap.add_argument("--holdout-per-class", type=int, default=400, help="held-out payload lines per class (each plain and obfuscated)")
    a = ap.parse_args(argv)
    build(a)


def build(a):
    r = random.Random(a.seed)
    w = Writer(a.out)
    pools = Pools(a.seed, r)
    bg = Benign(pools, r)
    sm = SQLMapPayloads()
    browsers = real.browser_headers(a.seed, 400)
    uas = real.user_agents()

    # Real benign traffic, split by capture; the held-out source goes whole
    # to holdout.
    carriers = {"train": [], "valid": [], "holdout": []}
    for src in real.BENIGN_SOURCES:
        for rec in real.load_benign(a.data, src):
            split = "holdout" if src == a.holdout_benign else splits.real_split(real.capture_of(rec))
            w.write(split, benign_rec(rec["id"], rec, f"real:{src}", rec["category"], src))
            carriers[split].append(rec)
            if split == "train" and chance(r, 0.5):
                v = browser_variant(r, rec, browsers, uas)
                w.write("train", benign_rec(rec["id"] + "-bf", v, f"real+browserforge:{src}", rec["category"], src))
    if not carriers["holdout"]:
        carriers["holdout"] = carriers["valid"]
    openapi = real.load_openapi(a.data)
    for i, rec in enumerate(openapi):
        split = splits.generator_split("openapi:" + rec["api"], False)
        split = "train" if split == "train" else "valid"
        base = dict(rec)
        base["headers"] = dict(rec["headers"], **{k: v for k, v in pick(r, browsers).items() if k in ("user-agent", "accept-language")})
        w.write(split, benign_rec(f"oa{i}", base, "openapi", "api", "openapi:" + rec["api"]))
        carriers[split].append(base)

    # Browser page loads with browserforge header sets on generated paths.
    for i in range(a.browser_benign):
        path = bg.path()
        q = [(k, synth.enc_query(r, v, False)) for k, v in bg.query()] if chance(r, 0.5) else []
        h = dict(pick(r, browsers))
        if chance(r, 0.3):
            h["user-agent"] = pick(r, uas)
        if chance(r, 0.6):
            h = real.with_client_hints(r, h)
        if chance(r, 0.5):
            h["referer"] = pick(r, pools.urls)
        rec = synth.build(f"bf{i}", "GET", path, q, h, None, None)
        split = splits.generator_split(f"browser{i}", False)
        w.write(split, benign_rec(rec["id"], rec, "browserforge", "browser-page-load", "browserforge"))

    # The generator's benign requests, for breadth.
    for i in range(a.synthetic_benign):
        rec = synth.benign_request(r, bg, f"b{i}")
        split = splits.generator_split(f"benign{i}", False)
        w.write(split, benign_rec(rec["id"], rec, "synthetic", "synthetic", "generator"))

    # Generator attacks: half in generated requests, half in real ones.
    for i in range(a.generator_attacks):
        cls = CLASSES[i % len(CLASSES)]
        rec, base = synth.attack_request(r, bg, sm, cls, f"a{i}")
        split = splits.generator_split(base, rec["family"] in splits.HOLDOUT_FAMILIES)
        if i % 2 == 1 and split in ("train", "valid"):
            fams = ATTACKS[cls]
            family, fn, _ = r.choices(fams, weights=[x for _, _, x in fams])[0]
            base = fn(r, sm)
            split = splits.generator_split(base, family in splits.HOLDOUT_FAMILIES)
            pool = carriers["train" if split == "train" else "valid"]
            payload, wire, obf = (base, False, [])
            if chance(r, 0.6):
                payload, wire, obf = obfuscate(r, cls, base, sm)
            placed, part, field = real.place(r, pick(r, pool), payload, wire, cls, synth.enc_query, synth.enc_path)
            rec = attack_rec(f"ar{i}", placed, cls, part, field, family, obf, "generator")
        else:
            rec["source"] = "generator"
        w.write(split, rec)

    # Payload lists in real requests.
    lists = payloads.load(a.data)
    per_class = a.list_attacks // len(CLASSES)
    n = 0
    for src in payloads.SOURCES:
        for cls in CLASSES:
            lines = lists[src][cls]
            if src == a.holdout_payloads:
                chosen = lines if len(lines) <= a.holdout_per_class else [lines[j] for j in sorted(r.sample(range(len(lines)), a.holdout_per_class))]
                for line in chosen:
                    for variant in ("plain", "obfuscated"):
                        payload, wire, obf = payloads.fill(r, line), False, []
                        if variant == "obfuscated":
                            payload, wire, obf = obfuscate(r, cls, payload, sm)
                        placed, part, field = real.place(r, pick(r, carriers["holdout"]), payload, wire, cls, synth.enc_query, synth.enc_path)
                        w.write("holdout", attack_rec(f"h{n}", placed, cls, part, field, f"{src}:{cls}", obf, src))
                        n += 1
                continue
            k = per_class // len(payloads.SOURCES)
            for j in range(k):
                line = lines[j % len(lines)] if j < len(lines) else pick(r, lines)
                split = splits.list_split(src, cls, line)
                payload, wire, obf = payloads.fill(r, line), False, []
                if chance(r, 0.5):
                    payload, wire, obf = obfuscate(r, cls, payload, sm)
                placed, part, field = real.place(r, pick(r, carriers[split]), payload, wire, cls, synth.enc_query, synth.enc_path)
                w.write(split, attack_rec(f"l{n}", placed, cls, part, field, f"{src}:{cls}", obf, src))
                n += 1
    w.close()
    for k in sorted(w.counts):
        print(*k, w.counts[k], sep="\t", file=sys.stderr)


if __name__ == "__main__":
    main()
