"""Leaky responses, per class, as the frameworks and misconfigurations
render them. Each function takes (rng, fake) and returns
(content_type, status, body, labels)."""
import html
import json

from . import tokens as T
from .pages import day, dob, dt, dumps, html_page, iso, paragraphs

E = html.escape


def _pkg(rng, fake):
    return rng.choice(["com", "org", "io"]) + "." + fake.domain_word().replace("-", "") + "." + rng.choice(["api", "service", "web", "core"])


def _cls(rng):
    return rng.choice(["User", "Order", "Payment", "Invoice", "Account", "Cart", "Report", "Session"]) + rng.choice(["Service", "Controller", "Repository", "Handler", "Mapper"])


# --------------------------------------------------------------- secret

def s_config_json(rng, fake):
    cfg = {"service": fake.domain_word(), "env": "production", "region": rng.choice(["us-east-1", "eu-west-1"])}
    for _ in range(rng.randint(1, 6)):
        kind, key, val = T.any_secret(rng, fake)
        cfg[key] = val
    if rng.random() < 0.5:
        cfg = {"config": cfg, "debug": True}
    return rng.choice(["application/json", "application/json", ""]), 200, dumps(rng, cfg), ["secret"]


def s_env_html(rng, fake):
    rows = []
    for _ in range(rng.randint(2, 8)):
        kind, key, val = T.any_secret(rng, fake)
        rows.append((key.upper(), val))
    rows += [("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"), ("HOSTNAME", fake.domain_word() + "-7d9f8c-x2x"), ("NODE_ENV", "production")]
    rng.shuffle(rows)
    t = "".join(f"<tr><td>{E(k)}</td><td>{E(v)}</td></tr>" for k, v in rows)
    return "text/html", 200, html_page(rng, "Environment", f"<h2>Environment variables</h2><table>{t}</table>", fake), ["secret"]


def s_js_bundle(rng, fake):
    parts = [f"!function(e){{var t={{}};function n(r){{if(t[r])return t[r].exports}}}}([]);var config={{apiBase:\"https://api.{fake.domain_name()}\","]
    for _ in range(rng.randint(1, 3)):
        v = rng.choice([T.stripe_live(rng), T.aws_key_id(rng), T.github_token(rng), T.slack_token(rng), T.other_token(rng)])
        parts.append(f"{rng.choice(['secretKey', 'apiKey', 'token', 'awsKey', 'adminToken'])}:\"{v}\",")
    parts.append(f"mapsKey:\"{T.google_key(rng)}\"}};function init(){{return fetch(config.apiBase+'/v1/session')}}")
    return rng.choice(["application/javascript", "text/javascript"]), 200, "".join(parts), ["secret"]


def s_user_hashes(rng, fake):
    users = [{"id": i, "username": fake.user_name(), "password_hash": T.password_hash(rng), "role": rng.choice(["user", "admin"])}
             for i in range(rng.randint(1, 30))]
    labels = ["secret"]
    if rng.random() < 0.5:
        for u in users:
            u["email"] = fake.free_email()
        if len(users) >= 20:
            labels.append("pii")
    return "application/json", 200, dumps(rng, {"users": users}), labels


def s_private_key(rng, fake):
    key = T.private_key(rng)
    k = rng.randrange(3)
    if k == 0:
        return rng.choice(["application/x-pem-file", "text/plain", "application/octet-stream", ""]), 200, key, ["secret"]
    if k == 1:
        return "application/json", 200, json.dumps({"id": rng.randrange(999), "name": fake.domain_word(), "private_key": key, "created_at": iso(rng)}), ["secret"]
    return "text/html", 200, html_page(rng, "Certificate", f"<pre>{E(key)}</pre>", fake), ["secret"]


def s_log_tokens(rng, fake):
    lines = []
    for _ in range(rng.randint(10, 80)):
        ln = f"{iso(rng)} INFO {rng.choice(['GET', 'POST'])} /{fake.uri_path()} {rng.choice([200, 201, 401])}"
        if rng.random() < 0.3:
            ln += " headers={Authorization: Bearer " + rng.choice([T.jwt(rng, fake), T.github_token(rng), T.slack_token(rng), T.stripe_live(rng)]) + "}"
        lines.append(ln)
    lines.insert(rng.randrange(len(lines)), f"{iso(rng)} DEBUG connecting to {T.conn_string(rng, fake)}")
    return rng.choice(["text/plain", ""]), 200, "\n".join(lines) + "\n", ["secret"]


def s_graphql_error(rng, fake):
    body = {"errors": [{"message": f"connect ECONNREFUSED: could not connect to {T.conn_string(rng, fake)}", "path": [fake.word()],
                        "extensions": {"code": "INTERNAL_SERVER_ERROR"}}], "data": None}
    return "application/json", 200, json.dumps(body), ["secret"]


def s_k8s_secret(rng, fake):
    items = {}
    for _ in range(rng.randint(1, 5)):
        kind, key, val = T.any_secret(rng, fake)
        items[key.upper()] = val
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": fake.domain_word() + "-secrets", "namespace": "prod"}, "type": "Opaque", "stringData": items}
    return "application/json", 200, dumps(rng, body), ["secret"]


def s_web_config(rng, fake):
    body = ('<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <connectionStrings>\n'
            f'    <add name="Default" connectionString="{E(T.ado_conn(rng, fake))}" providerName="System.Data.SqlClient" />\n'
            '  </connectionStrings>\n  <appSettings>\n'
            f'    <add key="StripeSecretKey" value="{T.stripe_live(rng)}" />\n    <add key="SmtpPassword" value="{T.password(rng)}" />\n'
            '  </appSettings>\n</configuration>\n')
    return rng.choice(["application/xml", "text/xml", ""]), 200, body, ["secret", "source"]


# --------------------------------------------------------------- pii

def _person(rng, fake, fields):
    p = {"id": rng.randrange(10**7), "first_name": fake.first_name(), "last_name": fake.last_name()}
    if "email" in fields:
        p["email"] = fake.free_email() if rng.random() < 0.7 else fake.company_email()
    if "phone" in fields:
        p["phone"] = T.phone(rng)
    if "address" in fields:
        p["address"] = fake.address().replace("\n", ", ")
    if "dob" in fields:
        p["date_of_birth"] = dob(rng).isoformat()
    if "ssn" in fields:
        p["ssn"] = T.national_id(rng)
    if "card" in fields:
        p["card_number"] = T.card_formatted(rng)
        p["cvv"] = f"{rng.randrange(1000):03d}"
    if "iban" in fields:
        p["iban"] = T.iban_formatted(rng)
    return p


def p_user_export(rng, fake):
    fields = {"email"} | set(rng.sample(["phone", "address", "dob"], rng.randint(0, 3)))
    people = [_person(rng, fake, fields) for _ in range(rng.randint(25, 400))]
    return "application/json", 200, dumps(rng, {"users": people, "count": len(people)}), ["pii"]


def p_csv(rng, fake):
    rows = ["id,name,email,phone,city"] + [f"{i},{fake.name()},{fake.free_email()},{T.phone(rng)},{fake.city()}" for i in range(rng.randint(25, 500))]
    return rng.choice(["text/csv", "application/octet-stream", ""]), 200, "\n".join(rows) + "\n", ["pii"]


def p_admin_table(rng, fake):
    rows = "".join(f"<tr><td>{rng.randrange(10**6)}</td><td>{E(fake.name())}</td><td>{fake.free_email()}</td><td>{T.phone(rng)}</td><td>{E(fake.city())}</td></tr>" for _ in range(rng.randint(25, 300)))
    return "text/html", 200, html_page(rng, "Customers – Admin", f"<table><tr><th>ID</th><th>Name</th><th>Email</th><th>Phone</th><th>City</th></tr>{rows}</table>", fake), ["pii"]


def p_cards(rng, fake):
    people = [_person(rng, fake, {"card"} | ({"email"} if rng.random() < 0.5 else set())) for _ in range(rng.randint(1, 60))]
    if rng.random() < 0.4:
        body = "application/json", 200, json.dumps(people[0]) if len(people) < 3 else dumps(rng, {"payments": people})
        return body[0], body[1], body[2], ["pii"]
    return "application/json", 200, dumps(rng, {"payments": people}), ["pii"]


def p_ibans(rng, fake):
    rows = [{"payout_id": f"po_{T.rand(rng, T.ALNUM, 14)}", "holder": fake.name(), "iban": T.iban_formatted(rng), "amount": round(rng.uniform(10, 5000), 2)} for _ in range(rng.randint(3, 120))]
    return "application/json", 200, dumps(rng, {"payouts": rows}), ["pii"]


def p_national_ids(rng, fake):
    people = [_person(rng, fake, {"ssn", "dob"} | ({"address"} if rng.random() < 0.5 else set())) for _ in range(rng.randint(3, 150))]
    if rng.random() < 0.5:
        return "application/json", 200, dumps(rng, {"employees": people}), ["pii"]
    rows = "".join(f"<tr><td>{E(p['first_name'])} {E(p['last_name'])}</td><td>{p['ssn']}</td><td>{p['date_of_birth']}</td></tr>" for p in people)
    return "text/html", 200, html_page(rng, "HR records", f"<table>{rows}</table>", fake), ["pii"]


def p_ndjson(rng, fake):
    lines = [json.dumps({"ts": iso(rng), "event": rng.choice(["signup", "login", "purchase"]), "email": fake.free_email(), "ip": fake.ipv4(), "phone": T.phone(rng)}) for _ in range(rng.randint(25, 300))]
    return "application/x-ndjson", 200, "\n".join(lines) + "\n", ["pii"]


def p_xml_customers(rng, fake):
    rows = "".join(f"<customer><id>{rng.randrange(10**6)}</id><name>{E(fake.name())}</name><email>{fake.free_email()}</email><phone>{T.phone(rng)}</phone></customer>" for _ in range(rng.randint(25, 200)))
    return rng.choice(["application/xml", "application/soap+xml"]), 200, f'<?xml version="1.0"?>\n<customers>{rows}</customers>', ["pii"]


def p_phone_list(rng, fake):
    """Customers with names, addresses and phone numbers and no e-mail
    address: a call list or a delivery export."""
    people = [{"name": fake.name(), "phone": T.phone(rng) if rng.random() < 0.5 else T.national_phone(rng), "street": fake.street_address(), "city": fake.city(),
               "postcode": fake.postcode()} for _ in range(rng.randint(25, 400))]
    k = rng.randrange(3)
    if k == 0:
        rows = ["name,phone,street,city,postcode"] + [f"{p['name']},{p['phone']},\"{p['street']}\",{p['city']},{p['postcode']}" for p in people]
        return rng.choice(["text/csv", "application/octet-stream", ""]), 200, "\n".join(rows) + "\n", ["pii"]
    if k == 1:
        return "application/json", 200, dumps(rng, {rng.choice(["customers", "deliveries", "contacts"]): people}), ["pii"]
    rows = "".join(f"<tr><td>{E(p['name'])}</td><td>{E(p['phone'])}</td><td>{E(p['street'])}, {E(p['city'])}</td></tr>" for p in people)
    return "text/html", 200, html_page(rng, "Call list", f"<table><tr><th>Name</th><th>Phone</th><th>Address</th></tr>{rows}</table>", fake), ["pii"]


# --------------------------------------------------------------- error

def _java_frames(rng, fake, n):
    pk = _pkg(rng, fake)
    fr = [f"\tat {pk}.{_cls(rng)}.{fake.word()}({_cls(rng)}.java:{rng.randint(20, 900)})" for _ in range(rng.randint(2, 6))]
    fr += rng.sample([
        "\tat org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1014)",
        "\tat org.springframework.web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1089)",
        "\tat org.apache.catalina.core.ApplicationFilterChain.internalDoFilter(ApplicationFilterChain.java:206)",
        "\tat org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:166)",
        "\tat org.apache.coyote.http11.Http11Processor.service(Http11Processor.java:391)",
        "\tat java.base/java.lang.Thread.run(Thread.java:1583)",
        "\tat jdk.internal.reflect.GeneratedMethodAccessor123.invoke(Unknown Source)",
        "\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)",
        "\tat org.hibernate.engine.jdbc.spi.SqlExceptionHelper.convert(SqlExceptionHelper.java:113)",
    ], min(n, 9))
    return "\n".join(fr)


def _java_exc(rng):
    return rng.choice(["java.lang.NullPointerException", "java.lang.IllegalStateException: Failed to load ApplicationContext",
                       "org.springframework.dao.DataIntegrityViolationException: could not execute statement",
                       "java.sql.SQLSyntaxErrorException: Unknown column 'x' in 'where clause'",
                       "java.lang.ArrayIndexOutOfBoundsException: Index 5 out of bounds for length 5",
                       "com.fasterxml.jackson.databind.exc.InvalidFormatException: Cannot deserialize value"])


def e_spring(rng, fake):
    trace = _java_exc(rng) + "\n" + _java_frames(rng, fake, rng.randint(3, 9))
    if rng.random() < 0.5:
        body = (f"<html><body><h1>Whitelabel Error Page</h1><p>This application has no explicit mapping for /error, so you are seeing this as a fallback.</p>"
                f"<div id='created'>{dt(rng).strftime('%a %b %d %H:%M:%S UTC %Y')}</div><div>There was an unexpected error (type=Internal Server Error, status=500).</div>"
                f"<div style='white-space:pre-wrap;'>{E(trace)}</div></body></html>")
        return "text/html;charset=UTF-8", 500, body, ["error"]
    body = {"timestamp": iso(rng), "status": 500, "error": "Internal Server Error", "trace": trace, "message": _java_exc(rng), "path": "/" + fake.uri_path()}
    return "application/json", 500, json.dumps(body), ["error"]


def e_tomcat(rng, fake):
    trace = _java_exc(rng) + "\n" + _java_frames(rng, fake, rng.randint(3, 9))
    body = (f'<!doctype html><html lang="en"><head><title>HTTP Status 500 – Internal Server Error</title><style type="text/css">body {{font-family:Tahoma,Arial,sans-serif;}}</style></head>'
            f'<body><h1>HTTP Status 500 – Internal Server Error</h1><hr class="line" /><p><b>Type</b> Exception Report</p><p><b>Message</b> {E(_java_exc(rng))}</p>'
            f'<p><b>Description</b> The server encountered an unexpected condition that prevented it from fulfilling the request.</p><p><b>Exception</b></p><pre>{E(trace)}</pre>'
            f'<p><b>Note</b> The full stack trace of the root cause is available in the server logs.</p><hr class="line" /><h3>Apache Tomcat/{rng.choice(["9.0.83", "10.1.17"])}</h3></body></html>')
    return "text/html;charset=utf-8", 500, body, ["error"]


def _py_frames(rng, fake, root):
    fr = []
    for _ in range(rng.randint(2, 7)):
        fr.append(f'  File "{root}/{fake.word()}/{fake.word()}.py", line {rng.randint(5, 700)}, in {fake.word()}\n    {rng.choice(["return self.get_response(request)", "response = func(request, *args, **kwargs)", "cursor.execute(sql, params)", "data = json.loads(body)", "return obj[key]"])}')
    return "\n".join(fr)


def _py_exc(rng):
    return rng.choice(["KeyError: 'user_id'", "django.db.utils.OperationalError: no such table: orders_order",
                       "psycopg2.errors.UndefinedColumn: column \"emial\" does not exist", "ValueError: invalid literal for int() with base 10: 'abc'",
                       "AttributeError: 'NoneType' object has no attribute 'id'", "sqlite3.OperationalError: near \"FROM\": syntax error",
                       "TypeError: unsupported operand type(s) for +: 'int' and 'str'"])


def e_django(rng, fake):
    exc = _py_exc(rng)
    tb = "Traceback (most recent call last):\n" + _py_frames(rng, fake, "/usr/local/lib/python3.11/site-packages/django") + "\n" + exc
    meta = "".join(f"<tr><td>{k}</td><td class='code'><pre>{E(v)}</pre></td></tr>" for k, v in [
        ("Request Method:", "GET"), ("Request URL:", f"http://{fake.domain_name()}/{fake.uri_path()}"), ("Django Version:", rng.choice(["4.2.7", "3.2.23", "5.0.1"])),
        ("Exception Type:", exc.split(":")[0]), ("Exception Value:", exc.split(":", 1)[-1]), ("Exception Location:", f"/app/{fake.word()}/views.py, line {rng.randint(10, 300)}, in {fake.word()}"),
        ("Python Executable:", "/usr/local/bin/python"), ("Python Version:", "3.11.6"), ("Server time:", dt(rng).isoformat())])
    body = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n  <meta http-equiv="content-type" content="text/html; charset=utf-8">\n  <meta name="robots" content="NONE,NOARCHIVE">\n'
            f'  <title>{E(exc.split(":")[0])} at /{fake.uri_path()}</title>\n</head>\n<body>\n<div id="summary">\n  <h1>{E(exc.split(":")[0])} at /{fake.uri_path()}</h1>\n  <pre class="exception_value">{E(exc)}</pre>\n'
            f'  <table class="meta">{meta}</table>\n</div>\n<div id="traceback">\n  <h2>Traceback</h2>\n<textarea id="traceback_area" cols="140" rows="25">\nEnvironment:\n\n{E(tb)}\n</textarea>\n</div>\n'
            f'<div id="explanation">\n  <p>You\'re seeing this error because you have <code>DEBUG = True</code> in your Django settings file. Change that to <code>False</code>, and Django will display a standard page generated by the handler for this status code.</p>\n</div>\n</body>\n</html>\n')
    return "text/html; charset=utf-8", 500, body, ["error"]


def e_flask(rng, fake):
    exc = _py_exc(rng)
    tb = "Traceback (most recent call last):\n" + _py_frames(rng, fake, "/venv/lib/python3.10/site-packages/flask") + "\n" + exc
    body = (f'<!doctype html>\n<html lang=en>\n<head>\n<title>{E(exc.split(":")[0])} // Werkzeug Debugger</title>\n<link rel="stylesheet" href="?__debugger__=yes&amp;cmd=resource&amp;f=style.css">\n'
            f'</head>\n<body style="background-color: #fff">\n<div class="debugger">\n<h1>{E(exc.split(":")[0])}</h1>\n<div class="detail">\n<p class="errormsg">{E(exc)}</p>\n</div>\n'
            f'<h2 class="traceback">Traceback <em>(most recent call last)</em></h2>\n<div class="traceback"><pre>{E(tb)}</pre></div>\n'
            f'<div class="explanation">The debugger caught an exception in your WSGI application.</div>\n</div>\n</body>\n</html>\n')
    return "text/html; charset=utf-8", 500, body, ["error"]


def e_python_plain(rng, fake):
    tb = "Traceback (most recent call last):\n" + _py_frames(rng, fake, rng.choice(["/app", "/srv/api", "/home/deploy/app"])) + "\n" + _py_exc(rng) + "\n"
    if rng.random() < 0.4:
        return "application/json", 500, json.dumps({"detail": "Internal Server Error", "traceback": tb}), ["error"]
    return rng.choice(["text/plain", ""]), 500, tb, ["error"]


def _rb_frames(rng, fake):
    return "\n".join(f"app/{rng.choice(['controllers', 'models', 'services'])}/{fake.word()}_{rng.choice(['controller', 'service'])}.rb:{rng.randint(5, 300)}:in `{fake.word()}'" for _ in range(rng.randint(2, 8)))


def e_rails(rng, fake):
    exc = rng.choice(["ActiveRecord::RecordNotFound", "NoMethodError", "ActiveRecord::StatementInvalid", "ActionController::ParameterMissing", "ActionView::Template::Error"])
    msg = rng.choice(["Couldn't find User with 'id'=42", "undefined method `name' for nil:NilClass", "PG::UndefinedTable: ERROR:  relation \"widgets\" does not exist", "param is missing or the value is empty: user"])
    body = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n  <meta charset="utf-8" />\n  <title>Action Controller: Exception caught</title>\n</head>\n<body>\n<header>\n  <h1>{E(exc)} in {fake.word().title()}Controller#{fake.word()}</h1>\n</header>\n'
            f'<main role="main" id="container">\n  <h2>{E(msg)}</h2>\n  <p><code>Rails.root: /app</code></p>\n  <div id="traces-0">\n    <a href="#">Application Trace</a> |\n    <a href="#">Framework Trace</a> |\n    <a href="#">Full Trace</a>\n'
            f'<pre><code>{E(_rb_frames(rng, fake))}</code></pre>\n  </div>\n<h2 style="margin-top: 30px">Request</h2>\n<p><b>Parameters</b>:</p> <pre>{{"id"=&gt;"{rng.randint(1, 999)}"}}</pre>\n</main>\n</body>\n</html>\n')
    return "text/html; charset=utf-8", 500, body, ["error"]


def _node_frames(rng, fake):
    fr = [f"    at {fake.word()} (/usr/src/app/{rng.choice(['src', 'routes', 'lib'])}/{fake.word()}.js:{rng.randint(2, 400)}:{rng.randint(1, 60)})" for _ in range(rng.randint(1, 4))]
    fr += rng.sample(["    at Layer.handle [as handle_request] (/usr/src/app/node_modules/express/lib/router/layer.js:95:5)",
                      "    at next (/usr/src/app/node_modules/express/lib/router/route.js:144:13)",
                      "    at Route.dispatch (/usr/src/app/node_modules/express/lib/router/route.js:114:3)",
                      "    at Function.process_params (/usr/src/app/node_modules/express/lib/router/index.js:346:12)",
                      "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
                      "    at async Promise.all (index 0)"], rng.randint(2, 5))
    return "\n".join(fr)


def _node_exc(rng):
    return rng.choice(["TypeError: Cannot read properties of undefined (reading 'id')", "ReferenceError: user is not defined",
                       "Error: connect ECONNREFUSED 127.0.0.1:5432", "SyntaxError: Unexpected token u in JSON at position 0",
                       "MongoServerError: E11000 duplicate key error collection: app.users index: email_1"])


def e_express(rng, fake):
    st = _node_exc(rng) + "\n" + _node_frames(rng, fake)
    if rng.random() < 0.5:
        body = f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n<pre>{E(st).replace(chr(10), "<br>").replace("    ", " &nbsp; &nbsp;")}</pre>\n</body>\n</html>\n'
        return "text/html; charset=utf-8", 500, body, ["error"]
    return "application/json", 500, json.dumps({"message": _node_exc(rng).split(": ", 1)[1], "stack": st}), ["error"]


def e_koa_nest(rng, fake):
    st = _node_exc(rng) + "\n" + "\n".join(f"    at {fake.word()}.{fake.word()} (/app/dist/{fake.word()}/{fake.word()}.service.js:{rng.randint(2, 400)}:{rng.randint(1, 60)})" for _ in range(rng.randint(3, 7)))
    return "application/json", 500, json.dumps({"statusCode": 500, "message": "Internal server error", "error": st}), ["error"]


def e_php(rng, fake):
    path = f"/var/www/{rng.choice(['html', fake.domain_word()])}/{fake.word()}.php"
    k = rng.randrange(3)
    if k == 0:
        msg = (f"<br />\n<b>Warning</b>:  {rng.choice(['mysqli_fetch_assoc() expects parameter 1 to be mysqli_result, bool given', 'Undefined variable $user', 'include(config.php): Failed to open stream: No such file or directory'])} in <b>{path}</b> on line <b>{rng.randint(3, 300)}</b><br />\n")
        body = msg + html_page(rng, fake.catch_phrase(), paragraphs(rng, fake, 2), fake)
    elif k == 1:
        body = (f"<br />\n<b>Fatal error</b>:  Uncaught {rng.choice(['PDOException: SQLSTATE[HY000] [2002] Connection refused', 'Error: Call to undefined function mysql_connect()', 'TypeError: count(): Argument #1 ($value) must be of type Countable|array, null given'])} in {path}:{rng.randint(3, 300)}\n"
                f"Stack trace:\n#0 {path}({rng.randint(3, 300)}): {fake.word()}()\n#1 /var/www/html/index.php({rng.randint(3, 99)}): require_once('{path}')\n#2 {{main}}\n  thrown in <b>{path}</b> on line <b>{rng.randint(3, 300)}</b><br />\n")
    else:
        title = E(rng.choice(["ErrorException", "QueryException", "Illuminate\\Database\\QueryException"]))
        body = (f'<!DOCTYPE html><html><head><title>{title}</title></head><body>'
                f'<div class="exception-message">SQLSTATE[42S22]: Column not found: 1054 Unknown column \'{fake.word()}\' in \'field list\' (SQL: select * from `users` where `id` = {rng.randint(1, 99)})</div>'
                f'<div class="trace">#0 /var/www/vendor/laravel/framework/src/Illuminate/Database/Connection.php(760): Illuminate\\Database\\Connection-&gt;runQueryCallback()<br>#1 {path}({rng.randint(3, 300)})</div></body></html>')
    return "text/html; charset=UTF-8", rng.choice([200, 500]), body, ["error"]


def e_aspnet(rng, fake):
    exc = rng.choice(["System.NullReferenceException: Object reference not set to an instance of an object.",
                      "System.Data.SqlClient.SqlException: Invalid object name 'dbo.Users'.", "System.InvalidOperationException: Sequence contains no elements"])
    st = "\n".join(f"   at {fake.word().title()}.{_cls(rng)}.{fake.word().title()}() in C:\\inetpub\\wwwroot\\{fake.word()}\\{_cls(rng)}.cs:line {rng.randint(10, 400)}" for _ in range(rng.randint(2, 6)))
    st += "\n   at System.Web.Mvc.ActionMethodDispatcher.Execute(ControllerBase controller, Object[] parameters)"
    if rng.random() < 0.3:
        body = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8" /><title>Internal Server Error</title></head><body>\n'
                f'<h1>An unhandled exception occurred while processing the request.</h1>\n<div class="titleerror">{E(exc)}</div>\n'
                f'<ul id="header"><li id="stack">Stack</li><li id="query">Query</li><li id="cookies">Cookies</li><li id="headers">Headers</li></ul>\n'
                f'<div id="stackpage" class="page"><pre>{E(st)}</pre></div>\n</body></html>\n')
        return "text/html; charset=utf-8", 500, body, ["error"]
    if rng.random() < 0.6:
        body = (f'<!DOCTYPE html>\n<html>\n    <head>\n        <title>{E(exc.split(":")[1].strip())}</title>\n    </head>\n    <body bgcolor="white">\n'
                f"            <span><H1>Server Error in '/' Application.<hr width=100% size=1 color=silver></H1>\n\n            <h2> <i>{E(exc.split(':')[1].strip())}</i> </h2></span>\n"
                f'            <b> Description: </b>An unhandled exception occurred during the execution of the current web request.<br><br>\n            <b> Exception Details: </b>{E(exc)}<br><br>\n'
                f'            <b>Stack Trace:</b> <br><br>\n            <table width=100% bgcolor="#ffffcc"><tr><td><code><pre>\n[{E(exc.split(":")[0].split(".")[-1])}]\n{E(st)}\n</pre></code></td></tr></table>\n'
                f'            <hr width=100% size=1 color=silver>\n            <b>Version Information:</b>&nbsp;Microsoft .NET Framework Version:4.0.30319; ASP.NET Version:4.8.4330.0\n    </body>\n</html>\n')
        return "text/html; charset=utf-8", 500, body, ["error"]
    return "text/plain; charset=utf-8", 500, f"{exc}\n{st}\n", ["error"]


def e_go_panic(rng, fake):
    body = (f"panic: {rng.choice(['runtime error: invalid memory address or nil pointer dereference', 'runtime error: index out of range [5] with length 3', 'assignment to entry in nil map'])}\n"
            f"[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x{rng.randrange(16**6):x}]\n\ngoroutine {rng.randint(1, 9999)} [running]:\n")
    for _ in range(rng.randint(2, 6)):
        body += f"github.com/{fake.user_name()}/{fake.domain_word()}/internal/{fake.word()}.(*{_cls(rng)}).{fake.word().title()}(0xc000{rng.randrange(16**6):06x})\n\t/src/internal/{fake.word()}/{fake.word()}.go:{rng.randint(10, 600)} +0x{rng.randrange(16**3):x}\n"
    body += "net/http.HandlerFunc.ServeHTTP(...)\n\t/usr/local/go/src/net/http/server.go:2136\n"
    if rng.random() < 0.3:
        body = "http: panic serving 10.0.0.7:51234: " + body
    return rng.choice(["text/plain; charset=utf-8", ""]), 500, body, ["error"]


SQL_ERRORS = {
    "mysql": ["You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '{q}' at line 1",
              "Warning: mysqli_query(): (42000/1064): You have an error in your SQL syntax", "com.mysql.cj.jdbc.exceptions.MySQLSyntaxErrorException: Unknown column '{w}' in 'where clause'"],
    "postgres": ["ERROR:  syntax error at or near \"{q}\"\nLINE 1: SELECT * FROM users WHERE name = '{q}'", "PG::SyntaxError: ERROR:  unterminated quoted string at or near \"'{q}\"",
                 "org.postgresql.util.PSQLException: ERROR: column \"{w}\" does not exist", "psycopg2.errors.SyntaxError: syntax error at or near \"{q}\""],
    "mssql": ["Unclosed quotation mark after the character string '{q}'.\nIncorrect syntax near '{q}'.", "Microsoft OLE DB Provider for SQL Server error '80040e14'",
              "System.Data.SqlClient.SqlException (0x80131904): Incorrect syntax near '{w}'.", "[Microsoft][ODBC SQL Server Driver][SQL Server]Incorrect syntax near '{q}'"],
    "oracle": ["ORA-00933: SQL command not properly ended", "ORA-01756: quoted string not properly terminated", "java.sql.SQLException: ORA-00942: table or view does not exist\n\tat oracle.jdbc.driver.T4CTTIoer11.processError(T4CTTIoer11.java:494)"],
    "sqlite": ["sqlite3.OperationalError: near \"{q}\": syntax error", "SQLite3::SQLException: no such column: {w}", "SQLITE_ERROR: unrecognized token: \"'{q}\"",
               "System.Data.SQLite.SQLiteException: SQL logic error near \"{q}\": syntax error"],
}


def e_sql(rng, fake, db=None):
    db = db or rng.choice(list(SQL_ERRORS))
    msg = rng.choice(SQL_ERRORS[db]).format(q=rng.choice(["'", "' OR 1=1--", "1'", "admin'--"]), w=fake.word())
    k = rng.randrange(4)
    if k == 3:
        # the message printed as text, as a script that dies on a failed
        # query prints it (die(mysqli_error($db))), bare or in a shell
        head = rng.choice(["Query failed", "Database Error", "Error", "DB Error", "Could not run query", ""])
        tag = rng.choice(["p", "div", "b", "span", "td"])
        inner = (f"<h3>{E(head)}</h3>" if head else "") + f"<{tag}>{E(msg)}</{tag}>"
        if rng.random() < 0.6:
            return "text/html", 500, f"<html><head><title>{E(head or fake.word())}</title></head><body>{inner}</body></html>", ["error"]
        return "text/html", 500, html_page(rng, head or fake.word().title(), inner, fake), ["error"]
    if k == 0:
        return "text/html", 500, html_page(rng, "Database error", f"<div class='error'><b>Database error</b><pre>{E(msg)}</pre></div>", fake), ["error"]
    if k == 1:
        return "application/json", 500, json.dumps({"error": "query failed", "detail": msg, "query": f"SELECT * FROM {fake.word()} WHERE id = '{rng.randint(1, 99)}''"}), ["error"]
    return rng.choice(["text/plain", ""]), 500, msg + "\n", ["error"]


def any_trace(rng, fake):
    """An error output of one of the frameworks or databases, as a page or
    a paste shows it: a trace with its exception, or a database error."""
    k = rng.randrange(7)
    if k == 0:
        return _java_exc(rng) + "\n" + _java_frames(rng, fake, rng.randint(2, 9))
    if k == 1:
        return ("Traceback (most recent call last):\n" + _py_frames(rng, fake, rng.choice(["/home/me/project", "/usr/lib/python3/dist-packages", "/srv/app", "C:\\Users\\me\\app"]))
                + "\n" + _py_exc(rng))
    if k == 2:
        return _node_exc(rng) + "\n" + _node_frames(rng, fake)
    if k == 3:
        return (f"panic: {rng.choice(['runtime error: invalid memory address or nil pointer dereference', 'assignment to entry in nil map'])}\n\n"
                f"goroutine 1 [running]:\nmain.main()\n\t/tmp/sandbox{rng.randint(100, 999999)}/prog.go:{rng.randint(5, 80)} +0x{rng.randrange(16**3):x}\nexit status 2")
    if k == 4:
        return f"{rng.choice(['NoMethodError', 'ActiveRecord::RecordNotFound'])}: undefined method `name' for nil:NilClass\n" + _rb_frames(rng, fake)
    if k == 5:
        db = rng.choice(list(SQL_ERRORS))
        return rng.choice(SQL_ERRORS[db]).format(q=rng.choice(["'", "FORM users", "1'"]), w=fake.word())
    return (f"PHP Fatal error:  Uncaught Error: Call to undefined function {fake.word()}() in /var/www/{fake.word()}.php:{rng.randint(2, 90)}\n"
            f"Stack trace:\n#0 {{main}}\n  thrown in /var/www/{fake.word()}.php on line {rng.randint(2, 90)}")


def e_app_500(rng, fake):
    """An application's own error page that prints the exception (debug
    left on, or a template that shows details): the site's shell or a bare
    page, an error heading, one line of apology, the trace."""
    trace = any_trace(rng, fake)
    head = rng.choice(["Internal Server Error", "500 - Internal Server Error", "Server Error", "Application Error", "Error 500",
                       "Oops! Something went wrong", "An unexpected error occurred", "Unhandled Exception"])
    msg = rng.choice(["We're sorry, but something went wrong.", "The server encountered an internal error.", "Please try again later.", ""])
    body = f"<h1>{E(head)}</h1>" + (f"<p>{E(msg)}</p>" if msg else "") + rng.choice([f"<pre>{E(trace)}</pre>", f"<pre><code>{E(trace)}</code></pre>",
                                                                                    f"<div class='trace'><pre>{E(trace)}</pre></div>", f"<code>{E(trace).replace(chr(10), '<br>')}</code>",
                                                                                    f"<p>{E(trace).replace(chr(10), '<br>')}</p>", f"<div class='exception'>{E(trace).replace(chr(10), '<br>' + chr(10))}</div>"])
    if rng.random() < 0.5:
        return "text/html; charset=utf-8", 500, f"<!DOCTYPE html><html><head><title>{E(head)}</title></head><body>{body}</body></html>", ["error"]
    return "text/html; charset=utf-8", 500, html_page(rng, head, body, fake), ["error"]


# --------------------------------------------------------------- source

def c_dotenv(rng, fake):
    lines = [f"APP_NAME={fake.domain_word()}", "APP_ENV=production", f"APP_KEY=base64:{T.rand(rng, T.B64, 43)}=", "APP_DEBUG=false",
             f"APP_URL=https://{fake.domain_name()}", "", "DB_CONNECTION=mysql", f"DB_HOST={fake.ipv4_private()}", "DB_PORT=3306",
             f"DB_DATABASE={fake.word()}", f"DB_USERNAME={fake.user_name()}", f"DB_PASSWORD={T.password(rng)}", "",
             f"REDIS_URL=redis://default:{T.password(rng)}@{fake.domain_word()}.cache.amazonaws.com:6379",
             f"MAIL_PASSWORD={T.password(rng)}", f"AWS_ACCESS_KEY_ID={T.aws_key_id(rng)}", f"AWS_SECRET_ACCESS_KEY={T.aws_secret(rng)}",
             f"STRIPE_SECRET={T.stripe_live(rng)}"]
    keep = rng.choice([0.25, 0.5, 0.8, 1.0])
    lines = [ln for ln in lines if ln != "" and rng.random() < keep] or lines[10:12]
    return rng.choice(["application/octet-stream", "text/plain", "", "text/plain; charset=UTF-8"]), 200, "\n".join(lines) + "\n", ["source", "secret"]


def c_git(rng, fake):
    k = rng.randrange(3)
    if k == 0:
        body = (f"[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n[remote \"origin\"]\n"
                f"\turl = {rng.choice(['git@github.com:', 'https://gitlab.com/'])}{fake.user_name()}/{fake.domain_word()}.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n[branch \"main\"]\n\tremote = origin\n\tmerge = refs/heads/main\n")
    elif k == 1:
        body = "# pack-refs with: peeled fully-peeled sorted \n" + "".join(f"{T.rand(rng, T.HEX, 40)} refs/{rng.choice(['heads', 'tags', 'remotes/origin'])}/{fake.word()}\n" for _ in range(rng.randint(3, 30)))
    else:
        body = "ref: refs/heads/" + rng.choice(["main", "master", "develop"]) + "\n"
    return rng.choice(["application/octet-stream", "text/plain", ""]), 200, body, ["source"]


def c_dirlist(rng, fake):
    files = [f"{fake.word()}{rng.choice(['.sql', '.zip', '.tar.gz', '.bak', '.php', '.log', '/', '.conf'])}" for _ in range(rng.randint(3, 40))]
    k = rng.randrange(4)
    if k == 0:
        rows = "".join(f'<tr><td valign="top"><img src="/icons/unknown.gif" alt="[   ]"></td><td><a href="{E(f)}">{E(f)}</a></td><td align="right">{day(rng)} 12:{rng.randint(10, 59)}  </td><td align="right">{rng.randint(1, 900)}K</td><td>&nbsp;</td></tr>\n' for f in files)
        body = f'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<html>\n <head>\n  <title>Index of /{fake.word()}</title>\n </head>\n <body>\n<h1>Index of /{fake.word()}</h1>\n  <table>\n   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th></tr>\n<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td><a href="/">Parent Directory</a></td></tr>\n{rows}</table>\n<address>Apache/2.4.57 (Debian) Server at {fake.domain_name()} Port 80</address>\n</body></html>\n'
    elif k == 1:
        rows = "".join(f'<a href="{E(f)}">{E(f)}</a>{" " * rng.randint(5, 40)}{day(rng)} 10:{rng.randint(10, 59)}    {rng.randint(100, 99999)}\n' for f in files)
        body = f'<html>\n<head><title>Index of /{fake.word()}/</title></head>\n<body>\n<h1>Index of /{fake.word()}/</h1><hr><pre><a href="../">../</a>\n{rows}</pre><hr></body>\n</html>\n'
    elif k == 2:
        rows = "".join(f'<li><a href="{E(f)}">{E(f)}</a></li>\n' for f in files)
        body = f'<!DOCTYPE HTML>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Directory listing for /</title>\n</head>\n<body>\n<h1>Directory listing for /</h1>\n<hr>\n<ul>\n{rows}</ul>\n<hr>\n</body>\n</html>\n'
    else:
        rows = "".join(f'{day(rng)}  {rng.randint(1, 12)}:{rng.randint(10, 59)} PM        {rng.randint(100, 99999)} <A HREF="/{E(f)}">{E(f)}</A><br>' for f in files)
        body = f'<html><head><title>{fake.domain_name()} - /</title></head><body><H1>{fake.domain_name()} - /</H1><hr>\n\n<pre><A HREF="/">[To Parent Directory]</A><br><br>{rows}</pre><hr></body></html>'
    return "text/html", 200, body, ["source"]


def c_php_source(rng, fake):
    body = (f"<?php\n/**\n * {fake.sentence()}\n */\nrequire_once __DIR__ . '/config.php';\n\n$db = new mysqli('{fake.ipv4_private()}', '{fake.user_name()}', '{T.password(rng)}', '{fake.word()}');\n"
            f"if ($db->connect_error) {{\n    die('Connection failed: ' . $db->connect_error);\n}}\n$id = $_GET['id'];\n$result = $db->query(\"SELECT * FROM users WHERE id = $id\");\nwhile ($row = $result->fetch_assoc()) {{\n    echo $row['name'];\n}}\n")
    if rng.random() < 0.4:
        body = f"<?php\ndefine('DB_NAME', '{fake.word()}');\ndefine('DB_USER', '{fake.user_name()}');\ndefine('DB_PASSWORD', '{T.password(rng)}');\ndefine('DB_HOST', 'localhost');\ndefine('AUTH_KEY', '{T.rand(rng, T.B64, 64)}');\n$table_prefix = 'wp_';\nrequire_once ABSPATH . 'wp-settings.php';\n"
        return rng.choice(["text/plain", "application/octet-stream", "text/html", ""]), 200, body, ["source", "secret"]
    return rng.choice(["text/plain", "application/x-httpd-php", "text/html", ""]), 200, body, ["source", "secret"]


def c_settings_py(rng, fake):
    body = (f'"""\nDjango settings for {fake.word()} project.\n"""\nimport os\nfrom pathlib import Path\n\nBASE_DIR = Path(__file__).resolve().parent.parent\n\n'
            f"SECRET_KEY = '{T.rand(rng, T.ALNUM + '!@#$%^&*(-_=+)', 50)}'\n\nDEBUG = False\n\nALLOWED_HOSTS = ['{fake.domain_name()}']\n\nDATABASES = {{\n    'default': {{\n"
            f"        'ENGINE': 'django.db.backends.postgresql',\n        'NAME': '{fake.word()}',\n        'USER': '{fake.user_name()}',\n        'PASSWORD': '{T.password(rng)}',\n        'HOST': '{fake.ipv4_private()}',\n    }}\n}}\n")
    return rng.choice(["text/x-python", "text/plain", "application/octet-stream", ""]), 200, body, ["source", "secret"]


def c_app_properties(rng, fake):
    body = (f"server.port=8080\nspring.application.name={fake.word()}\nspring.datasource.url=jdbc:postgresql://{fake.ipv4_private()}:5432/{fake.word()}\n"
            f"spring.datasource.username={fake.user_name()}\nspring.datasource.password={T.password(rng)}\nspring.jpa.hibernate.ddl-auto=update\n"
            f"management.endpoints.web.exposure.include=*\napp.jwt.secret={T.rand(rng, T.ALNUM, 48)}\n")
    return rng.choice(["text/plain", "application/octet-stream", ""]), 200, body, ["source", "secret"]


def c_passwd(rng, fake):
    base = ["root:x:0:0:root:/root:/bin/bash", "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin", "bin:x:2:2:bin:/bin:/usr/sbin/nologin",
            "sys:x:3:3:sys:/dev:/usr/sbin/nologin", "sync:x:4:65534:sync:/bin:/bin/sync", "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin",
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin"]
    base += [f"{fake.user_name()}:x:{1000 + i}:{1000 + i}:{fake.name()},,,:/home/{fake.user_name()}:/bin/bash" for i in range(rng.randint(0, 5))]
    body = "\n".join(base) + "\n"
    if rng.random() < 0.3:
        body = html_page(rng, fake.word(), f"<pre>{E(body)}</pre>", fake)
    return rng.choice(["text/plain", "", "text/html"]), 200, body, ["source"]


def c_node_source(rng, fake):
    body = (f"'use strict';\nconst express = require('express');\nconst {{ Pool }} = require('pg');\nconst jwt = require('jsonwebtoken');\n\n"
            f"const pool = new Pool({{ connectionString: process.env.DATABASE_URL }});\nconst app = express();\napp.use(express.json());\n\n"
            f"app.post('/login', async (req, res) => {{\n  const {{ rows }} = await pool.query('SELECT * FROM users WHERE email = $1', [req.body.email]);\n"
            f"  if (!rows.length) return res.status(401).end();\n  res.json({{ token: jwt.sign({{ id: rows[0].id }}, process.env.JWT_SECRET) }});\n}});\n\nmodule.exports = app;\n")
    return rng.choice(["application/javascript", "text/plain", "application/octet-stream", ""]), 200, body, ["source"]


def c_docker_compose(rng, fake):
    body = (f"version: '3.8'\nservices:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_USER: {fake.user_name()}\n      POSTGRES_PASSWORD: {T.password(rng)}\n"
            f"  app:\n    build: .\n    environment:\n      - DATABASE_URL={T.conn_string(rng, fake)}\n      - SECRET_KEY={T.rand(rng, T.ALNUM, 40)}\n    ports:\n      - \"8080:8080\"\n")
    return rng.choice(["application/x-yaml", "text/yaml", "text/plain", ""]), 200, body, ["source", "secret"]


def c_nginx_conf(rng, fake):
    body = (f"user www-data;\nworker_processes auto;\npid /run/nginx.pid;\n\nevents {{\n\tworker_connections 768;\n}}\n\nhttp {{\n\tsendfile on;\n\tinclude /etc/nginx/mime.types;\n"
            f"\tserver {{\n\t\tlisten 443 ssl;\n\t\tserver_name {fake.domain_name()};\n\t\tssl_certificate /etc/ssl/{fake.word()}.crt;\n\t\tssl_certificate_key /etc/ssl/private/{fake.word()}.key;\n"
            f"\t\tlocation /api/ {{\n\t\t\tproxy_pass http://{fake.ipv4_private()}:8080;\n\t\t\tproxy_set_header Authorization \"Basic {T.basic_auth(rng, fake)}\";\n\t\t}}\n\t}}\n}}\n")
    return rng.choice(["text/plain", "application/octet-stream", ""]), 200, body, ["source"]


def s_error_conn(rng, fake):
    err = rng.choice(["SequelizeConnectionError", "MongoNetworkError", "OperationalError", "ConnectionRefusedError", "PoolTimeoutError"])
    body = {"error": err, "message": f"{err}: failed to connect", "config": {"url": T.conn_string(rng, fake), "pool": {"max": rng.randint(5, 50)}}}
    if rng.random() < 0.5:
        body = {"status": "error", "detail": f"could not open {T.conn_string(rng, fake)}: timeout"}
    return "application/json", rng.choice([500, 502, 503]), json.dumps(body), ["secret"]


def c_httpd_conf(rng, fake):
    dom = fake.domain_name()
    body = (f"ServerRoot \"/etc/httpd\"\nListen 80\nLoadModule rewrite_module modules/mod_rewrite.so\nServerAdmin webmaster@{dom}\n\n"
            f"<VirtualHost *:443>\n    ServerName {dom}\n    DocumentRoot /var/www/{fake.word()}\n    SSLEngine on\n    SSLCertificateKeyFile /etc/pki/tls/private/{fake.word()}.key\n"
            f"    <Directory /var/www/{fake.word()}>\n        AllowOverride All\n        Require all granted\n    </Directory>\n"
            f"    SetEnv DB_PASS {T.password(rng)}\n</VirtualHost>\n")
    if rng.random() < 0.4:
        body = (f"AuthType Basic\nAuthName \"Restricted\"\nAuthUserFile /var/www/.htpasswd\nRequire valid-user\nRewriteEngine On\n"
                f"RewriteCond %{{HTTPS}} off\nRewriteRule ^(.*)$ https://%{{HTTP_HOST}}%{{REQUEST_URI}} [L,R=301]\n")
    return rng.choice(["text/plain", "application/octet-stream", ""]), 200, body, ["source"]


def c_phpinfo(rng, fake):
    ver = rng.choice(["8.1.2-1ubuntu2.14", "7.4.33", "8.2.12", "5.6.40"])
    rows = [("System", f"Linux {fake.domain_word()}-{rng.randint(1, 9)} 5.15.0-{rng.randint(50, 99)}-generic x86_64"), ("Server API", "Apache 2.0 Handler"),
            ("Loaded Configuration File", f"/etc/php/{ver[:3]}/apache2/php.ini"), ("DOCUMENT_ROOT", "/var/www/html"),
            ("$_SERVER['SERVER_ADDR']", fake.ipv4_private()), ("$_SERVER['HTTP_HOST']", fake.domain_name())]
    if rng.random() < 0.6:
        rows.append((f"$_SERVER['{rng.choice(['DB_PASSWORD', 'MYSQL_PASSWORD', 'APP_SECRET'])}']", T.password(rng)))
    esc = E if rng.random() < 0.3 else (lambda x: x.replace("&", "&amp;").replace("<", "&lt;"))
    t = "".join(f'<tr><td class="e">{esc(k)} </td><td class="v">{esc(v)} </td></tr>\n' for k, v in rows)
    body = (f'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "DTD/xhtml1-transitional.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml"><head>\n'
            f'<title>PHP {ver} - phpinfo()</title><meta name="ROBOTS" content="NOINDEX,NOFOLLOW,NOARCHIVE" /></head>\n<body><div class="center">\n'
            f'<table><tr class="h"><td><h1 class="p">PHP Version {ver}</h1></td></tr></table>\n<table>\n{t}</table>\n</div></body></html>\n')
    labels = ["source"] + (["secret"] if len(rows) > 6 else [])
    return "text/html; charset=UTF-8", 200, body, labels


def c_sql_dump(rng, fake):
    tbl = rng.choice(["users", "customers", "accounts", "members"])
    head = rng.choice([f"-- MySQL dump 10.13  Distrib 8.0.{rng.randint(20, 40)}, for Linux (x86_64)\n--\n-- Host: localhost    Database: {fake.word()}\n",
                       f"--\n-- PostgreSQL database dump\n--\n\n-- Dumped from database version 15.{rng.randint(1, 8)}\n"])
    rows = ",".join(f"({i},'{fake.free_email()}','{T.bcrypt_hash(rng)}','{fake.name()}')" for i in range(1, rng.randint(3, 60)))
    body = (head + f"DROP TABLE IF EXISTS `{tbl}`;\nCREATE TABLE `{tbl}` (\n  `id` int NOT NULL AUTO_INCREMENT,\n  `email` varchar(255) NOT NULL,\n"
            f"  `password` varchar(255) NOT NULL,\n  `name` varchar(120),\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\nINSERT INTO `{tbl}` VALUES {rows};\n")
    return rng.choice(["application/sql", "text/plain", "application/octet-stream", ""]), 200, body, ["source", "secret"] + (["pii"] if rows.count("@") >= 20 else [])


def c_actuator_env(rng, fake):
    props = {"spring.datasource.url": {"value": f"jdbc:postgresql://{fake.ipv4_private()}:5432/{fake.word()}"},
             "spring.datasource.username": {"value": fake.user_name()},
             "spring.datasource.password": {"value": T.password(rng) if rng.random() < 0.7 else "******"},
             "server.port": {"value": "8080"}}
    body = {"activeProfiles": ["prod"], "propertySources": [
        {"name": "systemEnvironment", "properties": {"JAVA_HOME": {"value": "/opt/java/openjdk"}, "HOSTNAME": {"value": fake.domain_word() + "-5d8f"}}},
        {"name": "Config resource 'class path resource [application.properties]'", "properties": props}]}
    return "application/vnd.spring-boot.actuator.v3+json", 200, dumps(rng, body), ["source"]


def c_htpasswd(rng, fake):
    """A password file served as it is: .htpasswd (apr1, bcrypt), or
    /etc/shadow lines with sha-crypt hashes; a few lines are enough."""
    users = [fake.user_name() for _ in range(rng.randint(1, 12))]
    if rng.random() < 0.5:
        def h():
            return rng.choice(["$apr1$" + T.rand(rng, T.BCRYPT, 8) + "$" + T.rand(rng, T.BCRYPT, 22), T.bcrypt_hash(rng)])
        lines = [f"{u}:{h()}" for u in users]
    else:
        lines = [f"{u}:{T.password_hash(rng) if rng.random() < 0.5 else '$6$' + T.rand(rng, T.BCRYPT, 16) + '$' + T.rand(rng, T.BCRYPT, 86)}"
                 f":{rng.randint(18000, 20500)}:0:99999:7:::" for u in ["root"] + users]
    return rng.choice(["text/plain", "application/octet-stream", ""]), 200, "\n".join(lines) + "\n", ["secret"]


LEAKY = {
    "e_app_500": e_app_500,
    # secret
    "s_config_json": s_config_json, "s_env_html": s_env_html, "s_js_bundle": s_js_bundle, "s_user_hashes": s_user_hashes,
    "s_private_key": s_private_key, "s_log_tokens": s_log_tokens, "s_graphql_error": s_graphql_error, "s_k8s_secret": s_k8s_secret,
    "s_web_config": s_web_config,
    # pii
    "p_user_export": p_user_export, "p_csv": p_csv, "p_admin_table": p_admin_table, "p_cards": p_cards, "p_ibans": p_ibans,
    "p_national_ids": p_national_ids, "p_ndjson": p_ndjson, "p_xml_customers": p_xml_customers,
    # error
    "e_spring": e_spring, "e_tomcat": e_tomcat, "e_django": e_django, "e_flask": e_flask, "e_python_plain": e_python_plain,
    "e_rails": e_rails, "e_express": e_express, "e_koa_nest": e_koa_nest, "e_php": e_php, "e_aspnet": e_aspnet, "e_go_panic": e_go_panic,
    "e_sql_mysql": lambda r, f: e_sql(r, f, "mysql"), "e_sql_postgres": lambda r, f: e_sql(r, f, "postgres"),
    "e_sql_mssql": lambda r, f: e_sql(r, f, "mssql"), "e_sql_oracle": lambda r, f: e_sql(r, f, "oracle"), "e_sql_sqlite": lambda r, f: e_sql(r, f, "sqlite"),
    # source
    "c_dotenv": c_dotenv, "c_git": c_git, "c_dirlist": c_dirlist, "c_php_source": c_php_source, "c_settings_py": c_settings_py,
    "c_app_properties": c_app_properties, "c_passwd": c_passwd, "c_node_source": c_node_source, "c_docker_compose": c_docker_compose,
    "c_nginx_conf": c_nginx_conf, "c_httpd_conf": c_httpd_conf,
    "c_phpinfo": c_phpinfo, "c_htpasswd": c_htpasswd, "c_sql_dump": c_sql_dump, "c_actuator_env": c_actuator_env, "s_error_conn": s_error_conn,
}

# Families added after the corpus was first fixed (see gen.BENIGN_ADDED).
LEAKY_ADDED = {"p_phone_list": p_phone_list}
