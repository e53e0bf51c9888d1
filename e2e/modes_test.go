package e2e

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
	"github.com/bulwark-waf/bulwark/internal/servertest"
	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/waf"
)

func defaultModel(t testing.TB) *model.Model {
	t.Helper()
	m, err := model.Default()
	if err != nil {
		t.Fatalf("embedded model: %v", err)
	}
	return m
}

func policy(mode inspect.Mode, points int) *inspect.Set {
	return &inspect.Set{Default: inspect.Policy{Name: "default", Mode: mode, MLThreshold: 50, ORPoints: points,
		ClearScore: inspect.DefaultClearScore, ClearShapeless: true}}
}

const (
	// crsFalsePositive is benign; CRS PL1 scores it 5 (942190).
	crsFalsePositive = "/search?q=union+station+selection"
	// ssti is a template injection CRS PL1 misses.
	ssti  = "/greet?name=%7B%7B7*7%7D%7D"
	sqli  = "/items?id=1%27%20UNION%20SELECT%20password%20FROM%20users--"
	clean = "/products?id=7&sort=price"
	// scanner marks a test request sent with a scanner's user agent.
	scanner = "scanner:"
)

// Each mode's decisions through the real server, the real CRS and the
// embedded model.
func TestCombinationModes(t *testing.T) {
	t.Parallel()
	eng := servertest.Engine(t, nil)
	m := defaultModel(t)
	tests := []struct {
		mode    inspect.Mode
		points  int
		path    string
		blocked bool
		action  string
	}{
		{inspect.ModeCRS, 5, crsFalsePositive, true, ""},
		{inspect.ModeCRS, 5, ssti, false, "flag"},
		{inspect.ModeAnd, 5, crsFalsePositive, false, "flag"},
		{inspect.ModeAnd, 5, sqli, true, ""},
		{inspect.ModeAnd, 5, ssti, false, "flag"},
		{inspect.ModeOr, 5, ssti, true, ""},
		{inspect.ModeOr, 5, sqli, true, ""},
		{inspect.ModeOr, 5, clean, false, "allow"},
		{inspect.ModeML, 5, crsFalsePositive, false, "flag"},
		{inspect.ModeML, 5, ssti, true, ""},
		{inspect.ModeGated, 5, ssti, true, ""},
		{inspect.ModeGated, 5, clean, false, "allow"},
		{inspect.ModeConfirm, 5, crsFalsePositive, false, "flag"},
		{inspect.ModeConfirm, 5, sqli, true, ""},
		{inspect.ModeConfirm, 5, ssti, true, ""},
		{inspect.ModeConfirm, 5, clean, false, "allow"},
		// A scanner's user agent (913100) is outside the model's classes:
		// neither confirm nor and lets a clean model score overrule it.
		{inspect.ModeConfirm, 5, scanner + clean, true, ""},
		{inspect.ModeAnd, 5, scanner + clean, true, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode)+tt.path, func(t *testing.T) {
			t.Parallel()
			client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: eng, Model: m, Policies: policy(tt.mode, tt.points)}, filter.Options{}))
			msg := get(strings.TrimPrefix(tt.path, scanner))
			if strings.HasPrefix(tt.path, scanner) {
				msg.Headers[0][1] = "sqlmap/1.7.2#stable (https://sqlmap.org)"
			}
			res := do(t, &envoysim.Filter{}, client, msg, nil)
			if res.Blocked() != tt.blocked {
				t.Fatalf("blocked=%v want %v; metadata %v", res.Blocked(), tt.blocked, res.Metadata)
			}
			if !tt.blocked && metaField(res, "action") != tt.action {
				t.Fatalf("action %v want %s; metadata %v", metaField(res, "action"), tt.action, res.Metadata)
			}
			if metaField(res, "mode") != string(tt.mode) {
				t.Fatalf("mode not in metadata: %v", res.Metadata)
			}
		})
	}
}

// and-mode's false-positive cut is visible: logged, counted, explained.
func TestAndModeOverrideIsNeverSilent(t *testing.T) {
	t.Parallel()
	audit := &syncBuffer{}
	reg := prometheus.NewRegistry()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil), Model: defaultModel(t), Policies: policy(inspect.ModeAnd, 5), Metrics: inspect.NewMetrics(reg)}, filter.Options{Metrics: filter.NewMetrics(reg), Audit: slogJSON(audit)}))
	res := do(t, &envoysim.Filter{}, client, get(crsFalsePositive), nil)
	if res.Blocked() || metaField(res, "ml_override") != true {
		t.Fatalf("metadata %v", res.Metadata)
	}
	if metricValue(reg, "bulwark_model_overrides_total") != 1 {
		t.Fatal("override not counted")
	}
	lines := audit.lines()
	if len(lines) != 1 {
		t.Fatalf("audit lines %v", lines)
	}
	exp, _ := lines[0]["explanation"].(string)
	if !strings.HasPrefix(exp, "mode=and crs=block(anomaly 5: 942190) ml=clean(") || !strings.HasSuffix(exp, "→ flag (ml override)") {
		t.Fatalf("explanation %q", exp)
	}
}

// Gated mode skips the model when CRS alone settles the outcome.
func TestGatedModeSkipsTheModel(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil), Model: defaultModel(t), Policies: policy(inspect.ModeGated, 3), Metrics: inspect.NewMetrics(reg)}, filter.Options{Metrics: filter.NewMetrics(reg)}))
	// CRS score 0: 0+3 cannot reach 5, the model is not asked.
	do(t, &envoysim.Filter{}, client, get(clean), nil)
	// CRS score 10: blocked without the model.
	if !do(t, &envoysim.Filter{}, client, get(sqli), nil).Blocked() {
		t.Fatal("sqli passed")
	}
	if got := metricValue(reg, "bulwark_model_calls_total"); got != 0 {
		t.Fatalf("model called %v times; gating should have skipped both", got)
	}
}

// Scores are TX variables, so SecLang rules can act on them.
func TestRulesOnScores(t *testing.T) {
	t.Parallel()
	eng := servertest.Engine(t, func(c *waf.Config) {
		c.Directives = `SecRule TX:ML_SCORE_RCE "@le 20" "id:100300,phase:2,deny,status:403,log,msg:'template or code injection (model)'"
SecRule REQUEST_FILENAME "@beginsWith /admin" "id:100301,phase:2,chain,deny,status:403,log,msg:'suspicious admin request'"
  SecRule TX:ML_SCORE "@le 90" ""`
	})
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: eng, Model: defaultModel(t), Policies: policy(inspect.ModeCRS, 5)}, filter.Options{}))
	res := do(t, &envoysim.Filter{}, client, get(ssti), nil)
	if !res.Blocked() || metaField(res, "blocking_rule") != float64(100300) {
		t.Fatalf("rule on TX:ML_SCORE_RCE did not block: %v", res.Metadata)
	}
	if do(t, &envoysim.Filter{}, client, get(clean), nil).Blocked() {
		t.Fatal("clean request blocked")
	}
}

func TestScoreHeadersAndMetadata(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil), Model: defaultModel(t), Policies: policy(inspect.ModeOr, 5)}, filter.Options{UpstreamHeaders: true}))
	req := get(clean)
	req.Headers = append(req.Headers, [2]string{"x-bulwark-score", "99"}, [2]string{"x-bulwark-score-sqli", "99"})
	res := do(t, &envoysim.Filter{}, client, req, nil)
	if res.Blocked() {
		t.Fatal("clean request blocked")
	}
	for _, h := range []string{"x-bulwark-score", "x-bulwark-score-sqli", "x-bulwark-score-xss", "x-bulwark-score-rce", "x-bulwark-score-traversal", "x-bulwark-anomaly", "x-bulwark-verdict"} {
		if res.Upstream.Get(h) == "" {
			t.Fatalf("%s missing upstream: %v", h, res.Upstream.Headers)
		}
	}
	if score, _ := metaField(res, "score").(float64); score < 50 {
		t.Fatalf("clean request scored %v", score)
	}
	// A flagged (DetectionOnly) attack carries its location.
	det, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, func(c *waf.Config) { c.Engine = waf.EngineDetectionOnly }), Model: defaultModel(t), Policies: policy(inspect.ModeOr, 5)}, filter.Options{}))
	res = do(t, &envoysim.Filter{}, det, get(sqli), nil)
	if metaField(res, "ml_location") != "query:id" || metaField(res, "action") != "would_block" {
		t.Fatalf("metadata %v", res.Metadata)
	}
}

// A client that just attacked meets stricter thresholds.
func TestRepeatOffender(t *testing.T) {
	t.Parallel()
	mem := inspect.NewMemory(100, 60e9)
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil), Model: defaultModel(t), Policies: policy(inspect.ModeCRS, 5), Memory: mem, Offender: inspect.Offender{Attacks: 3, ThresholdDrop: 4}}, filter.Options{}))
	f := &envoysim.Filter{Attributes: map[string]string{"source.address": "198.51.100.9:5555"}}
	// 920350-style noise: a request scoring 3 or 4 passes for a stranger.
	noisy := get("/?q=red%20shoes")
	noisy.Authority = "203.0.113.10"
	if do(t, f, client, noisy, nil).Blocked() {
		t.Fatal("a request to a numeric host blocked before any attack")
	}
	for i := 0; i < 3; i++ {
		do(t, f, client, get(sqli), nil)
	}
	if mem.Attacks("198.51.100.9") != 3 {
		t.Fatalf("memory has %d attacks", mem.Attacks("198.51.100.9"))
	}
	if !do(t, f, client, noisy, nil).Blocked() {
		t.Fatal("repeat offender kept the normal threshold")
	}
}
