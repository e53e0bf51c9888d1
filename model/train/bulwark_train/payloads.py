"""The vendored public payload lists (data/traffic/payloads): PayloadsAllTheThings
and fuzzdb, one payload per line, by class.

Lists of classes the model does not score (xxe, ldap, nosqli, xpath, crlf,
open-redirect) are not used. SSI counts as rce, as docs/MODEL.md defines
the class. Placeholders are filled from the explicit generator. Lines that
need a remote URL to mean anything (fuzzdb's RFI templates, XXpathXX) are
left out: a full URL in a parameter is ordinary traffic, and remote file
inclusion by URL is CRS's rule 931100's job, not a lexical model's.

Fragments are left out too: lines that, once percent-decoded, are shorter
than three characters (`1`, `!`, `'`, `%26`) or one bare word of letters
(`ls`, `dir`, `ipconfig`, `config.php` stays). The lists carry them as
fuzzing probes; they are an attack only in a context no WAF can see, and
labelled attacks they teach a model that a page number or a word is one.
"""
import gzip
import os
import re
import urllib.parse

from .attacks import TRAV_TARGETS
from .draw import pick

SOURCES = ("PayloadsAllTheThings", "fuzzdb")
CLASS_FILES = {"sqli": ["sqli"], "xss": ["xss"], "rce": ["rce", "ssi"], "traversal": ["traversal"]}
UNIX = ["id", "whoami", "cat /etc/passwd", "uname -a", "ls -la", "sleep 5"]


def load(data_dir):
    """Returns {source: {class: [lines]}} in file order."""
    out = {}
    for src in SOURCES:
        out[src] = {}
        for cls, files in CLASS_FILES.items():
            lines = []
            for name in files:
                path = os.path.join(data_dir, "traffic", "payloads", src, f"{name}.txt.gz")
                with gzip.open(path, "rt", encoding="utf-8") as f:
                    for line in f:
                        line = line.rstrip("\n")
                        if line and "XXpathXX" not in line and not fragment(line):
                            lines.append(line)
            if not lines:
                raise ValueError(f"no {cls} payloads in {src}")
            out[src][cls] = lines
    return out


_WORD = re.compile(r"[A-Za-z]+")


def fragment(line):
    """A probe or fragment rather than an attack (see the module's doc)."""
    d = urllib.parse.unquote(line)
    return len(d.strip(' ')) < 3 or bool(_WORD.fullmatch(d))


def fill(r, line):
    """Fills the placeholders the lists use."""
    if "{FILE}" in line:
        line = line.replace("{FILE}", pick(r, TRAV_TARGETS))
    if "{cmd}" in line:
        line = line.replace("{cmd}", pick(r, UNIX))
    if "[command]" in line:
        line = line.replace("[command]", pick(r, UNIX))
    if "%(base64)s" in line:
        line = line.replace("%(base64)s", "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==")
    return line
