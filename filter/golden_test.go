package filter_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/servertest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current answers")

// The answers Envoy receives, message by message, for each body mode and a
// clean request, an attack in the query and an attack in the body, are
// pinned in testdata/answers-*.golden (prototext, compared with protocmp).
// A change to what Envoy sees shows up as a diff here; rerun with -update
// after checking it.
func TestGoldenAnswers(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{}, filter.Options{ModeOverride: true, UpstreamHeaders: true}))
	form := []string{":method", "POST", ":path", "/comment", ":authority", "shop.example", "content-type", "application/x-www-form-urlencoded",
		"user-agent", "Mozilla/5.0", "accept", "application/json", "x-request-id", "golden-1", "x-bulwark-verdict", "forged"}
	type exchangeCase struct {
		name string
		msgs func(procv3.ProcessingMode_BodySendMode) []*extprocv3.ProcessingRequest
	}
	resp := func() []*extprocv3.ProcessingRequest {
		return []*extprocv3.ProcessingRequest{respHeaders(false, ":status", "200", "content-type", "text/plain"), {
			Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{Body: []byte("ok"), EndOfStream: true}}}}
	}
	cases := []exchangeCase{
		{"clean", func(m procv3.ProcessingMode_BodySendMode) []*extprocv3.ProcessingRequest {
			return append([]*extprocv3.ProcessingRequest{withModes(reqHeaders(false, form...), m), reqBody("name=ada&", false), reqBody("city=london", true)}, resp()...)
		}},
		{"attack-in-query", func(m procv3.ProcessingMode_BodySendMode) []*extprocv3.ProcessingRequest {
			h := append([]string(nil), form...)
			h[3] = "/comment?id=1%27%20UNION%20SELECT%20password%20FROM%20users--"
			return []*extprocv3.ProcessingRequest{withModes(reqHeaders(true, h...), m)}
		}},
		{"attack-in-body", func(m procv3.ProcessingMode_BodySendMode) []*extprocv3.ProcessingRequest {
			return []*extprocv3.ProcessingRequest{withModes(reqHeaders(false, form...), m), reqBody("text=%3Cscript%3Ealert(", false), reqBody("document.cookie)%3C/script%3E", true)}
		}},
	}
	for _, mode := range []procv3.ProcessingMode_BodySendMode{procv3.ProcessingMode_NONE, procv3.ProcessingMode_STREAMED, procv3.ProcessingMode_BUFFERED,
		procv3.ProcessingMode_FULL_DUPLEX_STREAMED} {
		var got []*extprocv3.ProcessingResponse
		var transcript strings.Builder
		for _, c := range cases {
			msgs := c.msgs(mode)
			if mode == procv3.ProcessingMode_BUFFERED || mode == procv3.ProcessingMode_NONE {
				msgs = bufferedScript(msgs, mode)
			}
			answers, err := exchange(t, client, msgs...)
			if err != nil {
				t.Fatalf("%s %s: %v", mode, c.name, err)
			}
			transcript.WriteString("# " + c.name + "\n")
			for _, a := range answers {
				transcript.WriteString(prototext.MarshalOptions{Multiline: true}.Format(a) + "---\n")
			}
			got = append(got, answers...)
		}
		path := filepath.Join("testdata", "answers-"+strings.ToLower(mode.String())+".golden")
		if *update {
			if err := os.WriteFile(path, []byte(transcript.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./filter -run TestGoldenAnswers -update)", err)
		}
		var want []*extprocv3.ProcessingResponse
		for _, chunk := range strings.Split(string(raw), "---\n") {
			var lines []string
			for _, l := range strings.Split(chunk, "\n") {
				if !strings.HasPrefix(l, "# ") {
					lines = append(lines, l)
				}
			}
			text := strings.TrimSpace(strings.Join(lines, "\n"))
			if text == "" {
				continue
			}
			r := &extprocv3.ProcessingResponse{}
			if err := prototext.Unmarshal([]byte(text), r); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			want = append(want, r)
		}
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Errorf("%s: answers differ from %s (-want +got):\n%s", mode, path, diff)
		}
	}
}

func withModes(m *extprocv3.ProcessingRequest, body procv3.ProcessingMode_BodySendMode) *extprocv3.ProcessingRequest {
	m.ProtocolConfig = &extprocv3.ProtocolConfiguration{RequestBodyMode: body, ResponseBodyMode: body}
	return m
}

// bufferedScript merges body chunks into the single message BUFFERED sends,
// and drops them for NONE, as Envoy does.
func bufferedScript(msgs []*extprocv3.ProcessingRequest, mode procv3.ProcessingMode_BodySendMode) []*extprocv3.ProcessingRequest {
	var out []*extprocv3.ProcessingRequest
	var reqBody, respBody *extprocv3.HttpBody
	flush := func() {
		if reqBody != nil {
			out = append(out, &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: reqBody}})
			reqBody = nil
		}
		if respBody != nil {
			out = append(out, &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: respBody}})
			respBody = nil
		}
	}
	for _, m := range msgs {
		switch r := m.GetRequest().(type) {
		case *extprocv3.ProcessingRequest_RequestBody:
			if mode == procv3.ProcessingMode_NONE {
				continue
			}
			if reqBody == nil {
				reqBody = &extprocv3.HttpBody{}
			}
			reqBody.Body = append(reqBody.Body, r.RequestBody.GetBody()...)
			reqBody.EndOfStream = r.RequestBody.GetEndOfStream()
		case *extprocv3.ProcessingRequest_ResponseBody:
			if mode == procv3.ProcessingMode_NONE {
				continue
			}
			if respBody == nil {
				respBody = &extprocv3.HttpBody{}
			}
			respBody.Body = append(respBody.Body, r.ResponseBody.GetBody()...)
			respBody.EndOfStream = r.ResponseBody.GetEndOfStream()
		default:
			flush()
			out = append(out, m)
		}
	}
	flush()
	return out
}
