package ftw

import (
	"slices"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestBuildRequest(t *testing.T) {
	tests := []struct {
		name    string
		in      Input
		wantHdr [][2]string
		body    string
		framed  bool
	}{
		{"defaults and autocomplete", Input{Headers: Headers{{"Host", "localhost"}}, Data: ptr("a=1")},
			[][2]string{{"Host", "localhost"}, {"Content-Length", "3"}, {"Connection", "close"}}, "a=1", true},
		{"autocomplete off keeps headers as given", Input{Headers: Headers{{"Host", "h"}}, Data: ptr("x"), AutocompleteHeaders: ptr(false)},
			[][2]string{{"Host", "h"}}, "x", false},
		{"encoded chunked request is de-chunked", Input{EncodedRequest: "UE9TVCAvIEhUVFAvMS4xDQpIb3N0OiBoDQpUcmFuc2Zlci1FbmNvZGluZzogY2h1bmtlZA0KDQozDQpIaSANCjANCg0K"},
			[][2]string{{"Host", "h"}, {"Transfer-Encoding", "chunked"}}, "Hi ", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := BuildRequest(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Headers, tc.wantHdr) || string(r.Body) != tc.body || r.Framed != tc.framed {
				t.Errorf("got headers %q body %q framed %v", r.Headers, r.Body, r.Framed)
			}
		})
	}
}

func TestEnvoyView(t *testing.T) {
	base := func(mutate func(*Request)) *Request {
		r := &Request{Method: "GET", URI: "/a?b=1", Version: "HTTP/1.1", Headers: [][2]string{{"Host", "localhost"}, {"Connection", "close"}}}
		if mutate != nil {
			mutate(r)
		}
		return r
	}
	tests := []struct {
		name       string
		req        *Request
		reject     int
		path, auth string
	}{
		{"plain", base(nil), 0, "/a?b=1", "localhost"},
		{"custom method", base(func(r *Request) { r.Method = "FOO" }), 400, "", ""},
		{"HTTP/3.0", base(func(r *Request) { r.Version = "HTTP/3.0" }), 400, "", ""},
		{"absolute form", base(func(r *Request) { r.URI = "http://example.com/x?y" }), 0, "/x?y", "example.com"},
		{"space in target", base(func(r *Request) { r.URI = "/a b" }), 400, "", ""},
		{"bad content-length", base(func(r *Request) { r.Headers = append(r.Headers, [2]string{"Content-Length", "1x"}) }), 400, "", ""},
		{"missing host", base(func(r *Request) { r.Headers = nil }), 400, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg, _, rej := EnvoyView(tc.req, "id")
			if tc.reject != 0 {
				if rej == nil || rej.Status != tc.reject {
					t.Fatalf("got %+v, want rejection %d", rej, tc.reject)
				}
				return
			}
			if rej != nil {
				t.Fatalf("rejected: %+v", rej)
			}
			if msg.Path != tc.path || msg.Authority != tc.auth || msg.Get("connection") != "" || msg.Get("x-request-id") != "id" {
				t.Errorf("got %+v", msg)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	out := func(o Output) Case { return Case{Output: o} }
	tests := []struct {
		name string
		c    Case
		obs  Observation
		want Outcome
	}{
		{"expected id present", out(Output{Log: Log{ExpectIDs: []int{1}}}), Observation{IDs: []int{1, 2}}, Pass},
		{"expected id missing", out(Output{Log: Log{ExpectIDs: []int{1}}}), Observation{IDs: []int{2}}, Fail},
		{"forbidden id present", out(Output{Log: Log{NoExpectIDs: []int{2}}}), Observation{IDs: []int{2}}, Fail},
		{"status from Envoy's local reply", out(Output{Status: 400}), Observation{Status: 400, Rejected: &Rejection{400, "x"}}, Pass},
		{"status mismatch", out(Output{Status: 400}), Observation{Status: 200}, Fail},
		{"expect_error met by a refusal", out(Output{ExpectError: true, Log: Log{ExpectIDs: []int{1}}}), Observation{Rejected: &Rejection{400, "x"}}, Pass},
		{"regex", out(Output{Log: Log{MatchRegex: `ARGS:x`}}), Observation{Log: `found within ARGS:x`}, Pass},
		{"no assertions", out(Output{}), Observation{}, Skip},
		{"ignored by override", Case{Ignored: "wip", Output: Output{Status: 200}}, Observation{}, Skip},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Judge(tc.c, tc.obs); got.Outcome != tc.want {
				t.Errorf("got %v (%s), want %v", got.Outcome, got.Why, tc.want)
			}
		})
	}
}
