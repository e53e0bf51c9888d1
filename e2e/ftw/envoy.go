package ftw

import (
	"net/url"
	"strings"

	"github.com/bulwark-waf/bulwark/internal/envoysim"
)

// Rejection is a request Envoy's HTTP/1 codec or connection manager answers
// itself, so ext_proc never sees it.
type Rejection struct {
	Status int
	Reason string
}

// envoyMethods is the method list of Envoy's HTTP/1 codec; without
// allow_custom_methods (off by default, and off in envoy/envoy.yaml) any
// other method is a 400.
const envoyMethods = " DELETE GET HEAD POST PUT CONNECT OPTIONS TRACE COPY LOCK MKCOL MOVE" +
	" PROPFIND PROPPATCH SEARCH UNLOCK BIND REBIND UNBIND ACL REPORT MKACTIVITY CHECKOUT MERGE" +
	" M-SEARCH NOTIFY SUBSCRIBE UNSUBSCRIBE PATCH PURGE MKCALENDAR LINK UNLINK SOURCE "

func knownMethod(m string) bool {
	return m != "" && !strings.Contains(m, " ") && strings.Contains(envoyMethods, " "+m+" ")
}

// hopHeader reports headers consumed by Envoy's codec and connection
// manager, which the filter chain does not see.
func hopHeader(name string) bool {
	switch name {
	case "connection", "keep-alive", "proxy-connection", "upgrade", "te":
		return true
	}
	return false
}

// EnvoyView is what Bulwark's ext_proc filter receives for r from an Envoy
// configured like envoy/envoy.yaml (HTTP/1 listener, use_remote_address,
// generate_request_id), except that accept_http_10 is assumed on so the
// suite's HTTP/1.0 stages reach the WAF. It returns a Rejection when Envoy
// would answer the request itself. requestID stands in for the x-request-id
// Envoy generates.
func EnvoyView(r *Request, requestID string) (*envoysim.Message, string, *Rejection) {
	reject := func(status int, reason string) (*envoysim.Message, string, *Rejection) {
		return nil, "", &Rejection{Status: status, Reason: reason}
	}
	if !knownMethod(r.Method) {
		return reject(400, "method not in Envoy's HTTP/1 method list")
	}
	switch r.Version {
	case "HTTP/1.1", "HTTP/1.0":
	default:
		return reject(400, "HTTP version "+quote(r.Version)+" refused by the HTTP/1 codec")
	}
	for i := 0; i < len(r.URI); i++ {
		if c := r.URI[i]; c <= 0x20 || c == 0x7f {
			return reject(400, "control character or space in the request target")
		}
	}
	msg := &envoysim.Message{Method: r.Method, Path: r.URI}
	authority, hasHost := "", false
	switch {
	case r.Method == "CONNECT":
		// Authority-form: Envoy turns it into :authority with no :path.
		msg.Path, authority = "", r.URI
	case strings.HasPrefix(r.URI, "/"):
	case r.URI == "*" && r.Method == "OPTIONS":
	case strings.HasPrefix(strings.ToLower(r.URI), "http://") || strings.HasPrefix(strings.ToLower(r.URI), "https://"):
		// Absolute-form: the codec splits it into :authority and :path.
		u, err := url.Parse(r.URI)
		if err != nil || u.Host == "" {
			return reject(400, "malformed absolute-form request target")
		}
		authority = u.Host
		msg.Path = u.EscapedPath()
		if msg.Path == "" {
			msg.Path = "/"
		}
		if u.RawQuery != "" || u.ForceQuery {
			msg.Path += "?" + u.RawQuery
		}
	default:
		return reject(400, "request target is not origin-form, absolute-form or *")
	}
	if strings.Contains(msg.Path, "#") {
		return reject(400, "fragment in the request path")
	}
	var cl []string
	xff := ""
	for _, h := range r.Headers {
		name := strings.ToLower(h[0])
		if !isToken(name) {
			return reject(400, "header name "+quote(h[0])+" is not a token")
		}
		v := strings.Trim(h[1], " \t")
		for i := 0; i < len(v); i++ {
			if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
				return reject(400, "control character in header "+quote(h[0]))
			}
		}
		switch {
		case name == "host":
			if hasHost {
				return reject(400, "more than one Host header")
			}
			hasHost = true
			if authority == "" {
				authority = v
			}
			continue
		case name == "content-length":
			cl = append(cl, v)
		case name == "transfer-encoding":
			if !strings.EqualFold(v, "chunked") {
				return reject(501, "transfer-encoding other than chunked")
			}
			// The codec de-chunks, and the connection manager drops the
			// header before the filter chain.
			continue
		case name == "x-forwarded-for":
			xff = v
			continue
		case hopHeader(name):
			continue
		}
		msg.Headers = append(msg.Headers, [2]string{name, v})
	}
	for _, v := range cl {
		if v == "" || strings.Trim(v, "0123456789") != "" {
			return reject(400, "Content-Length is not a number")
		}
		if v != cl[0] {
			return reject(400, "conflicting Content-Length headers")
		}
	}
	if len(cl) > 0 && chunked(r) {
		return reject(400, "both Content-Length and chunked Transfer-Encoding")
	}
	if !hasHost && authority == "" && r.Version == "HTTP/1.1" {
		return reject(400, "HTTP/1.1 request without Host")
	}
	msg.Authority = authority
	// use_remote_address appends the peer; generate_request_id adds an id
	// unless the client sent one (preserve_external_request_id).
	if xff != "" {
		xff += ","
	}
	msg.Headers = append(msg.Headers, [2]string{"x-forwarded-for", xff + clientIP}, [2]string{"x-forwarded-proto", "http"})
	id := requestID
	if v := msg.Get("x-request-id"); v != "" {
		id = v
	} else {
		msg.Headers = append(msg.Headers, [2]string{"x-request-id", id})
	}
	if r.Framed {
		msg.Body = r.Body
	}
	return msg, id, nil
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return "\"" + s + "\""
}

// isToken reports whether s is an RFC 9110 token, which Envoy requires of
// header names.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
