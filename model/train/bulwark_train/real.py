"""Real benign traffic and real carriers for attacks.

Benign: the captured requests vendored in data/traffic/benign (four
sources), browser header sets from browserforge's model of real browser
fingerprints, user agents from fake-useragent, and API requests built from
the example values of real OpenAPI specs (data/openapi). Attacks are placed
into copies of real requests, so the fields around a payload are real.
"""
import copy
import gzip
import json
import os
import random
import urllib.parse

from .draw import chance, pick

BENIGN_SOURCES = ("lighthouse", "chrome-har", "pagexray", "apache-logs")


def load_benign(data_dir, source):
    path = os.path.join(data_dir, "traffic", "benign", f"{source}.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        recs = [json.loads(line) for line in f if line.strip()]
    if not recs:
        raise ValueError(f"{path}: no records")
    return recs


def capture_of(rec):
    """The capture a real record came from (a page load, or a block of 100
    access-log lines): requests of one capture are correlated, so splits
    keep a capture together."""
    rid = rec["id"]
    if rid.startswith("apache-logs-"):
        return "apache-logs-%03d" % (int(rid.rsplit("-", 1)[1]) // 100)
    return rid.rsplit("-", 1)[0]


def load_openapi(data_dir):
    path = os.path.join(data_dir, "openapi", "requests.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def browser_headers(seed, n):
    """n header sets from browserforge (Chrome, Firefox, Safari, Edge on
    desktop and mobile). browserforge draws from the global generator, so
    it is seeded here from the corpus seed: the pool is a function of it."""
    from browserforge.headers import HeaderGenerator

    random.seed(seed)
    gen = HeaderGenerator()
    out = []
    browsers = ["chrome", "firefox", "safari", "edge"]
    for i in range(n):
        h = gen.generate(browser=browsers[i % len(browsers)], device=("desktop", "mobile")[i // 4 % 2] if i % 4 != 2 else "desktop")
        out.append({k.lower(): v for k, v in h.items()})
    return out


def user_agents():
    """Every user agent fake-useragent ships, in file order."""
    import fake_useragent

    path = os.path.join(os.path.dirname(fake_useragent.__file__), "data", "browsers.jsonl")
    with open(path, encoding="utf-8") as f:
        uas = [json.loads(line)["useragent"] for line in f if line.strip()]
    if not uas:
        raise ValueError(f"{path}: no user agents")
    return uas


CLIENT_HINTS = [
    ("sec-ch-ua-arch", ['"x86"', '"arm"', '""']), ("sec-ch-ua-bitness", ['"64"', '"32"', '""']),
    ("sec-ch-ua-full-version", ['"124.0.6367.91"', '"120.0.6099.224"', '"131.0.6778.86"']),
    ("sec-ch-ua-model", ['""', '"Pixel 7"', '"SM-G991B"', '"moto g power (2022)"']),
    ("sec-ch-ua-platform-version", ['"15.0.0"', '"10.0.0"', '"14.4.1"', '"6.5.0"', '""']),
    ("sec-ch-ua-wow64", ["?0", "?1"]), ("sec-ch-prefers-color-scheme", ['"dark"', '"light"']),
    ("sec-ch-ua-form-factors", ['"Desktop"', '"Mobile"', '"Tablet", "XR"']),
    ("sec-ch-viewport-width", ["1280", "390", "1920"]), ("sec-ch-dpr", ["1", "2", "2.75"]),
    ("sec-ch-device-memory", ["8", "4", "0.5"]), ("sec-ch-prefers-reduced-motion", ['"no-preference"', '"reduce"']),
    ("device-memory", ["8", "4"]), ("downlink", ["10", "1.55"]), ("ect", ["4g", "3g"]), ("rtt", ["50", "150"]),
]


def with_client_hints(r, headers):
    """Adds the high-entropy client hints Chrome sends to sites that ask
    for them (Accept-CH), with full-version lists built from sec-ch-ua."""
    h = dict(headers)
    for name, values in CLIENT_HINTS:
        if chance(r, 0.5):
            h[name] = pick(r, values)
    ua = h.get("sec-ch-ua")
    if ua and chance(r, 0.6):
        parts = []
        for item in ua.split(","):
            item = item.strip()
            if ';v="' in item:
                brand, ver = item.split(';v="', 1)
                ver = ver.rstrip('"')
                parts.append(f'{brand};v="{ver}.0.{r.randint(1000, 7000)}.{r.randint(0, 250)}"')
        h["sec-ch-ua-full-version-list"] = ", ".join(parts)
    return h


# --------------------------------------------------------------------------
# Attacks in real requests.
# --------------------------------------------------------------------------
HEADER_TARGETS = ["user-agent", "referer", "x-forwarded-for", "x-api-version", "x-custom-header", "accept-language", "origin", "x-client-data"]
QUERY_NAMES = ["id", "q", "search", "name", "page", "file", "path", "cmd", "redirect", "url", "user", "cat", "item", "lang", "template", "include", "view", "action"]


def _json_leaves(obj, prefix="", keys=()):
    """(name as the Go splitter names it, key path) of every string leaf."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _json_leaves(v, f"{prefix}.{k}" if prefix else k, keys + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _json_leaves(v, f"{prefix}[{i}]", keys + (i,))
    elif isinstance(obj, str):
        out.append((prefix, keys))
    return out


def _set_leaf(obj, keys, value):
    cur = obj
    for k in keys[:-1]:
        cur = cur[k]
    cur[keys[-1]] = value


def place(r, carrier, payload, wire, cls, enc_query, enc_path):
    """A copy of the real request carrier with payload in one of its
    fields; returns (record, part, field)."""
    rec = {k: copy.deepcopy(carrier[k]) for k in ("method", "uri", "headers", "body")}
    h = rec["headers"]
    path, _, query = rec["uri"].partition("?")
    pairs = [kv.split("=", 1) if "=" in kv else [kv, ""] for kv in query.split("&") if kv]
    ctype = h.get("content-type", "")
    body = rec["body"]
    locs = ["query", "path", "header", "cookie", "body"]
    w = [45, 12 if cls != "traversal" else 30, 10, 8, 20]
    loc = r.choices(locs, weights=w)[0]
    if loc == "query":
        plain = [i for i, (k, _) in enumerate(pairs) if k and all(c.isalnum() or c in "_-.[]" for c in k)]
        if plain and chance(r, 0.6):
            i = pick(r, plain)
            name = pairs[i][0]
            pairs[i][1] = enc_query(r, payload, wire)
        else:
            name = pick(r, QUERY_NAMES)
            pairs = [p for p in pairs if p[0] != name]
            pairs.insert(r.randint(0, len(pairs)), [name, enc_query(r, payload, wire)])
        rec["uri"] = path + "?" + "&".join(f"{k}={v}" for k, v in pairs)
        return rec, "query", urllib.parse.unquote_plus(name)
    if loc == "path":
        segs = path.strip("/").split("/")
        i = r.randrange(len(segs))
        segs[i] = enc_path(payload, wire)
        rec["uri"] = "/" + "/".join(segs) + ("?" + query if query else "")
        return rec, "path", ""
    if loc == "header":
        name = pick(r, HEADER_TARGETS)
        h[name] = payload.replace("\r\n", ";").replace("\n", ";").replace("\r", ";")
        return rec, "header", name
    if loc == "cookie":
        cname = pick(r, ["session", "user", "lang", "theme", "pref", "tracking", "id"])
        v = payload if wire else urllib.parse.quote(payload, safe="/:()'!$@,")
        cookies = [c for c in h.get("cookie", "").split("; ") if c and not c.startswith(cname + "=")]
        cookies.insert(r.randint(0, len(cookies)), f"{cname}={v}")
        h["cookie"] = "; ".join(cookies)
        return rec, "cookie", cname
    # body: into the carrier's own JSON or form body when it has one
    if body and "json" in ctype:
        try:
            obj = json.loads(body)
        except ValueError:
            obj = None
        leaves = [x for x in _json_leaves(obj) if 1 <= len(x[1]) <= 16] if obj is not None else []
        if leaves:
            field, keys = pick(r, leaves)
            _set_leaf(obj, keys, payload)
            rec["body"] = json.dumps(obj, ensure_ascii=chance(r, 0.5))
            h["content-length"] = str(len(rec["body"].encode()))
            return rec, "body", field
    if body and "x-www-form-urlencoded" in ctype:
        bp = [kv.split("=", 1) for kv in body.split("&") if "=" in kv]
        if bp:
            i = r.randrange(len(bp))
            bp[i][1] = enc_query(r, payload, wire)
            rec["body"] = "&".join(f"{k}={v}" for k, v in bp)
            h["content-length"] = str(len(rec["body"].encode()))
            return rec, "body", urllib.parse.unquote_plus(bp[i][0])
    field = pick(r, ["comment", "name", "query", "message", "title", "q"])
    rec["method"] = "POST"
    if chance(r, 0.5):
        rec["body"] = json.dumps({field: payload, "id": r.randint(1, 9999)}, ensure_ascii=chance(r, 0.5))
        h["content-type"] = "application/json"
    else:
        rec["body"] = f"{field}={enc_query(r, payload, wire)}&id={r.randint(1, 9999)}"
        h["content-type"] = "application/x-www-form-urlencoded"
    h["content-length"] = str(len(rec["body"].encode()))
    return rec, "body", field
