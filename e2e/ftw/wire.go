package ftw

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Request is a stage's request as go-ftw puts it on the wire, split the way
// an HTTP/1 server splits it. Header names keep their case; Body is the
// payload after the header block, de-chunked when the request says chunked.
type Request struct {
	Method, URI, Version string
	Headers              [][2]string
	Body                 []byte
	// Framed is true when Content-Length or chunked framing delimits Body.
	// An unframed payload is still handed to bare Coraza (go-ftw meant it
	// as the body) but a real HTTP/1 codec never reads it as one.
	Framed bool
}

// Get returns the first value of a header, case-insensitively.
func (r *Request) Get(name string) (string, bool) {
	for _, h := range r.Headers {
		if strings.EqualFold(h[0], name) {
			return h[1], true
		}
	}
	return "", false
}

// Count is how many times a header appears.
func (r *Request) Count(name string) int {
	n := 0
	for _, h := range r.Headers {
		if strings.EqualFold(h[0], name) {
			n++
		}
	}
	return n
}

// BuildRequest reproduces go-ftw's request construction: defaults for
// absent fields, data sent verbatim, and with autocomplete_headers (the
// default) a Content-Length for the data and Connection: close.
func BuildRequest(in Input) (*Request, error) {
	if in.EncodedRequest != "" {
		raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(in.EncodedRequest), ""))
		if err != nil {
			return nil, fmt.Errorf("encoded_request: %w", err)
		}
		return ParseRaw(raw)
	}
	r := &Request{Method: "GET", URI: "/", Version: "HTTP/1.1"}
	if in.Method != nil {
		r.Method = *in.Method
	}
	if in.URI != nil {
		r.URI = *in.URI
	}
	if in.Version != nil {
		r.Version = *in.Version
	}
	r.Headers = append(r.Headers, in.Headers...)
	if in.Data != nil {
		r.Body = []byte(*in.Data)
	}
	if in.AutocompleteHeaders == nil || *in.AutocompleteHeaders {
		if len(r.Body) > 0 && r.Count("Content-Length") == 0 {
			r.Headers = append(r.Headers, [2]string{"Content-Length", strconv.Itoa(len(r.Body))})
		}
		if r.Count("Connection") == 0 {
			r.Headers = append(r.Headers, [2]string{"Connection", "close"})
		}
	}
	r.Framed = r.Count("Content-Length") > 0 || chunked(r)
	if chunked(r) {
		if b, ok := dechunk(r.Body); ok {
			r.Body = b
		}
	}
	return r, nil
}

// ParseRaw splits a raw HTTP/1 request leniently: it never rejects, because
// judging validity is the Envoy model's job, not the parser's.
func ParseRaw(raw []byte) (*Request, error) {
	head, body, found := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !found {
		head, body, _ = bytes.Cut(raw, []byte("\n\n"))
	}
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	r := &Request{}
	line := lines[0]
	var ok bool
	if r.Method, line, ok = strings.Cut(line, " "); !ok {
		return nil, fmt.Errorf("request line %q has no target", lines[0])
	}
	if i := strings.LastIndexByte(line, ' '); i >= 0 {
		r.URI, r.Version = line[:i], line[i+1:]
	} else {
		r.URI = line
	}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ":")
		r.Headers = append(r.Headers, [2]string{k, strings.Trim(v, " \t")})
	}
	r.Body = body
	switch {
	case chunked(r):
		r.Framed = true
		if b, ok := dechunk(body); ok {
			r.Body = b
		}
	default:
		if cl, ok := r.Get("Content-Length"); ok {
			r.Framed = true
			if n, err := strconv.Atoi(strings.TrimSpace(cl)); err == nil && n >= 0 && n < len(body) {
				r.Body = body[:n]
			}
		}
	}
	return r, nil
}

func chunked(r *Request) bool {
	te, ok := r.Get("Transfer-Encoding")
	return ok && strings.EqualFold(strings.TrimSpace(te), "chunked")
}

// dechunk decodes a chunked body; ok is false when it is malformed.
func dechunk(b []byte) ([]byte, bool) {
	var out []byte
	for {
		line, rest, found := bytes.Cut(b, []byte("\r\n"))
		if !found {
			return nil, false
		}
		sz, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseInt(strings.TrimSpace(string(sz)), 16, 32)
		if err != nil || n < 0 || int(n) > len(rest) {
			return nil, false
		}
		if n == 0 {
			return out, true
		}
		out = append(out, rest[:n]...)
		b = bytes.TrimPrefix(rest[n:], []byte("\r\n"))
	}
}
