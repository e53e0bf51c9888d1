package filter_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/servertest"
)

// Random message sequences, in any order and mode, must only ever produce
// answers or a protocol status: never a panic, never an internal error,
// never a hung stream.
func TestRandomMessageSequences(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts filter.Options
		// park holds one stream waiting for its body, so that every other
		// waiting stream parks its exchange.
		park bool
	}{
		{name: "phase 1 at headers"},
		{name: "defer_buffered_headers", opts: filter.Options{DeferBuffered: true}},
		{name: "parked while waiting", opts: filter.Options{MaxWaitingTransactions: 1}, park: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			randomSequences(t, tc.opts, tc.park)
		})
	}
}

func randomSequences(t *testing.T, opts filter.Options, park bool) {
	reg := prometheus.NewRegistry()
	opts.Metrics = filter.NewMetrics(reg)
	c, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil)}, opts))
	if park {
		servertest.HoldWaiting(t, c, reg)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	modes := []procv3.ProcessingMode_BodySendMode{procv3.ProcessingMode_NONE, procv3.ProcessingMode_STREAMED, procv3.ProcessingMode_BUFFERED,
		procv3.ProcessingMode_BUFFERED_PARTIAL, procv3.ProcessingMode_FULL_DUPLEX_STREAMED}
	bodies := []string{"", "a=1", "q=%3Cscript%3Ealert(1)%3C/script%3E", `{"x":[1,{"y":"' or 1=1--"}]}`, "\xff\xfe\x00bad utf8", "--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n--b--"}
	gen := func() *extprocv3.ProcessingRequest {
		eos := rng.IntN(2) == 0
		switch rng.IntN(7) {
		case 0:
			return reqHeaders(eos, postHdrs...)
		case 1:
			return reqHeaders(eos, getHdrs...)
		case 2:
			return reqBody(bodies[rng.IntN(len(bodies))], eos)
		case 3:
			return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestTrailers{RequestTrailers: &extprocv3.HttpTrailers{}}}
		case 4:
			return respHeaders(eos, ":status", []string{"200", "404", "x", ""}[rng.IntN(4)], "content-type", []string{"text/html", "image/png", "application/json"}[rng.IntN(3)])
		case 5:
			return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{Body: []byte(bodies[rng.IntN(len(bodies))]), EndOfStream: eos}}}
		}
		return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseTrailers{ResponseTrailers: &extprocv3.HttpTrailers{}}}
	}
	answered, rejected := 0, 0
	for i := 0; i < 300; i++ {
		n := 1 + rng.IntN(8)
		msgs := make([]*extprocv3.ProcessingRequest, n)
		for j := range msgs {
			msgs[j] = gen()
		}
		msgs[0].ProtocolConfig = &extprocv3.ProtocolConfiguration{RequestBodyMode: modes[rng.IntN(len(modes))], ResponseBodyMode: modes[rng.IntN(len(modes))]}
		n, rej := sendSequence(t, c, msgs)
		answered += n
		if rej {
			rejected++
		}
	}
	if answered == 0 || rejected == 0 {
		t.Fatalf("the generator is too tame: %d answers, %d protocol errors", answered, rejected)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if park && mf.GetName() == "bulwark_parked_exchanges_total" && mf.GetMetric()[0].GetCounter().GetValue() == 0 {
			t.Fatal("no exchange parked: the sequences did not exercise parking")
		}
		if mf.GetName() != "bulwark_stream_errors_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == "internal" && m.GetCounter().GetValue() > 0 {
				t.Fatalf("%v internal errors (panics or Coraza failures) on random input", m.GetCounter().GetValue())
			}
		}
	}
}

// sendSequence sends msgs on one stream and reads every answer. The stream
// must end cleanly or with a protocol status (InvalidArgument,
// FailedPrecondition); anything else fails the test. It returns how many
// answers came and whether the stream was closed on a protocol violation.
func sendSequence(t *testing.T, c extprocv3.ExternalProcessorClient, msgs []*extprocv3.ProcessingRequest) (answers int, rejected bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := c.Process(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if err := s.Send(m); err != nil {
			break
		}
	}
	_ = s.CloseSend()
	for {
		_, err := s.Recv()
		if err == nil {
			answers++
			continue
		}
		if errors.Is(err, io.EOF) {
			return answers, false
		}
		if code := status.Code(err); code != codes.InvalidArgument && code != codes.FailedPrecondition {
			t.Fatalf("stream ended with %v", err)
		}
		return answers, true
	}
}
