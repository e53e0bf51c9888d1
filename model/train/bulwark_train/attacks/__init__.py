"""Attack grammars per class and the family table the corpus draws from.

ATTACKS maps a model class to (family, generator, weight); a generator is
called as fn(r, sqlmap_payloads)."""
from .rce import rce_code, rce_jndi, rce_ssti, rce_unix, rce_windows
from .sqli import SQLMapPayloads, sqli_boolean, sqli_error, sqli_inline, sqli_stacked, sqli_time, sqli_union
from .traversal import TRAV_TARGETS, lfi_wrapper, rfi, trav_abs, trav_dotdot
from .xss import xss_attr_break, xss_event, xss_polyglot, xss_script, xss_uri

__all__ = ["ATTACKS", "SQLMapPayloads", "TRAV_TARGETS"]

ATTACKS = {
    "sqli": [("sqli_boolean", sqli_boolean, 3), ("sqli_union", sqli_union, 3), ("sqli_error", sqli_error, 2), ("sqli_time", sqli_time, 2),
             ("sqli_stacked", sqli_stacked, 1), ("sqli_inline", sqli_inline, 1)],
    "xss": [("xss_script", lambda r, sm: xss_script(r), 2), ("xss_event", lambda r, sm: xss_event(r), 3), ("xss_uri", lambda r, sm: xss_uri(r), 2),
            ("xss_attr_break", lambda r, sm: xss_attr_break(r), 2), ("xss_polyglot", lambda r, sm: xss_polyglot(r), 1)],
    "rce": [("rce_unix", lambda r, sm: rce_unix(r), 3), ("rce_windows", lambda r, sm: rce_windows(r), 1), ("rce_code", lambda r, sm: rce_code(r), 2),
            ("rce_ssti", lambda r, sm: rce_ssti(r), 2), ("rce_jndi", lambda r, sm: rce_jndi(r), 1)],
    "traversal": [("trav_dotdot", lambda r, sm: trav_dotdot(r), 4), ("trav_abs", lambda r, sm: trav_abs(r), 2), ("lfi_wrapper", lambda r, sm: lfi_wrapper(r), 1),
                  ("rfi", lambda r, sm: rfi(r), 1)],
}


