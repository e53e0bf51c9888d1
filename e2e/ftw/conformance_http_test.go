package ftw

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	crstests "github.com/corazawaf/coraza-coreruleset/v4/tests"
	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"

	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
	"github.com/bulwark-waf/bulwark/internal/proxy"
	"github.com/bulwark-waf/bulwark/internal/servertest"
	"github.com/bulwark-waf/bulwark/waf"
)

// TestCRSConformanceOverHTTP replays the CRS regression suite as raw bytes
// over real TCP through `extproc proxy` (net/http's HTTP/1.1 codec in
// Envoy's place, Bulwark's ext_proc server behind it, an albedo upstream),
// and compares every stage with bare Coraza. go-ftw itself is not served
// by the Go module proxy this project builds with, so this runner plays
// its part; docs/CONFORMANCE.md records the rate under `make conformance`.
func TestCRSConformanceOverHTTP(t *testing.T) {
	overrides, err := LoadOverrides(filepath.Join("testdata", "crs", "coraza-overrides.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	supplement, err := fs.Sub(os.DirFS("testdata"), "crs/tests")
	if err != nil {
		t.Fatal(err)
	}
	cases, err := Load(overrides, crstests.FS, supplement)
	if err != nil {
		t.Fatal(err)
	}
	exceptions, err := LoadExceptions(filepath.Join("testdata", "protocol_exceptions.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	engine, err := waf.New(conformanceConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	sink := NewAuditSink()
	core := servertest.Core(t, inspect.Options{Engine: engine})
	opts := servertest.Options(t, inspect.Options{Engine: engine}, filter.Options{MaxMetadataRules: 256, ModeOverride: true, Audit: slog.New(sink)})
	opts.Core = filter.CoreInspector(core)
	client, _ := servertest.Serve(t, opts)

	albedo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m := Albedo(r.Method, r.URL.RequestURI(), body)
		for _, kv := range m.Headers {
			w.Header().Add(kv[0], kv[1])
		}
		w.WriteHeader(m.Status)
		_, _ = io.Copy(w, bytes.NewReader(m.Body))
	}))
	t.Cleanup(albedo.Close)
	up, _ := url.Parse(albedo.URL)
	p, err := proxy.New(proxy.Options{Upstream: up, Client: client, Filter: envoysim.Filter{
		Mode: &procv3.ProcessingMode{RequestHeaderMode: procv3.ProcessingMode_SEND, RequestBodyMode: procv3.ProcessingMode_BUFFERED,
			ResponseHeaderMode: procv3.ProcessingMode_SEND, ResponseBodyMode: procv3.ProcessingMode_BUFFERED},
		AllowModeOverride: true, MessageTimeout: 10 * time.Second, BufferLimit: 16 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	runner := &HTTP{Addr: strings.TrimPrefix(front.URL, "http://"), Audit: sink, AuditWait: 5 * time.Second}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	results := RunAll(ctx, cases, &Bare{Core: core}, runner, 2*runtime.GOMAXPROCS(0))
	s := Summarize(results, exceptions)
	rec := s.Record(waf.CRSVersion)
	t.Logf("over HTTP: %d stages, %d evaluated: bare %d (%.2f%%), through extproc proxy %d (%.2f%%); %d diverge beyond the Envoy protocol exceptions",
		s.Total.Stages, s.Total.Evaluated, s.Total.Bare, 100*rec.BareRate, s.Total.ExtProc, 100*rec.ExtProcRate, len(s.Divergent))
	recordedPath := filepath.Join("testdata", "recorded-http.json")
	if *update {
		if err := WriteRecorded(recordedPath, rec); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := ReadRecorded(recordedPath)
	if err != nil {
		t.Fatalf("recorded rate: %v (run make conformance)", err)
	}
	if rec.ExtProcRate+1e-9 < want.ExtProcRate {
		t.Errorf("pass rate over HTTP %.4f%% fell below the recorded %.4f%%", 100*rec.ExtProcRate, 100*want.ExtProcRate)
	}
}
