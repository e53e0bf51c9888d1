"""Synthetic requests from the generator: benign ones of many app shapes
and attacks placed in them. Real carriers are in real.py."""
import json
import string
import urllib.parse

from .attacks import ATTACKS
from .benign import Benign, flatten_json, set_json
from .draw import chance, pick
from .obfuscation import obfuscate


def enc_query(r, v, wire):
    if wire:
        return v.replace(" ", "%20").replace("&", "%26").replace("#", "%23").replace("+", "%2B").replace("\n", "%0A").replace("\r", "%0D").replace("\t", "%09")
    return urllib.parse.quote(v, safe=pick(r, ["", "/:,()'*!$;@", "/:'()"])) if chance(r, 0.7) else urllib.parse.quote_plus(v, safe="/:,()'*!$;@")


def enc_path(v, wire):
    if wire:
        return v.replace(" ", "%20").replace("?", "%3F").replace("#", "%23")
    return urllib.parse.quote(v, safe="/:,()'*!$;@=&")


def build(rec_id, method, path, qpairs, headers, body, ctype, wire_q=None):
    q = "&".join(f"{urllib.parse.quote_plus(k)}={v}" for k, v in qpairs)
    uri = path + ("?" + q if q else "")
    h = dict(headers)
    if body is not None:
        h["Content-Type"] = ctype
    return {"id": rec_id, "method": method, "uri": uri, "headers": h, "body": body or ""}


def legacy_request(r, bg: Benign, rid):
    """An older server-rendered shop: JSP-style pages, submit-button
    parameters and Latin-1 percent-encoding (invalid UTF-8 on the wire)."""
    p = bg.p
    west = [f for f in p.intl if f.locales[0][:2] in ("es", "fr", "de", "it", "pt", "nl")] or [p.en]
    fk = pick(r, west)
    page = "/%s/%s/%s.%s" % (pick(r, ["shop", "tienda", "boutique", "store", "app"]), pick(r, ["public", "private", "publico", "admin", "user"]),
                             pick(r, ["add", "view", "register", "pay", "search", "login", "cart", "product", "anadir", "entrar", "autenticar"]), pick(r, ["jsp", "php", "asp", "aspx", "do", "cgi"]))
    fields = pick(r, [
        [("id", str(r.randint(1, 99))), ("name", fk.word().capitalize() + " " + fk.word()), ("price", str(r.randint(1, 200))), ("qty", str(r.randint(1, 99))), ("B1", pick(r, ["Add to cart", "Añadir al carrito", "Ajouter", "Kaufen"]))],
        [("mode", pick(r, ["login", "entrar", "registro"])), ("login", pick(r, p.usernames)), ("pwd", pick(r, p.passwords)), ("remember", pick(r, ["on", "off"])), ("B1", pick(r, ["Enter", "Entrar", "Login"]))],
        [("first", fk.first_name()), ("last", fk.last_name()), ("email", fk.email()), ("dni", f"{r.randint(10**7, 10**8 - 1)}{pick(r, string.ascii_uppercase)}"),
         ("address", fk.street_address()), ("city", fk.city()), ("zip", fk.postcode()), ("province", fk.city()), ("card", fk.credit_card_number()), ("B1", pick(r, ["Register", "Registrar", "Confirmar"]))],
        [("q", fk.sentence(nb_words=r.randint(2, 6)).rstrip(".")), ("cat", fk.word()), ("page", str(r.randint(1, 9)))],
    ])
    enc = pick(r, ["latin-1", "utf-8"])
    q = "&".join(f"{k}={urllib.parse.quote_plus(v.encode(enc, 'replace'))}" for k, v in fields)
    headers = bg.headers()
    if chance(r, 0.5):
        return build(rid, "GET", page, [(k, v) for k, v in (kv.split("=", 1) for kv in q.split("&"))], headers, None, None)
    return build(rid, "POST", page, [], headers, q, "application/x-www-form-urlencoded")


def benign_request(r, bg: Benign, rid):
    if chance(r, 0.12):
        return legacy_request(r, bg, rid)
    method = "GET"
    path = bg.path()
    qpairs = [(k, enc_query(r, v, False)) for k, v in bg.query()]
    headers = bg.headers()
    body = ctype = None
    k = r.random()
    if k < 0.25:
        method = "POST"
        _, fields = bg.form()
        body = "&".join(f"{k}={urllib.parse.quote_plus(v)}" for k, v in fields)
        ctype = "application/x-www-form-urlencoded"
    elif k < 0.5:
        method = "POST" if chance(r, 0.8) else pick(r, ["PUT", "PATCH"])
        body = json.dumps(bg.json_body(), ensure_ascii=chance(r, 0.5))
        ctype = "application/json"
    elif k < 0.53:
        method = "POST"
        body = bg.text()
        ctype = "text/plain"
    return build(rid, method, path, qpairs, headers, body, ctype)


QUERY_NAMES = ["id", "q", "search", "name", "page", "file", "path", "cmd", "redirect", "url", "user", "username", "cat", "item", "lang", "template", "include", "dir", "host", "ip", "query", "sort", "filter", "callback", "comment", "title", "view", "action"]
HEADER_TARGETS = ["User-Agent", "Referer", "X-Forwarded-For", "X-Api-Version", "X-Custom-Header", "Accept-Language", "Origin", "X-Client-Data"]


def attack_request(r, bg: Benign, sm, cls, rid):
    fams = ATTACKS[cls]
    family, fn, _ = r.choices(fams, weights=[w for _, _, w in fams])[0]
    base = fn(r, sm)
    payload, wire, obf = base, False, []
    if chance(r, 0.6):
        payload, wire, obf = obfuscate(r, cls, base, sm)
    headers = bg.headers()
    qpairs = [(k, enc_query(r, v, False)) for k, v in bg.query()]
    path = bg.path()
    method = "GET"
    body = ctype = None
    loc = r.choices(["query", "body_form", "body_json", "path", "header", "cookie"], weights=[40, 15, 12, 10 if cls != "traversal" else 25, 10, 8])[0]
    part, field = None, None
    if loc == "query":
        name = pick(r, QUERY_NAMES)
        qpairs = [(k, v) for k, v in qpairs if k != name]
        qpairs.insert(r.randint(0, len(qpairs)), (name, enc_query(r, payload, wire)))
        part, field = "query", name
    elif loc == "body_form":
        method = "POST"
        _, fields = bg.form()
        i = r.randrange(len(fields))
        name = fields[i][0]
        enc = [(k, urllib.parse.quote_plus(v)) for k, v in fields]
        enc[i] = (name, enc_query(r, payload, wire))
        body = "&".join(f"{k}={v}" for k, v in enc)
        ctype = "application/x-www-form-urlencoded"
        part, field = "body", name
    elif loc == "body_json":
        method = "POST" if chance(r, 0.9) else "PUT"
        obj = bg.json_body()
        paths = flatten_json(obj)
        if paths and chance(r, 0.8):
            field = pick(r, paths)
            set_json(obj, field, payload)
        else:
            field = pick(r, ["comment", "name", "query", "filename", "url"])
            obj[field] = payload
            # Setting a key changes the sorted order but not the path name.
        body = json.dumps(obj, ensure_ascii=chance(r, 0.5))
        ctype = "application/json"
        part = "body"
    elif loc == "path":
        segs = path.strip("/").split("/") or ["x"]
        i = r.randrange(len(segs))
        segs[i] = enc_path(payload, wire)
        path = "/" + "/".join(segs)
        if path == "/":
            path = "/" + enc_path(payload, wire) if payload else "/x"
        part, field = "path", ""
    elif loc == "header":
        name = pick(r, HEADER_TARGETS)
        # Header values cannot carry raw line breaks; ";" keeps a shell
        # payload meaningful where a space would defuse it.
        headers[name] = payload.replace("\r\n", ";").replace("\n", ";").replace("\r", ";")
        part, field = "header", name.lower()
    else:
        cname = pick(r, ["session", "user", "lang", "theme", "pref", "tracking", "id"])
        v = payload if wire else urllib.parse.quote(payload, safe="/:()'!$@,")
        cookies = [c for c in headers.get("Cookie", "").split("; ") if c and not c.startswith(cname + "=")]
        cookies.insert(r.randint(0, len(cookies)), f"{cname}={v}")
        headers["Cookie"] = "; ".join(cookies)
        part, field = "cookie", cname
    rec = build(rid, method, path, qpairs, headers, body, ctype)
    rec.update(label="attack", category=cls, attack_part=part, attack_field=field, family=family, obfuscation="+".join(obf) or "none")
    return rec, base


