package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
	"github.com/bulwark-waf/bulwark/internal/servertest"
)

// Coraza keeps the first 1,000 values per collection; a payload past them
// was never inspected. Past the limit the request is refused, in the query,
// a form body and a JSON body.
func TestArgumentsPastTheLimitAreRefused(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{}, filter.Options{}))
	pad := strings.Repeat("a=1&", 1000)
	jsonPad := "[" + strings.Repeat("0,", 1000)
	tests := []struct {
		name string
		req  *envoysim.Message
	}{
		{"query", get("/s?" + pad + "q=%3Cscript%3Ealert(document.cookie)%3C/script%3E")},
		{"form", post("/s", "application/x-www-form-urlencoded", pad+"q=1%27%20UNION%20SELECT%20password%20FROM%20users--")},
		{"json", post("/s", "application/json", `{"x":`+jsonPad+`"1' UNION SELECT password FROM users--"]}`)},
		{"query, clean", get("/s?" + pad + "q=shoes")},
	}
	for _, tt := range tests {
		f := &envoysim.Filter{Mode: &procv3.ProcessingMode{RequestBodyMode: procv3.ProcessingMode_BUFFERED}, MessageTimeout: 20 * time.Second}
		res := do(t, f, client, tt.req, nil)
		if !res.Blocked() || res.Local.Status != 400 || res.Local.Details != string(inspect.ReasonLimit) {
			t.Errorf("%s: local reply %+v, want 400 %s", tt.name, res.Local, inspect.ReasonLimit)
		}
	}
	// Under the limit nothing changes.
	if res := do(t, &envoysim.Filter{}, client, get("/s?"+strings.Repeat("a=1&", 100)+"q=shoes"), nil); res.Blocked() {
		t.Errorf("100 arguments refused: %+v", res.Local)
	}
}

// More request headers than waf.max_request_headers are refused.
func TestTooManyHeadersAreRefused(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{}, filter.Options{}))
	req := get("/")
	for i := range 200 {
		req.Headers = append(req.Headers, [2]string{"x-pad-" + strconv.Itoa(i), "1"})
	}
	if res := do(t, &envoysim.Filter{}, client, req, nil); !res.Blocked() || res.Local.Status != 400 {
		t.Fatalf("local reply %+v, want 400", res.Local)
	}
}

// Invalid UTF-8 in a request id or a field name used to end the stream with
// a gRPC marshal error, which failure_mode_allow turns into a pass. Every
// string in metadata is now valid UTF-8, and the attack is blocked.
func TestInvalidUTF8NeverBreaksTheAnswer(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Model: defaultModel(t), Policies: policy(inspect.ModeOr, 5)}, filter.Options{}))
	f := &envoysim.Filter{FailureModeAllow: true}
	clean := get("/products?id=7")
	clean.Headers = append(clean.Headers, [2]string{"x-request-id", "req-\xff"})
	res := do(t, f, client, clean, nil)
	if res.StreamErr != nil || res.Blocked() || !res.UpstreamComplete {
		t.Fatalf("clean request with a non-UTF-8 request id: stream error %v, local %+v", res.StreamErr, res.Local)
	}
	attack := get("/s?%ff=1%27%20UNION%20SELECT%20password%20FROM%20users--")
	attack.Headers = append(attack.Headers, [2]string{"x-request-id", "req-\xfe\xff"})
	res = do(t, f, client, attack, nil)
	if res.StreamErr != nil || !res.Blocked() {
		t.Fatalf("attack behind a non-UTF-8 field name: stream error %v, local %+v, upstream complete %v", res.StreamErr, res.Local, res.UpstreamComplete)
	}
}

// With trailers, Envoy's last body chunk says end_of_stream=false, and with
// request_trailer_mode SKIP (its default) no trailers message follows. The
// body is judged at its Content-Length, before the last byte is released.
func TestStreamedBodyWithSkippedTrailersIsJudged(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{}, filter.Options{}))
	for _, mode := range []procv3.ProcessingMode_BodySendMode{procv3.ProcessingMode_STREAMED, procv3.ProcessingMode_FULL_DUPLEX_STREAMED} {
		f := &envoysim.Filter{Mode: &procv3.ProcessingMode{RequestBodyMode: mode, RequestTrailerMode: procv3.ProcessingMode_SKIP}, ChunkSize: 16,
			MessageTimeout: 5 * time.Second}
		req := post("/comment", "application/x-www-form-urlencoded", "title=hello&text=1%27%20UNION%20SELECT%20password%20FROM%20users--")
		req.Trailers = [][2]string{{"x-checksum", "abc"}}
		res := do(t, f, client, req, nil)
		if !res.Blocked() || res.UpstreamComplete {
			t.Errorf("%s: blocked=%v, upstream complete=%v; want the attack judged before its last byte", mode, res.Blocked(), res.UpstreamComplete)
		}
	}
}

// BUFFERED_PARTIAL with request trailers (gRPC-web): a whole body followed
// by trailers is not a truncated one.
func TestBufferedPartialWithTrailersPasses(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{}, filter.Options{}))
	f := &envoysim.Filter{Mode: &procv3.ProcessingMode{RequestBodyMode: procv3.ProcessingMode_BUFFERED_PARTIAL, RequestTrailerMode: procv3.ProcessingMode_SEND},
		BufferLimit: 1 << 20}
	req := post("/api.Service/Call", "application/x-www-form-urlencoded", "name=ada&city=london")
	req.Trailers = [][2]string{{"grpc-status", "0"}}
	if res := do(t, f, client, req, nil); res.Blocked() || !res.UpstreamComplete {
		t.Fatalf("clean request with trailers: %+v, upstream complete %v", res.Local, res.UpstreamComplete)
	}
}

// Past grpc.max_streams a new stream is refused with the fail-closed page
// instead of piling up; the open one is unaffected.
func TestStreamsPastTheCapAreRefused(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{}, filter.Options{MaxStreams: 1}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	held, err := client.Process(ctx)
	if err != nil {
		t.Fatal(err)
	}
	headers := &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{
		Headers: &corev3.HeaderMap{Headers: []*corev3.HeaderValue{{Key: ":method", RawValue: []byte("POST")}, {Key: ":path", RawValue: []byte("/")},
			{Key: ":authority", RawValue: []byte("shop.example")}}}}}}
	if err := held.Send(headers); err != nil {
		t.Fatal(err)
	}
	if _, err := held.Recv(); err != nil {
		t.Fatal(err)
	}
	res := do(t, &envoysim.Filter{FailureModeAllow: true}, client, get("/"), nil)
	if !res.Blocked() || res.Local.Status != 500 || res.Local.Details != string(inspect.ReasonOverloaded) {
		t.Fatalf("second stream: %+v, want the 500 overload page", res.Local)
	}
	cancel()
	// Once the first stream is gone, streams are served again.
	deadline := time.Now().Add(5 * time.Second)
	for do(t, &envoysim.Filter{}, client, get("/"), nil).Blocked() {
		if time.Now().After(deadline) {
			t.Fatal("the cap never freed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Envoy before 1.34 sends no protocol_config. With BUFFERED_PARTIAL it
// sends the first buffer-limit bytes and lets the rest through; the assumed
// STREAMED mode would answer that CONTINUE. Where Envoy honours overrides,
// Bulwark pins the assumed mode, so the whole body is inspected.
func TestAssumedModeIsPinnedForOldEnvoys(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{}, filter.Options{ModeOverride: true}))
	f := &envoysim.Filter{Mode: &procv3.ProcessingMode{RequestBodyMode: procv3.ProcessingMode_BUFFERED_PARTIAL}, NoProtocolConfig: true,
		AllowModeOverride: true, BufferLimit: 1 << 10, MessageTimeout: 5 * time.Second}
	body := "pad=" + strings.Repeat("a", 2000) + "&q=1%27%20UNION%20SELECT%20password%20FROM%20users--"
	res := do(t, f, client, post("/comment", "application/x-www-form-urlencoded", body), nil)
	if !res.Blocked() || res.UpstreamComplete {
		t.Fatalf("attack at byte 2000 behind a 1 KiB partial buffer: blocked=%v, upstream complete=%v", res.Blocked(), res.UpstreamComplete)
	}
}

// A JSON body deeper than waf.json_depth_limit is a body error, which the
// recommended rules refuse with their own 400.
func TestDeepJSONIsRefused(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{}, filter.Options{}))
	deep := strings.Repeat(`{"a":`, 100) + `"1' UNION SELECT password FROM users--"` + strings.Repeat("}", 100)
	f := &envoysim.Filter{Mode: &procv3.ProcessingMode{RequestBodyMode: procv3.ProcessingMode_BUFFERED}, MessageTimeout: 5 * time.Second}
	if res := do(t, f, client, post("/api", "application/json", deep), nil); !res.Blocked() || res.Local.Status != 400 {
		t.Fatalf("JSON 100 deep: %+v, want 400", res.Local)
	}
}

// A request built to bloat the logs (one 60 KB argument name and 300 XSS
// strings) writes a bounded audit line and bounded metadata, saying how
// much was cut.
func TestAuditAndMetadataAreBounded(t *testing.T) {
	t.Parallel()
	audit := &syncBuffer{}
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Model: defaultModel(t), Policies: policy(inspect.ModeCRS, 5)},
		filter.Options{Audit: slogJSON(audit)}))
	var body strings.Builder
	body.WriteString(strings.Repeat("k", 60<<10) + "=1")
	for i := range 300 {
		fmt.Fprintf(&body, "&x%d=%%3Cscript%%3Ealert(%d)%%3C/script%%3E", i, i)
	}
	f := &envoysim.Filter{Mode: &procv3.ProcessingMode{RequestBodyMode: procv3.ProcessingMode_BUFFERED}, MessageTimeout: 20 * time.Second}
	res := do(t, f, client, post("/comment", "application/x-www-form-urlencoded", body.String()), nil)
	if !res.Blocked() {
		t.Fatalf("not blocked: %+v", res.Local)
	}
	for k, v := range res.Metadata.GetFields()["bulwark"].GetStructValue().GetFields() {
		if s := v.GetStringValue(); len(s) > 512 {
			t.Errorf("metadata %s is %d bytes", k, len(s))
		}
	}
	lines := audit.lines()
	if len(lines) != 1 {
		t.Fatalf("%d audit lines", len(lines))
	}
	raw, _ := json.Marshal(lines[0])
	if len(raw) > 32<<10 {
		t.Errorf("the audit line is %d bytes", len(raw))
	}
	if n, _ := lines[0]["rules_omitted"].(float64); len(lines[0]["rules"].([]any)) > 32 || (n == 0 && strings.Count(string(raw), `"id"`) >= 32) {
		t.Errorf("rules %d listed, %v omitted", len(lines[0]["rules"].([]any)), n)
	}
}
