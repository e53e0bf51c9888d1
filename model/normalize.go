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
	base64     int // 1 when the whole value was base64 of printable text
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
	if f.Part == PartPath && len(s) > minBase64Text {
		// A path segment can be base64 too ("/L2V0Yy9wYXNzd2Q=/x"), for
		// routers that decode one.
		if d, ok := base64Segments(s); ok {
			st.base64 = 1
			s = d
		}
	} else if d, ok := base64Text(s); ok {
		// A value that is base64 of text is read as the text: a back end
		// that decodes it ("Li4vLi4vZXRjL3Bhc3N3ZA==" is "../../etc/passwd")
		// sees nothing else. Random tokens almost never decode to
		// printable text, so they stay as they are.
		st.base64 = 1
		s = d
		if d2, ch := percentDecode(s, false); ch {
			st.depth++
			s = d2
		}
	}
	// Entities, JavaScript escapes and percent-escapes can hide one another
	// ("%2526%252337%253B" is "%26%2337%3B" is "&#37;" is "%", and
	// "\u0025c0" is "%c0"): undo them in turn until a round changes
	// nothing, within maxDecodePasses rounds.
	for round := 0; round < maxDecodePasses; round++ {
		changed := false
		if strings.IndexByte(s, '&') >= 0 {
			if d := html.UnescapeString(s); d != s {
				st.entities += markupEntities(s)
				s, changed = d, true
			}
		}
		if strings.IndexByte(s, '\\') >= 0 {
			if d, n := jsUnescape(s); n > 0 {
				st.jsEscapes += n
				s, changed = d, true
			}
		}
		if !changed {
			break
		}
		if d, ch := percentDecode(s, false); ch {
			st.depth++
			s = d
		}
	}
	if strings.IndexByte(s, 0xc0) >= 0 || strings.IndexByte(s, 0xc1) >= 0 || strings.IndexByte(s, 0xe0) >= 0 ||
		strings.IndexByte(s, 0xf0) >= 0 || strings.IndexByte(s, 0xf8) >= 0 || strings.IndexByte(s, 0xfc) >= 0 {
		s = overlong(s)
	}
	if strings.Contains(s, "0x") || strings.Contains(s, "0X") {
		s = hexPathChars(s)
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
		if strings.ContainsAny(s, "\u2215\u2044\u2216\uff3c") {
			s = bestFit.Replace(s)
		}
		if strings.ContainsAny(s, zeroWidthChars) {
			s = zeroWidth.Replace(s)
		}
	}
	return strings.ToLower(s), st
}

// overlong decodes overlong UTF-8 forms of ASCII, two to six bytes long
// (0xC0 0xAE, 0xE0 0x80 0xAE, 0xF0 0x80 0x80 0xAE, 0xF8 0x80 0x80 0x80 0xAE
// and 0xFC 0x80 0x80 0x80 0x80 0xAE are all "."), which old IIS and Tomcat
// versions decoded and traversal payloads still use. A lone 0xC0 or 0xC1
// before an ASCII byte ("%c0%2e", a broken overlong form that lenient
// decoders drop) is dropped: neither byte can start valid UTF-8, so no
// real text loses anything a UTF-8 reader would show.
func overlong(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if n := overlongLen(c); n > 0 && i+n <= len(s) {
			v := uint32(c) & (0x7f >> n)
			ok := true
			for k := 1; k < n; k++ {
				if s[i+k]&0xc0 != 0x80 {
					ok = false
					break
				}
				v = v<<6 | uint32(s[i+k]&0x3f)
			}
			if ok && v < 0x80 {
				b.WriteByte(byte(v))
				i += n - 1
				continue
			}
		}
		if (c == 0xc0 || c == 0xc1) && i+1 < len(s) && s[i+1] < 0x80 {
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// overlongLen is the length of the sequence c leads when c is a lead byte
// that can only start an overlong (or, past 0xF4, invalid) form of ASCII;
// 0 for any other byte. Valid UTF-8 never has these with the payload bits
// all zero, so real text is untouched.
func overlongLen(c byte) int {
	switch c {
	case 0xc0, 0xc1:
		return 2
	case 0xe0:
		return 3
	case 0xf0:
		return 4
	case 0xf8:
		return 5
	case 0xfc:
		return 6
	}
	return 0
}

// bestFit folds the Unicode slashes that Windows' best-fit mapping turns
// into path separators ("..%u2215..%u2215" is "../../" to IIS); NFKC
// leaves them.
// zeroWidthChars are invisible format characters that NFKC keeps: the
// zero-width space, non-joiner and joiner, the word joiner, the zero-width
// no-break space and the soft hyphen. Back ends and editors drop them, so
// `UN\u200bION SEL\u200bECT` reaches SQL as UNION SELECT; they go here too.
const zeroWidthChars = "\u200b\u200c\u200d\u2060\ufeff\u00ad"

var zeroWidth = strings.NewReplacer("\u200b", "", "\u200c", "", "\u200d", "", "\u2060", "", "\ufeff", "", "\u00ad", "")

var bestFit = strings.NewReplacer("\u2215", "/", "\u2044", "/", "\u2216", "\\", "\uff3c", "\\")

// hexPathChars decodes "0x2e", "0x2f" and "0x5c" written out as text
// (".", "/" and "\"): traversal lists spell "../" as "0x2e0x2e0x2f" for
// back ends that decode such literals. Only a literal that ends the value,
// is followed by a byte that is not a hex digit (or by the next "0x"), or
// follows a path character is decoded, so hex numbers ("0x2f3a", SQL's
// 0x7365...) stay as they are.
func hexPathChars(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	changed := false
	for i := 0; i < len(s); i++ {
		if s[i] == '0' && i+3 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') {
			lit := strings.ToLower(s[i+2 : i+4])
			end := i+4 == len(s)
			if !end {
				_, hexNext := unhex(s[i+4])
				end = !hexNext || (s[i+4] == '0' && i+5 < len(s) && (s[i+5] == 'x' || s[i+5] == 'X'))
			}
			if n := b.Len(); !end && n > 0 {
				// Inside a run of path characters ("0x2e0x2e0x2fetc")
				// the next byte may be a hex letter.
				last := b.String()[n-1]
				end = last == '.' || last == '/' || last == '\\'
			}
			if end {
				switch lit {
				case "2e":
					b.WriteByte('.')
				case "2f":
					b.WriteByte('/')
				case "5c":
					b.WriteByte('\\')
				default:
					b.WriteByte(s[i])
					continue
				}
				i += 3
				changed = true
				continue
			}
		}
		b.WriteByte(s[i])
	}
	if !changed {
		return s
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

// minBase64Text is the shortest base64 value read as text: shorter ones
// are as often ordinary words or ids that happen to decode.
const minBase64Text = 12

func base64Val(c byte) (byte, bool) {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A', true
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26, true
	case c >= '0' && c <= '9':
		return c - '0' + 52, true
	case c == '+' || c == '-':
		return 62, true
	case c == '/' || c == '_':
		return 63, true
	}
	return 0, false
}

// base64Text decodes s when all of it is base64 (standard or URL-safe,
// padded or not) of printable text: ASCII without control bytes but the
// whitespace ones (tab, line breaks, \v and \f, which SQL and shells take
// as gaps), or valid UTF-8 at most a fifth of whose characters are not
// ASCII ("<img\u00a0src=…>"). Characters, not bytes: a no-break space is
// two bytes, and `x'\u00a0AND\u00a0members.email\u00a0IS\u00a0NULL;\u00a0--`
// is a quarter non-ASCII bytes but a seventh non-ASCII characters. It
// gives up at the first control byte, which for a random token is within
// the first few, and allocates only for a value that decodes.
func base64Text(s string) (string, bool) {
	n := len(s)
	for n > 0 && s[n-1] == '=' {
		n--
	}
	if n < minBase64Text || n > maxFieldBytes || n%4 == 1 || len(s)-n > 2 {
		return "", false
	}
	high, size := 0, 0
	ok := base64Bytes(s[:n], func(c byte) bool {
		if !(c >= 0x20 && c < 0x7f || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c >= 0x80) {
			return false
		}
		switch {
		case c >= 0xc0:
			high++ // a lead byte: one non-ASCII character
		case c >= 0x80:
			return true // a continuation byte of the character counted
		}
		size++
		return true
	})
	if !ok || high*5 > size {
		return "", false
	}
	out := make([]byte, 0, size)
	base64Bytes(s[:n], func(c byte) bool { out = append(out, c); return true })
	if high > 0 && !utf8.Valid(out) {
		return "", false
	}
	return string(out), true
}

// base64Alphabet reports whether every byte of s is a base64 digit
// (standard or URL-safe); a caller checks it before a decoder allocates.
func base64Alphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		if _, ok := base64Val(s[i]); !ok {
			return false
		}
	}
	return true
}

// base64Bytes decodes s (no padding) byte by byte into emit, stopping
// when emit or the alphabet says no.
func base64Bytes(s string, emit func(byte) bool) bool {
	var acc uint32
	bits := 0
	for i := 0; i < len(s); i++ {
		v, ok := base64Val(s[i])
		if !ok {
			return false
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			if !emit(byte(acc >> bits)) {
				return false
			}
		}
	}
	return true
}

// base64Segments decodes every "/"-separated segment of a path that is
// base64 of text (see base64Text); it builds a new path only when one is.
func base64Segments(p string) (string, bool) {
	var b strings.Builder
	done := 0 // p[:done] is in b
	for i := 0; i <= len(p); {
		j := strings.IndexByte(p[i:], '/')
		if j < 0 {
			j = len(p) - i
		}
		if d, ok := base64Text(p[i : i+j]); ok {
			b.WriteString(p[done:i])
			b.WriteString(d)
			done = i + j
		}
		i += j + 1
	}
	if done == 0 {
		return p, false
	}
	b.WriteString(p[done:])
	return b.String(), true
}

// markupEntities counts the "&" of s that do not start a typographic
// entity: one written with its ";" that decodes to a character past ASCII
// ("&mdash;", "&nbsp;", "&rsquo;", "&eacute;"), which rich-text editors
// write in every reply and which hides no markup. "&lt;", "&#60;",
// "&#x3c;" and "&amp;" still count.
func markupEntities(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '&' {
			continue
		}
		n++
		end := min(len(s), i+12)
		j := strings.IndexByte(s[i+1:end], ';')
		if j < 0 {
			continue
		}
		e := s[i : i+1+j+1]
		if d := html.UnescapeString(e); d != e && d[0] >= 0x80 {
			n--
		}
	}
	return n
}
