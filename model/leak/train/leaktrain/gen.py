"""Generated responses: benign families for breadth and the hard cases,
and leaky families per class. Every function takes (rng, fake) and returns
(content_type, status, body)."""
import html
import json

from . import leaky as L
from . import tokens as T
from .pages import day, dt, dumps, html_page, iso, masked_card, paragraphs, product


def E(s):
    return html.escape(s)


# --------------------------------------------------------------- benign

def b_profile(rng, fake):
    name = fake.name()
    user = {"id": rng.randrange(10**7), "name": name, "email": fake.free_email(), "phone": T.phone(rng) if rng.random() < 0.6 else None,
            "address": {"street": fake.street_address(), "city": fake.city(), "zip": fake.postcode(), "country": fake.country_code()},
            "member_since": day(rng), "newsletter": rng.random() < 0.5}
    if rng.random() < 0.3:
        user["payout_iban"] = T.iban(rng)
    if rng.random() < 0.5:
        user["payment_method"] = {"brand": rng.choice(["visa", "mastercard", "amex"]), "display": masked_card(rng)}
    if rng.random() < 0.5:
        return "application/json", 200, dumps(rng, user)
    rows = "".join(f"<tr><th>{E(k)}</th><td>{E(str(v))}</td></tr>" for k, v in user.items() if not isinstance(v, dict))
    return "text/html; charset=utf-8", 200, html_page(rng, f"{name} – Account", f"<table>{rows}</table>" + paragraphs(rng, fake, 1), fake)


def b_orders(rng, fake):
    orders = []
    for _ in range(rng.randint(1, 40)):
        orders.append({"order_id": f"{rng.randrange(10**9):09d}", "placed": iso(rng),
                       "total": round(rng.uniform(5, 900), 2), "status": rng.choice(["shipped", "delivered", "processing", "refunded"]),
                       "tracking": rng.choice([f"1Z{T.rand(rng, T.UPPER + '0123456789', 16)}", T.rand(rng, "0123456789", 12),
                                               T.rand(rng, "0123456789", 22), T.rand(rng, "0123456789", 20)]),
                       "items": [{"sku": fake.bothify("??-####"), "qty": rng.randint(1, 4), "price": round(rng.uniform(2, 300), 2)}
                                 for _ in range(rng.randint(1, 4))],
                       "payment": masked_card(rng)})
    body = {"customer_id": rng.randrange(10**6), "orders": orders, "page": 1, "total_pages": rng.randint(1, 9)}
    if rng.random() < 0.6:
        return "application/json", 200, dumps(rng, body)
    rows = "".join(f"<tr><td>{o['order_id']}</td><td>{o['placed']}</td><td>{o['total']}</td><td>{o['status']}</td><td>{o['tracking']}</td></tr>" for o in orders)
    return "text/html", 200, html_page(rng, "Your orders", f"<table>{rows}</table>", fake)


def b_search(rng, fake):
    items = [product(rng, fake) for _ in range(rng.randint(5, 60))]
    if rng.random() < 0.5:
        return "application/json; charset=utf-8", 200, dumps(rng, {"query": fake.word(), "hits": items, "took_ms": rng.randint(1, 300)})
    cards = "".join(f'<div class="card"><img src="{E(i["image"])}"><h3>{E(i["name"])}</h3><span>{i["price"]} {i["currency"]}</span></div>' for i in items)
    return "text/html", 200, html_page(rng, f"Search: {fake.word()}", cards, fake)


def b_public_users(rng, fake):
    users = [{"login": fake.user_name(), "id": rng.randrange(10**8), "avatar_url": f"https://avatars.example.net/u/{rng.randrange(10**8)}",
              "followers": rng.randrange(9000), "bio": fake.sentence()} for _ in range(rng.randint(5, 80))]
    return "application/json", 200, dumps(rng, {"items": users, "total_count": len(users) * rng.randint(1, 50)})


def b_logs_page(rng, fake):
    lines = []
    for _ in range(rng.randint(20, 300)):
        lvl = rng.choice(["INFO", "INFO", "INFO", "DEBUG", "WARN"])
        lines.append(f"{iso(rng)} {lvl} [{rng.choice(['http', 'worker', 'scheduler', 'cache'])}] "
                     f"{rng.choice(['GET', 'POST', 'PUT'])} /{fake.uri_path()} {rng.choice([200, 201, 204, 301, 304, 404])} "
                     f"{rng.randint(1, 900)}ms req_id={T.rand(rng, T.HEX, 16)} ip={fake.ipv4()}")
    txt = "\n".join(lines) + "\n"
    if rng.random() < 0.5:
        return "text/plain; charset=utf-8", 200, txt
    return "text/html", 200, html_page(rng, "Job logs", f"<pre>{E(txt)}</pre>", fake)


def b_team_page(rng, fake):
    people = "".join(f'<div class="person"><h3>{E(fake.name())}</h3><p>{E(fake.job())}</p>'
                     f'<a href="mailto:{(m := fake.company_email())}">{m}</a></div>' for _ in range(rng.randint(2, 12)))
    extra = f"<p>Press: press@{fake.domain_name()} · Phone {T.phone(rng)}</p>"
    return "text/html", 200, html_page(rng, "Our team", people + extra + paragraphs(rng, fake, 2), fake)


JAVA_TRACE = """java.lang.NullPointerException: Cannot invoke "String.length()" because "s" is null
\tat com.example.demo.UserService.normalize(UserService.java:42)
\tat com.example.demo.UserController.create(UserController.java:27)
\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)
\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)"""

PY_TRACE = """Traceback (most recent call last):
  File "app.py", line 8, in <module>
    main()
  File "app.py", line 5, in main
    print(1 / 0)
ZeroDivisionError: division by zero"""


BLOG_QUOTES = [
    JAVA_TRACE, PY_TRACE,
    "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''' at line 1",
    "ORA-01756: quoted string not properly terminated",
    "Warning: mysql_fetch_array() expects parameter 1 to be resource, boolean given in /var/www/html/item.php on line 12",
    "Unclosed quotation mark after the character string ''.",
    "panic: runtime error: index out of range [3] with length 3\n\ngoroutine 1 [running]:\nmain.main()\n\t/tmp/sandbox/prog.go:8 +0x1d",
    "org.postgresql.util.PSQLException: ERROR: syntax error at or near \"'\"\n  Position: 42",
    "TypeError: Cannot read properties of undefined (reading 'id')\n    at getUser (/app/src/users.js:14:22)\n"
    "    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)",
]


def b_security_blog(rng, fake):
    # Write-ups quote one to three error outputs (a trace and the SQL error
    # it led to, say), in <pre> blocks or inline <code>, between paragraphs.
    quotes = rng.sample(BLOG_QUOTES, rng.choice([1, 1, 2, 3]))
    title = rng.choice(["Why verbose errors are a gift to attackers", "Anatomy of an error-based SQL injection", "Stop leaking stack traces",
                        "Debugging production incidents: a postmortem", "How we found a panic in our parser", "Your error pages are talking too much"])
    body = paragraphs(rng, fake, rng.randint(1, 4))
    for quote in quotes:
        code = E(quote) if rng.random() < 0.6 else quote.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if "\n" not in quote and rng.random() < 0.5:
            body += f"<p>{E(fake.sentence())} <code>{code}</code> {E(fake.sentence())}</p>"
        else:
            body += f"<pre><code>{code}</code></pre>"
        body += paragraphs(rng, fake, rng.randint(1, 4))
    if rng.random() < 0.3:
        body = f"<p class='meta'>Posted by {E(fake.name())} on {day(rng)}</p>" + body
    if rng.random() < 0.4:
        body += "<h2>Comments</h2>" + "".join(f"<div class='c'><b>{E(fake.user_name())}</b><p>{E(fake.sentence())}</p></div>" for _ in range(rng.randint(1, 6)))
    return "text/html; charset=utf-8", 200, page_shell(rng, title, f"<article>{body}</article>", fake)


def b_qa_page(rng, fake):
    """A question-and-answer thread, a bug report or a short tutorial that
    quotes an error output: little prose around the trace, which is what
    separates it from the error page itself only by its framing."""
    err = L.any_trace(rng, fake)
    code = E(err)
    block = rng.choice([f"<pre><code>{code}</code></pre>", f'<pre class="lang-none">{code}</pre>',
                        f'<div class="highlight"><pre><span></span>{code}</pre></div>', f"<pre>{code}</pre>"])
    kind = rng.randrange(3)
    if kind == 0:
        title = f"{fake.sentence(nb_words=6).rstrip('.')} - Stack Overflow"
        said = rng.choice(["", "", " The server answers 500 Internal Server Error and logs this:", " I get an unexpected error:", " Full trace:"])
        body = (f"<div class='question'><h1>{E(fake.sentence(nb_words=7))}</h1><p>{E(fake.sentence())} {E(fake.sentence())}{said}</p>{block}"
                f"<p>{E(fake.sentence())}</p></div>")
        for _ in range(rng.randint(0, 3)):
            body += f"<div class='answer'><p>{E(fake.paragraph(nb_sentences=rng.randint(1, 4)))}</p><p>-- <a href='/users/{rng.randint(1, 10**6)}'>{E(fake.user_name())}</a></p></div>"
    elif kind == 1:
        title = f"{fake.sentence(nb_words=5).rstrip('.')} · Issue #{rng.randint(1, 30000)} · {fake.user_name()}/{fake.domain_word()}"
        body = (f"<h1>{E(fake.sentence(nb_words=6))} #{rng.randint(1, 30000)}</h1><p><b>Describe the bug</b></p><p>{E(fake.sentence())}</p>{block}"
                f"<p><b>Environment</b>: {rng.choice(['Ubuntu 22.04', 'macOS 14', 'Windows 11'])}, version {rng.randint(1, 9)}.{rng.randint(0, 20)}</p>")
        if rng.random() < 0.6:
            body += f"<div class='comment'><b>{E(fake.user_name())}</b><p>{E(fake.sentence())}</p></div>"
    else:
        title = f"How to fix {err.splitlines()[0][:60]}"
        body = paragraphs(rng, fake, rng.randint(1, 2)) + block + paragraphs(rng, fake, rng.randint(1, 3))
    return "text/html; charset=utf-8", 200, page_shell(rng, title, body, fake)


def b_config_docs(rng, fake):
    """A documentation page or README that shows a configuration template:
    .env, settings or YAML lines with placeholder, empty or example values,
    as framework and deployment docs print them."""
    app = fake.domain_word()
    lines = rng.sample([
        f"APP_NAME={app}", "APP_ENV=local", "APP_KEY=", "APP_DEBUG=true", "APP_URL=http://localhost",
        "DB_CONNECTION=mysql", "DB_HOST=127.0.0.1", "DB_PORT=3306", f"DB_DATABASE={app}", "DB_USERNAME=root", "DB_PASSWORD=",
        "DB_PASSWORD=secret", "DB_PASSWORD=<your-password>", "DATABASE_URL=postgres://user:password@localhost:5432/app",
        "SECRET_KEY=change-me", "SECRET_KEY=your-secret-key", "JWT_SECRET=${JWT_SECRET}", "REDIS_URL=redis://localhost:6379",
        "STRIPE_SECRET_KEY=sk_test_XXXXXXXXXXXXXXXX", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "MAIL_PASSWORD=null", "API_KEY=YOUR_API_KEY",
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "SENTRY_DSN=", "LOG_LEVEL=debug", "PORT=3000",
    ], rng.randint(3, 10))
    block = "\n".join(lines)
    if rng.random() < 0.3:
        return rng.choice(["text/markdown; charset=utf-8", "text/plain; charset=utf-8"]), 200, (
            f"# {app}\n\n{fake.paragraph()}\n\n## Configuration\n\nCopy `.env.example` to `.env` and fill in the values:\n\n```\n{block}\n```\n\n{fake.paragraph()}\n")
    body = (paragraphs(rng, fake, rng.randint(1, 3)) + f"<p>Create a <code>.env</code> file:</p><pre><code>{E(block)}</code></pre>"
            + paragraphs(rng, fake, rng.randint(0, 3)))
    return "text/html; charset=utf-8", 200, page_shell(rng, rng.choice(["Configuration", "Getting started", "Deployment"]) + " — " + app, body, fake)


def page_shell(rng, title, body, fake):
    """The site's full page, or, as small blogs, issue trackers and docs
    generators serve them, a bare one."""
    if rng.random() < 0.4:
        return f"<!DOCTYPE html><html><head><title>{E(title)}</title></head><body>{body}</body></html>"
    return html_page(rng, title, body, fake)


def b_docs_example_keys(rng, fake):
    snippets = rng.sample([
        "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nexport AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "curl https://api.stripe.com/v1/charges -u sk_test_4eC39HqLyjWDarjtT1zdp7dc:",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "DATABASE_URL=postgres://user:password@localhost:5432/mydb",
        "api_key = \"YOUR_API_KEY\"",
        "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "client_secret: <your-client-secret>",
        "password = os.environ[\"DB_PASSWORD\"]",
        "mongodb+srv://<username>:<password>@cluster0.mongodb.net/test",
        # one example hash, as password-hashing docs and tutorials print it
        f"$ htpasswd -nbB {fake.user_name()} {fake.word()}\n{fake.user_name()}:{T.bcrypt_hash(rng)}",
        f">>> generate_password_hash(\"{fake.word()}\")\n'{T.password_hash(rng)}'",
        f"# users.conf\n{fake.user_name()}:{T.password_hash(rng)}",
        # a .env template, as framework docs show it
        "DATABASE_URL=postgres://user:password@localhost:5432/app\nSECRET_KEY=change-me\nSTRIPE_SECRET_KEY=sk_test_XXXXXXXXXXXXXXXX\nDEBUG=true",
        f"APP_ENV=local\nAPP_KEY=\nDB_HOST=127.0.0.1\nDB_DATABASE={fake.word()}\nDB_USERNAME=root\nDB_PASSWORD=\nMAIL_PASSWORD=null",
    ], rng.randint(1, 4))
    body = ""
    for s in snippets:
        body += paragraphs(rng, fake, rng.randint(1, 3)) + f'<div class="highlight"><pre>{E(s)}</pre></div>'
    return "text/html", 200, html_page(rng, rng.choice(["Authentication", "Getting started", "Configuration", "API keys"]) + " — Docs", body, fake)


def b_payment_docs(rng, fake):
    cards = rng.sample(T.TEST_CARDS, rng.randint(3, 12))
    rows = "".join(f"<tr><td>{rng.choice(['Visa', 'Mastercard', 'Amex', 'Discover', 'JCB'])}</td><td><code>{T.card_formatted(rng, c)}</code></td>"
                   f"<td>Any 3 digits</td><td>Any future date</td></tr>" for c in cards)
    body = paragraphs(rng, fake, 2) + f"<table><tr><th>Brand</th><th>Number</th><th>CVC</th><th>Date</th></tr>{rows}</table>" + paragraphs(rng, fake, 2)
    if rng.random() < 0.5:
        body += f"<p>Use IBAN <code>{rng.choice(['DE89370400440532013000', 'GB82WEST12345698765432', 'NL91ABNA0417164300'])}</code> for SEPA tests.</p>"
    return "text/html", 200, html_page(rng, "Testing — Payments docs", body, fake)


def b_oauth_token(rng, fake):
    if rng.random() < 0.25:
        # token endpoints that answer with the bare token
        return rng.choice(["text/plain", "application/jwt"]), 200, T.jwt(rng, fake)
    body = {"access_token": T.jwt(rng), "token_type": "Bearer", "expires_in": rng.choice([300, 900, 3600])}
    if rng.random() < 0.6:
        body["refresh_token"] = T.rand(rng, T.ALNUM, 40)
    if rng.random() < 0.5:
        body["scope"] = "openid profile email"
    return "application/json", 200, json.dumps(body)


def b_masked_keys(rng, fake):
    keys = [{"id": f"key_{T.rand(rng, T.ALNUM, 14)}", "name": fake.word(), "prefix": rng.choice(["sk_live_", "pk_live_", "ghp_", "AKIA"]) + "…" + T.rand(rng, T.ALNUM, 4),
             "created": iso(rng), "last_used": iso(rng), "secret": "********"} for _ in range(rng.randint(1, 8))]
    return "application/json", 200, dumps(rng, {"data": keys})


def b_error_generic(rng, fake):
    k = rng.randrange(5)
    if k == 0:
        return "text/html", 404, "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n"
    if k == 1:
        return "application/problem+json", rng.choice([400, 404, 409, 422]), json.dumps({"type": "https://example.net/probs/" + fake.word(), "title": fake.sentence(), "status": 400, "detail": fake.sentence(), "instance": "/" + fake.uri_path()})
    if k == 2:
        return "text/html", 404, f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot GET /{fake.uri_path()}</pre>\n</body>\n</html>\n'
    if k == 3:
        return "application/json", 500, json.dumps({"error": {"code": "internal_error", "message": "An unexpected error occurred. Please try again later.", "request_id": T.rand(rng, T.HEX, 32)}})
    return "text/html", 500, html_page(rng, "Something went wrong", "<p>We're sorry, but something went wrong. Our engineers have been notified.</p>", fake)


def b_article(rng, fake):
    body = f"<article><p class='byline'>By {E(fake.name())} · {day(rng)}</p>" + paragraphs(rng, fake, rng.randint(4, 14)) + "</article>"
    return "text/html", 200, html_page(rng, fake.sentence(), body, fake)


def b_metrics(rng, fake):
    series = [{"t": 1_700_000_000_000 + i * 60_000, "v": round(rng.uniform(0, 1000), 3)} for i in range(rng.randint(20, 400))]
    return "application/json", 200, dumps(rng, {"metric": fake.word() + "_total", "points": series, "geo": [float(fake.latitude()), float(fake.longitude())]})


def b_code_tutorial(rng, fake):
    code = rng.choice(["import os\nimport json\n\ndef load(path):\n    with open(path) as f:\n        return json.load(f)\n",
                       "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hello\")\n}\n",
                       "const express = require('express');\nconst app = express();\napp.get('/', (req, res) => res.send('ok'));\n",
                       "public class Hello {\n    public static void main(String[] args) {\n        System.out.println(\"hi\");\n    }\n}\n"])
    body = paragraphs(rng, fake, 2) + f"<pre><code>{E(code)}</code></pre>" + paragraphs(rng, fake, 3)
    return "text/html", 200, html_page(rng, "Tutorial: " + fake.catch_phrase(), body, fake)


def b_status(rng, fake):
    comps = {fake.word(): rng.choice(["operational", "degraded", "maintenance"]) for _ in range(rng.randint(3, 12))}
    return "application/json", 200, dumps(rng, {"status": "ok", "version": f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}", "components": comps, "uptime_s": rng.randrange(10**7)})


def b_login_page(rng, fake):
    form = ('<form method="post" action="/login"><label for="email">Email</label><input id="email" name="email" type="email">'
            '<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">'
            f'<input type="hidden" name="csrf_token" value="{T.rand(rng, T.ALNUM, 40)}"><button>Sign in</button></form>'
            '<p><a href="/password/reset">Forgot your password?</a></p>')
    return "text/html", 200, html_page(rng, "Sign in", form, fake)


def b_js_bundle(rng, fake):
    """A minified application bundle: credentials appear only as code
    (form fields, member expressions, storage look-ups) and the keys that
    are meant to be public (publishable and Maps browser keys)."""
    parts = [f"!function(e){{var t={{}};function n(r){{if(t[r])return t[r].exports;var o=t[r]={{i:r,l:!1,exports:{{}}}};return e[r].call(o.exports,o,o.exports,n),o.l=!0,o.exports}}"]
    for i in range(rng.randint(5, 60)):
        parts.append(rng.choice([
            f"function {T.rand(rng, 'abcdefghij', 2)}(e,t){{return e.password=t.password,e.token=t.token,e.apiKey=t.apiKey||\"\",e}}",
            "var s={type:\"password\",name:\"password\",autoComplete:\"current-password\",placeholder:\"Password\"};",
            "headers:{Authorization:\"Bearer \"+localStorage.getItem(\"accessToken\")},",
            f"const {T.rand(rng, 'abcdefghij', 1)}=e=>e.secretKey?e.secretKey.trim():null;",
            f"publishableKey:\"pk_live_{T.rand(rng, T.ALNUM, 24)}\",",
            f"mapsApiKey:\"{T.google_key(rng)}\",",
            f"sentryDsn:\"https://{T.rand(rng, T.HEX, 32)}@o{rng.randint(10000, 99999)}.ingest.sentry.io/{rng.randint(100000, 999999)}\",",
            "if(!e.clientSecret)throw new Error(\"missing client secret\");",
            f"e.exports={{apiBase:\"https://api.{fake.domain_name()}\",timeout:{rng.randint(1, 60) * 1000}}};",
        ]))
    parts.append("}([]);")
    return rng.choice(["application/javascript", "text/javascript; charset=utf-8"]), 200, "".join(parts)


ROLE_LOCALS = ["info", "hello", "contact", "sales", "support", "store", "shop", "office", "bookings", "enquiries", "kontakt"]


def b_store_locator(rng, fake):
    """A chain's store finder: every store's address, phone and role
    address, all on the brand's domain."""
    dom = fake.domain_name()
    brand = fake.company()
    stores = []
    for i in range(rng.randint(8, 80)):
        local = rng.choice(ROLE_LOCALS) + (f"{rng.randrange(1000):03d}" if rng.random() < 0.4 else "")
        stores.append({"id": rng.randrange(10**5), "name": f"{brand} {fake.city()}", "address": fake.street_address(), "city": fake.city(),
                       "postcode": fake.postcode(), "phone": T.phone(rng), "email": f"{local}@{dom}",
                       "lat": round(rng.uniform(-60, 60), 5), "lng": round(rng.uniform(-120, 120), 5),
                       "opening_hours": {d: "09:00-18:00" for d in ["mon", "tue", "wed", "thu", "fri"]}})
    if rng.random() < 0.7:
        return "application/json", 200, dumps(rng, {"stores": stores, "count": len(stores)})
    rows = "".join(f'<li class="store"><h3>{E(x["name"])}</h3><p>{E(x["address"])}, {E(x["city"])}</p>'
                   f'<p><a href="tel:{E(x["phone"])}">{E(x["phone"])}</a> · <a href="mailto:{x["email"]}">{x["email"]}</a></p></li>' for x in stores)
    return "text/html", 200, html_page(rng, "Find a store", f"<ul>{rows}</ul>", fake)


def b_business_directory(rng, fake):
    """A local business directory: each business's public contact."""
    rows = []
    for _ in range(rng.randint(8, 50)):
        dom = fake.domain_name()
        rows.append(f'<div class="listing"><h3>{E(fake.company())}</h3><p>{E(fake.street_address())}, {E(fake.city())}</p>'
                    f'<p>{E(T.phone(rng))} · {rng.choice(ROLE_LOCALS)}@{dom} · <a href="https://www.{dom}/">www.{dom}</a></p></div>')
    return "text/html", 200, html_page(rng, "Business directory", "".join(rows), fake)


def _ean13(rng):
    d = [int(c) for c in str(rng.choice([40, 41, 42, 43, 44, 50, 54, 57, 59, 64, 76, 80, 84, 87, 90]))] + [rng.randrange(10) for _ in range(10)]
    chk = (10 - sum(x * (3 if i % 2 else 1) for i, x in enumerate(d)) % 10) % 10
    return "".join(map(str, d + [chk]))


def b_product_feed(rng, fake):
    """A shop's product feed with GTIN-13 codes (one in ten passes Luhn)."""
    items = [{"id": f"SKU-{rng.randrange(10**6)}", "title": fake.catch_phrase(), "gtin": _ean13(rng),
              "price": f"{rng.uniform(2, 400):.2f} EUR", "availability": rng.choice(["in_stock", "out_of_stock"])} for _ in range(rng.randint(10, 120))]
    if rng.random() < 0.5:
        return "application/json", 200, dumps(rng, {"products": items})
    xml_items = "".join(f"<item><g:id>{x['id']}</g:id><title>{E(x['title'])}</title><g:gtin>{x['gtin']}</g:gtin><g:price>{x['price']}</g:price></item>" for x in items)
    return "application/xml", 200, f'<?xml version="1.0"?><rss xmlns:g="http://base.google.com/ns/1.0" version="2.0"><channel>{xml_items}</channel></rss>'


BENIGN = {
    "profile": b_profile, "orders": b_orders, "search": b_search, "public_users": b_public_users, "logs_page": b_logs_page,
    "team_page": b_team_page, "security_blog": b_security_blog, "docs_example_keys": b_docs_example_keys,
    "payment_docs": b_payment_docs, "oauth_token": b_oauth_token, "masked_keys": b_masked_keys, "error_generic": b_error_generic,
    "article": b_article, "metrics": b_metrics, "code_tutorial": b_code_tutorial, "status": b_status, "login_page": b_login_page,
    "js_bundle": b_js_bundle, "qa_page": b_qa_page, "config_docs": b_config_docs,
}


# ------------------------------------------- hard cases quoting errors
# Pages that quote an error output and are not error responses. What sets
# them apart is context: words of their own before and after the trace,
# code markup around it, navigation, and a 200. They come in the short
# forms too (a question of two sentences), since the short ones are the
# ones closest to an error page.

def _quote_block(rng, err):
    code = E(err)
    return rng.choice([f"<pre><code>{code}</code></pre>", f'<pre class="lang-python">{code}</pre>', f"<pre>{code}</pre>",
                       f'<div class="highlight"><pre>{code}</pre></div>', f"<blockquote><pre>{code}</pre></blockquote>",
                       f'<pre><code class="language-text">{code}</code></pre>', f"<details><summary>Log</summary><pre>{code}</pre></details>"])


def b_qa_short(rng, fake):
    """A short question (a forum post, a Q&A thread, a chat archive) with a
    trace and a sentence or two, on a bare page or the site's shell."""
    err = L.any_trace(rng, fake)
    ask = rng.choice(["My app crashes on startup.", "Getting this after upgrading:", "Any idea what causes this?",
                      f"When I run {fake.word()}.py I get", "Deploy fails with", "This started yesterday:",
                      "I keep getting the following error.", "Help please, stuck on this for hours", "Same here, on version "
                      f"{rng.randint(1, 9)}.{rng.randint(0, 20)}:"])
    after = rng.choice(["", "Any idea?", "What am I doing wrong?", "Thanks in advance.", f"asked {rng.randint(2, 59)} minutes ago",
                        f"edited {day(rng)}", "Update: solved, see answer below."])
    title = rng.choice([err.splitlines()[0][:70], fake.sentence(nb_words=6).rstrip(".")])
    if rng.random() < 0.5:
        title += rng.choice([" - Stack Overflow", " - Super User", " · community forum", " | Reddit", " - Server Fault", ""])
    body = f"<h1>{E(title)}</h1><p>{E(ask)}</p>{_quote_block(rng, err)}"
    if after:
        body += f"<p>{E(after)}</p>"
    for _ in range(rng.choice([0, 0, 1, 2])):
        body += (f"<div class='answer'><p>{E(fake.sentence())} Try <code>{E(fake.word())}</code>.</p>"
                 f"<p><a href='/u/{rng.randint(1, 10**6)}'>{E(fake.user_name())}</a></p></div>")
    return "text/html; charset=utf-8", 200, page_shell(rng, title, body, fake)


def b_issue_report(rng, fake):
    """A bug report as trackers and code hosts serve it: HTML, the API's
    JSON (the markdown body holds the fenced trace) or plain markdown."""
    err = L.any_trace(rng, fake)
    title = rng.choice([err.splitlines()[0][:80], f"{fake.word()} fails after upgrade to {rng.randint(1, 9)}.{rng.randint(0, 30)}"])
    md = (f"**Describe the bug**\n{fake.sentence()}\n\n**To reproduce**\n1. {fake.sentence()}\n2. {fake.sentence()}\n\n"
          f"**Logs**\n```\n{err}\n```\n\n**Environment**: {rng.choice(['Ubuntu 22.04', 'Debian 12', 'macOS 14', 'Windows 11', 'Alpine 3.19'])}")
    k = rng.randrange(4)
    if k == 0:
        issue = {"id": rng.randrange(10**9), "number": rng.randint(1, 40000), "title": title, "state": rng.choice(["open", "closed"]),
                 "user": {"login": fake.user_name(), "id": rng.randrange(10**8)}, "labels": [{"name": "bug"}], "body": md,
                 "comments": rng.randint(0, 30), "created_at": iso(rng), "html_url": f"https://github.com/{fake.user_name()}/{fake.domain_word()}/issues/{rng.randint(1, 40000)}"}
        return "application/json; charset=utf-8", 200, json.dumps(issue)
    if k == 1:
        return rng.choice(["text/markdown; charset=utf-8", "text/plain; charset=utf-8"]), 200, f"# {title}\n\n{md}\n"
    if k == 2:
        # plain text without a fence: a mailing-list post or a pastebin note
        return "text/plain; charset=utf-8", 200, (f"Subject: {title}\nFrom: {fake.user_name()}\n\n{fake.sentence()} {fake.sentence()}\n\n"
                                                   f"{err}\n\n{fake.paragraph(nb_sentences=rng.randint(1, 3))}\n\n-- \n{fake.first_name()}\n")
    state = rng.choice(["Open", "Closed"])
    body = (f"<div class='gh-header'><h1>{E(title)} <span>#{rng.randint(1, 40000)}</span></h1><span class='State'>{state}</span> "
            f"<a class='author' href='/{fake.user_name()}'>{E(fake.user_name())}</a> opened this issue {rng.randint(1, 30)} days ago · {rng.randint(0, 20)} comments</div>"
            f"<div class='comment-body'><h3>Describe the bug</h3><p>{E(fake.sentence())}</p><h3>Logs</h3>{_quote_block(rng, err)}</div>")
    for _ in range(rng.randint(0, 3)):
        body += f"<div class='comment'><a href='/{fake.user_name()}'>{E(fake.user_name())}</a> commented: {E(fake.sentence())}</div>"
    return "text/html; charset=utf-8", 200, page_shell(rng, f"{title} · Issue #{rng.randint(1, 40000)} · {fake.user_name()}/{fake.domain_word()}", body, fake)


def b_docs_errors(rng, fake):
    """A documentation or tutorial page showing what an error looks like:
    the code, then its output with the trace or the database error."""
    outs = [L.any_trace(rng, fake) for _ in range(rng.randint(1, 3))]
    body = f"<h1>{E(rng.choice(['Errors', 'Troubleshooting', 'Handling panics', 'Exceptions', 'Debugging', 'Common errors']))}</h1>"
    for out in outs:
        body += paragraphs(rng, fake, rng.randint(0, 2))
        if rng.random() < 0.5:
            body += f"<pre>{E(rng.choice(['$ python app.py', '$ go run main.go', '$ node server.js', 'mysql> SELECT * FORM users;', '$ rails db:migrate']))}\n{E(out)}</pre>"
        else:
            body += _quote_block(rng, out)
        body += f"<p>{E(fake.sentence())}</p>"
    return "text/html; charset=utf-8", 200, page_shell(rng, f"{fake.catch_phrase()} — Documentation", body, fake)


def b_forum_heldout(rng, fake):
    """Held out (test only): quoting pages in templates no training family
    uses — a mailing-list archive, a forum thread of several posts, a chat
    log export, a changelog entry, a wiki page — so the test split measures
    whether the context features carry over to an unseen layout."""
    err = L.any_trace(rng, fake)
    k = rng.randrange(5)
    if k == 0:
        msg = (f"<pre>On {day(rng)}, {E(fake.name())} wrote:\n&gt; {E(fake.sentence())}\n\n{E(fake.paragraph())}\n\n{E(err)}\n\n"
               f"{E(fake.sentence())}\n</pre>")
        return "text/html", 200, (f"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"><HTML><HEAD><TITLE> [{fake.domain_word()}-users] "
                                  f"{E(err.splitlines()[0][:50])}</TITLE></HEAD><BODY><H1>[{fake.domain_word()}-users] {E(fake.sentence(nb_words=5))}</H1>"
                                  f"<B>{E(fake.name())}</B> <A HREF=\"mailto:{fake.user_name()}%40{fake.domain_name()}\">{fake.user_name()} at {fake.domain_name()}</A><BR>"
                                  f"<I>{day(rng)}</I><P><UL><LI>Previous message: <A HREF=\"{rng.randint(1000, 9999)}.html\">{E(fake.sentence())}</A></LI></UL><HR>"
                                  f"<!--beginarticle-->\n{msg}\n<!--endarticle--><HR></BODY></HTML>")
    if k == 1:
        posts = ""
        for i in range(rng.randint(2, 5)):
            inner = f"<p>{E(fake.sentence())}</p>" + (f"<pre><code>{E(err)}</code></pre>" if i == 0 else f"<p>{E(fake.paragraph())}</p>")
            posts += (f"<article class='topic-post'><div class='names'><a href='/u/{fake.user_name()}'>{E(fake.user_name())}</a></div>"
                      f"<div class='cooked'>{inner}</div><div class='post-date'>{day(rng)}</div></article>")
        return "text/html; charset=utf-8", 200, page_shell(rng, f"{fake.sentence(nb_words=6).rstrip('.')} - {fake.domain_word().title()} Forum", posts, fake)
    if k == 2:
        lines = [f"[{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}] <{fake.user_name()}> {fake.sentence()}" for _ in range(rng.randint(2, 8))]
        lines.append(f"[{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}] <{fake.user_name()}> here's what I get:")
        lines += err.splitlines()
        lines += [f"[{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}] <{fake.user_name()}> {fake.sentence()}" for _ in range(rng.randint(1, 6))]
        return "text/plain; charset=utf-8", 200, "\n".join(lines) + "\n"
    if k == 3:
        body = (f"<h2>{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)} ({day(rng)})</h2><h3>Fixed</h3><ul>"
                + "".join(f"<li>{E(fake.sentence())}</li>" for _ in range(rng.randint(1, 5)))
                + f"<li>No longer fails with <code>{E(err.splitlines()[0])}</code> when {E(fake.sentence().lower())}</li></ul>"
                + f"<details><summary>Trace before the fix</summary><pre>{E(err)}</pre></details>")
        return "text/html; charset=utf-8", 200, page_shell(rng, "Changelog", body, fake)
    body = (f"<div id='mw-content-text'><p>{E(fake.paragraph())}</p><h2><span class='mw-headline'>Symptoms</span></h2>"
            f"<p>{E(fake.sentence())}</p><pre>{E(err)}</pre><h2><span class='mw-headline'>Resolution</span></h2><p>{E(fake.paragraph())}</p></div>")
    return "text/html; charset=UTF-8", 200, page_shell(rng, f"{fake.word().title()} errors - {fake.domain_word().title()} Wiki", body, fake)


BENIGN.update({"qa_short": b_qa_short, "issue_report": b_issue_report, "docs_errors": b_docs_errors, "forum_heldout": b_forum_heldout})


def b_config_short(rng, fake):
    """The shortest configuration docs: a bare page or a README that is the
    template and a line, often as shell exports."""
    app = fake.domain_word()
    lines = rng.sample(["DATABASE_URL=postgres://user:password@localhost:5432/app", "SECRET_KEY=change-me",
                        "STRIPE_SECRET_KEY=sk_test_XXXXXXXXXXXXXXXX", "DEBUG=true", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
                        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_DEFAULT_REGION=us-west-2",
                        "API_KEY=YOUR_API_KEY", "DB_PASSWORD=", "REDIS_URL=redis://localhost:6379", "PORT=8080",
                        "JWT_SECRET=replace-with-output-of-openssl-rand-hex-32"], rng.randint(2, 6))
    if rng.random() < 0.4:
        lines = ["export " + ln for ln in lines]
    block = "\n".join(lines)
    if rng.random() < 0.5:
        return "text/html; charset=utf-8", 200, (f"<html><body><h1>{rng.choice(['Configuration', 'Setup'])}</h1><p>Create a <code>.env</code> file with:</p>"
                                                 f"<pre>{E(block)}</pre><p>Then run <code>{rng.choice(['npm start', 'make run', 'docker compose up'])}</code>.</p></body></html>")
    return "text/markdown; charset=utf-8", 200, f"# {app}\n\n{fake.sentence()}\n\n## Configure\n\n```\n{block}\n```\n"


# Families added after the corpus was first fixed. Each draws from a
# generator of its own, seeded by the corpus seed and its name (corpus.py),
# so adding one leaves every other response of the corpus as it was and a
# retrain moves only where the new family teaches something.
BENIGN_ADDED = {"store_locator": b_store_locator, "business_directory": b_business_directory, "product_feed": b_product_feed,
                "config_short": b_config_short}
