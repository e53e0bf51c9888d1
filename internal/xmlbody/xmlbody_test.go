package xmlbody

import (
	"reflect"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		in          string
		attrs, text []string
		err         bool
	}{
		{"xml-rpc params", `<?xml version="1.0"?><methodCall><methodName>wp.getUsersBlogs</methodName><params><param><value><string>admin</string></value></param></params></methodCall>`,
			nil, []string{"wp.getUsersBlogs", "admin"}, false},
		{"rss link with content", `<rss><channel><link>https://example.com/</link><source url="https://a.example/">A</source></channel></rss>`,
			[]string{"https://a.example/"}, []string{"https://example.com/", "A"}, false},
		{"attributes and entities", `<a x="1 &amp; 2"><b>&nbsp;caf&eacute; </b></a>`, []string{"1 & 2"}, []string{"café"}, false},
		{"cut short is read as far as it goes", `<a><b>one</b><c>two`, nil, []string{"one", "two"}, false},
		{"mismatched end tags are repaired", `<a><b>x</a>`, nil, []string{"x"}, false},
		{"a stray end tag is an error", `</b>`, nil, nil, true},
		{"invalid UTF-8 is an error", "<a>\xff</a>", nil, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			attrs, text, err := Read(strings.NewReader(tc.in))
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if !tc.err && (!reflect.DeepEqual(attrs, tc.attrs) || !reflect.DeepEqual(text, tc.text)) {
				t.Errorf("got %q %q, want %q %q", attrs, text, tc.attrs, tc.text)
			}
		})
	}
}
