package e2e

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
	"github.com/bulwark-waf/bulwark/internal/servertest"
	"github.com/bulwark-waf/bulwark/waf"
)

// syncBuffer lets the server's goroutines write audit lines safely.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

func TestAuditLineAndMetrics(t *testing.T) {
	t.Parallel()
	audit := &syncBuffer{}
	reg := prometheus.NewRegistry()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil)}, filter.Options{Audit: slog.New(slog.NewJSONHandler(audit, nil)), Metrics: filter.NewMetrics(reg), TrustedHops: 1}))
	f := &envoysim.Filter{Attributes: map[string]string{"source.address": "10.0.0.9:40000"}}
	req := get("/products?id=1%27%20UNION%20SELECT%20password%20FROM%20users--")
	req.Headers = append(req.Headers, [2]string{"x-forwarded-for", "198.51.100.4, 10.0.0.9"}, [2]string{"x-request-id", "audit-1"})
	if res := do(t, f, client, req, nil); !res.Blocked() {
		t.Fatal("attack passed")
	}
	do(t, f, client, get("/products?id=7"), nil)

	lines := audit.lines()
	if len(lines) != 1 {
		t.Fatalf("%d audit lines, want 1 (clean traffic is not audited): %v", len(lines), lines)
	}
	l := lines[0]
	rules, _ := l["rules"].([]any)
	if l["decision"] != "block" || l["client"] != "198.51.100.4" || l["method"] != "GET" || l["blocking_rule"] != float64(949110) || len(rules) < 2 ||
		!strings.Contains(l["uri"].(string), "UNION") {
		t.Fatalf("audit line %v", l)
	}
	if got := metricValue(reg, "bulwark_decisions_total", "request", "block"); got != 1 {
		t.Fatalf("block decisions %v", got)
	}
	if got := metricValue(reg, "bulwark_decisions_total", "request", "allow"); got != 1 {
		t.Fatalf("allow decisions %v", got)
	}
	if got := metricValue(reg, "bulwark_blocks_by_rule_total", "949110"); got != 1 {
		t.Fatalf("blocks by rule %v", got)
	}
	if metricValue(reg, "bulwark_messages_total", "request_headers") != 2 {
		t.Fatal("request_headers messages not counted")
	}
}

// The client address CRS sees comes from source.address, or from
// X-Forwarded-For only as far as trusted_hops allows.
func TestClientAddressReachesRules(t *testing.T) {
	t.Parallel()
	eng := servertest.Engine(t, func(c *waf.Config) {
		c.Directives = `SecRule REMOTE_ADDR "@ipMatch 198.51.100.0/24" "id:100200,phase:1,deny,status:403,log,msg:'banned network'"`
	})
	trusting, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: eng}, filter.Options{TrustedHops: 1}))
	direct, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: eng}, filter.Options{}))
	f := &envoysim.Filter{Attributes: map[string]string{"source.address": "10.0.0.9:40000"}}
	req := get("/")
	req.Headers = append(req.Headers, [2]string{"x-forwarded-for", "198.51.100.4, 10.0.0.9"})
	if !do(t, f, trusting, req, nil).Blocked() {
		t.Fatal("trusted X-Forwarded-For client not seen")
	}
	if do(t, f, direct, req, nil).Blocked() {
		t.Fatal("X-Forwarded-For trusted with trusted_hops 0")
	}
	if !do(t, &envoysim.Filter{Attributes: map[string]string{"source.address": "198.51.100.77:1234"}}, direct, get("/"), nil).Blocked() {
		t.Fatal("source.address not used")
	}
}

// The upstream may answer before the request body is complete; the request
// verdict is then taken on what was seen, and the exchange stays consistent.
func TestSendBodyWithoutWaitingForHeaders(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil)}, filter.Options{ModeOverride: true}))
	f := &envoysim.Filter{Mode: mode(procv3.ProcessingMode_STREAMED), SendBodyWithoutWaiting: true, AllowModeOverride: true}
	attack := post("/f", "application/x-www-form-urlencoded", "q=%3Cscript%3Ealert(1)%3C/script%3E")
	if res := do(t, f, client, attack, nil); !res.Blocked() {
		t.Fatalf("attack passed: %+v", res)
	}
	clean := post("/f", "application/x-www-form-urlencoded", "q=hello")
	if res := do(t, f, client, clean, nil); res.Local != nil || string(res.Upstream.Body) != "q=hello" {
		t.Fatalf("clean request: %+v", res.Local)
	}
}

func TestNoProtocolConfigFallsBackSafely(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil)}, filter.Options{}))
	// Envoy < 1.34 in STREAMED mode: no protocol_config, several chunks.
	req := post("/f", "application/x-www-form-urlencoded", "a=1&b=2&q=%3Cscript%3Ealert(1)%3C/script%3E")
	req.Chunks = [][]byte{[]byte("a=1&b=2&q=%3Cscr"), []byte("ipt%3Ealert(1)%3C/script%3E")}
	res := do(t, &envoysim.Filter{Mode: mode(procv3.ProcessingMode_STREAMED), NoProtocolConfig: true}, client, req, nil)
	if !res.Blocked() {
		t.Fatal("attack split over chunks passed without protocol_config")
	}
}

func slogJSON(w *syncBuffer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }
