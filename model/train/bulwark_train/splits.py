"""How records are split. Splits never depend on the order records are
drawn in: a key is hashed, so a payload and its obfuscated variants, or all
requests of one real capture, always land on the same side."""
import hashlib

# Generator families never trained on; one per class, sibling shapes of
# trained ones rather than unrelated novelties.
HOLDOUT_FAMILIES = {"sqli_stacked", "xss_attr_break", "rce_windows", "lfi_wrapper"}


def bucket(key):
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100


def generator_split(key, holdout_family):
    """train 70 / valid 10 / test 20 for generated records."""
    if holdout_family:
        return "family_test"
    h = bucket(key)
    return "train" if h < 70 else "valid" if h < 80 else "test"


def real_split(capture):
    """train 80 / valid 20 for the captures of a real source kept in training."""
    return "train" if bucket("capture:" + capture) < 80 else "valid"


def list_split(source, cls, line):
    """train 80 / valid 20 for the payload lines of a source kept in training."""
    return "train" if bucket(f"{source}:{cls}:{line}") < 80 else "valid"
