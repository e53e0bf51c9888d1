"""Small drawing helpers over an explicit random.Random (never the global one)."""
import base64
import json
import string


def pick(r, seq):
    return seq[r.randrange(len(seq))]


def chance(r, p):
    return r.random() < p


def b64(r, n):
    return base64.b64encode(r.randbytes(n)).decode()


def b64url(r, n):
    return base64.urlsafe_b64encode(r.randbytes(n)).decode().rstrip("=")


def jwt(r):
    head = base64.urlsafe_b64encode(json.dumps({"alg": pick(r, ["HS256", "RS256"]), "typ": "JWT"}).encode()).decode().rstrip("=")
    body = base64.urlsafe_b64encode(json.dumps({"sub": str(r.randint(1, 10**6)), "iat": r.randint(1600000000, 1800000000), "scope": "read write"}).encode()).decode().rstrip("=")
    return f"{head}.{body}.{b64url(r, 32)}"


def uuid4(r):
    return "%08x-%04x-4%03x-%04x-%012x" % (r.getrandbits(32), r.getrandbits(16), r.getrandbits(12), r.getrandbits(16) | 0x8000 & 0xbfff, r.getrandbits(48))


def hexs(r, n):
    return "".join(r.choice("0123456789abcdef") for _ in range(n))



def rnum(r):
    return str(r.randint(1, 9999))


def rstr(r, n=None):
    return "".join(r.choice(string.ascii_letters) for _ in range(n or r.randint(3, 8)))


