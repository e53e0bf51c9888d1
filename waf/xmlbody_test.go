package waf

import (
	"context"
	"testing"
)

// XML bodies whose elements share a name with an HTML void element
// (XML-RPC's <param>, RSS's <link>) are parsed, not refused as
// REQBODY_ERROR by rule 200002 (internal/xmlbody); an attack in their text
// still reaches CRS through XML:/*.
func TestXMLBodyProcessor(t *testing.T) {
	t.Parallel()
	e, err := New(DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		body    string
		blocked bool
		rule    int
	}{
		{"xml-rpc call", `<?xml version="1.0"?><methodCall><methodName>wp.getUsersBlogs</methodName><params><param><value><string>admin</string></value></param></params></methodCall>`, false, 0},
		{"sqli in a param", `<?xml version="1.0"?><methodCall><methodName>x</methodName><params><param><value><string>1' UNION SELECT user_pass FROM wp_users-- -</string></value></param></params></methodCall>`, true, 942100},
		{"invalid UTF-8 is still refused", "<a>\xff</a>", true, 200002},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tx := e.NewTransaction(context.Background(), "")
			defer func() { _ = tx.Close() }()
			tx.ProcessConnection("203.0.113.7", 51234, "10.0.0.2", 8080)
			tx.ProcessURI("/xmlrpc.php", "POST", "HTTP/1.1")
			tx.AddRequestHeader("Host", "blog.example")
			tx.AddRequestHeader("Content-Type", "text/xml")
			tx.AddRequestHeader("User-Agent", "WordPress/6.4; https://blog.example")
			tx.ProcessRequestHeaders()
			if _, _, err := tx.WriteRequestBody([]byte(tc.body)); err != nil {
				t.Fatal(err)
			}
			it, err := tx.ProcessRequestBody()
			if err != nil {
				t.Fatal(err)
			}
			v := ReadVerdict(tx)
			if blocked := it != nil || v.Interrupted || v.InboundScore >= 5; blocked != tc.blocked {
				t.Fatalf("interrupted %v, verdict %+v; want blocked %v", it, v, tc.blocked)
			}
			if tc.rule != 0 {
				found := it != nil && it.RuleID == tc.rule
				for _, m := range v.Matches {
					found = found || m.ID == tc.rule
				}
				if !found {
					t.Errorf("rule %d did not match: %+v", tc.rule, v.Matches)
				}
			}
		})
	}
}
