package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/bulwark-waf/bulwark/cmd/extproc/app"
	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
)

// startApp runs the whole service, as `extproc` would, on loopback ports.
func startApp(t *testing.T, args ...string) (*app.App, extprocv3.ExternalProcessorClient, *grpc.ClientConn, context.CancelFunc, <-chan error) {
	t.Helper()
	args = append([]string{"--grpc-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--audit-log", "off", "--reload-debounce", "50ms"}, args...)
	a, err := app.New(config.Source{Args: args, Env: func(string) (string, bool) { return "", false }}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx); close(done) }()
	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-done
		_ = conn.Close()
	})
	waitReady(t, a)
	return a, extprocv3.NewExternalProcessorClient(conn), conn, cancel, done
}

func waitReady(t *testing.T, a *app.App) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if code, _ := httpGet("http://" + a.AdminAddr() + "/readyz"); code == 200 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("never became ready")
}

func httpGet(url string) (int, string) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	// Write then rename, as editors and ConfigMap updates do, so the
	// watcher never sees a half-written file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestAdminEndpointsAndHealth(t *testing.T) {
	a, _, conn, _, _ := startApp(t)
	if code, body := httpGet("http://" + a.AdminAddr() + "/healthz"); code != 200 {
		t.Fatalf("/healthz %d %s", code, body)
	}
	code, body := httpGet("http://" + a.AdminAddr() + "/metrics")
	if code != 200 || !strings.Contains(body, "bulwark_build_info") || !strings.Contains(body, "bulwark_streams_total") {
		t.Fatalf("/metrics %d", code)
	}
	h, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: "envoy.service.ext_proc.v3.ExternalProcessor"})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("grpc health: %v %v", h, err)
	}
}

const customRule = `SecRule REQUEST_URI "@beginsWith %s" "id:100100,phase:1,deny,status:403,log,msg:'custom path block'"
`

// Rules change on disk while traffic flows: every request gets a verdict
// from either the old or the new rules, never an error, and a broken file
// keeps the old rules running.
func TestReloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "custom.conf")
	writeFile(t, rules, strings.Replace(customRule, "%s", "/old-secret", 1))
	cfgPath := filepath.Join(dir, "bulwark.yaml")
	writeFile(t, cfgPath, "waf:\n  rules_files: ["+rules+"]\n")
	a, client, _, _, _ := startApp(t, "--config", cfgPath)

	ctx, stop := context.WithTimeout(context.Background(), 60*time.Second)
	defer stop()
	var sent, failures atomic.Int64
	var firstFailure atomic.Value
	var wg sync.WaitGroup
	load, stopLoad := context.WithCancel(ctx)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := &envoysim.Filter{MessageTimeout: 5 * time.Second}
			for i := 0; load.Err() == nil && i < 5000; i++ {
				attack := i%2 == 0
				req := get("/items?id=7")
				if attack {
					req = get("/items?id=1%27%20UNION%20SELECT%20password%20FROM%20users--")
				}
				res, err := f.Do(ctx, client, req, echo)
				sent.Add(1)
				if err != nil || res.StreamErr != nil || res.Blocked() != attack {
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, []any{err, res})
				}
			}
		}()
	}
	blocked := func(path string) bool {
		res, err := (&envoysim.Filter{}).Do(ctx, client, get(path), echo)
		if err != nil {
			t.Fatal(err)
		}
		return res.Blocked()
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for i := 0; i < 200; i++ {
			if cond() {
				return
			}
			time.Sleep(25 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %s", what)
	}
	if !blocked("/old-secret") || blocked("/new-secret") {
		t.Fatal("initial custom rule not in force")
	}
	// 1. A file change (as a ConfigMap update) is picked up by the watcher.
	writeFile(t, rules, strings.Replace(customRule, "%s", "/new-secret", 1))
	waitFor("the watcher to load the new rule", func() bool { return blocked("/new-secret") && !blocked("/old-secret") })
	// 2. A broken file keeps the running rules and shows in the metrics.
	errorsBefore := metricValue(a.Registry(), "bulwark_reloads_total", "error")
	writeFile(t, rules, "SecRule REQUEST_URI \"@beginsWith /x\" \"id:100101,phase:1,dney\"\n")
	waitFor("the failed reload to be counted", func() bool { return metricValue(a.Registry(), "bulwark_reloads_total", "error") > errorsBefore })
	if !blocked("/new-secret") {
		t.Fatal("a broken rule file replaced the running rules")
	}
	if code, body := httpGet("http://" + a.AdminAddr() + "/metrics"); code != 200 || !strings.Contains(body, "bulwark_config_last_reload_successful 0") {
		t.Fatal("failed reload not visible in /metrics")
	}
	// 3. Explicit reloads (SIGHUP) while traffic flows.
	writeFile(t, rules, strings.Replace(customRule, "%s", "/third", 1))
	for i := 0; i < 3; i++ {
		if err := a.Reload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if !blocked("/third") {
		t.Fatal("explicit reload did not apply")
	}
	stopLoad()
	wg.Wait()
	if failures.Load() > 0 {
		t.Fatalf("%d of %d requests under reload failed; first: %v", failures.Load(), sent.Load(), firstFailure.Load())
	}
	if sent.Load() < 20 {
		t.Fatalf("only %d requests ran during the reloads", sent.Load())
	}
	t.Logf("%d requests during reloads, all with correct verdicts", sent.Load())
}

// On shutdown /readyz turns 503 at once, new streams are refused, and an
// open stream can still finish.
func TestGracefulDrain(t *testing.T) {
	a, client, _, cancel, done := startApp(t)
	s, err := client.Process(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(requestHeadersMsg(false)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	cancel()
	waitFor503 := false
	for i := 0; i < 100 && !waitFor503; i++ {
		code, _ := httpGet("http://" + a.AdminAddr() + "/readyz")
		waitFor503 = code == 503 || code == 0
		time.Sleep(10 * time.Millisecond)
	}
	if !waitFor503 {
		t.Fatal("/readyz stayed ready during drain")
	}
	select {
	case <-done:
		t.Fatal("Run returned while a stream was still open")
	case <-time.After(200 * time.Millisecond):
	}
	// The open stream finishes normally.
	if err := s.Send(requestBodyMsg("a=1", true)); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Recv(); err != nil || r.GetRequestBody() == nil {
		t.Fatalf("open stream cut during drain: %v %v", r, err)
	}
	_ = s.CloseSend()
	if _, err := s.Recv(); err != io.EOF {
		t.Fatalf("stream end: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the last stream ended")
	}
}

// Policies are chosen per route from what Envoy sends, and reload with the
// rest of the config.
func TestPolicySelectionAndReload(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "bulwark.yaml")
	policies := `ml: {mode: or}
policies:
- name: api
  route: api-route
  mode: %s
- name: beta
  path_prefix: /beta/
  engine: DetectionOnly
`
	writeFile(t, cfgPath, strings.Replace(policies, "%s", "ml", 1))
	a, client, _, _, _ := startApp(t, "--config", cfgPath)
	ctx := context.Background()
	apiRoute := &envoysim.Filter{Attributes: map[string]string{"xds.route_name": "api-route", "source.address": "192.0.2.1:1000"}}
	res, err := apiRoute.Do(ctx, client, get(crsFalsePositive), echo)
	if err != nil {
		t.Fatal(err)
	}
	if res.Blocked() || metaField(res, "policy") != "api" || metaField(res, "mode") != "ml" {
		t.Fatalf("api route: blocked=%v metadata %v", res.Blocked(), res.Metadata)
	}
	res, err = (&envoysim.Filter{}).Do(ctx, client, get("/beta/items?id=1%27%20UNION%20SELECT%20password%20FROM%20users--"), echo)
	if err != nil {
		t.Fatal(err)
	}
	if res.Blocked() || metaField(res, "policy") != "beta" || metaField(res, "action") != "would_block" {
		t.Fatalf("beta path: blocked=%v metadata %v", res.Blocked(), res.Metadata)
	}
	res, err = (&envoysim.Filter{}).Do(ctx, client, get(crsFalsePositive), echo)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Blocked() {
		t.Fatalf("default policy (or) should block CRS's 942190 hit: %v", res.Metadata)
	}
	writeFile(t, cfgPath, strings.Replace(policies, "%s", "crs", 1))
	if err := a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	res, err = apiRoute.Do(ctx, client, get(crsFalsePositive), echo)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Blocked() {
		t.Fatalf("after reload the api policy is crs and must block: %v", res.Metadata)
	}
	writeFile(t, cfgPath, strings.Replace(policies, "%s", "sometimes", 1))
	if err := a.Reload(ctx); err == nil || !strings.Contains(err.Error(), "policies[0].mode") {
		t.Fatalf("bad policy reload: %v", err)
	}
	if res, _ := apiRoute.Do(ctx, client, get(crsFalsePositive), echo); !res.Blocked() {
		t.Fatal("a bad policy file replaced the running policies")
	}
}
