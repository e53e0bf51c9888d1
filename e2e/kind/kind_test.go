//go:build e2e

package kind

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-waf/bulwark/internal/repo"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Settings come from the environment so the Makefile and CI can steer them.
var (
	clusterName = envOr("BULWARK_E2E_CLUSTER", "bulwark-e2e")
	image       = envOr("BULWARK_E2E_IMAGE", "ghcr.io/bulwark-waf/bulwark:e2e")
	scenarios   = strings.Split(envOr("BULWARK_E2E_SCENARIOS", "envoy,istio"), ",")
	require     = os.Getenv("BULWARK_E2E_REQUIRE") == "1"
	keep        = os.Getenv("BULWARK_E2E_KEEP") == "1"
	// Response inspection (data-leak rules) is not in the server yet; the
	// leaky-response check runs only once it is switched on here.
	respInspect = os.Getenv("BULWARK_E2E_RESPONSE_INSPECTION") == "1"
)

// The image reference the manifests ship with; replaced by the e2e image.
const shippedImage = "ghcr.io/bulwark-waf/bulwark:latest"

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// unavailable skips, or fails when CI demands the suite really run. It is
// the only way this suite ends early without a real result.
func unavailable(t *testing.T, format string, a ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, a...)
	if require {
		t.Fatalf("BULWARK_E2E_REQUIRE=1 but %s", msg)
	}
	t.Skipf("SKIP (not a pass): %s", msg)
}

func preflight(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, "%s is not installed; the kind e2e suite needs docker, kind and kubectl (istioctl for Istio)", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		unavailable(t, "no Docker engine is reachable (docker info: %v: %s)", err, strings.TrimSpace(string(out)))
	}
}

// run executes a command, streaming nothing, and fails the test with its
// output on error.
func run(t *testing.T, stdin []byte, name string, args ...string) string {
	t.Helper()
	out, err := tryRun(stdin, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func tryRun(stdin []byte, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	return run(t, nil, "kubectl", append([]string{"--context", "kind-" + clusterName}, args...)...)
}

func kubectlApply(t *testing.T, manifests []byte) {
	t.Helper()
	run(t, manifests, "kubectl", "--context", "kind-"+clusterName, "apply", "--server-side", "--force-conflicts", "-f", "-")
}

// render builds an overlay with the same kustomize library the unit tests
// use and points it at the e2e image.
func render(t *testing.T, overlay string) []byte {
	t.Helper()
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(repo.Root(t), overlay))
	if err != nil {
		t.Fatal(err)
	}
	y, err := rm.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(y, []byte(shippedImage)) {
		t.Fatalf("%s does not reference %s; update shippedImage", overlay, shippedImage)
	}
	return bytes.ReplaceAll(y, []byte(shippedImage), []byte(image))
}

// cluster creates (or reuses) the kind cluster and loads the freshly built
// image into it.
func cluster(t *testing.T) {
	t.Helper()
	clusters := run(t, nil, "kind", "get", "clusters")
	if !slices.Contains(strings.Fields(clusters), clusterName) {
		run(t, nil, "kind", "create", "cluster", "--name", clusterName, "--wait", "180s")
		if !keep {
			t.Cleanup(func() { _, _ = tryRun(nil, "kind", "delete", "cluster", "--name", clusterName) })
		}
	}
	run(t, nil, "docker", "build", "-t", image, repo.Root(t))
	run(t, nil, "kind", "load", "docker-image", image, "--name", clusterName)
}

func rollout(t *testing.T, namespace string, deployments ...string) {
	t.Helper()
	for _, d := range deployments {
		kubectl(t, "-n", namespace, "rollout", "status", "deployment/"+d, "--timeout", "300s")
	}
}

// portForward forwards a random local port to a Service and returns the
// base URL. Traffic still enters through the real proxy pod.
func portForward(t *testing.T, namespace, svc string, port int) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "kubectl", "--context", "kind-"+clusterName, "-n", namespace,
		"port-forward", "svc/"+svc, fmt.Sprintf(":%d", port))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	re := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+)`)
	lines := bufio.NewScanner(stdout)
	found := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if m := re.FindStringSubmatch(lines.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case p := <-found:
		return "http://127.0.0.1:" + p
	case <-time.After(30 * time.Second):
		t.Fatalf("port-forward to %s/%s did not start", namespace, svc)
		return ""
	}
}

type reply struct {
	status  int
	headers http.Header
	// upstream holds the request headers the echo backend saw, when the
	// request reached it.
	upstream http.Header
}

var client = &http.Client{Timeout: 10 * time.Second}

func send(t *testing.T, method, u string, body string, hdr map[string]string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, headers: resp.Header}
	// go-httpbin's /anything echoes {"headers": {"Name": ["v"]}}.
	var echo struct {
		Headers map[string][]string `json:"headers"`
	}
	if json.Unmarshal(raw, &echo) == nil && echo.Headers != nil {
		r.upstream = http.Header{}
		for k, vs := range echo.Headers {
			for _, v := range vs {
				r.upstream.Add(k, v)
			}
		}
	}
	return r
}

// waitFor retries until the proxy answers at all: the first requests after
// a rollout can race Envoy's DNS refresh or Istio's config push.
func waitFor(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := client.Get(base + "/anything/warmup")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(2 * time.Second)
	}
	t.Fatalf("%s never answered 200 to a clean request", base)
}

// trafficChecks is shared by both scenarios: the same attacks and clean
// requests must get the same answers whichever proxy carries them.
func trafficChecks(t *testing.T, base string, healthExempt bool) {
	attacks := []struct {
		name, method, path, body string
		hdr                      map[string]string
	}{
		{"sqli in query", "GET", "/anything?id=" + url.QueryEscape("1' OR '1'='1' --"), "", nil},
		{"xss in query", "GET", "/anything?q=" + url.QueryEscape("<script>alert(document.cookie)</script>"), "", nil},
		{"path traversal", "GET", "/anything?file=" + url.QueryEscape("../../../../etc/passwd"), "", nil},
		{"sqli in form body", "POST", "/anything", "user=admin&pass=" + url.QueryEscape("' UNION SELECT password FROM users --"),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		{"rce in json body", "POST", "/anything", `{"cmd":"; cat /etc/passwd"}`, map[string]string{"Content-Type": "application/json"}},
	}
	for _, a := range attacks {
		t.Run("attack/"+a.name, func(t *testing.T) {
			r := send(t, a.method, base+a.path, a.body, a.hdr)
			if r.status != http.StatusForbidden {
				t.Fatalf("status %d, want 403", r.status)
			}
			if r.headers.Get("X-Request-Id") == "" {
				t.Error("blocked response carries no x-request-id to correlate with logs")
			}
		})
	}
	clean := []struct{ name, method, path, body string }{
		{"plain get", "GET", "/anything/products?page=2&sort=price", ""},
		{"json post", "POST", "/anything/cart", `{"sku":"A-100","qty":2}`},
	}
	for _, c := range clean {
		t.Run("clean/"+c.name, func(t *testing.T) {
			r := send(t, c.method, base+c.path, c.body, map[string]string{"Content-Type": "application/json"})
			if r.status != http.StatusOK {
				t.Fatalf("status %d, want 200", r.status)
			}
			if r.upstream == nil {
				t.Fatal("the echo backend's reply could not be read")
			}
			// The score headers are what lets the application act on the
			// verdict; they must survive the proxy.
			for _, h := range []string{"X-Bulwark-Verdict", "X-Bulwark-Anomaly", "X-Bulwark-Score"} {
				if r.upstream.Get(h) == "" {
					t.Errorf("backend did not receive %s (saw %v)", h, r.upstream)
				}
			}
		})
	}
	if healthExempt {
		t.Run("health route is not inspected", func(t *testing.T) {
			// An attack-shaped query on /healthz still passes: the route
			// disables ext_proc, so load balancers never see a 403 or 503.
			r := send(t, "GET", base+"/healthz?x="+url.QueryEscape("<script>alert(1)</script>"), "", nil)
			if r.status != http.StatusOK {
				t.Fatalf("status %d, want 200", r.status)
			}
		})
	}
	t.Run("leaky response", func(t *testing.T) {
		if !respInspect {
			t.Skip("SKIP (not a pass): response inspection is not enabled; set BULWARK_E2E_RESPONSE_INSPECTION=1 once the server inspects response bodies")
		}
		leak := base64.URLEncoding.EncodeToString([]byte("You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version"))
		r := send(t, "GET", base+"/base64/"+leak, "", nil)
		if r.status == http.StatusOK {
			t.Fatalf("a response leaking a SQL error went out unchanged (status %d)", r.status)
		}
	})
}

type podState struct{ name, uid, restarts string }

func bulwarkPods(t *testing.T) []podState {
	t.Helper()
	out := kubectl(t, "-n", "bulwark", "get", "pods", "-l", "app.kubernetes.io/name=bulwark",
		"-o", `jsonpath={range .items[*]}{.metadata.name} {.metadata.uid} {.status.containerStatuses[0].restartCount}{"\n"}{end}`)
	var pods []podState
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(l); len(f) == 3 {
			pods = append(pods, podState{f[0], f[1], f[2]})
		}
	}
	slices.SortFunc(pods, func(a, b podState) int { return strings.Compare(a.name, b.name) })
	return pods
}

// hotReload adds a rule to the bulwark-rules ConfigMap and waits for it to
// take effect, then proves no pod was restarted or replaced.
func hotReload(t *testing.T, base string) {
	canary := fmt.Sprintf("canary-%d", time.Now().UnixNano())
	hdr := map[string]string{"X-E2E-Canary": canary}
	if r := send(t, "GET", base+"/anything/reload", "", hdr); r.status != http.StatusOK {
		t.Fatalf("before the rule change: status %d, want 200", r.status)
	}
	before := bulwarkPods(t)
	rule := fmt.Sprintf(`SecRule REQUEST_HEADERS:X-E2E-Canary "@streq %s" "id:1009999,phase:1,deny,status:403,log,msg:'e2e canary'"`, canary)
	patch, _ := json.Marshal(map[string]any{"data": map[string]string{"e2e.conf": rule + "\n"}})
	kubectl(t, "-n", "bulwark", "patch", "configmap", "bulwark-rules", "--type", "merge", "-p", string(patch))

	// The kubelet refreshes ConfigMap volumes on its sync period (up to
	// about a minute plus cache TTL), so allow a few minutes.
	deadline := time.Now().Add(4 * time.Minute)
	for {
		r := send(t, "GET", base+"/anything/reload", "", hdr)
		if r.status == http.StatusForbidden {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new rule never took effect (last status %d)", r.status)
		}
		time.Sleep(3 * time.Second)
	}
	// Every replica must have reloaded, not just the one that answered.
	for range 10 {
		if r := send(t, "GET", base+"/anything/reload", "", hdr); r.status != http.StatusForbidden {
			t.Fatalf("status %d after reload: not every replica picked up the rule", r.status)
		}
	}
	if after := bulwarkPods(t); !slices.Equal(before, after) {
		t.Fatalf("pods changed during the reload: before %v, after %v", before, after)
	}
}

func TestKind(t *testing.T) {
	preflight(t, "docker", "kind", "kubectl")
	root := repo.Root(t)
	cluster(t)

	t.Run("envoy", func(t *testing.T) {
		if !slices.Contains(scenarios, "envoy") {
			t.Skip("envoy scenario not selected in BULWARK_E2E_SCENARIOS")
		}
		manifests := render(t, "k8s/overlays/envoy")
		kubectlApply(t, manifests)
		t.Cleanup(func() {
			if !keep {
				_, _ = tryRun(manifests, "kubectl", "--context", "kind-"+clusterName, "delete", "--wait", "--ignore-not-found", "-f", "-")
			}
		})
		rollout(t, "bulwark", "bulwark")
		rollout(t, "bulwark-demo", "echo", "envoy")
		base := portForward(t, "bulwark-demo", "envoy", 8080)
		waitFor(t, base)
		trafficChecks(t, base, true)
		t.Run("configmap rule change without restart", func(t *testing.T) { hotReload(t, base) })
	})

	t.Run("istio", func(t *testing.T) {
		if !slices.Contains(scenarios, "istio") {
			t.Skip("istio scenario not selected in BULWARK_E2E_SCENARIOS")
		}
		if _, err := exec.LookPath("istioctl"); err != nil {
			unavailable(t, "istioctl is not installed; the Istio scenario needs it to install Istio into kind")
		}
		run(t, nil, "istioctl", "install", "--context", "kind-"+clusterName, "-y", "--set", "profile=default")
		rollout(t, "istio-system", "istiod", "istio-ingressgateway")
		kubectlApply(t, render(t, "k8s/overlays/istio"))
		demo, err := os.ReadFile(filepath.Join(root, "e2e/kind/testdata/istio-demo.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		echo, err := os.ReadFile(filepath.Join(root, "k8s/overlays/envoy/echo.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		kubectlApply(t, append(append(demo, []byte("\n---\n")...), echo...))
		rollout(t, "bulwark", "bulwark")
		rollout(t, "bulwark-demo", "echo")
		base := portForward(t, "istio-system", "istio-ingressgateway", 80)
		waitFor(t, base)
		// The gateway's own health endpoint is on :15021, outside the
		// filtered listeners, so there is no /healthz route to exempt.
		trafficChecks(t, base, false)
	})
}
