package model

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// walkJSONFields emits every string and number leaf of a JSON document as
// a field named by its path ("a.b[2].c"), in document order. It replaces
// encoding/json here because building maps of interface values cost more
// than scoring the fields; it returns false on malformed JSON so the
// caller can fall back to scoring the body as one field.
func walkJSONFields(body string, add func(Field)) bool {
	w := jsonWalker{s: body, add: add}
	w.ws()
	ok := w.value("", 0)
	w.ws()
	if !ok || w.i != len(w.s) {
		add(Field{}) // rollback marker, see Fields
		return false
	}
	return true
}

type jsonWalker struct {
	s   string
	i   int
	add func(Field)
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
	if w.i >= len(w.s) || depth > maxJSONDepth*4 {
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
			name := k
			if path != "" {
				name = path + "." + k
			}
			if depth < maxJSONDepth && suspiciousName(k) {
				w.add(Field{Part: PartBody, Name: name, Raw: k, nameOnly: true})
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
		for n := 0; ; n++ {
			w.ws()
			if !w.value(path+"["+strconv.Itoa(n)+"]", depth+1) {
				return false
			}
			if more, ok := w.separator(']'); !more {
				return ok
			}
		}
	case c == '"':
		v, ok := w.str()
		if ok && depth <= maxJSONDepth {
			w.add(Field{Part: PartBody, Name: path, Raw: v})
		}
		return ok
	case c == '-' || c >= '0' && c <= '9':
		j := w.i
		for w.i < len(w.s) && strings.IndexByte("+-.eE0123456789", w.s[w.i]) >= 0 {
			w.i++
		}
		if depth <= maxJSONDepth {
			w.add(Field{Part: PartBody, Name: path, Raw: w.s[j:w.i]})
		}
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
