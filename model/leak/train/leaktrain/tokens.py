"""Realistic secret and personal-data values, all drawn from a passed-in
random.Random so that a seed reproduces the corpus."""
import base64
import json
import string

UPPER = string.ascii_uppercase
ALNUM = string.ascii_letters + string.digits
B32 = UPPER + "234567"
B64 = ALNUM + "+/"
BCRYPT = "./" + ALNUM
HEX = "0123456789abcdef"


def rand(rng, alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


def aws_key_id(rng):
    return rng.choice(["AKIA", "AKIA", "AKIA", "ASIA"]) + rand(rng, B32, 16)


def aws_secret(rng):
    return rand(rng, B64, 40)


def stripe_live(rng):
    return rng.choice(["sk_live_", "rk_live_"]) + rand(rng, ALNUM, rng.choice([24, 99]))


def stripe_test(rng):
    return "sk_test_" + rand(rng, ALNUM, 24)


def github_token(rng):
    if rng.random() < 0.2:
        return "github_pat_" + rand(rng, ALNUM, 22) + "_" + rand(rng, ALNUM, 59)
    return rng.choice(["ghp_", "gho_", "ghs_"]) + rand(rng, ALNUM, 36)


def slack_token(rng):
    return rng.choice(["xoxb-", "xoxp-"]) + rand(rng, string.digits, 12) + "-" + rand(rng, string.digits, 13) + "-" + rand(rng, ALNUM, 24)


def google_key(rng):
    return "AIza" + rand(rng, ALNUM + "_-", 35)


def other_token(rng):
    k = rng.randrange(4)
    if k == 0:
        return "glpat-" + rand(rng, ALNUM + "_-", 20)
    if k == 1:
        return "SG." + rand(rng, ALNUM + "_-", 22) + "." + rand(rng, ALNUM + "_-", 43)
    if k == 2:
        return "npm_" + rand(rng, ALNUM, 36)
    return "sk-proj-" + rand(rng, ALNUM + "_-", 48)


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(rng, fake=None):
    hdr = {"alg": rng.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"}
    if rng.random() < 0.5:
        hdr["kid"] = rand(rng, HEX, 16)
    payload = {"sub": str(rng.randrange(10**5, 10**9)), "iat": rng.randrange(1_600_000_000, 1_800_000_000),
               "exp": rng.randrange(1_800_000_000, 1_900_000_000), "scope": rng.choice(["read", "admin", "read write"])}
    if fake is not None and rng.random() < 0.5:
        payload["email"] = fake.free_email()
    sig = bytes(rng.randrange(256) for _ in range(rng.choice([32, 64, 256])))
    return ".".join([b64url(json.dumps(hdr, separators=(",", ":")).encode()),
                     b64url(json.dumps(payload, separators=(",", ":")).encode()), b64url(sig)])


def private_key(rng):
    kind = rng.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"])
    lines = [rand(rng, B64, 64) for _ in range(rng.randint(8, 26))]
    lines.append(rand(rng, B64, rng.randint(8, 60)) + "==")
    return f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"\n-----END {kind}-----\n"


def bcrypt_hash(rng):
    return "$2" + rng.choice("aby") + "$" + rng.choice(["10", "12", "11"]) + "$" + rand(rng, BCRYPT, 53)


def password_hash(rng):
    k = rng.randrange(4)
    if k == 0:
        return bcrypt_hash(rng)
    if k == 1:
        return "$6$" + rand(rng, BCRYPT, 16) + "$" + rand(rng, BCRYPT, 86)
    if k == 2:
        return "pbkdf2_sha256$" + str(rng.choice([260000, 390000, 600000])) + "$" + rand(rng, ALNUM, 22) + "$" + rand(rng, B64, 43) + "="
    return "$argon2id$v=19$m=65536,t=3,p=4$" + rand(rng, B64, 22) + "$" + rand(rng, B64, 43)


def password(rng):
    return rand(rng, ALNUM, rng.randint(2, 5)) + rng.choice(["!", "#", "_", "", "@2024", "$"]) + rand(rng, ALNUM, rng.randint(6, 14))


def basic_auth(rng, fake):
    """An HTTP Basic credential as it is sent: base64 of user:password."""
    return base64.b64encode(f"{fake.user_name()}:{password(rng)}".encode()).decode()


def conn_string(rng, fake):
    scheme = rng.choice(["postgres", "postgresql", "mysql", "mongodb+srv", "redis", "amqp", "mongodb"])
    user = rng.choice(["admin", "app", "root", "svc_orders", fake.user_name()])
    host = rng.choice(["db.internal", "10.0.%d.%d" % (rng.randrange(256), rng.randrange(256)),
                       fake.domain_word() + "-prod.cluster-" + rand(rng, HEX, 12) + ".us-east-1.rds.amazonaws.com",
                       "cluster0." + rand(rng, HEX, 5) + ".mongodb.net"])
    port = {"postgres": 5432, "postgresql": 5432, "mysql": 3306, "redis": 6379, "amqp": 5672}.get(scheme)
    db = rng.choice(["prod", "orders", "app", "main", "users"])
    hp = f"{host}:{port}" if port else host
    return f"{scheme}://{user}:{password(rng)}@{hp}/{db}"


def ado_conn(rng, fake):
    return (f"Server=tcp:{fake.domain_word()}.database.windows.net,1433;Initial Catalog={rng.choice(['Orders','Crm','App'])};"
            f"User ID={fake.user_name()};Password={password(rng)};Encrypt=True;")


def luhn_complete(prefix, length, rng):
    digits = [int(c) for c in prefix]
    while len(digits) < length - 1:
        digits.append(rng.randrange(10))
    s = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        s += d
    digits.append((10 - s % 10) % 10)
    return "".join(map(str, digits))


def card(rng):
    k = rng.randrange(5)
    if k == 0:
        return luhn_complete("4" + str(rng.randrange(10**4, 10**5)), 16, rng)
    if k == 1:
        return luhn_complete(str(rng.randint(51, 55)), 16, rng)
    if k == 2:
        return luhn_complete(rng.choice(["34", "37"]), 15, rng)
    if k == 3:
        return luhn_complete("6011", 16, rng)
    return luhn_complete(str(rng.randint(2221, 2720)), 16, rng)


def card_formatted(rng, c=None):
    c = c or card(rng)
    st = rng.randrange(3)
    if st == 0:
        return c
    sep = " " if st == 1 else "-"
    if len(c) == 15:
        return sep.join([c[:4], c[4:10], c[10:]])
    return sep.join(c[i:i + 4] for i in range(0, len(c), 4))


TEST_CARDS = ["4242424242424242", "4000056655665556", "5555555555554444", "2223003122003222", "5200828282828210",
              "5105105105105100", "378282246310005", "371449635398431", "6011111111111117", "6011000990139424",
              "3056930009020004", "36227206271667", "3566002020360505", "6200000000000005", "4111111111111111",
              "4012888888881881", "4000000000000002", "4000000000009995", "4000002500003155"]

IBAN_FMT = {"DE": (8, 10, "n"), "FR": (10, 13, "fr"), "GB": (4, 14, "gb"), "NL": (4, 10, "nl"), "ES": (8, 12, "n"),
            "IT": (11, 12, "it"), "BE": (3, 9, "n"), "AT": (5, 11, "n"), "CH": (5, 12, "n"), "PL": (8, 16, "n")}


def iban(rng, country=None):
    country = country or rng.choice(list(IBAN_FMT))
    a, b, kind = IBAN_FMT[country]
    if kind == "gb":
        bban = rand(rng, UPPER, 4) + rand(rng, string.digits, 14)
    elif kind == "nl":
        bban = rand(rng, UPPER, 4) + rand(rng, string.digits, 10)
    elif kind == "it":
        bban = rng.choice(UPPER) + rand(rng, string.digits, 22)
    elif kind == "fr":
        bban = rand(rng, string.digits, 21) + rand(rng, string.digits, 2)
    else:
        bban = rand(rng, string.digits, a + b)
    need = {"DE": 18, "FR": 23, "GB": 18, "NL": 14, "ES": 20, "IT": 23, "BE": 12, "AT": 16, "CH": 17, "PL": 24}[country]
    bban = (bban + rand(rng, string.digits, need))[:need]
    num = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(num) % 97
    return f"{country}{check:02d}{bban}"


def iban_formatted(rng, v=None):
    v = v or iban(rng)
    if rng.random() < 0.4:
        return " ".join(v[i:i + 4] for i in range(0, len(v), 4))
    return v


def ssn(rng):
    while True:
        a = rng.randint(1, 899)
        if a != 666:
            break
    return f"{a:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def nino(rng):
    first = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    return first + second + rand(rng, string.digits, 6) + rng.choice("ABCD")


def dni(rng):
    n = rng.randrange(10**7, 10**8)
    return f"{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]}"


def national_id(rng):
    return rng.choice([ssn, nino, dni])(rng)


def us_phone(rng):
    a, b, c = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
    st = rng.randrange(4)
    if st == 0:
        return f"({a}) {b}-{c:04d}"
    if st == 1:
        return f"{a}-{b}-{c:04d}"
    if st == 2:
        return f"+1 {a} {b} {c:04d}"
    return f"+1{a}{b}{c:04d}"


def intl_phone(rng):
    cc = rng.choice(["44", "49", "33", "34", "39", "31", "61", "81", "91"])
    return "+" + cc + " " + rand(rng, string.digits, 3) + " " + rand(rng, string.digits, 3) + " " + rand(rng, string.digits, 4)


def national_phone(rng):
    """A number in a European national format: trunk prefix 0, grouped as
    the country writes it (UK, Germany, France, the Netherlands)."""
    d = string.digits
    k = rng.randrange(5)
    if k == 0:
        return "07" + rand(rng, d, 3) + " " + rand(rng, d, 6)
    if k == 1:
        return "020 " + rand(rng, d, 4) + " " + rand(rng, d, 4)
    if k == 2:
        return "0" + str(rng.randint(30, 89)) + rng.choice([" ", "-", " "]) + rand(rng, d, 7)
    if k == 3:
        return "0" + str(rng.randint(6, 7)) + " " + " ".join(rand(rng, d, 2) for _ in range(4))
    return "06-" + rand(rng, d, 8)


def phone(rng):
    return us_phone(rng) if rng.random() < 0.6 else intl_phone(rng)


def any_secret(rng, fake):
    """A (kind, key name, value) triple of one credential."""
    k = rng.randrange(11)
    return [
        ("aws", "aws_access_key_id", aws_key_id(rng)),
        ("aws_secret", "aws_secret_access_key", aws_secret(rng)),
        ("stripe", "stripe_secret_key", stripe_live(rng)),
        ("github", "github_token", github_token(rng)),
        ("slack", "slack_bot_token", slack_token(rng)),
        ("google", "google_maps_api_key", google_key(rng)),
        ("other", "sendgrid_api_key", other_token(rng)),
        ("db", "database_url", conn_string(rng, fake)),
        ("jwt", "service_token", jwt(rng)),
        ("hash", "password_hash", password_hash(rng)),
        ("pw", "db_password", password(rng)),
    ][k]
