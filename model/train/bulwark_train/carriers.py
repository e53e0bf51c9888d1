"""Requests in the API formats the training corpus has none of: XML (plain
and SOAP) and GraphQL, for a check of what the model does on them.

Benign requests are the real API requests of data/openapi with JSON bodies,
re-encoded: the body as an XML document (one element per key) or as a SOAP
call, and as a GraphQL mutation whose string arguments are the body's
string values. Attacks are payloads of one public list placed into the same
carriers: an XML text node (escaped as a client would escape it), a CDATA
section, an attribute value, and a GraphQL string argument.

    python -m bulwark_train.carriers --data data --payloads fuzzdb --out build/carriers/carriers.jsonl

The model trained by `make train` saw both payload lists, so the attack
rows measure carriers, not unseen payloads; `make model-loso` models run on
their held-out list measure both (docs/MODEL.md).
"""
import argparse
import json
import os
import random
import re
from xml.sax.saxutils import escape, quoteattr

from . import payloads
from .real import load_openapi

UA = "Apache-HttpClient/4.5.14 (Java/17.0.9)"
_NAME = re.compile(r"[^A-Za-z0-9_.-]")
_GQL_NAME = re.compile(r"[^A-Za-z0-9_]")


def xml_name(k):
    """k as an XML element name."""
    n = _NAME.sub("_", str(k)) or "item"
    return n if re.match(r"[A-Za-z_]", n) else "_" + n


def to_xml(v, name):
    """v (decoded JSON) as XML elements named name."""
    if isinstance(v, dict):
        return f"<{name}>" + "".join(to_xml(x, xml_name(k)) for k, x in v.items()) + f"</{name}>"
    if isinstance(v, list):
        return "".join(to_xml(x, name) for x in v) or f"<{name}/>"
    if v is None:
        return f"<{name}/>"
    if isinstance(v, bool):
        v = "true" if v else "false"
    return f"<{name}>{escape(str(v))}</{name}>"


def gql_string(s):
    """s as a GraphQL string value."""
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def gql_name(k):
    n = _GQL_NAME.sub("_", str(k)) or "f"
    return n if re.match(r"[A-Za-z_]", n) else "_" + n


def to_gql_value(v, depth=0):
    if isinstance(v, dict) and depth < 6:
        return "{" + ", ".join(f"{gql_name(k)}: {to_gql_value(x, depth + 1)}" for k, x in v.items()) + "}"
    if isinstance(v, list) and depth < 6:
        return "[" + ", ".join(to_gql_value(x, depth + 1) for x in v) + "]"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    return gql_string(str(v))


def soap(inner):
    return ('<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
            f"<soap:Body>{inner}</soap:Body></soap:Envelope>")


def gql_body(op, args):
    doc = f"mutation {op}($clientId: ID) {{\n  {op[0].lower() + op[1:]}(input: {to_gql_value(args)}, clientId: $clientId) {{\n    id\n    status\n  }}\n}}"
    return json.dumps({"operationName": op, "query": doc, "variables": {"clientId": "web-7f3a"}})


def row(rid, label, category, kind, uri, ctype, body, obfuscation=None):
    r = {"id": rid, "label": label, "category": category, "source": kind, "method": "POST", "uri": uri,
         "headers": {"content-type": ctype, "user-agent": UA}, "body": body}
    if obfuscation:
        r["obfuscation"] = obfuscation
    return r


def benign(rng, reqs, n):
    out = []
    for r in reqs:
        b = r.get("body") or ""
        if not b.startswith("{"):
            continue
        try:
            d = json.loads(b)
        except ValueError:
            continue
        if not isinstance(d, dict) or not d:
            continue
        out.append((r["uri"].split("?")[0], d))
    rng.shuffle(out)
    rows = []
    for i, (uri, d) in enumerate(out[:n]):
        k = i % 3
        if k == 0:
            rows.append(row(f"xml-{i}", "benign", "xml-api", "xml", uri, "application/xml",
                            '<?xml version="1.0" encoding="UTF-8"?>' + to_xml(d, "request")))
        elif k == 1:
            rows.append(row(f"soap-{i}", "benign", "xml-api", "soap", uri, "text/xml; charset=utf-8", soap(to_xml(d, "Call"))))
        else:
            op = "Update" + gql_name(uri.strip("/").split("/")[-1] or "Item").title().replace("_", "")
            rows.append(row(f"gql-{i}", "benign", "graphql-api", "graphql", "/graphql", "application/json", gql_body(op, d)))
    return rows


def attacks(rng, lists, n):
    pool = [(cls, line) for cls, lines in lists.items() for line in lines]
    rng.shuffle(pool)
    rows = []
    for i, (cls, line) in enumerate(pool[:n]):
        p = payloads.fill(rng, line)
        if any(ord(ch) < 0x20 and ch not in "\t\n\r" for ch in p):
            continue
        k = i % 4
        if k == 0:
            body = soap(f'<Search xmlns="http://tempuri.org/"><query>{escape(p)}</query><page>1</page></Search>')
            rows.append(row(f"a-soap-{i}", "attack", cls, "soap", "/services/Search.asmx", "text/xml; charset=utf-8", body))
        elif k == 1 and "]]>" not in p:
            body = '<?xml version="1.0"?><comment><author>jane</author><text><![CDATA[' + p + "]]></text></comment>"
            rows.append(row(f"a-cdata-{i}", "attack", cls, "xml", "/api/comments", "application/xml", body))
        elif k == 2:
            body = f'<?xml version="1.0"?><order id="7"><item sku={quoteattr(p)} qty="1"/></order>'
            rows.append(row(f"a-attr-{i}", "attack", cls, "xml", "/api/orders", "application/xml", body))
        else:
            rows.append(row(f"a-gql-{i}", "attack", cls, "graphql", "/graphql", "application/json",
                            gql_body("UpdateProfile", {"displayName": p, "locale": "en-GB"})))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--payloads", choices=payloads.SOURCES, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--benign", type=int, default=1500)
    ap.add_argument("--attacks", type=int, default=1600)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    rng = random.Random(a.seed)
    rows = benign(rng, load_openapi(a.data), a.benign)
    if len(rows) < a.benign // 2:
        raise SystemExit(f"only {len(rows)} JSON API requests in {a.data}/openapi")
    rows += attacks(rng, payloads.load(a.data)[a.payloads], a.attacks)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{a.out}: {sum(r['label'] == 'benign' for r in rows)} benign, {sum(r['label'] == 'attack' for r in rows)} attacks")


if __name__ == "__main__":
    main()
