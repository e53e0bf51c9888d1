package ftw

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"

	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
	"github.com/bulwark-waf/bulwark/internal/repo"
	"github.com/bulwark-waf/bulwark/internal/servertest"
	"github.com/bulwark-waf/bulwark/waf"
	crstests "github.com/corazawaf/coraza-coreruleset/v4/tests"
)

var update = flag.Bool("update", false, "rewrite docs/CONFORMANCE.md and testdata/recorded.json")

// upstreamSetup is the SecAction CRS's own test setup runs (tests/regression
// README at the tag) minus what the config fields already express
// (DetectionOnly, blocking paranoia 4). Upstream puts it before CRS; here it
// comes after, which is equivalent because every rule reading these
// variables runs in phase 2, after this phase-1 action has overwritten
// REQUEST-901's defaults. ctl:ruleRemoveById=910000 is dropped: CRS 4 has no
// such rule.
const upstreamSetup = `SecAction "id:900005,phase:1,nolog,pass,t:none,\
setvar:tx.crs_validate_utf8_encoding=1,setvar:tx.arg_name_length=100,\
setvar:tx.arg_length=400,setvar:tx.total_arg_length=64000,setvar:tx.max_num_args=255,\
setvar:tx.max_file_size=64100,setvar:tx.combined_file_sizes=65535"`

func conformanceConfig() waf.Config {
	cfg := waf.DefaultConfig()
	cfg.Engine = waf.EngineDetectionOnly
	cfg.ParanoiaLevel = 4
	// coraza.conf-recommended's limit, as upstream runs; under DetectionOnly
	// nothing is rejected anyway.
	cfg.RequestBodyLimit = 13107200
	cfg.Directives = upstreamSetup
	// The suite tests CRS's own defaults, not Bulwark's wider ones.
	cfg.AllowedMethods = nil
	cfg.AllowedRequestContentTypes = nil
	// The suite measures the rules; the work budget is a production safety
	// limit no regression stage comes near, kept out of the measurement.
	cfg.RxBudgetBytes = 0
	return cfg
}

const setupDoc = "Engine `DetectionOnly`, `paranoia_level: 4` (blocking and detection), request body limit 13107200, response body access on " +
	"(text/plain, text/html, text/xml, application/json), plus upstream's `SecAction id:900005` setvars " +
	"(`crs_validate_utf8_encoding=1`, `arg_name_length=100`, `arg_length=400`, `total_arg_length=64000`, `max_num_args=255`, " +
	"`max_file_size=64100`, `combined_file_sizes=65535`) as `waf.directives`. ext_proc filter: request/response headers SEND, " +
	"bodies BUFFERED, `allow_mode_override` with Bulwark's mode override on, as in `envoy/envoy.yaml`; Envoy modelled with " +
	"`accept_http_10: true` so the suite's HTTP/1.0 stages reach the WAF.\n\n" +
	"Mapping: method, raw URI, version, headers (YAML order) and `data` verbatim; with `autocomplete_headers` (default) " +
	"`Content-Length` for the data and `Connection: close` are added as go-ftw does; `encoded_request` is parsed as raw HTTP/1. " +
	"For ext_proc, Envoy's HTTP/1 admission is modelled in `e2e/ftw/envoy.go` (known methods only, HTTP/1.0 and 1.1 only, " +
	"origin/absolute/asterisk/authority targets, token header names, no control characters, Content-Length/Transfer-Encoding " +
	"checks); header names are lower-cased, `Host` becomes `:authority`, hop-by-hop headers are dropped, `x-forwarded-for`, " +
	"`x-forwarded-proto` and `x-request-id` are added.\n\n" +
	"Judging: a stage passes when every `expect_ids` id is logged, no `no_expect_ids` id is, log regexes hold, and an expected " +
	"`status` equals the status the client gets. Upstream runs DetectionOnly, so an expected 4xx is the web server refusing the " +
	"request: bare Coraza has no web server and gets the backend's status, the ext_proc path gets Envoy's local reply. " +
	"`expect_error` passes when Envoy refuses the request. Overrides with an output replace the stage's output; overrides " +
	"without one (`wip`, `TODO`) mark the stage not evaluated.\n\n" +
	"Coraza applies SecDefaultAction per phase and crs-setup.conf.example only defines phases 1 and 2; waf's base directives " +
	"add `SecDefaultAction \"phase:3,log,auditlog,pass\"` (and 4, 5) before `Include @owasp_crs`, so CRS's response and " +
	"correlation rules are logged and judged like the rest."

func TestCRSConformance(t *testing.T) {
	start := time.Now()
	root := repo.Root(t)
	// The suite is read from the coraza-coreruleset module Bulwark embeds
	// its rules from, so the tests are always those of the rules' release:
	// a module bump moves both together and nothing outside the repository
	// is read. The supplement holds what that module leaves out (see
	// testdata/crs/README.md); the overrides are Coraza's, vendored.
	overrides, err := LoadOverrides(filepath.Join("testdata", "crs", "coraza-overrides.yaml"))
	if err != nil {
		t.Fatalf("overrides: %v", err)
	}
	supplement, err := fs.Sub(os.DirFS("testdata"), "crs/tests")
	if err != nil {
		t.Fatal(err)
	}
	cases, err := Load(overrides, crstests.FS, supplement)
	if err != nil {
		t.Fatalf("loading the suite: %v", err)
	}
	exceptions, err := LoadExceptions(filepath.Join("testdata", "protocol_exceptions.yaml"))
	if err != nil {
		t.Fatal(err)
	}

	engine, err := waf.New(conformanceConfig(), nil)
	if err != nil {
		t.Fatalf("waf.New: %v", err)
	}
	sink := NewAuditSink()
	// One core, served over ext_proc and called in-process as the baseline.
	core := servertest.Core(t, inspect.Options{Engine: engine})
	opts := servertest.Options(t, inspect.Options{Engine: engine}, filter.Options{MaxMetadataRules: 256, ModeOverride: true, Audit: slog.New(sink)})
	opts.Core = filter.CoreInspector(core)
	client, _ := servertest.Serve(t, opts)
	ext := &ExtProc{
		Client: client,
		Filter: envoysim.Filter{
			Mode: &procv3.ProcessingMode{
				RequestHeaderMode:  procv3.ProcessingMode_SEND,
				RequestBodyMode:    procv3.ProcessingMode_BUFFERED,
				RequestTrailerMode: procv3.ProcessingMode_SKIP,
				ResponseHeaderMode: procv3.ProcessingMode_SEND,
				ResponseBodyMode:   procv3.ProcessingMode_BUFFERED,
				// Trailers off as in envoy/envoy.yaml.
				ResponseTrailerMode: procv3.ProcessingMode_SKIP,
			},
			AllowModeOverride: true,
			// Generous: CI shares two cores between this run and the rest
			// of the suite, and timeouts are not what is being measured.
			MessageTimeout: 10 * time.Second,
		},
		Audit:     sink,
		AuditWait: 5 * time.Second,
	}
	bare := &Bare{Core: core}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	results := RunAll(ctx, cases, bare, ext, 2*runtime.GOMAXPROCS(0))
	s := Summarize(results, exceptions)
	rec := s.Record(waf.CRSVersion)
	t.Logf("%d stages, %d evaluated: bare %d (%.2f%%), ext_proc %d (%.2f%%); %d protocol exceptions, %d divergences; %v",
		s.Total.Stages, s.Total.Evaluated, s.Total.Bare, 100*rec.BareRate, s.Total.ExtProc, 100*rec.ExtProcRate,
		len(s.Excepted), len(s.Divergent), time.Since(start).Round(time.Millisecond))

	if len(s.Divergent) > 0 {
		var b strings.Builder
		for _, r := range s.Divergent {
			b.WriteString("\n  " + r.Case.Key + ": " + r.ExtProc.Why)
		}
		t.Errorf("%d stages pass on bare Coraza but not through ext_proc, with no protocol exception:%s", len(s.Divergent), b.String())
	}
	if len(s.Stale) > 0 {
		t.Errorf("protocol exceptions that no longer diverge (remove them): %s", strings.Join(s.Stale, ", "))
	}
	recordedPath := filepath.Join("testdata", "recorded.json")
	if *update {
		if err := WriteRecorded(recordedPath, rec); err != nil {
			t.Fatal(err)
		}
		doc := s.Markdown(waf.CRSVersion, setupDoc) + otherClients()
		if err := os.WriteFile(filepath.Join(root, "docs", "CONFORMANCE.md"), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := ReadRecorded(recordedPath)
	if err != nil {
		t.Fatalf("recorded rate: %v (run make conformance)", err)
	}
	if rec.CRSVersion != want.CRSVersion || rec.Tally.Stages != want.Tally.Stages {
		t.Errorf("the suite is CRS %s with %d stages, the recorded run CRS %s with %d: a rules bump or a lost test file (run make conformance and review the diff)",
			rec.CRSVersion, rec.Tally.Stages, want.CRSVersion, want.Tally.Stages)
	}
	// A small tolerance absorbs float formatting; a single lost stage is
	// about 0.02% and still fails.
	if rec.ExtProcRate+1e-9 < want.ExtProcRate {
		t.Errorf("ext_proc pass rate %.4f%% fell below the recorded %.4f%% (%d of %d, recorded %d of %d)",
			100*rec.ExtProcRate, 100*want.ExtProcRate, s.Total.ExtProc, s.Total.Evaluated, want.Tally.ExtProc, want.Tally.Evaluated)
	}
}

// otherClients is the section on HTTP clients this project did not write,
// from the rate TestCRSConformanceOverHTTP recorded in the same run.
func otherClients() string {
	var b strings.Builder
	b.WriteString("\n## Through real HTTP clients\n\n")
	if h, err := ReadRecorded(filepath.Join("testdata", "recorded-http.json")); err == nil {
		fmt.Fprintf(&b, "- **The CRS regression suite over real HTTP** (`TestCRSConformanceOverHTTP`): every stage sent as raw bytes over TCP to "+
			"`extproc proxy` (net/http's HTTP/1.1 codec in Envoy's place, the same ext_proc server and core behind it, an albedo upstream): "+
			"%d of %d evaluated stages pass (%.2f%%), against %d (%.2f%%) on bare Coraza in the same run. go-ftw itself is not served by "+
			"the Go module proxy this project builds with (it answers 403), so this runner, which reads go-ftw's own test files and "+
			"judges them as go-ftw does, plays its part.\n",
			h.Tally.ExtProc, h.Tally.Evaluated, 100*h.ExtProcRate, h.Tally.Bare, 100*h.BareRate)
	}
	b.WriteString("- **Coraza's own HTTP end-to-end suite** (`github.com/corazawaf/coraza/v3/http/e2e`, `e2e/httpsuite`): run through " +
		"`extproc proxy` with go-httpbin as the upstream, with the suite's own rules (`waf.disable_crs`, `waf.directives`) and empty block " +
		"pages (`block.body: empty`): 9 of its 10 tests pass. The tenth streams server-sent events; the trial proxy hands whole messages to " +
		"the Envoy-faithful client, so it cannot stream a response (Envoy does, in STREAMED or FULL_DUPLEX_STREAMED).\n")
	return b.String()
}
