package rx_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	crstests "github.com/corazawaf/coraza-coreruleset/v4/tests"

	"github.com/bulwark-waf/bulwark/e2e/ftw"
	"github.com/bulwark-waf/bulwark/internal/rx"
	"github.com/bulwark-waf/bulwark/waf"
)

// shadowLevelsEnv lists the paranoia levels TestShadowCRSRegression runs,
// comma-separated. The default, 1 and 4, keeps `go test` to about a minute
// on 2 cores; `make shadow-rx` runs 1,2,3,4.
const shadowLevelsEnv = "BULWARK_RX_SHADOW_LEVELS"

// upstreamSetup is the variables the regression suite expects (CRS's
// tests/regression config).
const upstreamSetup = `SecAction "id:900005,phase:1,nolog,pass,t:none,\
setvar:tx.crs_validate_utf8_encoding=1,setvar:tx.arg_name_length=100,\
setvar:tx.arg_length=400,setvar:tx.total_arg_length=64000,setvar:tx.max_num_args=255,\
setvar:tx.max_file_size=64100,setvar:tx.combined_file_sizes=65535"`

func shadowEngine(t *testing.T, level int, engine rx.Engine) *waf.Engine {
	t.Helper()
	cfg := waf.DefaultConfig()
	cfg.Engine = waf.EngineDetectionOnly
	cfg.ParanoiaLevel = level
	cfg.RequestBodyLimit = 13107200
	cfg.Directives = upstreamSetup
	cfg.AllowedMethods = nil
	cfg.AllowedRequestContentTypes = nil
	cfg.RxEngine = engine
	e, err := waf.New(cfg, nil)
	if err != nil {
		t.Fatalf("PL%d %s: %v", level, engine, err)
	}
	return e
}

// outcome is everything a stage's transaction concluded: every matched
// rule (nolog ones too) in match order, the scores and any error.
type outcome struct {
	ids             []int
	inbound, outbnd int
	interrupted     bool
	err             string
}

func (o outcome) String() string {
	return fmt.Sprintf("ids=%v inbound=%d outbound=%d interrupted=%v err=%q", o.ids, o.inbound, o.outbnd, o.interrupted, o.err)
}

// replay runs one stage through phases 1 to 5 as ftw.Bare does, with the
// albedo backend's answer in between, and reads the whole verdict.
func replay(ctx context.Context, e *waf.Engine, r *ftw.Request, id string) (o outcome) {
	tx := e.NewTransaction(ctx, id)
	defer func() {
		tx.ProcessLogging()
		v := waf.ReadVerdict(tx)
		for _, m := range v.Matches {
			o.ids = append(o.ids, m.ID)
		}
		o.inbound, o.outbnd, o.interrupted = v.InboundScore, v.OutboundScore, v.Interrupted
		_ = tx.Close()
	}()
	tx.ProcessConnection("127.0.0.1", 40000, "127.0.0.1", 80)
	tx.ProcessURI(r.URI, r.Method, r.Version)
	for _, h := range r.Headers {
		tx.AddRequestHeader(h[0], h[1])
		if strings.EqualFold(h[0], "host") {
			tx.SetServerName(h[1])
		}
	}
	tx.ProcessRequestHeaders()
	if len(r.Body) > 0 && tx.IsRequestBodyAccessible() {
		if _, _, err := tx.WriteRequestBody(r.Body); err != nil {
			o.err = err.Error()
			return o
		}
	}
	if _, err := tx.ProcessRequestBody(); err != nil {
		o.err = err.Error()
		return o
	}
	resp := ftw.Albedo(r.Method, r.URI, r.Body)
	for _, h := range resp.Headers {
		tx.AddResponseHeader(h[0], h[1])
	}
	tx.ProcessResponseHeaders(resp.Status, r.Version)
	if len(resp.Body) > 0 && tx.IsResponseBodyAccessible() && tx.IsResponseBodyProcessable() {
		if _, _, err := tx.WriteResponseBody(resp.Body); err != nil {
			o.err = err.Error()
			return o
		}
	}
	if _, err := tx.ProcessResponseBody(); err != nil {
		o.err = err.Error()
	}
	return o
}

func shadowLevels(t *testing.T) []int {
	spec := os.Getenv(shadowLevelsEnv)
	if spec == "" {
		spec = "1,4"
	}
	var out []int
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 4 {
			t.Fatalf("%s=%q: want paranoia levels 1..4, comma-separated", shadowLevelsEnv, spec)
		}
		out = append(out, n)
	}
	return out
}

// TestShadowCRSRegression replays every stage of the CRS regression suite
// through two WAFs that differ only in waf.rx_engine, at each paranoia
// level, and requires the same matched rules (in the same order), scores
// and errors on every stage.
func TestShadowCRSRegression(t *testing.T) {
	if testing.Short() {
		t.Skip("the CRS regression suite through two engines; run without -short")
	}
	cases, err := ftw.Load(nil, crstests.FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 4000 {
		t.Fatalf("only %d regression stages loaded", len(cases))
	}
	ctx := context.Background()
	for _, level := range shadowLevels(t) {
		re2Engine, goEngine := shadowEngine(t, level, rx.EngineRE2), shadowEngine(t, level, rx.EngineGo)
		var (
			mu      sync.Mutex
			diffs   []string
			built   int
			wg      sync.WaitGroup
			work    = make(chan ftw.Case)
			matched int
		)
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for c := range work {
					req, err := ftw.BuildRequest(c.Input)
					if err != nil {
						continue
					}
					a := replay(ctx, re2Engine, req, c.Key+"-re2")
					b := replay(ctx, goEngine, req, c.Key+"-go")
					mu.Lock()
					built++
					if slices.Contains(b.ids, c.RuleID) {
						matched++
					}
					if a.String() != b.String() {
						diffs = append(diffs, fmt.Sprintf("PL%d %s: re2 %v; go %v", level, c.Key, a, b))
					}
					mu.Unlock()
				}
			}()
		}
		for _, c := range cases {
			work <- c
		}
		close(work)
		wg.Wait()
		t.Logf("PL%d: %d stages replayed through both engines (%d of them match their own rule), %d differ", level, built, matched, len(diffs))
		if built < len(cases)*95/100 {
			t.Errorf("PL%d: only %d of %d stages could be built", level, built, len(cases))
		}
		for i, d := range diffs {
			if i == 20 {
				t.Errorf("... and %d more", len(diffs)-20)
				break
			}
			t.Error(d)
		}
	}
}
