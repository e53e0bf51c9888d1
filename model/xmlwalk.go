package model

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"
)

// XML bodies (SOAP, SAML, XML-RPC, S3's and many enterprise APIs) are
// walked like JSON: each text node and attribute value is a field named by
// its element path ("Envelope.Body.GetQuote.symbol", "order.customer@name"),
// after the standard and HTML entities are undone as the application's
// parser would undo them. Scored whole, the markup itself looked like
// cross-site scripting to the model: a WS-Security SOAP call and a SAML
// request scored 21 and an order with an escaped "<thanks>" 8, all
// passed by CRS. Comments, processing instructions and declarations
// (where an XXE entity is defined) are fields too.
//
// A document that carries HTML (an XHTML, SVG or MathML namespace, an
// element HTML executes such as script, svg or iframe, an on* attribute, a
// javascript: or data: URL) is not split: there the markup is the payload, and the
// document is scored whole as before. So is anything that is not strict,
// well-formed UTF-8 XML.

// activeElements are the element names, without a prefix, that act in a
// browser or switch its parser (script, iframe, svg, math, the raw-text
// elements of mutation XSS). The list is short on purpose: XML
// vocabularies reuse HTML's names ("title", "link", "image", "data",
// "details", "object", "style", "form" in RSS, KML, XML-RPC and APIs
// converted from JSON), and an element that needs an attribute to do harm
// (img onerror, a href=javascript:) is caught by its attribute.
var activeElements = map[string]bool{
	"script": true, "iframe": true, "frame": true, "frameset": true, "svg": true, "math": true,
	"applet": true, "xss": true, "isindex": true, "bgsound": true, "xmp": true, "plaintext": true,
	"listing": true, "noembed": true, "noframes": true, "noscript": true, "portal": true,
}

// activeNamespaces are the namespaces of markup browsers render.
var activeNamespaces = []string{"www.w3.org/1999/xhtml", "www.w3.org/2000/svg", "www.w3.org/1998/math/mathml"}

// activeAttr reports an attribute that makes markup act: an event handler
// (on…, with a value that is code, so "one" and "online" stay data) or a
// script or data URL, however it is spaced or cased.
func activeAttr(name, value string) bool {
	v := compactLower(value)
	if len(name) > 2 && (name[0] == 'o' || name[0] == 'O') && (name[1] == 'n' || name[1] == 'N') &&
		strings.ContainsAny(v, "(`=") {
		return true
	}
	return strings.HasPrefix(v, "data:") || scriptURL(v)
}

// compactLower is v lower-cased without spaces and control characters, as
// a browser reads a URL's scheme (`JaVa\tScRiPt:`).
func compactLower(v string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(v) {
		if r > ' ' && r != 0x7f {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// scriptURL reports whether v, compacted, holds a URL a browser runs as
// script or renders as a document: a javascript:, vbscript: or
// livescript: URL, or an HTML, SVG or application data URL.
func scriptURL(v string) bool {
	return strings.Contains(v, "javascript:") || strings.Contains(v, "vbscript:") || strings.Contains(v, "livescript:") ||
		strings.Contains(v, "data:text/html") || strings.Contains(v, "data:image/svg") || strings.Contains(v, "data:application/")
}

// looksLikeXML reports a body to try as XML: an XML media type. A form,
// multipart or text body that begins with "<?xml" is the application's
// string, not a document it parses, and is scored as it is.
func looksLikeXML(mt string) bool {
	return strings.HasSuffix(mt, "/xml") || strings.HasSuffix(mt, "+xml")
}

// xmlDecl matches the XML declaration as the spec allows it: a version,
// then optionally an encoding and standalone. Anything else in it is text
// the walk would drop, so such a document is not split.
var xmlDecl = regexp.MustCompile(`^\s*version\s*=\s*("1\.[0-9]+"|'1\.[0-9]+')(\s+encoding\s*=\s*("[A-Za-z][A-Za-z0-9._-]*"|'[A-Za-z][A-Za-z0-9._-]*'))?(\s+standalone\s*=\s*("(yes|no)"|'(yes|no)'))?\s*$`)

// maxXMLName bounds one element or attribute name in a field's name, so
// that long names cannot make every field's name expensive to build.
const maxXMLName = 64

// walkXMLFields emits the fields of an XML document (see above); it
// returns false when body is not one to split, and the caller withdraws
// what was emitted and scores the text whole.
func walkXMLFields(body, part, prefix, origin string, lvl int, c *collector) bool {
	d := xml.NewDecoder(strings.NewReader(body))
	d.Strict = true
	d.Entity = xml.HTMLEntity
	// The bytes are scored as they are: a declared charset changes
	// nothing here, and bytes that are not UTF-8 make the decoder fail.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	// RawToken keeps prefixes as written and does not match end tags to
	// start tags; open holds the qualified names to match them here, and
	// names the field name of each open element (capped as it grows).
	var open []xml.Name
	names := []string{strings.TrimSuffix(prefix, ".")}
	var text strings.Builder
	// all is the document's text in order (what textContent gives an
	// application): a payload split by child elements (1' UNI<i/>ON) is
	// whole there. mixed says an element had text and child elements.
	var all strings.Builder
	mixed := false
	roots := 0
	name := func(extra string) string {
		n := names[len(names)-1]
		if extra != "" {
			n = joinName(n, "", extra)
		}
		return n
	}
	full := func() bool { return len(c.fs) >= maxCollect }
	emit := func(n, v string) {
		if strings.TrimSpace(v) == "" || full() {
			return
		}
		org := origin
		if org == "" {
			org = n
		}
		c.value(Field{Part: part, Name: n, Raw: v, origin: org}, lvl+1)
	}
	flush := func() {
		if text.Len() > 0 {
			emit(name(""), text.String())
			text.Reset()
		}
	}
	activeNS := func(v string) bool {
		v = strings.ToLower(v)
		for _, ns := range activeNamespaces {
			if strings.Contains(v, ns) {
				return true
			}
		}
		return false
	}
	hadChild := []bool{false}
	for !full() {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if text.Len() > 0 {
				mixed = true
			}
			flush()
			if len(open) == 0 {
				roots++
			}
			if t.Name.Space == "" && activeElements[strings.ToLower(t.Name.Local)] {
				return false
			}
			hadChild[len(hadChild)-1] = true
			local := t.Name.Local[:min(len(t.Name.Local), maxXMLName)]
			n := names[len(names)-1]
			switch {
			case len(open) >= maxJSONDepth:
			case n == "":
				n = local
			default:
				n = joinName(n, ".", local)
			}
			names = append(names, n)
			open = append(open, t.Name)
			hadChild = append(hadChild, false)
			for _, a := range t.Attr {
				isNS := a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns"
				if isNS && activeNS(a.Value) || !isNS && activeAttr(a.Name.Local, a.Value) {
					return false
				}
				emit(name("@"+a.Name.Local[:min(len(a.Name.Local), maxXMLName)]), a.Value)
			}
		case xml.EndElement:
			flush()
			if len(open) == 0 || open[len(open)-1] != t.Name {
				return false
			}
			names, open, hadChild = names[:len(names)-1], open[:len(open)-1], hadChild[:len(hadChild)-1]
		case xml.CharData:
			if len(open) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return false // text outside the root element
				}
				continue
			}
			if hadChild[len(hadChild)-1] && len(bytes.TrimSpace(t)) > 0 {
				mixed = true
			}
			text.Write(t)
			if all.Len() < maxBodyBytes {
				all.Write(t)
			}
		case xml.Comment:
			emit(name("!--"), string(t))
		case xml.ProcInst:
			if t.Target == "xml" && roots == 0 {
				if !xmlDecl.Match(t.Inst) {
					return false
				}
				continue // the declaration
			}
			emit(name("?"+t.Target), string(t.Inst))
		case xml.Directive:
			// a namespace can be defaulted from the DOCTYPE
			// (<!ATTLIST r xmlns CDATA #FIXED "…xhtml">)
			if activeNS(string(t)) {
				return false
			}
			emit(name("!"), string(t))
		}
	}
	if full() {
		c.incomplete("more than 4096 fields")
		return true
	}
	if mixed {
		// the text as the application reads it out of the document
		emit(joinName(strings.TrimSuffix(prefix, "."), "", "#text"), all.String())
	}
	return roots == 1 && len(open) == 0
}

// base64XML decodes a value that is base64 of an XML document (a byte
// order mark allowed); the caller walks it like an XML body.
func base64XML(s string) (string, bool) {
	// base64 of "<" begins with P; of a byte order mark and "<", with 77u/P
	if len(s) < 24 || s[0] != 'P' && !strings.HasPrefix(s, "77u/P") {
		return "", false
	}
	n := len(s)
	for n > 0 && s[n-1] == '=' {
		n--
	}
	// Prose that starts with a P is the common case here: look at the
	// alphabet before the decoder allocates its output.
	if !base64Alphabet(s[:n]) {
		return "", false
	}
	raw, err := base64.RawStdEncoding.DecodeString(s[:n])
	if err != nil || !utf8.Valid(raw) {
		return "", false
	}
	d := strings.TrimPrefix(string(raw), "\ufeff")
	if !strings.HasPrefix(d, "<") {
		return "", false
	}
	return d, true
}
