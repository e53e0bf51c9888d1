package model

import (
	"mime"
	"path"
	"strings"

	"golang.org/x/net/html"
)

// An uploaded SVG is a document a browser runs when someone opens it from
// the site: its script elements, event handlers and javascript: links are
// stored XSS, and an entity declaration that loads a file or a URL is XXE
// against whatever parses it server-side. Its drawing is not: paths,
// gradients and text of benign exports (Illustrator, Inkscape, Figma) read
// as markup to the model, which scored every one xss 1 when the whole file
// was walked. So only the active parts are scored, each as a field of its
// own; a file without any yields none.

// svgLoaders are elements that run code or load another document.
// foreignObject is not one: diagrams.net exports its labels as HTML in it.
var svgLoaders = setOf(`script iframe embed object base handler`)

// svgUpload reports whether a multipart file part is an SVG document: by
// its declared type, its file name, or what it starts with.
func svgUpload(filename, contentType string, content []byte) bool {
	if mt, _, _ := mime.ParseMediaType(contentType); mt == "image/svg+xml" {
		return true
	}
	if ext := strings.ToLower(path.Ext(filename)); ext == ".svg" || ext == ".svgz" {
		return true
	}
	head := strings.ToLower(strings.TrimSpace(string(content[:min(len(content), 512)])))
	return strings.HasPrefix(head, "<svg") || strings.HasPrefix(head, "<?xml") && strings.Contains(head, "<svg")
}

// svgActive returns the parts of an SVG document that run or load
// something: script elements with their code, the start tags of loaders
// and of elements with an event handler or a script link (with just those
// attributes), and a doctype whose entities reach outside the file.
func svgActive(doc string) []string {
	var out []string
	if dt, ok := externalEntities(doc); ok {
		out = append(out, dt)
	}
	z := html.NewTokenizer(strings.NewReader(doc))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return out
		case html.StartTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			el := localName(string(name))
			var b strings.Builder
			active := svgLoaders[el]
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				a := localName(string(k))
				if strings.HasPrefix(a, "on") || (a == "href" || a == "src" || a == "values" || a == "to" || a == "from") && scriptURL(compactLower(string(v))) {
					active = true
					b.WriteString(" " + a + `="` + string(v) + `"`)
				}
			}
			if !active {
				continue
			}
			tag := "<" + el + b.String() + ">"
			if el == "script" && tt == html.StartTagToken {
				// The code is everything up to the end tag, as written: the
				// tokenizer reads a plain script element's content as raw
				// text, and a prefixed one's (`<svg:script>`, which an SVG
				// viewer runs too) as markup, CDATA sections included.
				var code strings.Builder
				for t := z.Next(); t != html.ErrorToken; t = z.Next() {
					if n, _ := z.TagName(); t == html.EndTagToken && localName(string(n)) == "script" {
						break
					}
					code.Write(z.Raw())
				}
				tag += code.String() + "</script>"
			}
			out = append(out, tag)
		}
	}
}

// svgFields emits each active part of an SVG document as a body field.
func (c *collector) svgFields(name string, doc []byte) {
	for _, a := range svgActive(string(doc)) {
		c.emit(Field{Part: PartBody, Name: name, Raw: a})
	}
}

// localName drops a namespace prefix (`xlink:href`, `svg:script`).
func localName(s string) string {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// externalEntities returns the document's doctype when it declares an
// entity that loads something (SYSTEM or PUBLIC) or a parameter entity.
// Illustrator's exports declare internal entities for namespace URIs
// (`<!ENTITY ns_svg "http://www.w3.org/2000/svg">`): those load nothing.
func externalEntities(doc string) (string, bool) {
	start := strings.Index(doc, "<!DOCTYPE")
	if start < 0 {
		return "", false
	}
	dt := doc[start:]
	if end := strings.Index(dt, "]>"); end >= 0 {
		dt = dt[:end+2]
	} else if end := strings.IndexByte(dt, '>'); end >= 0 {
		dt = dt[:end+1]
	}
	for rest := dt; ; {
		i := strings.Index(rest, "<!ENTITY")
		if i < 0 {
			return "", false
		}
		rest = rest[i+len("<!ENTITY"):]
		decl, _, _ := strings.Cut(rest, ">")
		if f := strings.Fields(decl); len(f) > 0 && (f[0] == "%" || strings.Contains(decl, "SYSTEM") || strings.Contains(decl, "PUBLIC")) {
			return dt, true
		}
	}
}
