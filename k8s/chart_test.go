package k8s

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
)

const chartDir = "../charts/bulwark"

// chartKube is the oldest Kubernetes the chart claims (Chart.yaml
// kubeVersion): the preStop sleep action needs 1.29.
var chartKube = chartutil.KubeVersion{Version: "v1.29.0", Major: "1", Minor: "29"}

// renderChart renders the chart as `helm install --dry-run` would, client
// side (no cluster: Helm's own printing client stands in for the API
// server), and strictly decodes every object like the kustomize builds.
func renderChart(t *testing.T, values map[string]any) ([]object, error) {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.ClientOnly = true
	install.DryRun = true
	install.ReleaseName = bulwarkName
	install.Namespace = bulwarkNamespace
	install.KubeVersion = &chartKube
	install.APIVersions = chartutil.VersionSet{"monitoring.coreos.com/v1", "monitoring.coreos.com/v1/ServiceMonitor"}
	rel, err := install.Run(chrt, values)
	if err != nil {
		return nil, err
	}
	var objs []object
	for _, doc := range releaseutil.SplitManifests(rel.Manifest) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("rendered document: %v\n%s", err, doc)
		}
		if head.Kind == "" {
			continue
		}
		gvk := head.APIVersion + "/" + head.Kind
		if !strings.Contains(head.APIVersion, "/") {
			gvk = "/" + gvk
		}
		o := object{gvk: gvk, namespace: head.Metadata.Namespace, name: head.Metadata.Name, raw: []byte(doc)}
		o.typed, err = decodeStrict(gvk, o.raw)
		if err != nil {
			t.Fatalf("chart: %s: %v\n%s", o, err, doc)
		}
		objs = append(objs, o)
	}
	return objs, nil
}

func mustRender(t *testing.T, values map[string]any) []object {
	t.Helper()
	objs, err := renderChart(t, values)
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	return objs
}

// values parses a YAML values document, as `helm install -f` would.
func values(t *testing.T, doc string) map[string]any {
	t.Helper()
	v := map[string]any{}
	if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func bulwarkContainer(t *testing.T, objs []object) (*appsv1.Deployment, corev1.Container) {
	t.Helper()
	d := mustFind[*appsv1.Deployment](t, objs, bulwarkNamespace, bulwarkName)
	return d, d.Spec.Template.Spec.Containers[0]
}

func envOf(c corev1.Container) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	return env
}

// TestChartLints runs Helm's own linter (helm lint --strict) over the
// chart with its default values.
func TestChartLints(t *testing.T) {
	t.Parallel()
	res := lint.AllWithKubeVersion(chartDir, nil, bulwarkNamespace, &chartKube)
	for _, m := range res.Messages {
		if m.Severity > support.InfoSev {
			t.Errorf("helm lint: %s", m)
		}
	}
}

// TestChartDefaults renders the defaults and puts them through every check
// the kustomize base passes: strict decoding, the restricted pod security
// profile, ports, probes and Service, the settings the server's own loader
// accepts, the rules mount, and availability and fencing.
func TestChartDefaults(t *testing.T) {
	t.Parallel()
	objs := mustRender(t, nil)
	for _, d := range all[*appsv1.Deployment](objs) {
		for _, p := range podSecurityProblems(d.Spec.Template.Spec) {
			t.Errorf("deployment %s/%s: %s", d.Namespace, d.Name, p)
		}
	}
	_, rules := checkBulwarkWiring(t, objs, bulwarkNamespace, bulwarkName)
	checkAvailability(t, objs, bulwarkNamespace, bulwarkName)
	if rules == nil || !strings.Contains(rules.Data["custom.conf"], "id:1000001") {
		t.Errorf("the default custom rule is not mounted: %v", rules)
	}
	if _, ok := find[*monitoringv1.ServiceMonitor](objs, bulwarkNamespace, bulwarkName); ok {
		t.Error("a ServiceMonitor by default: installs without the Prometheus Operator's CRDs would fail")
	}
	d, c := bulwarkContainer(t, objs)
	if d.Spec.Replicas != nil {
		t.Error("replicas set although the HPA owns them: every upgrade would reset the scale")
	}
	if c.Image != "ghcr.io/bulwark-waf/bulwark:0.1.0" {
		t.Errorf("image %q, want the chart's appVersion tag", c.Image)
	}
}

// TestChartEverything turns every option on and checks each one lands where
// the server reads it.
func TestChartEverything(t *testing.T) {
	t.Parallel()
	objs := mustRender(t, values(t, `
image: {digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
config:
  ml: {mode: gated, threshold: 30}
  waf: {paranoia_level: 2, inbound_anomaly_threshold: 7}
  policies:
  - {name: api, path_prefix: /api/, mode: and, paranoia_level: 3}
customRules:
  custom.conf: null
  a.conf: |
    SecRule ARGS:x "@streq y" "id:1000002,phase:2,deny,log"
  b.conf: |
    SecRule ARGS:x "@streq z" "id:1000003,phase:2,deny,log"
model: {configMap: my-model, file: bulwark.txt}
tls:
  enabled: true
  secretName: bulwark-tls
  clientCA: {enabled: true, secretName: proxies-ca}
resources: {requests: {cpu: "1", memory: 1Gi}, limits: {memory: 2Gi}}
autoscaling: {enabled: false}
replicaCount: 3
serviceMonitor: {enabled: true, labels: {release: kube-prometheus-stack}}
dashboard: {enabled: true}
networkPolicy:
  extraProxyPeers:
  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: istio-system}}
    podSelector: {matchLabels: {istio: ingressgateway}}
`))
	for _, d := range all[*appsv1.Deployment](objs) {
		for _, p := range podSecurityProblems(d.Spec.Template.Spec) {
			t.Errorf("deployment %s/%s: %s", d.Namespace, d.Name, p)
		}
	}
	cfgCM, rules := checkBulwarkWiring(t, objs, bulwarkNamespace, bulwarkName)
	if rules == nil || len(rules.Data) != 2 {
		t.Errorf("rules ConfigMap %v, want a.conf and b.conf", rules)
	}
	var cfg struct {
		ML struct {
			Mode      string `json:"mode"`
			Threshold int    `json:"threshold"`
		} `json:"ml"`
		WAF struct {
			ParanoiaLevel int `json:"paranoia_level"`
			Inbound       int `json:"inbound_anomaly_threshold"`
		} `json:"waf"`
		Policies []map[string]any `json:"policies"`
	}
	if err := yaml.Unmarshal([]byte(cfgCM.Data["config.yaml"]), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.ML.Mode != "gated" || cfg.ML.Threshold != 30 || cfg.WAF.ParanoiaLevel != 2 || cfg.WAF.Inbound != 7 || len(cfg.Policies) != 1 {
		t.Errorf("settings did not reach config.yaml:\n%s", cfgCM.Data["config.yaml"])
	}

	d, c := bulwarkContainer(t, objs)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
		t.Errorf("replicas %v, want 3 with autoscaling off", d.Spec.Replicas)
	}
	if !strings.HasSuffix(c.Image, "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef") {
		t.Errorf("image %q is not pinned by the digest", c.Image)
	}
	if got := c.Resources.Limits.Memory().String(); got != "2Gi" {
		t.Errorf("memory limit %s, want 2Gi", got)
	}

	// Every file setting must name a file inside a mounted volume of the
	// right source.
	env := envOf(c)
	volumes := map[string]corev1.Volume{}
	for _, v := range d.Spec.Template.Spec.Volumes {
		volumes[v.Name] = v
	}
	mountedFrom := func(file string) (corev1.Volume, string) {
		for _, m := range c.VolumeMounts {
			if rel, err := filepath.Rel(m.MountPath, file); err == nil && !strings.HasPrefix(rel, "..") && m.SubPath == "" {
				return volumes[m.Name], rel
			}
		}
		t.Errorf("%s is in no mounted volume", file)
		return corev1.Volume{}, ""
	}
	for _, tc := range []struct{ env, source, key string }{
		{"BULWARK_MODEL_PATH", "configmap:my-model", "bulwark.txt"},
		{"BULWARK_GRPC_TLS_CERT_FILE", "secret:bulwark-tls", "tls.crt"},
		{"BULWARK_GRPC_TLS_KEY_FILE", "secret:bulwark-tls", "tls.key"},
		{"BULWARK_GRPC_TLS_CLIENT_CA_FILE", "secret:proxies-ca", "ca.crt"},
	} {
		file, ok := env[tc.env]
		if !ok {
			t.Errorf("%s not set", tc.env)
			continue
		}
		v, rel := mountedFrom(file)
		var source string
		switch {
		case v.ConfigMap != nil:
			source = "configmap:" + v.ConfigMap.Name
		case v.Secret != nil:
			source = "secret:" + v.Secret.SecretName
		}
		if source != tc.source || rel != tc.key {
			t.Errorf("%s=%s is %s from %q, want %s from %q", tc.env, file, rel, source, tc.key, tc.source)
		}
	}

	np := mustFind[*networkingv1.NetworkPolicy](t, objs, bulwarkNamespace, bulwarkName)
	if !admitted(np, "istio-system", map[string]string{"istio": "ingressgateway"}, map[string]string{"kubernetes.io/metadata.name": "istio-system"}, grpcPort) {
		t.Error("networkPolicy.extraProxyPeers does not admit Istio's ingress gateway")
	}
	if admitted(np, "default", map[string]string{"istio": "ingressgateway"}, map[string]string{"kubernetes.io/metadata.name": "default"}, grpcPort) {
		t.Error("the extra peer admits gateway-labelled pods in any namespace")
	}
	sm := mustFind[*monitoringv1.ServiceMonitor](t, objs, bulwarkNamespace, bulwarkName)
	svc := mustFind[*corev1.Service](t, objs, bulwarkNamespace, bulwarkName)
	if sm.Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("ServiceMonitor labels %v lack the release selector label", sm.Labels)
	}
	if len(sm.Spec.Endpoints) != 1 || !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool {
		return p.Name == sm.Spec.Endpoints[0].Port && p.Port == adminPort
	}) {
		t.Errorf("ServiceMonitor endpoints %v do not name the Service's admin port", sm.Spec.Endpoints)
	}
	dash := mustFind[*corev1.ConfigMap](t, objs, bulwarkNamespace, "bulwark-grafana-dashboard")
	want, err := os.ReadFile("components/monitoring/bulwark-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if dash.Data["bulwark-dashboard.json"] != string(want) || dash.Labels["grafana_dashboard"] != "1" {
		t.Error("the chart's dashboard differs from components/monitoring/bulwark-dashboard.json (copy it into charts/bulwark/dashboards)")
	}
}

// TestChartRollsOnSettingsChange: settings are read at start-up, so the pod
// template must change with them, and must not change with the
// hot-reloaded rules.
func TestChartRollsOnSettingsChange(t *testing.T) {
	t.Parallel()
	checksum := func(v map[string]any) string {
		d, _ := bulwarkContainer(t, mustRender(t, v))
		return d.Spec.Template.Annotations["checksum/config"]
	}
	base := checksum(nil)
	if base == "" {
		t.Fatal("no checksum/config annotation on the pod template")
	}
	if checksum(values(t, "config: {waf: {paranoia_level: 3}}")) == base {
		t.Error("changing a setting leaves the pod template unchanged: the pods would keep the old settings")
	}
	if checksum(values(t, "customRules: {custom.conf: \"SecRule ARGS \\\"@rx a\\\" \\\"id:1000009,phase:2,pass\\\"\\n\"}")) != base {
		t.Error("changing a rule file rolls the pods: rules are meant to hot-reload")
	}
}

// TestChartRefuses: settings that cannot work fail at render time, and the
// server's loader check is not vacuous.
func TestChartRefuses(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"model from two sources": "model: {configMap: a, volume: {secret: {secretName: b}}}",
		"tls without a secret":   "tls: {enabled: true}",
		"client CA without tls":  "tls: {clientCA: {enabled: true, secretName: ca}}",
		"rule file not .conf":    "customRules: {rules.txt: x}",
		"misspelt value":         "serviceMonitr: {enabled: true}",
		"bad pull policy":        "image: {pullPolicy: Sometimes}",
		"model file with a path": "model: {configMap: m, file: ../etc/passwd}",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := renderChart(t, values(t, doc)); err == nil {
				t.Errorf("rendered %s", doc)
			}
		})
	}
	for name, doc := range map[string]string{
		"unknown key":   "config: {waf: {paranoia_levle: 2}}",
		"bad paranoia":  "config: {waf: {paranoia_level: 7}}",
		"bad ml mode":   "config: {ml: {mode: sometimes}}",
		"policy no key": "config: {policies: [{name: x, mode: and}]}",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			objs := mustRender(t, values(t, doc))
			d, c := bulwarkContainer(t, objs)
			if err := serverRefusal(objs, d, c); err == nil {
				t.Errorf("the server's loader accepted %s", doc)
			}
		})
	}
}

// TestChartDocumentsEveryValue keeps the README's values table honest.
func TestChartDocumentsEveryValue(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join(chartDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	v := map[string]any{}
	if err := yaml.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	for k := range v {
		if !bytes.Contains(readme, []byte("`"+k)) {
			t.Errorf("values.yaml key %q is not in charts/bulwark/README.md", k)
		}
	}
}

// TestChartWithoutRules: with no custom rules nothing is mounted and
// waf.rules_files stays unset (the server refuses a glob matching nothing).
func TestChartWithoutRules(t *testing.T) {
	t.Parallel()
	objs := mustRender(t, values(t, "customRules: null"))
	cfg, rules := checkBulwarkWiring(t, objs, bulwarkNamespace, bulwarkName)
	if rules != nil || strings.Contains(cfg.Data["config.yaml"], "rules_files") {
		t.Errorf("rules still wired:\n%s", cfg.Data["config.yaml"])
	}
}
