package model

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"io"
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
// script or HTML data URL, however it is spaced or cased.
func activeAttr(name, value string) bool {
	var b strings.Builder
	for _, r := range strings.ToLower(value) {
		if r > ' ' && r != 0x7f {
			b.WriteRune(r)
		}
	}
	v := b.String()
	if len(name) > 2 && (name[0] == 'o' || name[0] == 'O') && (name[1] == 'n' || name[1] == 'N') &&
		strings.ContainsAny(v, "(`=") {
		return true
	}
	return strings.Contains(v, "javascript:") || strings.Contains(v, "vbscript:") || strings.Contains(v, "livescript:") ||
		strings.HasPrefix(v, "data:") || strings.Contains(v, "data:text/html") || strings.Contains(v, "data:image/svg") ||
		strings.Contains(v, "data:application/")
}

// looksLikeXML reports a body to try as XML: an XML media type, or a
// document that begins with an XML declaration.
func looksLikeXML(mt string, body []byte) bool {
	return strings.HasSuffix(mt, "/xml") || strings.HasSuffix(mt, "+xml") ||
		bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n\ufeff"), []byte("<?xml"))
}

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
	var path []string
	// RawToken keeps prefixes as written and does not match end tags to
	// start tags; open holds the qualified names to match them here.
	var open []xml.Name
	var text strings.Builder
	roots := 0
	name := func(extra string) string {
		n := prefix + strings.Join(path[:min(len(path), maxJSONDepth)], ".")
		if extra != "" {
			n = joinName(n, "", extra)
		}
		if len(n) > maxFieldName {
			n = n[:maxFieldName]
		}
		return n
	}
	emit := func(n, v string) {
		if strings.TrimSpace(v) == "" {
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
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			flush()
			if len(path) == 0 {
				roots++
			}
			if t.Name.Space == "" && activeElements[strings.ToLower(t.Name.Local)] {
				return false
			}
			path = append(path, t.Name.Local)
			open = append(open, t.Name)
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					v := strings.ToLower(a.Value)
					for _, ns := range activeNamespaces {
						if strings.Contains(v, ns) {
							return false
						}
					}
					continue
				}
				if activeAttr(a.Name.Local, a.Value) {
					return false
				}
				emit(name("@"+a.Name.Local), a.Value)
			}
		case xml.EndElement:
			flush()
			if len(open) == 0 || open[len(open)-1] != t.Name {
				return false
			}
			path, open = path[:len(path)-1], open[:len(open)-1]
		case xml.CharData:
			if len(path) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return false // text outside the root element
				}
				continue
			}
			text.Write(t)
		case xml.Comment:
			emit(name("!--"), string(t))
		case xml.ProcInst:
			if t.Target == "xml" && roots == 0 {
				continue // the declaration
			}
			emit(name("?"+t.Target), string(t.Inst))
		case xml.Directive:
			emit(name("!"), string(t))
		}
	}
	return roots == 1 && len(path) == 0
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
