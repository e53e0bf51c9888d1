package proxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"

	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
	"github.com/bulwark-waf/bulwark/internal/proxy"
	"github.com/bulwark-waf/bulwark/internal/servertest"
)

// A real HTTP client through the proxy: clean requests reach the upstream
// byte for byte and come back with Bulwark's metadata, attacks get the
// block page, in BUFFERED, STREAMED and FULL_DUPLEX_STREAMED.
func TestProxyCarriesRealHTTP(t *testing.T) {
	t.Parallel()
	var seen []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen = append(seen, r.Method+" "+r.RequestURI+" "+string(b))
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(up.Close)
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{}, filter.Options{}))
	u, _ := url.Parse(up.URL)
	for _, mode := range []procv3.ProcessingMode_BodySendMode{procv3.ProcessingMode_BUFFERED, procv3.ProcessingMode_STREAMED, procv3.ProcessingMode_FULL_DUPLEX_STREAMED} {
		trailers := procv3.ProcessingMode_SKIP
		if mode == procv3.ProcessingMode_FULL_DUPLEX_STREAMED {
			trailers = procv3.ProcessingMode_SEND
		}
		p, err := proxy.New(proxy.Options{Upstream: u, Client: client, Filter: envoysim.Filter{
			Mode:           &procv3.ProcessingMode{RequestBodyMode: mode, ResponseBodyMode: mode, RequestTrailerMode: trailers, ResponseTrailerMode: trailers},
			MessageTimeout: 5 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(p)
		seen = nil
		resp, err := http.Get(srv.URL + "/products/a%2Fb?id=7&q=red+shoes")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != `{"ok":true}` || len(seen) != 1 || seen[0] != "GET /products/a%2Fb?id=7&q=red+shoes " {
			t.Fatalf("%s clean: %d %q, upstream saw %q", mode, resp.StatusCode, body, seen)
		}
		var md map[string]map[string]any
		if err := json.Unmarshal([]byte(resp.Header.Get(proxy.MetadataHeader)), &md); err != nil || md["bulwark"]["action"] == nil {
			t.Fatalf("%s: metadata header %q (%v)", mode, resp.Header.Get(proxy.MetadataHeader), err)
		}
		seen = nil
		resp, err = http.Post(srv.URL+"/comment", "application/x-www-form-urlencoded", strings.NewReader("text=1%27%20UNION%20SELECT%20password%20FROM%20users--"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Fatalf("%s attack: status %d", mode, resp.StatusCode)
		}
		if mode != procv3.ProcessingMode_STREAMED && len(seen) != 0 {
			t.Fatalf("%s attack reached the upstream: %q", mode, seen)
		}
		srv.Close()
	}
}
