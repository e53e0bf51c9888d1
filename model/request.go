package model

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
)

// Request is an HTTP request as Bulwark inspects it: the one request type
// that the ext_proc server builds from Envoy's headers, the tools build from
// JSON Lines records or raw HTTP, and the model and the WAF both read.
type Request struct {
	// ID is the request id (x-request-id), empty when none was sent.
	ID     string
	Method string
	// URI is path?query exactly as on the wire (still percent-encoded).
	URI string
	// Proto is the protocol, e.g. HTTP/1.1 or HTTP/2; empty means HTTP/1.1.
	Proto string
	// Headers use lower-case keys; repeated headers appear repeatedly.
	Headers    [][2]string
	Body       []byte
	ClientIP   string
	ClientPort int
	ServerIP   string
	ServerPort int
}

// Header returns the first value of the header name (lower case).
func (r *Request) Header(name string) (string, bool) {
	for _, h := range r.Headers {
		if h[0] == name {
			return h[1], true
		}
	}
	return "", false
}

// Cookie returns the value of the first cookie called name, or "".
func (r *Request) Cookie(name string) string {
	for _, h := range r.Headers {
		if h[0] != "cookie" {
			continue
		}
		for part := range strings.SplitSeq(h[1], ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && k == name {
				return v
			}
		}
	}
	return ""
}

// Parts of a request a field can come from.
const (
	PartPath   = "path"
	PartQuery  = "query"
	PartBody   = "body"
	PartHeader = "header"
	PartCookie = "cookie"
)

// Field is one scored unit of a request. Raw is the value as it arrived in
// its part (percent-encoding intact for path, query and form fields) so that
// encoding tricks stay visible to the features.
type Field struct {
	Part string
	Name string
	Raw  string
	// formEncoded marks values where '+' means space.
	formEncoded bool
	// nameOnly marks a field that is an argument *name*, scored because
	// attackers put payloads in keys too.
	nameOnly bool
}

// Limits keep the cost of hostile requests bounded: the model scores a
// prefix, which is where payloads sit in practice.
const (
	maxFields     = 256
	maxFieldBytes = 4096
	maxBodyBytes  = 128 << 10
	maxJSONDepth  = 16
)

// headers whose values are protocol plumbing with a fixed grammar; scoring
// them adds cost and false positives but no detection.
var skipHeaders = map[string]bool{
	"content-length": true, "content-type": true, "host": true, ":authority": true,
	":method": true, ":path": true, ":scheme": true, "connection": true,
	"accept-encoding": true, "cookie": true, "x-request-id": true,
	"content-encoding": true, "transfer-encoding": true, "te": true,
	"upgrade-insecure-requests": true, "sec-fetch-mode": true, "sec-fetch-site": true,
	"sec-fetch-dest": true, "sec-fetch-user": true, "cache-control": true, "pragma": true,
	"keep-alive": true, "if-none-match": true, "if-modified-since": true,
	"x-envoy-expected-rq-timeout-ms": true, "x-forwarded-proto": true, "x-envoy-internal": true,
	"authorization": true, "dnt": true, "priority": true,
}

// Fields splits r into the fields the model scores, in request order.
func Fields(r *Request) []Field {
	fs := make([]Field, 0, 24)
	bodyStart := 0
	add := func(f Field) {
		if f.Part == "" {
			// rollback marker from splitJSON: drop the body fields added
			// since the body started.
			fs = fs[:bodyStart]
			return
		}
		if len(fs) >= maxFields {
			return
		}
		if len(f.Raw) > maxFieldBytes {
			f.Raw = f.Raw[:maxFieldBytes]
		}
		fs = append(fs, f)
	}
	path, query, _ := strings.Cut(r.URI, "?")
	if i := strings.IndexByte(query, '#'); i >= 0 {
		query = query[:i]
	}
	if path != "" && path != "/" {
		add(Field{Part: PartPath, Raw: path})
	}
	splitArgs(query, PartQuery, '&', add)

	var contentType string
	for _, h := range r.Headers {
		k := strings.ToLower(h[0])
		if k == "" {
			continue
		}
		switch {
		case k == "cookie":
			splitCookies(h[1], add)
		case k == "content-type":
			contentType = h[1]
			// Content-Type is parsed by the application, so an injected
			// value there matters, but only when it is not a plain type.
			if strings.ContainsAny(h[1], "'\"<>(){}$`|\\") {
				add(Field{Part: PartHeader, Name: k, Raw: h[1]})
			}
		case skipHeaders[k] || k[0] == ':' || strings.HasPrefix(k, "x-envoy-"):
		default:
			add(Field{Part: PartHeader, Name: k, Raw: h[1]})
		}
	}
	if len(r.Body) > 0 {
		bodyStart = len(fs)
		body := r.Body
		if len(body) > maxBodyBytes {
			body = body[:maxBodyBytes]
		}
		splitBody(contentType, body, add)
	}
	return fs
}

func splitArgs(s, part string, sep byte, add func(Field)) {
	for s != "" {
		var kv string
		if i := strings.IndexByte(s, sep); i >= 0 {
			kv, s = s[:i], s[i+1:]
		} else {
			kv, s = s, ""
		}
		if kv == "" {
			continue
		}
		k, v, hasEq := strings.Cut(kv, "=")
		name := decodeName(k)
		if !hasEq {
			// A bare token ("?<script>") is a value without a name.
			add(Field{Part: part, Name: name, Raw: k, formEncoded: true})
			continue
		}
		if suspiciousName(name) {
			add(Field{Part: part, Name: name, Raw: k, formEncoded: true, nameOnly: true})
		}
		add(Field{Part: part, Name: name, Raw: v, formEncoded: true})
	}
}

func splitCookies(s string, add func(Field)) {
	for s != "" {
		var kv string
		kv, s, _ = strings.Cut(s, ";")
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if suspiciousName(k) {
			add(Field{Part: PartCookie, Name: k, Raw: k, nameOnly: true})
		}
		add(Field{Part: PartCookie, Name: k, Raw: v})
	}
}

func decodeName(k string) string {
	if d, err := url.QueryUnescape(k); err == nil {
		return d
	}
	return k
}

// suspiciousName reports a key that is not a plain identifier; only those
// are scored as payload carriers themselves.
func suspiciousName(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '-' || c == '.' || c == '[' || c == ']') {
			return true
		}
	}
	return false
}

func splitBody(contentType string, body []byte, add func(Field)) {
	mt, params, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/x-www-form-urlencoded":
		splitArgs(string(body), PartBody, '&', add)
		return
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		if splitJSON(body, add) {
			return
		}
	case strings.HasPrefix(mt, "multipart/"):
		if splitMultipart(body, params["boundary"], add) {
			return
		}
	case mt == "":
		// Clients without a content type still send forms and JSON.
		t := bytes.TrimSpace(body)
		if len(t) > 0 && (t[0] == '{' || t[0] == '[') && splitJSON(body, add) {
			return
		}
		if looksLikeForm(body) {
			splitArgs(string(body), PartBody, '&', add)
			return
		}
	}
	add(Field{Part: PartBody, Raw: string(body)})
}

func looksLikeForm(b []byte) bool {
	if !bytes.Contains(b, []byte("=")) {
		return false
	}
	for _, c := range b {
		if c == ' ' || c == '\n' || c == '<' || c == '{' {
			return false
		}
	}
	return true
}

func splitJSON(body []byte, add func(Field)) bool {
	// Malformed JSON is only found at its end, so the fields seen so far
	// are withdrawn (via the rollback marker) before the fallback.
	return walkJSONFields(string(body), add)
}

func splitMultipart(body []byte, boundary string, add func(Field)) bool {
	if boundary == "" {
		return false
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	n := 0
	for {
		p, err := mr.NextPart()
		if err != nil {
			return n > 0
		}
		n++
		b, _ := io.ReadAll(io.LimitReader(p, maxFieldBytes))
		name := p.FormName()
		// FileName() strips directories, which would hide exactly the
		// traversal we look for, so the header is parsed here.
		_, cd, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
		if fn := cd["filename"]; fn != "" {
			// The file name is attacker-chosen and often a traversal vector;
			// file contents are out of scope for a lexical model.
			add(Field{Part: PartBody, Name: name + ".filename", Raw: fn})
			continue
		}
		add(Field{Part: PartBody, Name: name, Raw: string(b)})
	}
}
