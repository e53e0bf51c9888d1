package servertest

import (
	"context"
	"log/slog"
	"reflect"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bulwark-waf/bulwark/cmd/extproc/app"
	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
	"github.com/bulwark-waf/bulwark/waf"
)

// Engine compiles CRS with mutate applied to the default WAF config.
func Engine(t testing.TB, mutate func(*waf.Config)) *waf.Engine {
	t.Helper()
	c := waf.DefaultConfig()
	if mutate != nil {
		mutate(&c)
	}
	e, err := waf.New(c, nil)
	if err != nil {
		t.Fatalf("waf.New: %v", err)
	}
	return e
}

// Core builds an inspection core; a nil Engine gets the default WAF.
func Core(t testing.TB, o inspect.Options) *inspect.Core {
	t.Helper()
	if o.Engine == nil {
		o.Engine = Engine(t, nil)
	}
	c, err := inspect.New(o)
	if err != nil {
		t.Fatalf("inspect.New: %v", err)
	}
	return c
}

// Options are the server options of config.Default() over a core built
// from core, with every non-zero field of override applied on top. The
// baseline turns off the two optional answers (mode_override and the
// slow-body timeout override) so that each test that wants them asks.
func Options(t testing.TB, core inspect.Options, override filter.Options) filter.Options {
	t.Helper()
	discard := slog.New(slog.DiscardHandler)
	rt := &app.Runtime{Config: config.Default(), Core: Core(t, core)}
	o := app.FilterOptions(rt, discard, discard, filter.NewMetrics(nil))
	o.ModeOverride = false
	o.SlowBodyBytes, o.SlowBodyTimeout = 0, 0
	dst, src := reflect.ValueOf(&o).Elem(), reflect.ValueOf(override)
	for i := range src.NumField() {
		if f := src.Field(i); !f.IsZero() {
			dst.Field(i).Set(f)
		}
	}
	return o
}

// Serve starts the ext_proc server with opts on a loopback port and
// returns a client connected to it over a real socket, as Envoy's gRPC
// client would be. The server stops when the test ends.
func Serve(t testing.TB, opts filter.Options) (extprocv3.ExternalProcessorClient, *filter.Server) {
	t.Helper()
	srv, err := filter.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	client, stop, err := envoysim.Loopback(srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return client, srv
}

// HoldWaiting opens a stream on c whose request (a POST, its body
// BUFFERED) passes phase 1 and then waits for a body that never comes, and
// returns once the server's bulwark_waiting_transactions gauge, on g,
// counts it. The stream ends with the test, or when cancel is called.
func HoldWaiting(t testing.TB, c extprocv3.ExternalProcessorClient, g prometheus.Gatherer) (cancel func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := c.Process(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := &corev3.HeaderMap{}
	for _, kv := range [][2]string{{":method", "POST"}, {":path", "/upload"}, {":authority", "shop.example"},
		{"content-type", "application/x-www-form-urlencoded"}, {"content-length", "3"}, {"user-agent", "t"}} {
		h.Headers = append(h.Headers, &corev3.HeaderValue{Key: kv[0], RawValue: []byte(kv[1])})
	}
	m := &extprocv3.ProcessingRequest{
		Request:        &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{Headers: h}},
		ProtocolConfig: &extprocv3.ProtocolConfiguration{RequestBodyMode: procv3.ProcessingMode_BUFFERED, ResponseBodyMode: procv3.ProcessingMode_BUFFERED},
	}
	if err := s.Send(m); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	WaitGauge(t, g, "bulwark_waiting_transactions", 1)
	return cancel
}

// WaitGauge waits until the gauge name on g reads want: the server's
// accounting runs right after it sent an answer, so a client that got the
// answer may look before it.
func WaitGauge(t testing.TB, g prometheus.Gatherer, name string, want float64) {
	t.Helper()
	read := func() float64 {
		mfs, err := g.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name && len(mf.GetMetric()) > 0 {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		return 0
	}
	for deadline := time.Now().Add(5 * time.Second); read() != want; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s stayed at %v, want %v", name, read(), want)
		}
	}
}
