package model

import (
	"strings"

	"golang.org/x/net/html"
)

// Rich-text editors (TinyMCE, CKEditor, Quill, a webmail compose window)
// post HTML, and the model reads markup as XSS: on 120 blind requests of
// editor and email content it scored 43 attacks. Markup that an HTML
// sanitizer would keep as it is cannot run script, so such a value is
// scored as what it says (its text, and its attribute values as fields of
// their own) instead of as markup. Everything else stays one field: a
// script, an event handler, a javascript: link, an element or attribute
// off the lists below, a comment, a doctype. The lists are short on
// purpose; whatever they miss is scored as before.

// safeElements are the elements of formatted text. Left out are those that
// run or load code (script, iframe, object, embed, form, base, meta,
// link, style) and those whose content the HTML parser reads differently
// from other elements, which is how mutation XSS gets past sanitizers
// (noscript, template, svg, math, textarea, title, select, xmp).
var safeElements = setOf(`p br div span a b strong i em u s strike sub sup small big mark
	blockquote q cite code pre kbd samp var h1 h2 h3 h4 h5 h6 ul ol li dl dt dd table thead
	tbody tfoot tr td th caption colgroup col hr img figure figcaption font center abbr
	address del ins section article header footer aside main wbr time body`)

// blockElements structure a document. A fragment needs one to read as
// editor content: the payload lists' HTML injections are a lone link or
// image (`<A HREF="http://0x42.0x66.0x7.0x93/">XSS</A>`), which the
// model keeps scoring as markup.
var blockElements = setOf(`p div br li ul ol table tr td th h1 h2 h3 h4 h5 h6 blockquote pre hr
	section article figure body`)

// safeAttributes carry presentation; href, src and style are checked by
// value, data-* and aria-* are allowed by prefix.
var safeAttributes = setOf(`class id title alt width height align valign border cellpadding
	cellspacing colspan rowspan bgcolor color face size dir lang target rel name start type
	datetime role href src style cite spellcheck itemscope itemtype itemid itemprop tabindex
	scope headers nowrap summary reversed translate`)

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// looksLikeMarkup: a "<" followed by a letter or "/", and a ">".
func looksLikeMarkup(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '<' && (s[i+1] == '/' || s[i+1]|0x20 >= 'a' && s[i+1]|0x20 <= 'z') {
			return strings.IndexByte(s[i:], '>') > 0
		}
	}
	return false
}

// htmlAttr is one attribute of a safe fragment, scored as a field.
type htmlAttr struct {
	name, value string
	url         bool
}

// safeHTML tokenizes s as an HTML fragment, as a browser would, and
// returns its text and attributes when every tag, attribute and value is
// one a sanitizer keeps and a block element structures it; ok is false
// otherwise.
func safeHTML(s string) (text string, attrs []htmlAttr, ok bool) {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	blocks := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			// The only error of a string reader is its end.
			return strings.TrimSpace(b.String()), attrs, blocks > 0
		case html.TextToken:
			// The text as the reader sees it, entities undone: a code block
			// is `>>> import x`, not `&gt;&gt;&gt;`, whose entities read as
			// an encoded payload.
			b.Write(z.Text())
		case html.StartTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			el := string(name)
			if !safeElements[el] {
				return "", nil, false
			}
			if blockElements[el] {
				blocks++
			}
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				a := string(k)
				switch {
				case strings.HasPrefix(a, "data-") || strings.HasPrefix(a, "aria-"):
				case !safeAttributes[a]:
					return "", nil, false
				case a == "style" && !plainStyle(string(v)):
					return "", nil, false
				case (a == "href" || a == "cite") && !safeLink(string(v), false):
					return "", nil, false
				case a == "src" && (el != "img" || !safeLink(string(v), true)):
					return "", nil, false
				}
				if len(v) > 0 {
					attrs = append(attrs, htmlAttr{name: el + "@" + a, value: string(v), url: a == "href" || a == "src" || a == "cite"})
				}
			}
			// Block elements separate words, as the text reads on screen.
			b.WriteByte(' ')
		case html.EndTagToken:
			name, _ := z.TagName()
			if !safeElements[string(name)] {
				return "", nil, false
			}
			b.WriteByte(' ')
		case html.CommentToken:
			// A comment is inert to a browser's tokenizer, which this one
			// follows; WordPress's block editor writes its blocks as comments
			// (`<!-- wp:heading {"level":2} -->`). Its text is scored. One
			// with markup, a conditional (`<!--[if mso]>`, which old
			// Internet Explorers and Outlook read) or a server-side include
			// (`<!--#exec cmd="id" -->`, which the server runs) is not safe,
			// nor one with a NUL (the tokenizer's U+FFFD): a payload list's
			// IE document-mode comment hides its words that way.
			c := string(z.Text())
			if strings.ContainsAny(c, "<>\x00\ufffd") || strings.Contains(c, "[if") || strings.HasPrefix(strings.TrimSpace(c), "#") {
				return "", nil, false
			}
			if c = strings.TrimSpace(c); c != "" {
				attrs = append(attrs, htmlAttr{name: "!--", value: c})
			}
		default:
			// Doctypes: a document, not a fragment of formatted text.
			return "", nil, false
		}
	}
}

// safeLink reports whether a link a browser follows from an attribute is
// a web, mail or phone address or a relative one; img allows inline
// raster images too. The tokenizer has decoded entities; browsers also
// drop ASCII whitespace and control bytes before reading the scheme
// (`java&#x09;script:`), so this does.
func safeLink(v string, img bool) bool {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if c := v[i]; c > ' ' && c != 0x7f {
			b.WriteByte(c)
		}
	}
	u := strings.ToLower(b.String())
	colon := strings.IndexByte(u, ':')
	if colon < 0 || strings.ContainsAny(u[:colon], "/?#") {
		return true // relative
	}
	switch scheme := u[:colon]; {
	case scheme == "http" || scheme == "https":
		return true
	case !img && (scheme == "mailto" || scheme == "tel"):
		return true
	case img && scheme == "data":
		for _, t := range []string{"data:image/png;base64,", "data:image/jpeg;base64,", "data:image/gif;base64,", "data:image/webp;base64,"} {
			if strings.HasPrefix(u, t) {
				return true
			}
		}
	}
	return false
}

// plainStyle reports whether an inline style only sets properties: no
// url(), expression(), binding, import, escape or comment, which is where
// CSS loads or runs anything.
func plainStyle(v string) bool {
	l := strings.ToLower(v)
	for _, bad := range []string{"url(", "expression", "javascript", "behavior", "binding", "@import", "\\", "/*", "<", "&"} {
		if strings.Contains(l, bad) {
			return false
		}
	}
	return true
}

// html emits the text and the attributes of f when its value is a safe
// HTML fragment (see safeHTML), and reports whether it was.
func (c *collector) html(f Field, t string, lvl int) bool {
	// Editors post their HTML in bodies; a query parameter or a header
	// that carries markup is scored as markup.
	if f.Part != PartBody || !looksLikeMarkup(t) {
		return false
	}
	text, attrs, ok := safeHTML(t)
	if !ok {
		return false
	}
	if text != "" {
		c.emit(Field{Part: f.Part, Name: f.Name, Raw: text, origin: f.origin})
	}
	for _, a := range attrs {
		af := Field{Part: f.Part, Name: f.Name + "." + a.name, Raw: a.value, origin: f.origin}
		if a.url {
			c.value(af, lvl+1)
			continue
		}
		c.emit(af)
	}
	return true
}
