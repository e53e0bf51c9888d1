package model

import (
	"context"
	"testing"
	"unicode/utf8"
)

// FuzzFields runs the field splitter (query and form arguments, the JSON
// walk, multipart parts, cookies, header parsing) and the whole scoring
// path on arbitrary bytes: no panic, scores on the 1..99 scale, and field
// names the metadata can carry after it makes them valid UTF-8. The seed
// corpus in testdata/fuzz/FuzzFields runs with every `go test`.
func FuzzFields(f *testing.F) {
	f.Add("/s?a=1&b=%ff&c", "application/x-www-form-urlencoded", "a=1&b=2", "a=1; b=%ff")
	f.Add("/api", "application/json", `{"a":[1,{"b":"' or 1=1--"}],"c":{"d":{"e":[[[[[["x"]]]]]]}}}`, "")
	f.Add("/up", "multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n--XyZ--\r\n", "")
	f.Add("/", "application/json", `{"`+string(make([]byte, 300))+`":[0,0,0]}`, "q=\x00\xfe")
	m, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, uri, ctype, body, cookie string) {
		r := &Request{Method: "POST", URI: uri, Body: []byte(body),
			Headers: [][2]string{{"host", "shop.example"}, {"content-type", ctype}, {"cookie", cookie}, {"sec-ch-ua", cookie}}}
		for _, fl := range Fields(r) {
			if !utf8.ValidString(fl.Part) {
				t.Fatalf("part %q is not UTF-8", fl.Part)
			}
		}
		s := m.Score(context.Background(), r)
		if s.Overall < 1 || s.Overall > 99 {
			t.Fatalf("overall %d outside 1..99", s.Overall)
		}
		for c, v := range s.Class {
			if v < 1 || v > 99 {
				t.Fatalf("%s %d outside 1..99", c, v)
			}
		}
	})
}
