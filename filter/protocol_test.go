package filter_test

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/servertest"
	"github.com/bulwark-waf/bulwark/waf"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func hdrs(eos bool, kv ...string) *extprocv3.HttpHeaders {
	m := &corev3.HeaderMap{}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Headers = append(m.Headers, &corev3.HeaderValue{Key: kv[i], RawValue: []byte(kv[i+1])})
	}
	return &extprocv3.HttpHeaders{Headers: m, EndOfStream: eos}
}

func reqHeaders(eos bool, kv ...string) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: hdrs(eos, kv...)}}
}

func reqBody(b string, eos bool) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{Body: []byte(b), EndOfStream: eos}}}
}

func respHeaders(eos bool, kv ...string) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: hdrs(eos, kv...)}}
}

var getHdrs = []string{":method", "GET", ":path", "/", ":authority", "shop.example", "user-agent", "t", "accept", "*/*"}

var postHdrs = []string{":method", "POST", ":path", "/form", ":authority", "shop.example", "content-type", "application/x-www-form-urlencoded", "content-length", "3", "user-agent", "t", "accept", "*/*"}

// exchange sends msgs in order, collecting every answer, until the server
// ends the stream; it returns the answers and the final status.
func exchange(t *testing.T, c extprocv3.ExternalProcessorClient, msgs ...*extprocv3.ProcessingRequest) ([]*extprocv3.ProcessingResponse, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.Process(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if err := s.Send(m); err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
	}
	_ = s.CloseSend()
	var out []*extprocv3.ProcessingResponse
	for {
		r, err := s.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, r)
	}
}

func withConfig(m *extprocv3.ProcessingRequest, body procv3.ProcessingMode_BodySendMode) *extprocv3.ProcessingRequest {
	m.ProtocolConfig = &extprocv3.ProtocolConfiguration{RequestBodyMode: body, ResponseBodyMode: procv3.ProcessingMode_NONE}
	return m
}

func TestProtocolViolationsCloseTheStream(t *testing.T) {
	t.Parallel()
	closed, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil)}, filter.Options{}))
	open, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil)}, filter.Options{FailOpen: true}))
	tests := []struct {
		name string
		msgs []*extprocv3.ProcessingRequest
		code codes.Code
		// answered: valid answers before the violation.
		answered int
	}{
		{"empty request", []*extprocv3.ProcessingRequest{{}}, codes.InvalidArgument, 0},
		{"body before headers", []*extprocv3.ProcessingRequest{reqBody("a=1", true)}, codes.FailedPrecondition, 0},
		{"headers twice", []*extprocv3.ProcessingRequest{reqHeaders(true, getHdrs...), reqHeaders(true, getHdrs...)}, codes.FailedPrecondition, 1},
		{"no method", []*extprocv3.ProcessingRequest{reqHeaders(true, ":path", "/")}, codes.InvalidArgument, 0},
		{"no path", []*extprocv3.ProcessingRequest{reqHeaders(true, ":method", "GET")}, codes.InvalidArgument, 0},
		{"body after end of stream", []*extprocv3.ProcessingRequest{withConfig(reqHeaders(false, postHdrs...), procv3.ProcessingMode_STREAMED), reqBody("a=1", true), reqBody("b=2", true)}, codes.FailedPrecondition, 2},
		{"body after bodyless headers", []*extprocv3.ProcessingRequest{reqHeaders(true, getHdrs...), reqBody("a=1", true)}, codes.FailedPrecondition, 1},
		{"second buffered body", []*extprocv3.ProcessingRequest{withConfig(reqHeaders(false, postHdrs...), procv3.ProcessingMode_BUFFERED), reqBody("a=1", false), reqBody("b=2", true)}, codes.FailedPrecondition, 2},
		{"bad status", []*extprocv3.ProcessingRequest{reqHeaders(true, getHdrs...), respHeaders(true, ":status", "abc")}, codes.InvalidArgument, 1},
		{"request headers after response", []*extprocv3.ProcessingRequest{reqHeaders(true, getHdrs...), respHeaders(true, ":status", "200"), reqHeaders(true, getHdrs...)}, codes.FailedPrecondition, 2},
		{"response headers twice", []*extprocv3.ProcessingRequest{reqHeaders(true, getHdrs...), respHeaders(true, ":status", "200"), respHeaders(true, ":status", "200")}, codes.FailedPrecondition, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, failOpen := range []bool{false, true} {
				c := closed
				if failOpen {
					c = open
				}
				out, err := exchange(t, c, tt.msgs...)
				if status.Code(err) != tt.code {
					t.Fatalf("failOpen=%v: status %v, want %v", failOpen, err, tt.code)
				}
				want := tt.answered
				if !failOpen {
					// Fail closed: a 500 local reply goes out before the error.
					want++
				}
				if len(out) != want {
					t.Fatalf("failOpen=%v: %d answers, want %d: %v", failOpen, len(out), want, out)
				}
				if !failOpen {
					ir := out[len(out)-1].GetImmediateResponse()
					if ir.GetStatus().GetCode() != 500 || ir.GetDetails() != "bulwark_protocol_error" {
						t.Fatalf("fail closed answer = %v", out[len(out)-1])
					}
				}
			}
		})
	}
}

func TestLocalReplyFirstIsNotAnError(t *testing.T) {
	t.Parallel()
	c, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil)}, filter.Options{}))
	out, err := exchange(t, c, respHeaders(true, ":status", "503"))
	if err != nil || len(out) != 1 || out[0].GetResponseHeaders() == nil {
		t.Fatalf("answers %v, err %v", out, err)
	}
}

func TestRawValueAndValueAreBothRead(t *testing.T) {
	t.Parallel()
	c, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil)}, filter.Options{}))
	m := reqHeaders(true, ":method", "GET", ":path", "/", ":authority", "a.example", "accept", "*/*")
	// Old Envoys and other clients send value instead of raw_value.
	m.GetRequestHeaders().Headers.Headers = append(m.GetRequestHeaders().Headers.Headers,
		&corev3.HeaderValue{Key: "user-agent", Value: "sqlmap/1.7"})
	out, err := exchange(t, c, m)
	if err != nil || len(out) != 1 || out[0].GetImmediateResponse() == nil {
		t.Fatalf("a scanner user-agent in value was not seen: %v %v", out, err)
	}
}

// An internal failure (here: Coraza cannot spill a body to its temporary
// directory) gives the configured outcome and never crashes the stream.
func TestFailOpenAndFailClosed(t *testing.T) {
	// Coraza checks its temporary directory when the WAF is built, so the
	// directory disappears only afterwards, as a full or unmounted /tmp would.
	tmp, err := os.MkdirTemp("", "bulwark-tmp")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp)
	broken := servertest.Engine(t, func(c *waf.Config) { c.Directives = "SecRequestBodyInMemoryLimit 8" })
	if err := os.RemoveAll(tmp); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		failOpen bool
		want     string
	}{{false, "immediate 500"}, {true, "continue"}} {
		c, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: broken}, filter.Options{FailOpen: tt.failOpen}))
		out, err := exchange(t, c,
			withConfig(reqHeaders(false, postHdrs...), procv3.ProcessingMode_STREAMED),
			reqBody("a=1&b=2&c=3&d=4", true),
			respHeaders(true, ":status", "200"))
		if err != nil {
			t.Fatalf("failOpen=%v: stream error %v", tt.failOpen, err)
		}
		var got string
		switch {
		case len(out) == 2 && out[1].GetImmediateResponse().GetStatus().GetCode() == 500:
			got = "immediate 500"
		case len(out) == 3 && out[1].GetRequestBody() != nil && out[2].GetResponseHeaders() != nil:
			got = "continue"
		default:
			t.Fatalf("failOpen=%v: unexpected answers %v", tt.failOpen, out)
		}
		if got != tt.want {
			t.Fatalf("failOpen=%v: got %s, want %s", tt.failOpen, got, tt.want)
		}
	}
}
