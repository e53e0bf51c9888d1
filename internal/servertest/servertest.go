package servertest

import (
	"log/slog"
	"reflect"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

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
