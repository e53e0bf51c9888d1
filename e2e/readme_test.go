package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-waf/bulwark/cmd/extproc/app"
	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
	"github.com/bulwark-waf/bulwark/internal/proxy"
	"github.com/bulwark-waf/bulwark/internal/servertest"
	"github.com/bulwark-waf/bulwark/waf"
	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
)

// The SecLang examples in the README must compile against the embedded CRS,
// so users copying them get working rules.
func TestReadmeRulesCompile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var cur *strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "```") && cur == nil:
			cur = &strings.Builder{}
		case strings.HasPrefix(line, "```"):
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	n := 0
	for _, code := range blocks {
		if !strings.Contains(code, "SecRule ") || strings.Contains(code, "SecRule TX:BLOCKING") {
			continue
		}
		// A continuation line in the README is indented under its chain.
		code = regexp.MustCompile(`(?m)^  SecRule`).ReplaceAllString(code, "SecRule")
		n++
		cfg := waf.DefaultConfig()
		cfg.Directives = code
		if _, err := waf.New(cfg, nil); err != nil {
			t.Errorf("README rules do not compile: %v\n%s", err, code)
		}
	}
	if n < 2 {
		t.Fatalf("found %d SecLang blocks in the README; the examples moved?", n)
	}
}

// The README's curl lines for `extproc proxy` give what their comments say
// (200 for the clean request, 403 for the attack), run through the proxy
// with the default config (model included) in front of an echo upstream.
func TestReadmeCurlLinesThroughTheProxy(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^curl -i -H 'Host: ([^']+)' ['"]http://127\.0\.0\.1:8080([^'"]+)['"]\s+# (\d{3})$`)
	found := line.FindAllStringSubmatch(string(b), -1)
	if len(found) < 2 {
		t.Fatalf("README has %d proxy curl lines, want the clean one and the attack", len(found))
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	// The shipped defaults, exactly as `make run` builds them.
	rt, err := app.Build(config.Default(), app.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	opts := servertest.Options(t, inspect.Options{}, filter.Options{})
	opts.Core = filter.CoreInspector(rt.Core)
	client, _ := servertest.Serve(t, opts)
	p, err := proxy.New(proxy.Options{Upstream: u, Client: client, Filter: envoysim.Filter{
		Mode: &procv3.ProcessingMode{RequestBodyMode: procv3.ProcessingMode_BUFFERED}, MessageTimeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	for _, f := range found {
		req, _ := http.NewRequest("GET", srv.URL+f[2], nil)
		req.Host = f[1]
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want, _ := strconv.Atoi(f[3]); resp.StatusCode != want {
			t.Errorf("curl %s: status %d, README says %d", f[2], resp.StatusCode, want)
		}
	}
}
