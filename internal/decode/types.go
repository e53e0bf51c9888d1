package decode

import (
	"bytes"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Kind is how a body is read.
type Kind uint8

// Body kinds.
const (
	// Sniff: the content type says nothing (missing, or a generic binary
	// type); the first bytes decide.
	Sniff Kind = iota
	// Skip: a type that cannot carry text.
	Skip
	Text
	HTML
	JSON
	XML
)

func (k Kind) String() string {
	return [...]string{"sniff", "skip", "text", "html", "json", "xml"}[k]
}

// DefaultSkip is the default skip list: media and font types, which cannot
// carry text, and archive formats, whose contents the inspector would only
// see compressed. application/octet-stream is NOT on it: servers send
// .env, .git/config and backup files with that type, so it is sniffed.
// image/svg+xml and other +xml/+json types are text and always inspected.
var DefaultSkip = []string{
	"image/*", "video/*", "audio/*", "font/*",
	"application/font-woff", "application/font-woff2", "application/vnd.ms-fontobject", "application/x-font-ttf",
	"application/zip", "application/gzip", "application/x-gzip", "application/x-tar", "application/x-7z-compressed",
	"application/x-rar-compressed", "application/vnd.rar", "application/x-bzip2", "application/x-xz", "application/zstd",
	"application/java-archive", "application/vnd.android.package-archive",
	"application/wasm", "application/pdf",
}

// Types classifies content types against a skip list. The zero value uses
// DefaultSkip.
type Types struct {
	// Skip lists media types ("type/subtype" or "type/*") that are not
	// inspected. Matching ignores case and parameters.
	Skip []string `yaml:"skip"`
}

// Classify returns the kind for a Content-Type header value. Structured
// syntax suffixes count: application/problem+json is JSON,
// application/atom+xml is XML, and neither can be skipped by a wildcard on
// its top-level type.
func (t Types) Classify(contentType string) Kind {
	mt := mediaType(contentType)
	if mt == "" || mt == "application/octet-stream" || mt == "binary/octet-stream" || mt == "application/unknown" {
		return Sniff
	}
	switch {
	case strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "/json"), strings.HasSuffix(mt, "/x-ndjson"),
		strings.HasSuffix(mt, "/ndjson"), strings.HasSuffix(mt, "/jsonl"), strings.HasSuffix(mt, "/x-json"):
		return JSON
	case strings.HasSuffix(mt, "+xml"), strings.HasSuffix(mt, "/xml"):
		return XML
	case mt == "text/html", mt == "application/xhtml":
		return HTML
	}
	skip := t.Skip
	if skip == nil {
		skip = DefaultSkip
	}
	top, _, _ := strings.Cut(mt, "/")
	for _, s := range skip {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == mt || (strings.HasSuffix(s, "/*") && s[:len(s)-2] == top) {
			return Skip
		}
	}
	return Text
}

// mediaType is the lower-case type/subtype of a Content-Type value, or ""
// when there is none. A value mime cannot parse still yields its part
// before ';', so a malformed parameter cannot hide the type.
func mediaType(ct string) string {
	ct = strings.TrimSpace(ct)
	if ct == "" {
		return ""
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// SniffLen is how many leading bytes SniffKind looks at.
const SniffLen = 512

// SniffKind decides the kind of a body without a usable content type from
// its first bytes: net/http.DetectContentType for the binary signatures
// and HTML/XML, then a JSON check, then whether the bytes read as text.
// Anything that is not a known binary format is inspected, as text at
// worst: a sniffer that skipped what it did not recognise would be a
// bypass.
func SniffKind(head []byte) Kind {
	if len(head) > SniffLen {
		head = head[:SniffLen]
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf")
	if looksJSON(trimmed) && looksText(trimmed) {
		return JSON
	}
	ct := http.DetectContentType(head)
	mt := mediaType(ct)
	switch {
	case mt == "text/html":
		return HTML
	case mt == "text/xml":
		return XML
	case strings.HasPrefix(mt, "text/"):
		return Text
	}
	if (Types{}).Classify(mt) == Skip {
		return Skip
	}
	// application/octet-stream by DetectContentType: still text if it
	// mostly decodes as UTF-8 without control bytes (an .env file with an
	// odd byte), otherwise binary we cannot read but still scan as text:
	// secrets inside binary files (a leaked SQLite file, a core dump) are
	// plain ASCII runs.
	return Text
}

// looksJSON: an object or array whose first member starts like a JSON
// value, so that an INI file ("[core]") or a log line ("[INFO] …") is not
// taken for JSON.
func looksJSON(b []byte) bool {
	if len(b) == 0 || (b[0] != '{' && b[0] != '[') {
		return false
	}
	rest := bytes.TrimLeft(b[1:], " \t\r\n")
	if len(rest) == 0 {
		return true
	}
	c := rest[0]
	if b[0] == '{' {
		return c == '"' || c == '}'
	}
	return c == '{' || c == '[' || c == '"' || c == ']' || c == '-' || (c >= '0' && c <= '9') ||
		bytes.HasPrefix(rest, []byte("true")) || bytes.HasPrefix(rest, []byte("false")) || bytes.HasPrefix(rest, []byte("null"))
}

// looksText: valid UTF-8 (allowing a cut rune at the end) with few
// control bytes.
func looksText(b []byte) bool {
	ctrl := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' {
				ctrl++
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 && len(b)-i >= utf8.UTFMax {
			return false
		}
		i += n
	}
	return ctrl*50 <= len(b)
}
