package decode

import (
	"bytes"
	"testing"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ct   string
		want Kind
	}{
		{"", Sniff},
		{"application/octet-stream", Sniff},
		{"text/html; charset=utf-8", HTML},
		{"TEXT/HTML", HTML},
		{"application/json", JSON},
		{"application/problem+json", JSON},
		{"application/vnd.api+json; charset=utf-8", JSON},
		{"application/x-ndjson", JSON},
		{"application/xml", XML},
		{"text/xml", XML},
		{"application/atom+xml", XML},
		{"image/svg+xml", XML},
		{"text/plain", Text},
		{"text/csv", Text},
		{"application/javascript", Text},
		{"application/x-yaml", Text},
		{"image/png", Skip},
		{"video/mp4", Skip},
		{"audio/ogg", Skip},
		{"font/woff2", Skip},
		{"application/zip", Skip},
		{"application/pdf", Skip},
		{"text/html; charset=\"bad", HTML},
		{"image/png;;;", Skip},
	}
	for _, tc := range cases {
		if got := (Types{}).Classify(tc.ct); got != tc.want {
			t.Errorf("Classify(%q) = %v, want %v", tc.ct, got, tc.want)
		}
	}
	custom := Types{Skip: []string{"text/csv"}}
	if custom.Classify("text/csv") != Skip || custom.Classify("image/png") != Text {
		t.Error("a custom skip list replaces the default one")
	}
}

func TestSniffKind(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		head []byte
		want Kind
	}{
		{"json-object", []byte(`  {"a": 1}`), JSON},
		{"json-array", []byte("\xef\xbb\xbf[1,2]"), JSON},
		{"html", []byte("<!DOCTYPE html><html><body>hi"), HTML},
		{"xml", []byte(`<?xml version="1.0"?><a/>`), XML},
		{"dotenv", []byte("DB_PASSWORD=hunter2\nAPP_KEY=base64:abc\n"), Text},
		{"ini-not-json", []byte("[core]\n\trepositoryformatversion = 0\n"), Text},
		{"log-not-json", []byte("[INFO] started\n"), Text},
		{"json-number-array", []byte("[1, 2]"), JSON},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), Skip},
		{"gif", []byte("GIF89a\x01\x00"), Skip},
		{"zip", []byte("PK\x03\x04\x14\x00"), Skip},
		{"binary-unknown", bytes.Repeat([]byte{0, 1, 2, 0xff}, 40), Text},
		{"empty", nil, Text},
	}
	for _, tc := range cases {
		if got := SniffKind(tc.head); got != tc.want {
			t.Errorf("%s: SniffKind = %v, want %v", tc.name, got, tc.want)
		}
	}
}
