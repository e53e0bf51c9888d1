package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestCheckExplainsTheDecision(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args     []string
		decision string
		explain  string
	}{
		// The scores themselves belong to the embedded model; the
		// explanation's shape is what is tested.
		{[]string{"--mode", "and", "http://shop.example/search?q=union+station+selection"}, "flag", `^mode=and crs=block\(anomaly 5: 942190\) ml=clean\(`},
		{[]string{"http://shop.example/greet?name=%7B%7B7*7%7D%7D"}, "block", `^mode=confirm crs=pass\(anomaly 0\) ml=attack\(rce ([1-9]|1[0-9]|2[0-5]) in query:name\) → block$`},
		{[]string{"--mode", "or", "http://shop.example/greet?name=%7B%7B7*7%7D%7D"}, "block", `^mode=or crs=pass\(anomaly 0\) ml=attack\(rce ([1-9]|1[0-9]|2[0-5]) in query:name\) → block \(anomaly 0\+5\)$`},
		{[]string{"-X", "POST", "-H", "Content-Type: application/json", "-d", `{"comment":"it's fine, drop me a line"}`, "http://shop.example/api"}, "allow", `→ allow$`},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		if err := runCheck(context.Background(), append([]string{"--json"}, tt.args...), &out, &errOut); err != nil {
			t.Fatalf("%v: %v %s", tt.args, err, errOut.String())
		}
		var res checkResult
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		if res.Decision != tt.decision || !regexp.MustCompile(tt.explain).MatchString(res.Explanation) {
			t.Errorf("%v: decision %q explanation %q", tt.args, res.Decision, res.Explanation)
		}
	}
	if err := runCheck(context.Background(), []string{"--mode", "xor", "http://a/"}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("a bad --mode was accepted")
	}
}

// Requests as browser devtools show them (HTTP/2 request line,
// pseudo-headers) are read as the same request.
func TestCheckRawFromDevtools(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := dir + "/req.txt"
	if err := os.WriteFile(file, []byte("GET /search?q=shoes HTTP/2\n:authority: shop.example\n:method: GET\n:path: /search?q=shoes\n:scheme: https\nuser-agent: Mozilla/5.0\naccept: */*\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := runCheck(context.Background(), []string{"--json", "--raw", file}, &out, &errOut); err != nil {
		t.Fatalf("%v %s", err, errOut.String())
	}
	var res checkResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Method != "GET" || res.URI != "/search?q=shoes" || res.Decision != "allow" {
		t.Fatalf("%+v", res)
	}
}

// check takes URLs the way curl does; a URL it cannot read is reported as
// typed, not as the "http://" form it also tried.
func TestCurlRequestURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, uri, err string
	}{
		{raw: "http://shop.example/p?q=1", uri: "/p?q=1"},
		{raw: "shop.example/p?q=1", uri: "/p?q=1"},
		{raw: "localhost:8080/x?q=1", uri: "/x?q=1"},
		{raw: "/only/a/path", uri: "/only/a/path"},
		{raw: "http://a.example/x%%32", err: `parse "http://a.example/x%%32"`},
		{raw: "a.example/x%%32", err: `parse "a.example/x%%32"`},
	}
	for _, tc := range tests {
		r, err := curlRequest(tc.raw, "GET", nil, nil, "")
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "http://http://") {
				t.Errorf("%q: error %v, want one naming %s", tc.raw, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.raw, err)
		case r.URI != tc.uri:
			t.Errorf("%q: URI %q, want %q", tc.raw, r.URI, tc.uri)
		}
	}
}
