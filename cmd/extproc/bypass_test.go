package main

import (
	"context"
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/model"
)

// Payloads that a review of the XML, base64-XML and GraphQL readers hid
// from the model by putting them where a reader dropped text (an XML
// declaration, a namespace value, bare GraphQL names, a document split by
// child elements). Under the shipped defaults each must be blocked.
func TestReviewedReaderBypassesAreBlocked(t *testing.T) {
	t.Parallel()
	rt := defaultRuntime(t)
	const sqli = "1' UNION SELECT username,password FROM users-- -"
	b64 := func(s string) string { return url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(s))) }
	get := func(uri string, h ...[2]string) model.Request {
		return model.Request{Method: "GET", URI: uri, Headers: append([][2]string{{"host", "shop.example"}, {"user-agent", "Mozilla/5.0"}}, h...)}
	}
	post := func(uri, ct, body string) model.Request {
		return model.Request{Method: "POST", URI: uri, Headers: [][2]string{{"host", "shop.example"}, {"user-agent", "Mozilla/5.0"}, {"content-type", ct}}, Body: []byte(body)}
	}
	tests := []struct {
		name string
		req  model.Request
	}{
		{"xss inside an XML declaration in a query value", get("/search?q=" + url.QueryEscape("<?xml ><img src=x onerror=alert(document.cookie)>?><a/>"))},
		{"sqli inside an XML declaration in a query value", get("/item?id=" + url.QueryEscape("<?xml "+sqli+"?><a/>"))},
		{"sqli inside an XML declaration in a cookie", get("/", [2]string{"cookie", "sid=" + url.QueryEscape("<?xml "+sqli+"?><a/>")})},
		{"a form body that begins with an XML declaration", post("/login", "application/x-www-form-urlencoded", "<?xml &id="+url.QueryEscape(sqli)+"&z= ?><a/>")},
		{"sqli inside the declaration of an XML body", post("/api", "application/xml", "<?xml "+sqli+"?><a/>")},
		{"base64 of an XML document with sqli in its declaration", get("/sso?data=" + b64("<?xml "+sqli+"?><a/>"))},
		{"sqli in a namespace value", get("/item?id=" + url.QueryEscape(`<?xml version="1.0"?><a xmlns:x="`+sqli+`"/>`))},
		{"sqli in a namespace value of an XML body", post("/api", "application/xml", `<r xmlns:q="`+sqli+`"><a>1</a></r>`)},
		{"sqli written as GraphQL names off a GraphQL route", get("/search?query=" + url.QueryEscape("{ a UNION SELECT password FROM users }"))},
		{"sqli split by child elements", post("/api", "application/xml", "<r><id>1' UNI<i/>ON SEL<i/>ECT username,password FR<i/>OM users-- -</id></r>")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep, err := inspectAsEnvoy(context.Background(), rt.Core, &tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Request.Action != inspect.ActionBlock {
				t.Errorf("%s: %s", rep.Request.Action, rep.Explanation())
			}
		})
	}
}
