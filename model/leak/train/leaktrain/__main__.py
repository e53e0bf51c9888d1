"""python -m leaktrain corpus|train ..."""
import argparse
import sys

from . import corpus, train


def main(argv=None):
    ap = argparse.ArgumentParser(prog="leaktrain")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("corpus")
    c.add_argument("--seed", type=int, required=True)
    c.add_argument("--data", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--benign", type=int, default=250)
    c.add_argument("--leaky", type=int, default=150)
    t = sub.add_parser("train")
    t.add_argument("--seed", type=int, required=True)
    t.add_argument("--corpus", required=True)
    t.add_argument("--features", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--metrics", required=True)
    a = ap.parse_args(argv)
    if a.cmd == "corpus":
        recs = corpus.build(a.data, a.seed, a.benign, a.leaky)
        counts = corpus.write(recs, a.out)
        for k in sorted(counts):
            print(f"{k[0]:6s} {k[1]:20s} {counts[k]}", file=sys.stderr)
    else:
        train.run(a.seed, a.corpus, a.features, a.out, a.metrics)


if __name__ == "__main__":
    main()
