package model

import (
	"net/http"
	"strings"
)

// sfItems parses an RFC 8941 structured field value (a list or a
// dictionary, with inner lists and parameters) leniently enough for what
// browsers send, and returns the strings and tokens in it: the only parts
// of such a header that can carry text. Numbers, booleans, byte sequences
// and dictionary keys have grammars with no room for a payload. It reports
// false when v is not a structured field, and the caller scores it whole.
func sfItems(v string) ([]string, bool) {
	p := sfParser{s: v}
	var out []string
	p.ows()
	if p.i == len(p.s) {
		return nil, true
	}
	for {
		p.ows()
		// A dictionary member starts with a key and "="; a bare key is a
		// boolean true; a list member is an item.
		if p.i < len(p.s) && isLCAlpha(p.s[p.i]) || p.i < len(p.s) && p.s[p.i] == '*' {
			j := p.i
			for j < len(p.s) && isKeyChar(p.s[j]) {
				j++
			}
			if j < len(p.s) && p.s[j] == '=' {
				p.i = j + 1
			}
		}
		if !p.member(&out) {
			return nil, false
		}
		p.ows()
		if p.i == len(p.s) {
			return out, true
		}
		if p.s[p.i] != ',' {
			return nil, false
		}
		p.i++
	}
}

type sfParser struct {
	s string
	i int
}

func (p *sfParser) ows() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *sfParser) member(out *[]string) bool {
	if p.i < len(p.s) && p.s[p.i] == '(' {
		p.i++
		for {
			for p.i < len(p.s) && p.s[p.i] == ' ' {
				p.i++
			}
			if p.i < len(p.s) && p.s[p.i] == ')' {
				p.i++
				break
			}
			if !p.bare(out) {
				return false
			}
		}
	} else if !p.bare(out) {
		return false
	}
	return p.params(out)
}

func (p *sfParser) params(out *[]string) bool {
	for p.i < len(p.s) && p.s[p.i] == ';' {
		p.i++
		for p.i < len(p.s) && p.s[p.i] == ' ' {
			p.i++
		}
		j := p.i
		for p.i < len(p.s) && isKeyChar(p.s[p.i]) {
			p.i++
		}
		if j == p.i {
			return false
		}
		if p.i < len(p.s) && p.s[p.i] == '=' {
			p.i++
			if !p.bare(out) {
				return false
			}
		}
	}
	return true
}

// bare reads one bare item.
func (p *sfParser) bare(out *[]string) bool {
	if p.i >= len(p.s) {
		return false
	}
	c := p.s[p.i]
	switch {
	case c == '"':
		var b strings.Builder
		for p.i++; p.i < len(p.s); p.i++ {
			c := p.s[p.i]
			switch {
			case c == '\\':
				if p.i+1 >= len(p.s) || (p.s[p.i+1] != '"' && p.s[p.i+1] != '\\') {
					return false
				}
				p.i++
				b.WriteByte(p.s[p.i])
			case c == '"':
				p.i++
				if b.Len() > 0 {
					*out = append(*out, b.String())
				}
				return true
			case c < 0x20 || c >= 0x7f:
				return false
			default:
				b.WriteByte(c)
			}
		}
		return false
	case c == '-' || c >= '0' && c <= '9':
		j := p.i
		p.i++
		for p.i < len(p.s) && (p.s[p.i] >= '0' && p.s[p.i] <= '9' || p.s[p.i] == '.') {
			p.i++
		}
		return p.i-j <= 20
	case c == '?':
		if p.i+1 < len(p.s) && (p.s[p.i+1] == '0' || p.s[p.i+1] == '1') {
			p.i += 2
			return true
		}
		return false
	case c == ':':
		j := strings.IndexByte(p.s[p.i+1:], ':')
		if j < 0 {
			return false
		}
		for _, b := range p.s[p.i+1 : p.i+1+j] {
			if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '+' || b == '/' || b == '=') {
				return false
			}
		}
		p.i += j + 2
		return true
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '*':
		j := p.i
		for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
			p.i++
		}
		*out = append(*out, p.s[j:p.i])
		return true
	}
	return false
}

func isLCAlpha(c byte) bool { return c >= 'a' && c <= 'z' }

func isKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '*'
}

// isTokenChar: RFC 9110 tchar plus ":" and "/", as RFC 8941 tokens allow.
func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~:/", c) >= 0
}

// httpDate reports a value that is an HTTP-date in any of the three forms
// servers must accept.
func httpDate(v string) bool {
	_, err := http.ParseTime(strings.TrimSpace(v))
	return err == nil
}
