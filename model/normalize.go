package model

import (
	"html"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normStats records how much undoing encodings changed a value: layered
// encodings are themselves a strong attack signal.
type normStats struct {
	depth      int // percent-decoding passes that changed the value
	pctEscapes int // %XX / %uXXXX sequences in the raw value
	entities   int // HTML entities decoded
	jsEscapes  int // \xXX / \uXXXX escapes decoded
	nulBytes   int
	upper      int // upper-case ASCII letters before lower-casing
	nonASCII   int
}

const maxDecodePasses = 4

// normalize undoes the encodings an application (or a browser or shell
// downstream of it) would undo, so that "%2527" and "'" look alike to the
// keyword features, then lower-cases.
func normalize(f *Field) (string, normStats) {
	var st normStats
	s := f.Raw
	st.pctEscapes = strings.Count(s, "%")
	plus := f.formEncoded
	for i := 0; i < maxDecodePasses; i++ {
		d, changed := percentDecode(s, plus)
		plus = false
		if !changed {
			break
		}
		st.depth++
		s = d
	}
	if strings.IndexByte(s, '&') >= 0 {
		d := html.UnescapeString(s)
		if d != s {
			st.entities = strings.Count(s, "&")
			s = d
			// Entities can hide percent-escapes and vice versa.
			if d2, ch := percentDecode(s, false); ch {
				st.depth++
				s = d2
			}
		}
	}
	if strings.IndexByte(s, '\\') >= 0 {
		s, st.jsEscapes = jsUnescape(s)
	}
	if strings.IndexByte(s, 0xc0) >= 0 || strings.IndexByte(s, 0xc1) >= 0 {
		s = overlong(s)
	}
	if strings.IndexByte(s, 0) >= 0 {
		st.nulBytes = strings.Count(s, "\x00")
		s = strings.ReplaceAll(s, "\x00", "")
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			ascii = false
			st.nonASCII++
		} else if c >= 'A' && c <= 'Z' {
			st.upper++
		}
	}
	if !ascii {
		// NFKC folds full-width and compatibility forms ("＜script＞") that
		// some back ends fold too.
		s = norm.NFKC.String(s)
	}
	return strings.ToLower(s), st
}

// overlong decodes two-byte overlong UTF-8 forms of ASCII (0xC0 0xAE is
// "."), which old IIS and Tomcat versions decoded and traversal payloads
// still use.
func overlong(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c == 0xc0 || c == 0xc1) && i+1 < len(s) && s[i+1]&0xc0 == 0x80 {
			b.WriteByte((c&0x1f)<<6 | s[i+1]&0x3f)
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// percentDecode is lenient: malformed escapes stay literal, as most servers
// treat them, and %uXXXX (IIS) is understood.
func percentDecode(s string, plus bool) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && !(plus && strings.IndexByte(s, '+') >= 0) {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	changed := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+' && plus:
			b.WriteByte(' ')
			changed = true
		case c == '%' && i+2 < len(s):
			if h, ok := unhex(s[i+1]); ok {
				if l, ok2 := unhex(s[i+2]); ok2 {
					b.WriteByte(h<<4 | l)
					i += 2
					changed = true
					continue
				}
			}
			if (s[i+1] == 'u' || s[i+1] == 'U') && i+5 < len(s) {
				if r, ok := hex4(s[i+2 : i+6]); ok {
					b.WriteRune(r)
					i += 5
					changed = true
					continue
				}
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), changed
}

func hex4(s string) (rune, bool) {
	var r rune
	for i := 0; i < 4; i++ {
		v, ok := unhex(s[i])
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// jsUnescape decodes \xXX and \uXXXX, the escapes JavaScript, JSON and many
// template engines undo.
func jsUnescape(s string) (string, int) {
	var b strings.Builder
	b.Grow(len(s))
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+3 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') {
			if h, ok := unhex(s[i+2]); ok {
				if l, ok2 := unhex(s[i+3]); ok2 {
					b.WriteByte(h<<4 | l)
					i += 3
					n++
					continue
				}
			}
		}
		if c == '\\' && i+5 < len(s) && s[i+1] == 'u' {
			if r, ok := hex4(s[i+2 : i+6]); ok && utf8.ValidRune(r) {
				b.WriteRune(r)
				i += 5
				n++
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String(), n
}
