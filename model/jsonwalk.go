package model

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// walkJSONFields emits every string and number leaf of a JSON document as
// a field named by its path ("a.b[2].c", after prefix), in document order,
// at any depth up to maxJSONNesting. It replaces encoding/json here because
// building maps of interface values cost more than scoring the fields; it
// returns false on malformed JSON, and the caller withdraws the fields
// emitted so far and scores the text as one field.
func walkJSONFields(body, part, prefix, origin string, lvl int, c *collector) bool {
	w := jsonWalker{s: body, c: c, part: part, prefix: prefix, origin: origin, lvl: lvl}
	w.ws()
	ok := w.value("", 0)
	w.ws()
	return ok && w.i == len(w.s)
}

// maxFieldName bounds a JSON field's name (its path): a longer key or path
// is cut, so names cost bounded memory whatever the document.
const maxFieldName = 256

// indexedElements is how many elements of an array get their own index in
// their name.
const indexedElements = 8

// joinName is path+sep+k, cut to maxFieldName bytes without building the
// whole string first.
func joinName(path, sep, k string) string {
	if len(path) >= maxFieldName {
		return path
	}
	room := maxFieldName - len(path) - len(sep)
	if room <= 0 {
		return path
	}
	if len(k) > room {
		k = k[:room]
	}
	return path + sep + k
}

type jsonWalker struct {
	s            string
	i            int
	c            *collector
	part, prefix string
	origin       string
	lvl          int
}

func (w *jsonWalker) leaf(path, v string, nameOnly bool) {
	name := w.prefix + path
	if w.prefix != "" && path == "" {
		name = strings.TrimSuffix(w.prefix, ".")
	}
	org := w.origin
	if org == "" {
		org = name
	}
	f := Field{Part: w.part, Name: name, Raw: v, origin: org, nameOnly: nameOnly}
	if nameOnly {
		w.c.emit(f)
		return
	}
	w.c.value(f, w.lvl)
}

func (w *jsonWalker) ws() {
	for w.i < len(w.s) {
		switch w.s[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

func (w *jsonWalker) value(path string, depth int) bool {
	if w.i >= len(w.s) || depth > maxJSONNesting {
		return false
	}
	switch c := w.s[w.i]; {
	case c == '{':
		w.i++
		w.ws()
		if w.i < len(w.s) && w.s[w.i] == '}' {
			w.i++
			return true
		}
		for {
			w.ws()
			k, ok := w.str()
			if !ok {
				return false
			}
			w.ws()
			if w.i >= len(w.s) || w.s[w.i] != ':' {
				return false
			}
			w.i++
			w.ws()
			name := path
			switch {
			case depth >= maxJSONDepth:
				// Deep documents keep their first steps as the name, so
				// names stay short; the values are still every one scored.
			case path != "":
				name = joinName(path, ".", k)
			default:
				name = joinName("", "", k)
			}
			if suspiciousName(k) {
				w.leaf(name, k, true)
			}
			if !w.value(name, depth+1) {
				return false
			}
			if more, ok := w.separator('}'); !more {
				return ok
			}
		}
	case c == '[':
		w.i++
		w.ws()
		if w.i < len(w.s) && w.s[w.i] == ']' {
			w.i++
			return true
		}
		// The first elements are named by index; the rest share one name,
		// built once, so a long array under a long key costs one name, not
		// one copy of the key per element.
		shared := ""
		for n := 0; ; n++ {
			w.ws()
			name := path
			switch {
			case depth >= maxJSONDepth:
			case n < indexedElements:
				name = joinName(path, "[", strconv.Itoa(n)+"]")
			default:
				if shared == "" {
					shared = joinName(path, "[", "]")
				}
				name = shared
			}
			if !w.value(name, depth+1) {
				return false
			}
			if more, ok := w.separator(']'); !more {
				return ok
			}
		}
	case c == '"':
		v, ok := w.str()
		if ok {
			w.leaf(path, v, false)
		}
		return ok
	case c == '-' || c >= '0' && c <= '9':
		j := w.i
		for w.i < len(w.s) && strings.IndexByte("+-.eE0123456789", w.s[w.i]) >= 0 {
			w.i++
		}
		w.leaf(path, w.s[j:w.i], false)
		return true
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if strings.HasPrefix(w.s[w.i:], lit) {
				w.i += len(lit)
				return true
			}
		}
		return false
	}
}

// str reads a JSON string at w.i and returns it unescaped; without
// escapes it is a substring and costs nothing.
func (w *jsonWalker) str() (string, bool) {
	if w.i >= len(w.s) || w.s[w.i] != '"' {
		return "", false
	}
	w.i++
	start := w.i
	for w.i < len(w.s) {
		switch w.s[w.i] {
		case '"':
			v := w.s[start:w.i]
			w.i++
			return v, true
		case '\\':
			return w.strSlow(start)
		}
		w.i++
	}
	return "", false
}

func (w *jsonWalker) strSlow(start int) (string, bool) {
	var b strings.Builder
	b.WriteString(w.s[start:w.i])
	for w.i < len(w.s) {
		c := w.s[w.i]
		switch {
		case c == '"':
			w.i++
			return b.String(), true
		case c != '\\':
			b.WriteByte(c)
			w.i++
			continue
		}
		if w.i+1 >= len(w.s) {
			return "", false
		}
		e := w.s[w.i+1]
		w.i += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			if w.i+4 > len(w.s) {
				return "", false
			}
			r, ok := hex4(w.s[w.i : w.i+4])
			if !ok {
				return "", false
			}
			w.i += 4
			if utf16.IsSurrogate(r) && w.i+6 <= len(w.s) && w.s[w.i] == '\\' && w.s[w.i+1] == 'u' {
				if r2, ok := hex4(w.s[w.i+2 : w.i+6]); ok {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						w.i += 6
					}
				}
			}
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return "", false
}

// separator consumes what follows a member or element: a comma (more to
// come) or the closing bracket (done, well formed); anything else is
// malformed JSON.
func (w *jsonWalker) separator(closer byte) (more, ok bool) {
	w.ws()
	if w.i >= len(w.s) {
		return false, false
	}
	switch w.s[w.i] {
	case ',':
		w.i++
		return true, true
	case closer:
		w.i++
		return false, true
	}
	return false, false
}
