package envoysim

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// scripted is a deliberately misbehaving ext_proc server: these tests check
// that the harness reacts as Envoy does, so the suites built on it can trust
// it. It answers each message with whatever answer returns.
type scripted struct {
	extprocv3.UnimplementedExternalProcessorServer
	answer func(n int, req *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error)
}

func (s *scripted) Process(srv extprocv3.ExternalProcessor_ProcessServer) error {
	for n := 0; ; n++ {
		req, err := srv.Recv()
		if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
			return nil
		}
		if err != nil {
			return err
		}
		resp, err := s.answer(n, req)
		if errors.Is(err, io.EOF) {
			// A clean close: Process returns nil.
			return nil
		}
		if err != nil {
			return err
		}
		if resp == nil {
			continue
		}
		if err := srv.Send(resp); err != nil {
			return err
		}
	}
}

func start(t *testing.T, answer func(int, *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error)) extprocv3.ExternalProcessorClient {
	t.Helper()
	client, stop, err := Loopback(&scripted{answer: answer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return client
}

func cont(req *extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
	c := &extprocv3.CommonResponse{}
	switch req.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{Response: c}}}
	case *extprocv3.ProcessingRequest_RequestBody:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{Response: c}}}
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{Response: c}}}
	case *extprocv3.ProcessingRequest_ResponseBody:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: &extprocv3.BodyResponse{Response: c}}}
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{}}}
}

var req = &Message{Method: "POST", Path: "/x", Authority: "a", Headers: [][2]string{{"content-type", "text/plain"}}, Body: []byte("hello")}

func ok(*Message) *Message { return &Message{Status: 200, Body: []byte("fine")} }

func TestHarnessBehavesLikeEnvoy(t *testing.T) {
	t.Parallel()
	buffered := &procv3.ProcessingMode{RequestBodyMode: procv3.ProcessingMode_BUFFERED}
	tests := []struct {
		name   string
		filter Filter
		answer func(int, *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error)
		check  func(*Result) bool
	}{
		{"immediate response without status is 200", Filter{},
			func(int, *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) {
				return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ImmediateResponse{ImmediateResponse: &extprocv3.ImmediateResponse{Body: []byte("no")}}}, nil
			},
			func(r *Result) bool {
				return r.Local != nil && r.Local.Status == 200 && r.Local.FromServer && r.Upstream == nil
			}},
		{"informational status becomes 200", Filter{},
			func(int, *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) {
				return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ImmediateResponse{ImmediateResponse: &extprocv3.ImmediateResponse{Status: &typev3.HttpStatus{Code: 100}}}}, nil
			},
			func(r *Result) bool { return r.Local.Status == 200 }},
		{"timeout fails closed with 504", Filter{MessageTimeout: 50 * time.Millisecond},
			func(int, *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) { return nil, nil },
			func(r *Result) bool { return r.Local != nil && r.Local.Status == 504 && !r.Local.FromServer }},
		{"timeout with failure_mode_allow continues", Filter{MessageTimeout: 50 * time.Millisecond, FailureModeAllow: true, Mode: buffered},
			func(int, *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) { return nil, nil },
			func(r *Result) bool { return r.Local == nil && r.ServerAbandoned && string(r.Upstream.Body) == "hello" }},
		{"stream error fails closed with 500", Filter{},
			func(int, *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) {
				return nil, status.Error(codes.Internal, "boom")
			},
			func(r *Result) bool {
				return r.Local != nil && r.Local.Status == 500 && status.Code(r.StreamErr) == codes.Internal
			}},
		{"clean close continues without the server", Filter{Mode: buffered},
			func(n int, _ *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) {
				return nil, io.EOF
			},
			func(r *Result) bool { return r.Local == nil && r.ServerAbandoned && string(r.Upstream.Body) == "hello" }},
		{"spurious answer fails closed", Filter{Mode: buffered},
			func(int, *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) {
				return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{}}}, nil
			},
			func(r *Result) bool { return r.Local != nil && r.Local.Status == 500 }},
		{"value-only header arrives empty", Filter{},
			func(n int, req *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) {
				r := cont(req)
				if n == 0 {
					r.GetRequestHeaders().Response.HeaderMutation = &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{
						{Header: &corev3.HeaderValue{Key: "x-a", Value: "v"}}, {Header: &corev3.HeaderValue{Key: "x-b", RawValue: []byte("w")}}}}
				}
				return r, nil
			},
			func(r *Result) bool {
				return r.Upstream.Get("x-a") == "" && hasKey(r.Upstream.Headers, "x-a") && r.Upstream.Get("x-b") == "w"
			}},
		{"both value and raw_value is a 500", Filter{},
			func(n int, req *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) {
				r := cont(req)
				r.GetRequestHeaders().Response.HeaderMutation = &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{
					{Header: &corev3.HeaderValue{Key: "x-a", Value: "v", RawValue: []byte("v")}}}}
				return r, nil
			},
			func(r *Result) bool { return r.Local != nil && r.Local.Status == 500 }},
		{"mode override ignored unless allowed", Filter{Mode: buffered},
			func(n int, req *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) {
				r := cont(req)
				if n == 0 {
					r.ModeOverride = &procv3.ProcessingMode{RequestBodyMode: procv3.ProcessingMode_NONE}
				}
				return r, nil
			},
			func(r *Result) bool { return len(r.Sent) == 3 && r.Sent[1] == "request_body" }},
		{"mode override applied when allowed", Filter{Mode: buffered, AllowModeOverride: true},
			func(n int, req *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) {
				r := cont(req)
				if n == 0 {
					r.ModeOverride = &procv3.ProcessingMode{RequestBodyMode: procv3.ProcessingMode_NONE}
				}
				return r, nil
			},
			func(r *Result) bool {
				return len(r.Sent) == 2 && r.Sent[1] == "response_headers" && string(r.Upstream.Body) == "hello"
			}},
		{"buffered body over the limit is Envoy's 413", Filter{Mode: buffered, BufferLimit: 3},
			func(_ int, req *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) {
				return cont(req), nil
			},
			func(r *Result) bool { return r.Local != nil && r.Local.Status == 413 && !r.Local.FromServer }},
		{"observability mode never waits", Filter{ObservabilityMode: true, Mode: &procv3.ProcessingMode{RequestBodyMode: procv3.ProcessingMode_STREAMED}},
			func(int, *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) { return nil, nil },
			func(r *Result) bool {
				return r.Local == nil && string(r.Upstream.Body) == "hello" && r.Downstream != nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := start(t, tt.answer)
			res, err := tt.filter.Do(context.Background(), c, req, ok)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(res) {
				t.Fatalf("unexpected result %+v local=%+v upstream=%+v", res, res.Local, res.Upstream)
			}
		})
	}
}
