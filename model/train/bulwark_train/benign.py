"""The synthetic benign generator: requests of many app shapes with Faker
values. It adds breadth (forms, JSON APIs, prose, code, international
text); real captured traffic (see real.py) is what makes the benign side
look like the web."""
import datetime
import re
import json
import urllib.parse

from faker import Faker

from .draw import b64, b64url, chance, hexs, jwt, pick, uuid4


class Pools:
    def __init__(self, seed, r):
        self.r = r
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
        self.sentences = [f.sentence(nb_words=r.randint(3, 18)) for _ in range(n)]
        self.paragraphs = [f.paragraph(nb_sentences=r.randint(2, 6)) for _ in range(1000)]
        self.intl_text = [x.text(max_nb_chars=r.choice([40, 120, 300])) for x in self.intl for _ in range(150)]
        self.words = [f.word() for _ in range(n)]
        self.companies = [f.company() for _ in range(n)]
        self.addresses = [f.address().replace("\n", ", ") for _ in range(n)] + [x.address().replace("\n", " ") for x in self.intl for _ in range(50)]
        self.cities = [f.city() for _ in range(1000)]
        self.urls = [f.url() for _ in range(1000)] + [f.uri() for _ in range(1000)]
        self.uas = [f.user_agent() for _ in range(2000)]
        self.ips = [f.ipv4() for _ in range(2000)] + [f.ipv6() for _ in range(200)]
        self.phones = [f.phone_number() for _ in range(1000)]
        self.products = [f"{f.color_name()} {f.word()} {pick(r, ['Pro', 'Max', 'Mini', '2', 'XL', 'v3', ''])}".strip() for _ in range(2000)]
        self.passwords = [f.password(length=r.randint(8, 20), special_chars=True) for _ in range(2000)]
        self.usernames = [f.user_name() for _ in range(2000)]
        self.slugs = [f.slug() for _ in range(2000)]
        self.files = [f.file_name() for _ in range(1000)] + [f.file_path(depth=r.randint(1, 3)) for _ in range(500)]
        # Fixed bounds: Faker's defaults end at "now", which would make the
        # corpus depend on the day it is generated.
        lo, hi = datetime.datetime(1970, 1, 1), datetime.datetime(2026, 1, 1)
        self.dates = [f.date_time_between(lo, hi).date().isoformat() for _ in range(500)] + \
            [f.date_time_between(lo, hi).isoformat() for _ in range(500)]
        self.colors = [f.hex_color() for _ in range(300)]
        self.langs = ["en-US,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8", "fr-FR,fr;q=0.9", "ja,en-US;q=0.9,en;q=0.8",
                      "zh-CN,zh;q=0.9", "es-ES,es;q=0.9", "pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7", "ru-RU,ru;q=0.9,en;q=0.8", "*"]




BLOB_CHARS = "".join(chr(c) for c in range(0x21, 0x7f))

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


# Values of the technical kind that real APIs, consoles and CI systems carry
# in ordinary fields: schedules, file paths and globs, command-line flags,
# template placeholders, query languages whose syntax looks like code,
# formulas, version ranges, regular expressions. Each is a format in use;
# none breaks out of a context, and none names a sensitive system file.
TECHNICAL = [
    # schedules
    "*/15 2-5 * * 1-5", "0 0 * * *", "30 4 1,15 * 5", "0 */6 * * *", "@daily", "@every 5m", "15 10 ? * MON-FRI",
    "0 0 12 1/1 * ? *", "FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20261231T000000Z", "PT1H30M", "P1Y2M10DT2H30M", "09:00-17:30",
    # paths and globs
    "/usr/local/share/ca-certificates/corp-root.crt", "/var/lib/postgresql/16/main", "/home/deploy/app/current/log/production.log",
    "/opt/app/config/settings.yml", "/srv/www/static/img/logo.svg", "/mnt/data/uploads/2024/05/img_0042.jpg",
    "/tmp/build-8841/output.tar.gz", "/Users/jane/Library/Application Support/Code/User/settings.json", "/data/db",
    "/usr/bin/python3", "/usr/local/bin/node", "/var/log/app/*.log", "/workspace/src/main/java/com/acme/App.java",
    "C:\\Users\\jdoe\\AppData\\Local\\Temp\\setup.log", "D:\\Projects\\web\\src\\index.ts",
    "\\\\fileserver\\share\\Reports\\Q3.xlsx", "C:\\Program Files (x86)\\Acme\\acme.exe",
    "**/*.test.ts", "src/**/*.{js,jsx}", "!**/node_modules/**", "build/**/*.map", "docs/[a-z]*.md", "*.log", "**/__snapshots__/**",
    "assets/{css,js}/**", "?(*.)+(spec|test).[jt]s?(x)",
    # command-line flags and options
    "--set image.tag=v2.14.3 --set replicas=3 --wait", "-v --color=always --max-old-space-size=4096",
    "--env=production --region us-east-1", "-Xmx2g -XX:+UseG1GC -Dspring.profiles.active=prod", "--no-cache --pull",
    "-o json --query [].name", "--filter status=running", "-n kube-system --context prod-eu", "--dry-run=client -o yaml",
    "-j4 -k", "--grep @smoke --retries=2", "-DskipTests -Pprod", "--profile dev --verbose", "-m 'not slow' -x",
    # template placeholders
    "{{status_code}}", "{{ .Values.image.tag }}", "${env:HOME}", "%{request_id}", "{{$labels.instance}}", "{user_id}",
    "[[ .Name ]]", "#{order.total}", "{{#each items}}{{name}}{{/each}}", "Hello {{first_name}}, your order {{order_id}} shipped",
    "{{ value | date: \"%Y-%m-%d\" }}", "%s: %d items", "{0} of {1} selected", ":name was updated",
    # query languages and selectors
    "id,name,posts(id,title,created_at)", "*,author:profiles(username,avatar_url)", "startswith(Name,'Mil')",
    "contains(tolower(Title),'report') and Price lt 20", "$.store.book[?(@.price < 10)].title", ".items[] | select(.active) | .name",
    "sum by (job) (rate(http_requests_total{job=\"api\"}[5m]))", "histogram_quantile(0.95, sum(rate(latency_bucket[5m])) by (le))",
    "{app=\"checkout\"} |= \"timeout\" | json | status >= 500",
    "requests | where resultCode == 500 | summarize count() by bin(timestamp, 1h)",
    "project = ABC AND status in (\"In Progress\", Done) ORDER BY created DESC", "assignee = currentUser() AND resolution = Unresolved",
    "title:(quick OR brown) AND year:[2000 TO 2010]", "index=web status>=500 | stats count by host", "level:error AND service:\"payments\"",
    "div.card > a[href^='/docs']", "//book[author='Tolkien']/title", "count(//item)",
    # formulas, math, versions, patterns
    "=SUM(A1:A10)", "=IF(B2>0,\"yes\",\"no\")", "=VLOOKUP(A2,Sheet2!A:B,2,FALSE)", "f(x) = 3x^2 + 2x - 1",
    "\\frac{a}{b} + \\sqrt{x^2 + 1}", "$$E = mc^2$$", "^1.2.3 || ~2.0.0", ">=1.20, <2.0", "~> 5.31", "!=3.0.*",
    "^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$", "\\d{3}-\\d{4}", "(?i)error|fail(ed)?", "[A-Z]{2}\\d{6}",
    "color: #333; background: url(/img/bg.png) no-repeat", "grid-template-columns: repeat(auto-fill, minmax(200px, 1fr))",
    "text/html;q=0.9, application/json", "max-age=31536000; includeSubDomains", "key1=value1;key2=value2",
]

# User agents of SDKs, libraries, apps and services, as they send them.
SDK_UAS = [
    "curl/8.5.0", "python-requests/2.31.0", "Go-http-client/1.1", "okhttp/4.12.0", "PostmanRuntime/7.36.0",
    "sendgrid/6.11.0;python", "sendgrid/6.7.0;ruby", "Stripe/v1 PythonBindings/7.4.0", "Stripe/v1 NodeBindings/14.10.0",
    "aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.47.7",
    "aws-cli/2.15.8 Python/3.11.6 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/s3.cp",
    "Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.6",
    "google-api-go-client/0.5", "Dart/3.2 (dart:io)", "MyApp/3.2.1 (iPhone; iOS 17.2; Scale/3.00)", "Alamofire/5.8.1",
    "MyApp/612 CFNetwork/1474 Darwin/23.0.0", "axios/1.6.2", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "ruby/3.2.2 faraday/2.7.12", "Faraday v2.7.12", "GuzzleHttp/7", "Apache-HttpClient/4.5.14 (Java/17.0.9)", "Java/17.0.2",
    "grpc-go/1.60.1", "grpc-java-okhttp/1.59.0", "Wget/1.21.4", "HTTPie/3.2.2", "insomnia/8.5.1",
    "Slackbot 1.0 (+https://api.slack.com/robots)", "GitHub-Hookshot/2f1c9b7", "Twilio-Webhooks/1.0", "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    "kube-probe/1.28", "Prometheus/2.48.0", "ELB-HealthChecker/2.0", "Amazon CloudFront", "Datadog Agent/7.50.0",
    "Terraform/1.6.6 (+https://www.terraform.io) terraform-provider-aws/5.31.0", "HashiCorp Vault/1.15.4",
    "docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/6.5.0 os/linux arch/amd64 UpstreamClient(Docker-Client/24.0.7 \\(linux\\))",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17126; Pro)", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "sentry.python/1.39.1", "Zabbix", "Jenkins/2.426.2", "GitLab/16.7.0", "Renovate Bot", "dependabot-core/0.238.0 excon/0.109.0 ruby/3.1.4 (x86_64-linux) (+https://github.com/dependabot/dependabot-core)",
]


class Benign:
    """Requests of many app shapes; returns (method, path, query pairs, headers, body, ctype)."""

    def __init__(self, p: Pools, r):
        self.p = p
        self.r = r

    def text(self):
        r = self.r
        p = self.p
        k = r.random()
        if k < 0.25:
            return pick(r, p.sentences)
        if k < 0.35:
            return pick(r, p.paragraphs)
        if k < 0.50:
            return pick(r, p.intl_text)
        if k < 0.65:
            s = pick(r, SQLISH_PROSE)
            return s if chance(r, 0.5) else f"{pick(r, p.sentences)} {s}"
        if k < 0.70:
            return pick(r, CODE_SNIPPETS)
        if k < 0.73:
            return pick(r, SEARCHY)
        if k < 0.83:
            return pick(r, MARKDOWN)
        if k < 0.90:
            return f"{pick(r, p.first)}'s {pick(r, p.words)} isn't \"{pick(r, p.words)}\" - {pick(r, p.sentences)}"
        if k < 0.95:
            return pick(r, TECHNICAL)
        return " ".join(pick(r, p.words) for _ in range(r.randint(1, 5)))

    def value(self, kind=None):
        r = self.r
        p = self.p
        kind = kind or pick(r, ["int", "word", "name", "email", "uuid", "date", "text", "url", "bool", "price",
                             "slug", "token", "phone", "product", "city", "color", "csv", "file", "ip", "blob"])
        return {
            "int": lambda: str(r.randint(0, 10**r.randint(1, 9))),
            "word": lambda: pick(r, p.words),
            "name": lambda: pick(r, p.names),
            "email": lambda: pick(r, p.emails),
            "uuid": lambda: uuid4(r),
            "date": lambda: pick(r, p.dates),
            "text": self.text,
            "url": lambda: pick(r, p.urls) + (f"?utm_source={pick(r, p.words)}&id={r.randint(1, 999)}" if chance(r, 0.3) else ""),
            "bool": lambda: pick(r, ["true", "false", "1", "0", "on", "yes"]),
            "price": lambda: f"{r.uniform(0, 999):.2f}",
            "slug": lambda: pick(r, p.slugs),
            "token": lambda: pick(r, [b64(r, r.randint(8, 48)), jwt(r), hexs(r, r.choice([32, 40, 64])), b64url(r, 24)]),
            "phone": lambda: pick(r, p.phones),
            "product": lambda: pick(r, p.products),
            "city": lambda: pick(r, p.cities),
            "color": lambda: pick(r, p.colors),
            "csv": lambda: ",".join(pick(r, p.words) for _ in range(r.randint(2, 5))),
            "file": lambda: pick(r, p.files),
            "ip": lambda: pick(r, p.ips),
            # Trackers and anti-bot scripts send obfuscated fingerprints:
            # long runs of random printable characters, quotes and
            # brackets included, with no structure an attack has.
            "blob": lambda: "".join(r.choice(BLOB_CHARS) for _ in range(r.randint(24, 300))),
        }[kind]()

    def headers(self):
        r = self.r
        p = self.p
        h = {"User-Agent": pick(r, p.uas) if chance(r, 0.85) else pick(r, SDK_UAS),
             "Accept": pick(r, ["*/*", "application/json", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", "application/json, text/plain, */*", "image/webp,*/*"])}
        if chance(r, 0.7):
            h["Accept-Language"] = pick(r, p.langs)
        if chance(r, 0.5):
            h["Referer"] = pick(r, p.urls) + (f"?q={urllib.parse.quote_plus(pick(r, p.words))}" if chance(r, 0.3) else "")
        if chance(r, 0.2):
            h["X-Forwarded-For"] = ", ".join(pick(r, p.ips) for _ in range(r.randint(1, 3)))
        if chance(r, 0.6):
            cookies = []
            for _ in range(r.randint(1, 5)):
                k = r.random()
                if k < 0.2:
                    cookies.append(f"session={hexs(r, 32)}")
                elif k < 0.35:
                    cookies.append(f"_ga=GA1.2.{r.randint(10**8, 10**9)}.{r.randint(1600000000, 1800000000)}")
                elif k < 0.5:
                    cookies.append(f"token={jwt(r)}")
                elif k < 0.6:
                    cookies.append("prefs=" + urllib.parse.quote(json.dumps({"theme": pick(r, ["dark", "light"]), "lang": pick(r, ["en", "de", "fr"])})))
                elif k < 0.7:
                    cookies.append(f"cart={b64(r, r.randint(10, 60))}")
                elif k < 0.8:
                    cookies.append(f"last_search={urllib.parse.quote(self.text()[:60])}")
                else:
                    cookies.append(f"{pick(r, p.words)}_{pick(r, ['id', 'pref', 'seen', 'consent'])}={self.value(pick(r, ['int', 'word', 'uuid', 'bool', 'date']))}")
            h["Cookie"] = "; ".join(cookies)
        if chance(r, 0.1):
            h["X-Api-Key"] = hexs(r, 32)
        if chance(r, 0.1):
            h["X-Requested-With"] = "XMLHttpRequest"
        if chance(r, 0.05):
            h["Origin"] = pick(r, p.urls).rstrip("/")
        return h

    def path(self):
        r = self.r
        p = self.p
        k = r.random()
        if k < 0.3:
            return "/api/v%d/%s/%s" % (r.randint(1, 3), pick(r, ["users", "orders", "items", "products", "posts", "comments", "accounts", "invoices"]), pick(r, [str(r.randint(1, 99999)), uuid4(r), pick(r, p.slugs)]))
        if k < 0.45:
            return "/%s/%d/%02d/%s" % (pick(r, ["blog", "news", "articles"]), r.randint(2010, 2026), r.randint(1, 12), pick(r, p.slugs))
        if k < 0.6:
            return "/static/%s/%s.%s.%s" % (pick(r, ["js", "css", "img", "fonts"]), pick(r, p.words), hexs(r, 8), pick(r, ["js", "css", "png", "woff2", "svg"]))
        if k < 0.7:
            segs = [urllib.parse.quote(pick(r, p.intl_text).split()[0][:20]) for _ in range(r.randint(1, 2))]
            return "/wiki/" + "/".join(segs)
        if k < 0.8:
            return "/" + "/".join(pick(r, p.words) for _ in range(r.randint(1, 4)))
        if k < 0.9:
            return pick(r, ["/search", "/login", "/register", "/contact", "/checkout", "/cart", "/profile", "/settings", "/", "/index.php", "/download", "/view"])
        return "/files/" + urllib.parse.quote(pick(r, p.files).lstrip("/"))

    def query(self):
        r = self.r
        p = self.p
        pairs = []
        k = r.random()
        if k < 0.3:
            pairs.append(("q", pick(r, [self.text()[:80], pick(r, p.products), pick(r, SQLISH_PROSE), pick(r, p.words), pick(r, SEARCHY)])))
        for _ in range(r.randint(0, 4)):
            name = pick(r, ["id", "page", "limit", "offset", "sort", "order", "lang", "ref", "utm_source", "utm_campaign",
                         "filter", "category", "tag", "redirect", "return_to", "callback", "file", "path", "view", "format",
                         "fields", "include", "expand", "from", "to", "date", "ts", "token", "name", "email", "search", "next", "type"])
            kind = {"redirect": "url", "return_to": "url", "next": "url", "callback": "url", "file": "file", "path": "file",
                    "email": "email", "token": "token", "date": "date", "from": "date", "to": "date", "ts": "int",
                    "search": "text", "name": "name", "fields": "csv", "include": "csv"}.get(name)
            v = self.value(kind)
            if name in ("sort", "order"):
                v = pick(r, ["asc", "desc", "price", "-created_at", "name,asc", "relevance"])
            if name == "filter":
                v = pick(r, [f"status:{pick(r, ['open', 'closed'])}", f"price>{r.randint(1, 100)}", f"name eq '{pick(r, p.words)}'", "created_at gte 2024-01-01"])
            pairs.append((name, v))
        return pairs

    def form(self):
        r = self.r
        p = self.p
        shape = pick(r, ["login", "register", "contact", "comment", "checkout", "profile", "search"])
        if shape == "login":
            return shape, [("username", pick(r, [pick(r, p.usernames), pick(r, p.emails)])), ("password", pick(r, p.passwords)), ("remember", "on")]
        if shape == "register":
            return shape, [("first_name", pick(r, p.first)), ("last_name", pick(r, p.last)), ("email", pick(r, p.emails)), ("password", pick(r, p.passwords)), ("company", pick(r, p.companies))]
        if shape == "contact":
            return shape, [("name", pick(r, p.names)), ("email", pick(r, p.emails)), ("subject", pick(r, p.sentences)), ("message", self.text())]
        if shape == "comment":
            return shape, [("author", pick(r, p.names)), ("body", pick(r, [self.text(), pick(r, MARKDOWN), pick(r, CODE_SNIPPETS)])), ("post_id", str(r.randint(1, 9999)))]
        if shape == "checkout":
            return shape, [("address", pick(r, p.addresses)), ("city", pick(r, p.cities)), ("phone", pick(r, p.phones)), ("notes", self.text()), ("qty", str(r.randint(1, 9)))]
        if shape == "profile":
            return shape, [("display_name", pick(r, p.names)), ("bio", self.text()), ("website", pick(r, p.urls)), ("avatar", pick(r, p.files))]
        return shape, [("q", self.text()[:100]), ("category", pick(r, p.words))]

    def json_body(self, depth=0):
        r = self.r
        p = self.p
        obj = {}
        for _ in range(r.randint(1, 6)):
            k = pick(r, ["id", "name", "title", "description", "email", "notes", "tags", "price", "quantity", "address", "comment",
                      "status", "created_at", "user", "items", "metadata", "content", "query", "url", "enabled", "token", "message", "filter"])
            if k in ("user", "metadata") and depth < 2:
                obj[k] = self.json_body(depth + 1)
            elif k in ("tags", "items"):
                obj[k] = [self.value(pick(r, ["word", "int", "product"])) for _ in range(r.randint(0, 4))]
            elif k in ("price", "quantity", "id"):
                obj[k] = r.randint(0, 10000) if chance(r, 0.7) else uuid4(r)
            elif k == "enabled":
                obj[k] = chance(r, 0.5)
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


