package collect

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/url"
	"sort"
	"strings"
)

// Redact returns the request as it is stored: headers, cookies, query and
// form arguments and JSON keys named like secrets have their values
// replaced by keyed hashes, and redacted lists what was replaced
// ("header:authorization", "query:token", "json:user.password").
func (s *Store) Redact(uri string, headers [][2]string, body []byte) (string, map[string]string, string, []string) {
	var redacted []string
	hs := make(map[string]string, len(headers))
	ctype := ""
	for _, h := range headers {
		name, v := h[0], h[1]
		switch {
		case name == "content-type":
			ctype = v
		}
		switch {
		case name == "cookie":
			v = s.redactPairs(v, "; ", "cookie", true, &redacted)
		case s.RedactHeader(name):
			v = s.Hash(v)
			redacted = append(redacted, "header:"+name)
		}
		if old, ok := hs[name]; ok {
			sep := ", "
			if name == "cookie" {
				sep = "; "
			}
			v = old + sep + v
		}
		hs[name] = v
	}
	if path, query, ok := strings.Cut(uri, "?"); ok {
		uri = path + "?" + s.redactPairs(query, "&", "query", false, &redacted)
	}
	out := string(body)
	mt, _, _ := mime.ParseMediaType(ctype)
	switch {
	case mt == "application/x-www-form-urlencoded":
		out = s.redactPairs(out, "&", "form", false, &redacted)
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		var v any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&v); err == nil {
			v = s.redactJSON(v, "", &redacted)
			if b, err := json.Marshal(v); err == nil {
				out = string(b)
			}
		}
	}
	sort.Strings(redacted)
	return uri, hs, out, redacted
}

// redactPairs redacts name=value pairs joined by sep. Cookies are all
// redacted (session tokens have arbitrary names); arguments only when their
// name looks like a secret.
func (s *Store) redactPairs(v, sep, part string, all bool, redacted *[]string) string {
	parts := strings.Split(v, strings.TrimSpace(sep))
	for i, p := range parts {
		lead := p[:len(p)-len(strings.TrimLeft(p, " "))]
		k, val, ok := strings.Cut(strings.TrimLeft(p, " "), "=")
		if !ok {
			continue
		}
		name := k
		if u, err := url.QueryUnescape(k); err == nil {
			name = u
		}
		if all || s.RedactField(name) {
			parts[i] = lead + k + "=" + url.QueryEscape(s.Hash(val))
			*redacted = append(*redacted, part+":"+name)
		}
	}
	return strings.Join(parts, strings.TrimSpace(sep))
}

func (s *Store) redactJSON(v any, path string, redacted *[]string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if _, scalar := e.(map[string]any); !scalar && s.RedactField(k) {
				if _, arr := e.([]any); !arr {
					x[k] = s.Hash(jsonText(e))
					*redacted = append(*redacted, "json:"+p)
					continue
				}
			}
			x[k] = s.redactJSON(e, p, redacted)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = s.redactJSON(e, path+"[]", redacted)
		}
		return x
	}
	return v
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
