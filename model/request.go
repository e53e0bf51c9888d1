package model

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
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
	// origin is the name of the top-level field this one was parsed out of
	// (a URL's query argument, a JSON leaf inside a query value, a client
	// hint's string): training labels by it.
	origin string
	// skip: the prefilter judged the field harmless. dropped: the field
	// lost the risk ranking to the per-request caps and was not scored.
	skip, dropped bool
}

// Limits keep the cost of hostile requests bounded. Nothing is cut off by
// position: every field is split out (up to maxCollect), long values are
// scored in overlapping windows, and when there is more than the budget,
// the riskiest fields are scored and the request is reported incomplete.
const (
	maxCollect     = 4096      // fields split out of one request
	maxFields      = 256       // fields scored by the model
	maxScoredBytes = 128 << 10 // bytes of field values scored
	maxFieldBytes  = 4096      // window size for long values
	windowOverlap  = 256       // so a payload across a window edge is whole in one
	maxBodyBytes   = 128 << 10
	maxJSONDepth   = 16  // deeper JSON paths are named by their first 16 steps
	maxJSONNesting = 512 // deeper JSON is not parsed but scored as text
	maxNesting     = 3   // URL in a query value in a URL ...: levels parsed
)

// Coverage says whether the model saw the whole request. When it did not,
// its verdict must not overrule CRS: an attacker who pads a request past
// the limits would otherwise make a clean score out of an unseen payload.
type Coverage struct {
	Complete bool
	// Limit names the limit that was hit, for the explanation.
	Limit string
}

// headers whose values are protocol plumbing with a fixed grammar; scoring
// them adds cost and false positives but no detection.
var skipHeaders = map[string]bool{
	"content-length": true, "content-type": true, "host": true, ":authority": true,
	":method": true, ":path": true, ":scheme": true, "connection": true,
	"accept-encoding": true, "cookie": true, "x-request-id": true,
	"content-encoding": true, "transfer-encoding": true, "te": true,
	"upgrade-insecure-requests": true, "sec-fetch-mode": true, "sec-fetch-site": true,
	"sec-fetch-dest": true, "sec-fetch-user": true, "pragma": true,
	"keep-alive": true, "if-none-match": true,
	"x-envoy-expected-rq-timeout-ms": true, "x-forwarded-proto": true, "x-envoy-internal": true,
	"authorization": true, "dnt": true,
}

// dateHeaders carry an HTTP-date; a value that parses as one is skipped.
var dateHeaders = map[string]bool{
	"date": true, "if-modified-since": true, "if-unmodified-since": true, "expires": true,
	"last-modified": true, "if-range": true,
}

// urlHeaders carry a URL, scored by its parts.
var urlHeaders = map[string]bool{"referer": true, "origin": true, "location": true}

// structuredHeaders are RFC 8941 structured fields besides the client hints.
var structuredHeaders = map[string]bool{"priority": true, "sec-purpose": true, "cache-control": true}

type collector struct {
	fs  []Field
	cov Coverage
	// graphQLRoute: the route is a GraphQL endpoint.
	graphQLRoute bool
}

func (c *collector) incomplete(why string) {
	if c.cov.Complete {
		c.cov.Complete = false
		c.cov.Limit = why
	}
}

// emit adds a final field, in windows when it is long.
func (c *collector) emit(f Field) {
	if f.origin == "" {
		f.origin = f.Name
	}
	if len(f.Raw) <= maxFieldBytes {
		c.push(f)
		return
	}
	raw := f.Raw
	for start := 0; start < len(raw); start += maxFieldBytes - windowOverlap {
		end := min(len(raw), start+maxFieldBytes)
		w := f
		w.Raw = raw[start:end]
		c.push(w)
		if end == len(raw) {
			break
		}
	}
}

func (c *collector) push(f Field) {
	if len(c.fs) >= maxCollect {
		c.incomplete("more than 4096 fields")
		return
	}
	c.fs = append(c.fs, f)
}

// Fields splits r into the fields the model scores, in request order.
func Fields(r *Request) []Field {
	fs, _ := SplitFields(r)
	return fs
}

// SplitFields splits r into fields, marks the ones the prefilter skips and
// the ones the caps leave unscored, and reports whether the model sees the
// whole request.
func SplitFields(r *Request) ([]Field, Coverage) {
	c := &collector{fs: make([]Field, 0, 24), cov: Coverage{Complete: true}}
	path, query, _ := strings.Cut(r.URI, "?")
	if i := strings.IndexByte(query, '#'); i >= 0 {
		query = query[:i]
	}
	if path != "" && path != "/" {
		c.emit(Field{Part: PartPath, Raw: path})
	}
	c.graphQLRoute = graphQLRoute(path)
	c.args(query, PartQuery, '&', "", 0)

	var contentType string
	for _, h := range r.Headers {
		k := strings.ToLower(h[0])
		if k == "" {
			continue
		}
		c.header(k, h[1], &contentType)
	}
	if len(r.Body) > 0 {
		body := r.Body
		if len(body) > maxBodyBytes {
			body = body[:maxBodyBytes]
			c.incomplete("body over 128 KiB")
		}
		c.body(contentType, body)
	}
	c.choose()
	return c.fs, c.cov
}

func (c *collector) header(k, v string, contentType *string) {
	switch {
	case k == "cookie":
		c.cookies(v)
	case k == "content-type":
		*contentType = v
		// Content-Type is parsed by the application, so an injected
		// value there matters, but only when it is not a plain type.
		if strings.ContainsAny(v, "'\"<>(){}$`|\\") {
			c.emit(Field{Part: PartHeader, Name: k, Raw: v})
		}
	case k == "authorization":
		// Credentials are not scored; a JWT's header and claims are, and
		// so is a Basic user name, which the application looks up (in SQL,
		// in LDAP) as it would a login form's.
		v = strings.TrimSpace(v)
		if user, ok := basicUser(v); ok {
			c.emit(Field{Part: PartHeader, Name: k + ".username", Raw: user, origin: k})
			return
		}
		if c.jwt(Field{Part: PartHeader, Name: k, Raw: v, origin: k}, 0) {
			return
		}
		// A credential that is not a token68 (RFC 7235: letters, digits
		// and -._~+/ with = padding) is no credential a server issued:
		// `Bearer AAAAAA'or'1'='1` is an injection into the code that
		// looks the token up. It is scored; real tokens stay unread.
		if _, cred, ok := strings.Cut(v, " "); ok {
			if cred = strings.TrimSpace(cred); !token68(cred) {
				c.emit(Field{Part: PartHeader, Name: k + ".credentials", Raw: cred, origin: k})
			}
		}
	case skipHeaders[k] || k[0] == ':' || strings.HasPrefix(k, "x-envoy-"):
	case dateHeaders[k] && httpDate(v):
	case strings.HasPrefix(k, "sec-ch-") || structuredHeaders[k]:
		// Client hints are RFC 8941 structured fields: what can carry a
		// payload is their strings and tokens, scored one by one.
		if items, ok := sfItems(v); ok {
			for _, it := range items {
				c.emit(Field{Part: PartHeader, Name: k, Raw: it, origin: k})
			}
			return
		}
		c.emit(Field{Part: PartHeader, Name: k, Raw: v})
	case urlHeaders[k]:
		c.value(Field{Part: PartHeader, Name: k, Raw: v, origin: k}, 0)
	default:
		c.emit(Field{Part: PartHeader, Name: k, Raw: v})
	}
}

// value emits f, or, when its value is a URL or a JSON document, the
// parts of it (up to maxNesting levels deep): a full URL as a redirect
// target is not an attack, but a payload in its query still is.
func (c *collector) value(f Field, lvl int) {
	if lvl < maxNesting && len(f.Raw) >= 8 && !f.nameOnly {
		d := f.Raw
		if f.Part != PartHeader || strings.IndexByte(d, '%') >= 0 {
			d, _ = percentDecode(f.Raw, f.formEncoded)
		}
		t := strings.TrimSpace(d)
		if u, ok := splitURL(t); ok {
			c.url(f, u, lvl)
			return
		}
		if jsonDocument(t) && c.jsonFields(t, f, lvl) {
			return
		}
		if x, ok := base64XML(t); ok {
			// SAML's HTTP-POST binding, SharePoint's FedAuth cookie: an XML
			// document in base64, whose markup decoded reads as markup.
			mark := len(c.fs)
			if walkXMLFields(x, f.Part, f.Name+".", f.origin, lvl+1, c) {
				return
			}
			c.fs = c.fs[:mark]
		}
		if c.jwt(Field{Part: f.Part, Name: f.Name, Raw: t, origin: f.origin}, lvl) {
			return
		}
		if j, ok := base64JSON(t); ok && c.jsonFields(j, f, lvl) {
			// A pagination cursor or an OAuth state (`eyJvZmZzZXQiOjQwfQ==`
			// is {"offset":40}): JSON the client encoded, read as JSON.
			// Scored as decoded text, its quotes and braces read as an
			// injection (sqli 14 on an iOS app's feed call).
			return
		}
		if c.graphQLRoute && graphQLField(f.Name) {
			if lits, ok := graphQLStrings(t); ok {
				c.graphQL(f, lits, lvl)
				return
			}
		}
		if c.html(f, t, lvl) {
			return
		}
	}
	c.emit(f)
}

// jwt emits the header and claims of a JSON Web Token in f as fields
// named f.Name+".jwt.": the application reads them decoded (a user id, a
// tenant, the header's "kid"), and whoever signed them, the client wrote
// them. The signature is random and stays out. It reports whether f was a
// token.
func (c *collector) jwt(f Field, lvl int) bool {
	hdr, claims, ok := jwtParts(f.Raw)
	if !ok {
		return false
	}
	mark := len(c.fs)
	if walkJSONFields(hdr, f.Part, f.Name+".jwt.", f.origin, lvl+1, c) &&
		walkJSONFields(claims, f.Part, f.Name+".jwt.", f.origin, lvl+1, c) {
		return true
	}
	c.fs = c.fs[:mark]
	return false
}

// token68 reports whether s is an RFC 7235 token68; Digest's and AWS
// signature's parameter lists (`a="b", c=d`) count as one too, as servers
// issue them.
func token68(s string) bool {
	if strings.Contains(s, "=") && (strings.Contains(s, ",") || strings.Contains(s, "\"")) {
		return authParams(s)
	}
	n := len(s)
	for n > 0 && s[n-1] == '=' {
		n--
	}
	for i := 0; i < n; i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return false
		}
	}
	return n > 0
}

// authParams reports whether s is a list of auth parameters (RFC 7235:
// name=token or name="quoted", comma-separated) with nothing in the
// quoted values a quote could end early: Digest's username="...",
// uri="...", AWS4-HMAC-SHA256's Credential=…, SignedHeaders=….
func authParams(s string) bool {
	for _, p := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || name == "" || strings.ContainsAny(name, " \"'") {
			return false
		}
		if strings.HasPrefix(val, "\"") {
			if len(val) < 2 || !strings.HasSuffix(val, "\"") || strings.ContainsAny(val[1:len(val)-1], "\"'\\") {
				return false
			}
			continue
		}
		if strings.ContainsAny(val, " \"'") {
			return false
		}
	}
	return true
}

// base64JSON decodes s when it is base64 (see base64Text) of a JSON
// object or array.
func base64JSON(s string) (string, bool) {
	// base64 of `{"`, `{ "`, `[{` and `["` begins so.
	if !strings.HasPrefix(s, "eyJ") && !strings.HasPrefix(s, "eyAi") && !strings.HasPrefix(s, "W3") && !strings.HasPrefix(s, "WyJ") {
		return "", false
	}
	d, ok := base64Text(s)
	if !ok {
		return "", false
	}
	t := strings.TrimSpace(d)
	if !jsonDocument(t) {
		return "", false
	}
	return t, true
}

// jsonDocument reports whether t is delimited as a JSON object or array.
func jsonDocument[T string | []byte](t T) bool {
	return len(t) >= 2 && (t[0] == '{' && t[len(t)-1] == '}' || t[0] == '[' && t[len(t)-1] == ']')
}

// jsonFields walks doc, a JSON document found in f's value, into fields
// named after f; when doc does not parse, it takes back what it emitted
// and reports false, so f is read another way.
func (c *collector) jsonFields(doc string, f Field, lvl int) bool {
	mark := len(c.fs)
	if walkJSONFields(doc, f.Part, f.Name+".", f.origin, lvl+1, c) {
		return true
	}
	c.fs = c.fs[:mark]
	return false
}

// basicUser is the user name of HTTP Basic credentials (RFC 7617:
// "Basic " and the base64 of user:password), when v is such and the name
// is text.
func basicUser(v string) (string, bool) {
	if len(v) < 7 || !strings.EqualFold(v[:6], "basic ") {
		return "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v[6:]))
	if err != nil {
		return "", false
	}
	user, _, ok := strings.Cut(string(raw), ":")
	if !ok || user == "" || !utf8.ValidString(user) {
		return "", false
	}
	return user, true
}

// jwtParts decodes the header and the claims of a JSON Web Token in
// compact form ("Bearer " allowed in front): three base64url segments, the
// last one, the signature, possibly empty ("alg":"none"), whose first two
// decode to JSON objects, the first with an "alg".
func jwtParts(t string) (hdr, claims string, ok bool) {
	if len(t) > 7 && strings.EqualFold(t[:7], "bearer ") {
		t = strings.TrimSpace(t[7:])
	}
	h, rest, ok1 := strings.Cut(t, ".")
	p, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || !strings.HasPrefix(h, "eyJ") || !base64Alphabet(sig) {
		return "", "", false
	}
	hdr, ok1 = base64Text(h)
	claims, ok2 = base64Text(p)
	if !ok1 || !ok2 || !strings.HasPrefix(hdr, "{") || !strings.Contains(hdr, `"alg"`) ||
		!strings.HasPrefix(strings.TrimSpace(claims), "{") {
		return "", "", false
	}
	return hdr, claims, true
}

// graphQLRoute: a path that names a GraphQL endpoint (/graphql, /gql,
// Shopify's /api/2024-01/graphql.json). Elsewhere "query" is the search
// box of an application that may splice it into SQL, and a GraphQL
// selection set of bare names ({ a UNION SELECT password FROM users }) is
// a working injection there, so only GraphQL routes are read as GraphQL.
func graphQLRoute(path string) bool {
	p := strings.ToLower(path)
	return strings.Contains(p, "graphql") || strings.Contains(p, "/gql")
}

// graphQLField: GraphQL over HTTP sends its document as "query" (a JSON
// body's member, one per element of a batch, or a GET argument). Only
// there is a value read as one; elsewhere "{UID}" is an ad macro, scored
// as it always was.
func graphQLField(name string) bool {
	if i := strings.LastIndexAny(name, ".?"); i >= 0 {
		name = name[i+1:]
	}
	return name == "query"
}

// graphQL emits the free text of a GraphQL document (see graphql.go) as
// fields named after the field it came in.
func (c *collector) graphQL(f Field, lits []string, lvl int) {
	for _, l := range lits {
		c.value(Field{Part: f.Part, Name: f.Name, Raw: l, origin: f.origin}, lvl+1)
	}
}

type urlParts struct{ path, query, fragment string }

// splitURL recognises an absolute http(s) URL with a plain host.
func splitURL(s string) (urlParts, bool) {
	var rest string
	switch {
	case len(s) > 7 && strings.EqualFold(s[:7], "http://"):
		rest = s[7:]
	case len(s) > 8 && strings.EqualFold(s[:8], "https://"):
		rest = s[8:]
	default:
		return urlParts{}, false
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	host := rest[:end]
	if host == "" {
		return urlParts{}, false
	}
	for i := 0; i < len(host); i++ {
		ch := host[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' ||
			ch == '.' || ch == '-' || ch == ':' || ch == '[' || ch == ']' || ch == '_') {
			return urlParts{}, false
		}
	}
	rest = rest[end:]
	var u urlParts
	rest, u.fragment, _ = strings.Cut(rest, "#")
	u.path, u.query, _ = strings.Cut(rest, "?")
	return u, true
}

func (c *collector) url(f Field, u urlParts, lvl int) {
	if u.path != "" && u.path != "/" {
		c.emit(Field{Part: f.Part, Name: f.Name, Raw: u.path, origin: f.origin})
	}
	c.args(u.query, f.Part, '&', f.Name+"?", lvl+1, f.origin)
	if u.fragment != "" {
		c.value(Field{Part: f.Part, Name: f.Name + "#", Raw: u.fragment, origin: f.origin, formEncoded: true}, lvl+1)
	}
}

// args splits a query string or form body. prefix names arguments of a
// nested URL after the field they came from; origin is that field.
func (c *collector) args(s, part string, sep byte, prefix string, lvl int, origin ...string) {
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
		name := prefix + decodeName(k)
		org := name
		if len(origin) > 0 {
			org = origin[0]
		}
		if !hasEq {
			// A bare token ("?<script>") is a value without a name.
			c.value(Field{Part: part, Name: name, Raw: k, formEncoded: true, origin: org}, lvl)
			continue
		}
		if suspiciousName(k) {
			c.emit(Field{Part: part, Name: name, Raw: k, formEncoded: true, nameOnly: true, origin: org})
		}
		c.value(Field{Part: part, Name: name, Raw: v, formEncoded: true, origin: org}, lvl)
	}
}

func (c *collector) cookies(s string) {
	for s != "" {
		var kv string
		kv, s, _ = strings.Cut(s, ";")
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if suspiciousName(k) {
			c.emit(Field{Part: PartCookie, Name: k, Raw: k, nameOnly: true})
		}
		c.value(Field{Part: PartCookie, Name: k, Raw: v, origin: k}, 0)
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
			c == '_' || c == '-' || c == '.' || c == '[' || c == ']' || c == '%' && i+2 < len(k) && k[i+1] == '5' && (k[i+2] == 'B' || k[i+2] == 'D' || k[i+2] == 'b' || k[i+2] == 'd')) {
			return true
		}
	}
	return false
}

func (c *collector) body(contentType string, body []byte) {
	mt, params, _ := mime.ParseMediaType(contentType)
	mark := len(c.fs)
	// Beacons and ad-tech send JSON under any content type (text/plain,
	// form-urlencoded): a body that parses as JSON is JSON.
	if t := bytes.TrimSpace(body); jsonDocument(t) && !strings.HasPrefix(mt, "multipart/") {
		if walkJSONFields(string(body), PartBody, "", "", 0, c) {
			return
		}
		c.fs = c.fs[:mark]
		if bytes.IndexByte(t, '\n') > 0 && c.jsonLines(string(t)) {
			return
		}
		c.fs = c.fs[:mark]
	}
	if mt == "image/svg+xml" {
		// An SVG document sent whole (a PUT to storage) is an upload too:
		// only its active parts are scored, as a multipart file's are.
		c.svgFields("svg", body)
		return
	}
	if looksLikeXML(mt) {
		if walkXMLFields(string(body), PartBody, "", "", 0, c) {
			return
		}
		c.fs = c.fs[:mark]
	}
	switch {
	case mt == "application/x-www-form-urlencoded":
		c.args(string(body), PartBody, '&', "", 0)
		return
	case strings.HasPrefix(mt, "multipart/"):
		if c.multipart(body, params["boundary"]) {
			return
		}
		c.fs = c.fs[:mark]
	case mt == "application/graphql" || mt == "application/graphql-query":
		if lits, ok := graphQLStrings(string(body)); ok {
			c.graphQL(Field{Part: PartBody}, lits, 0)
			return
		}
	case mt == "" || mt == "text/plain":
		// Clients without a content type (and beacons sent as text/plain)
		// still send forms.
		if looksLikeForm(body) {
			c.args(string(body), PartBody, '&', "", 0)
			return
		}
	}
	c.emit(Field{Part: PartBody, Raw: string(body)})
}

// jsonLines walks a body of newline-delimited JSON documents (JSON
// Lines, NDJSON: Datadog's and Sentry's browser beacons, Segment batches)
// as JSON, each line on its own. Every non-empty line must parse, or the
// body is not JSON Lines and is scored as text.
func (c *collector) jsonLines(body string) bool {
	for body != "" {
		line, rest, _ := strings.Cut(body, "\n")
		body = rest
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !walkJSONFields(line, PartBody, "", "", 0, c) {
			return false
		}
	}
	return true
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

func (c *collector) multipart(body []byte, boundary string) bool {
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
		b, _ := io.ReadAll(io.LimitReader(p, maxBodyBytes))
		name := p.FormName()
		// A part's name is the application's parameter name, as in a form
		// (`comment<script>…`, `cfg$(id)` and `../../../tmp/x` passed a
		// blind probe when only values and file names were scored).
		if suspiciousName(name) {
			c.emit(Field{Part: PartBody, Name: name, Raw: name, nameOnly: true})
		}
		// FileName() strips directories, which would hide exactly the
		// traversal we look for, so the header is parsed here.
		_, cd, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
		if fn := cd["filename"]; fn != "" {
			// The file name is attacker-chosen and often a traversal vector.
			// File contents are out of scope for a lexical model, except an
			// SVG's active parts: a browser runs them (svgwalk.go).
			c.emit(Field{Part: PartBody, Name: name + ".filename", Raw: fn})
			if svgUpload(fn, p.Header.Get("Content-Type"), b) {
				c.svgFields(name+".svg", b)
			}
			continue
		}
		c.value(Field{Part: PartBody, Name: name, Raw: string(b), origin: name}, 0)
	}
}

// choose applies the prefilter and then the caps: when more fields or
// bytes remain than the model scores per request, the riskiest are kept
// and the rest marked dropped, which makes the request incomplete.
func (c *collector) choose() {
	n, bytes := 0, 0
	for i := range c.fs {
		f := &c.fs[i]
		f.skip = Prefiltered(f)
		if !f.skip {
			n++
			bytes += len(f.Raw)
		}
	}
	if n <= maxFields && bytes <= maxScoredBytes {
		return
	}
	idx := make([]int, 0, n)
	risk := make([]int, len(c.fs))
	for i := range c.fs {
		if !c.fs[i].skip {
			idx = append(idx, i)
			risk[i] = riskOf(c.fs[i].Raw)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return risk[b] - risk[a] })
	kept, used := 0, 0
	for _, i := range idx {
		f := &c.fs[i]
		if kept < maxFields && used+len(f.Raw) <= maxScoredBytes {
			kept++
			used += len(f.Raw)
			continue
		}
		f.dropped = true
	}
	if n > maxFields {
		c.incomplete("more than 256 fields to score")
	} else {
		c.incomplete("more than 128 KiB of values to score")
	}
}

// riskOf ranks fields for the caps: the bytes payloads are made of.
func riskOf(s string) int {
	r := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'', '"', '<', '>', ';', '|', '`', '$', '(', ')', '{', '}', '\\':
			r += 4
		case '%', '&', '=', '.', '/', '*', '#', '-':
			r++
		}
	}
	return r
}
