"""The XML, SOAP and GraphQL carriers (bulwark_train.carriers): what they
build parses as the format it claims, and a payload arrives intact."""
import json
import random
import xml.etree.ElementTree as ET

from bulwark_train import carriers

API = [{"uri": "/v1/orders?x=1", "body": json.dumps({"name": "Zoë & <Co>", "n": 3, "tags": ["a", "b"], "addr": {"city": "Köln"}, "none": None})}] * 6


def test_benign_rows_parse():
    rows = carriers.benign(random.Random(1), API, 6)
    assert {r["source"] for r in rows} == {"xml", "soap", "graphql"}
    for r in rows:
        if r["source"] == "graphql":
            q = json.loads(r["body"])["query"]
            assert '"Zoë & <Co>"' in q and q.startswith("mutation ")
        else:
            root = ET.fromstring(r["body"].encode())
            assert "Zoë & <Co>" in "".join(root.itertext())


def test_payload_arrives_intact():
    lists = {"xss": ['<img src=x onerror="alert(1)">'] * 8, "sqli": ["1' OR '1'='1"] * 8}
    rows = carriers.attacks(random.Random(2), lists, 16)
    assert {r["source"] for r in rows} == {"xml", "soap", "graphql"}
    for r in rows:
        if r["source"] == "graphql":
            text = json.loads(r["body"])["query"]
            assert carriers.gql_string("<img src=x onerror=\"alert(1)\">") in text or carriers.gql_string("1' OR '1'='1") in text
            continue
        root = ET.fromstring(r["body"].encode())
        seen = "".join(root.itertext()) + "".join(v for e in root.iter() for v in e.attrib.values())
        assert any(p[0] in seen for p in lists.values())


def test_gql_string_escapes():
    assert carriers.gql_string('a"b\\c\n\x01') == '"a\\"b\\\\c\\n\\u0001"'
