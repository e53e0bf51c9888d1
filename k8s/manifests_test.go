package k8s

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"google.golang.org/protobuf/encoding/protojson"
	istionet "istio.io/api/networking/v1alpha3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwapiv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/envoy"
)

// The server's contract, as the manifests must express it.
const (
	bulwarkNamespace = "bulwark"
	bulwarkName      = "bulwark"
	grpcPort         = 50051
	adminPort        = 9090
	configPath       = "/etc/bulwark/config.yaml"
	rulesDir         = "/etc/bulwark/rules"
)

// overlays lists every kustomization a user may apply. TestEveryOverlayIsListed
// keeps it honest when a directory is added.
var overlays = []string{
	"base",
	"overlays/envoy",
	"overlays/istio",
	"overlays/istio-sidecars",
	"overlays/envoy-gateway",
	"overlays/monitoring",
}

// object is one rendered manifest, decoded into its typed form.
type object struct {
	gvk, namespace, name string
	raw                  []byte
	typed                any
}

func (o object) String() string { return fmt.Sprintf("%s %s/%s", o.gvk, o.namespace, o.name) }

// build renders a kustomization and strictly decodes every object. Builds are
// cached because several tests inspect the same overlay.
var (
	buildMu    sync.Mutex
	buildCache = map[string][]object{}
)

func build(t *testing.T, dir string) []object {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if objs, ok := buildCache[dir]; ok {
		return objs
	}
	objs := buildFS(t, filesys.MakeFsOnDisk(), dir)
	buildCache[dir] = objs
	return objs
}

// buildFS renders the kustomization at dir in fsys and strictly decodes
// every object.
func buildFS(t *testing.T, fsys filesys.FileSystem, dir string) []object {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(fsys, dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var objs []object
	for _, r := range rm.Resources() {
		raw, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		g := r.GetGvk()
		o := object{gvk: g.Group + "/" + g.Version + "/" + g.Kind, namespace: r.GetNamespace(), name: r.GetName(), raw: raw}
		o.typed, err = decodeStrict(o.gvk, raw)
		if err != nil {
			t.Fatalf("%s: %s: %v", dir, o, err)
		}
		objs = append(objs, o)
	}
	return objs
}

// decoders maps group/version/kind to the Go type an object must decode
// into. Istio and the Prometheus Operator publish their API types as small
// Go modules and are decoded with them; Envoy Gateway's API lives inside its
// whole controller module, so it gets a mirror (envoyExtensionPolicy below).
var decoders = map[string]func() any{
	"/v1/Namespace":                 func() any { return &corev1.Namespace{} },
	"/v1/ServiceAccount":            func() any { return &corev1.ServiceAccount{} },
	"/v1/Service":                   func() any { return &corev1.Service{} },
	"/v1/ConfigMap":                 func() any { return &corev1.ConfigMap{} },
	"apps/v1/Deployment":            func() any { return &appsv1.Deployment{} },
	"policy/v1/PodDisruptionBudget": func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any {
		return &autoscalingv2.HorizontalPodAutoscaler{}
	},
	"networking.k8s.io/v1/NetworkPolicy":               func() any { return &networkingv1.NetworkPolicy{} },
	"monitoring.coreos.com/v1/ServiceMonitor":          func() any { return &monitoringv1.ServiceMonitor{} },
	"gateway.networking.k8s.io/v1beta1/ReferenceGrant": func() any { return &gwapiv1beta1.ReferenceGrant{} },
	"networking.istio.io/v1alpha3/EnvoyFilter":         func() any { return &istioEnvoyFilter{} },
	"gateway.envoyproxy.io/v1alpha1/EnvoyExtensionPolicy": func() any {
		return &envoyExtensionPolicy{}
	},
	"cert-manager.io/v1/Certificate": func() any { return &certificate{} },
}

// certificate mirrors cert-manager.io/v1 Certificate for the fields the
// grpc-tls component uses; cert-manager's API lives in its whole controller
// module, so strict decoding goes against this mirror, as for Envoy
// Gateway's policy below.
type certificate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		SecretName  string   `json:"secretName"`
		DNSNames    []string `json:"dnsNames,omitempty"`
		Usages      []string `json:"usages,omitempty"`
		Duration    string   `json:"duration,omitempty"`
		RenewBefore string   `json:"renewBefore,omitempty"`
		PrivateKey  *struct {
			Algorithm      string `json:"algorithm,omitempty"`
			Size           int    `json:"size,omitempty"`
			RotationPolicy string `json:"rotationPolicy,omitempty"`
		} `json:"privateKey,omitempty"`
		IssuerRef struct {
			Name  string `json:"name"`
			Kind  string `json:"kind,omitempty"`
			Group string `json:"group,omitempty"`
		} `json:"issuerRef"`
	} `json:"spec"`
}

// afterDecoder lets a wrapper type finish decoding parts that are not plain
// JSON structs (Istio's spec is a protobuf message).
type afterDecoder interface{ afterDecode() error }

func decodeStrict(gvk string, raw []byte) (any, error) {
	newObj, ok := decoders[gvk]
	if !ok {
		return nil, fmt.Errorf("no strict decoder for %s: add one to decoders", gvk)
	}
	obj := newObj()
	// The API server matches field names case-sensitively and, with strict
	// field validation, rejects unknown and duplicate ones. encoding/json
	// (and so sigs.k8s.io/yaml) would accept "failopen" for "failOpen", so
	// decode with the API machinery's own JSON package instead.
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, err
	}
	strict, err := sigsjson.UnmarshalStrict(js, obj, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		return nil, err
	}
	if len(strict) > 0 {
		return nil, errors.Join(strict...)
	}
	if a, ok := obj.(afterDecoder); ok {
		if err := a.afterDecode(); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

// istioEnvoyFilter carries the Kubernetes envelope of an EnvoyFilter; the
// spec is Istio's own protobuf type, decoded with protojson so unknown
// fields and bad enum names are errors.
type istioEnvoyFilter struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              json.RawMessage       `json:"spec"`
	spec              *istionet.EnvoyFilter `json:"-"`
}

func (f *istioEnvoyFilter) afterDecode() error {
	f.spec = &istionet.EnvoyFilter{}
	return protojson.UnmarshalOptions{}.Unmarshal(f.Spec, f.spec)
}

// envoyExtensionPolicy mirrors gateway.envoyproxy.io/v1alpha1
// EnvoyExtensionPolicy (Envoy Gateway v1.9 api/v1alpha1) for the fields this
// repository uses: targetRef(s) and extProc with backendRefs, failOpen,
// messageTimeout, processingMode and metadata. Strict decoding against it
// rejects misspellings; it also rejects real upstream fields we do not use
// (wasm, lua, backendSettings, ...), which is deliberate: add them here
// together with the manifest that needs them. The Gateway API reference types
// are the real ones from sigs.k8s.io/gateway-api.
type envoyExtensionPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		TargetRef  *gwapiv1.LocalPolicyTargetReferenceWithSectionName  `json:"targetRef,omitempty"`
		TargetRefs []gwapiv1.LocalPolicyTargetReferenceWithSectionName `json:"targetRefs,omitempty"`
		ExtProc    []egExtProc                                         `json:"extProc,omitempty"`
	} `json:"spec"`
}

type egExtProc struct {
	BackendRefs    []gwapiv1.BackendObjectReference `json:"backendRefs"`
	MessageTimeout *gwapiv1.Duration                `json:"messageTimeout,omitempty"`
	FailOpen       *bool                            `json:"failOpen,omitempty"`
	ProcessingMode *struct {
		Request           *egProcessingOptions `json:"request,omitempty"`
		Response          *egProcessingOptions `json:"response,omitempty"`
		AllowModeOverride bool                 `json:"allowModeOverride,omitempty"`
	} `json:"processingMode,omitempty"`
	Metadata *struct {
		AccessibleNamespaces []string `json:"accessibleNamespaces,omitempty"`
		WritableNamespaces   []string `json:"writableNamespaces,omitempty"`
	} `json:"metadata,omitempty"`
}

type egProcessingOptions struct {
	// Upstream enum: Streamed, Buffered, BufferedPartial, FullDuplexStreamed.
	Body       *string  `json:"body,omitempty"`
	Attributes []string `json:"attributes,omitempty"`
}

// --- lookups over a rendered overlay -------------------------------------

func find[T any](objs []object, namespace, name string) (T, bool) {
	for _, o := range objs {
		if v, ok := o.typed.(T); ok && o.namespace == namespace && o.name == name {
			return v, true
		}
	}
	var zero T
	return zero, false
}

func all[T any](objs []object) []T {
	var out []T
	for _, o := range objs {
		if v, ok := o.typed.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

func mustFind[T any](t *testing.T, objs []object, namespace, name string) T {
	t.Helper()
	v, ok := find[T](objs, namespace, name)
	if !ok {
		var zero T
		t.Fatalf("no %T %s/%s in the build", zero, namespace, name)
	}
	return v
}

func containerPort(c corev1.Container, name string) (int32, bool) {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort, true
		}
	}
	return 0, false
}

// resolveTargetPort returns the container port a Service port lands on in
// the Deployment its selector picks, or an error if nothing matches.
func resolveTargetPort(objs []object, svc *corev1.Service, sp corev1.ServicePort) (int32, error) {
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	for _, d := range all[*appsv1.Deployment](objs) {
		if d.Namespace != svc.Namespace || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			continue
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			if sp.TargetPort.Type == intstr.String {
				if p, ok := containerPort(c, sp.TargetPort.StrVal); ok {
					return p, nil
				}
				continue
			}
			want := sp.TargetPort.IntVal
			if want == 0 {
				want = sp.Port
			}
			for _, p := range c.Ports {
				if p.ContainerPort == want {
					return want, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("service %s/%s port %q (targetPort %s) reaches no container port", svc.Namespace, svc.Name, sp.Name, sp.TargetPort.String())
}

func servicePort(t *testing.T, svc *corev1.Service, name string) corev1.ServicePort {
	t.Helper()
	for _, p := range svc.Spec.Ports {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("service %s/%s has no port %q", svc.Namespace, svc.Name, name)
	return corev1.ServicePort{}
}

// admitted reports whether a NetworkPolicy ingress rule lets pods with the
// given labels, in a namespace with the given labels, reach port.
func admitted(np *networkingv1.NetworkPolicy, podNS string, podLabels, nsLabels map[string]string, port int32) bool {
	for _, rule := range np.Spec.Ingress {
		portOK := len(rule.Ports) == 0
		for _, p := range rule.Ports {
			if p.Port != nil && p.Port.IntVal == port {
				portOK = true
			}
		}
		if !portOK {
			continue
		}
		if len(rule.From) == 0 {
			return true
		}
		for _, peer := range rule.From {
			if peer.IPBlock != nil {
				continue
			}
			nsOK := podNS == np.Namespace
			if peer.NamespaceSelector != nil {
				s, err := metav1.LabelSelectorAsSelector(peer.NamespaceSelector)
				nsOK = err == nil && s.Matches(labels.Set(nsLabels))
			}
			podOK := true
			if peer.PodSelector != nil {
				s, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
				podOK = err == nil && s.Matches(labels.Set(podLabels))
			}
			if nsOK && podOK {
				return true
			}
		}
	}
	return false
}

// --- tests ---------------------------------------------------------------

func TestEveryOverlayIsListed(t *testing.T) {
	t.Parallel()
	var found []string
	for _, pattern := range []string{"base/kustomization.yaml", "overlays/*/kustomization.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			found = append(found, filepath.ToSlash(filepath.Dir(f)))
		}
	}
	slices.Sort(found)
	want := slices.Clone(overlays)
	slices.Sort(want)
	if !slices.Equal(found, want) {
		t.Fatalf("kustomizations on disk %v, tested %v: update overlays", found, want)
	}
}

// TestOverlaysBuildAndDecodeStrictly is the schema gate: build fails on a
// broken kustomization, decode fails on an unknown field or kind.
func TestOverlaysBuildAndDecodeStrictly(t *testing.T) {
	t.Parallel()
	for _, dir := range overlays {
		t.Run(dir, func(t *testing.T) {
			objs := build(t, dir)
			if len(objs) == 0 {
				t.Fatal("overlay renders nothing")
			}
			// Every overlay ships Bulwark itself.
			mustFind[*appsv1.Deployment](t, objs, bulwarkNamespace, bulwarkName)
		})
	}
}

func TestPodSecurityIsRestricted(t *testing.T) {
	t.Parallel()
	for _, dir := range overlays {
		t.Run(dir, func(t *testing.T) {
			for _, d := range all[*appsv1.Deployment](build(t, dir)) {
				for _, p := range podSecurityProblems(d.Spec.Template.Spec) {
					t.Errorf("deployment %s/%s: %s", d.Namespace, d.Name, p)
				}
			}
		})
	}
}

// podSecurityProblems checks the Kubernetes "restricted" pod security
// profile plus our own rules (read-only root, memory limit). Pod-level
// settings count for every container, as they do in the kubelet.
func podSecurityProblems(spec corev1.PodSpec) []string {
	var out []string
	bad := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		bad("uses host namespaces")
	}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			bad("volume %q is a hostPath", v.Name)
		}
	}
	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		sc := c.SecurityContext
		if sc == nil {
			bad("container %q has no securityContext", c.Name)
			continue
		}
		nonRoot := sc.RunAsNonRoot != nil && *sc.RunAsNonRoot ||
			sc.RunAsNonRoot == nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot
		if !nonRoot {
			bad("container %q: runAsNonRoot is not true", c.Name)
		}
		if uid := sc.RunAsUser; uid != nil && *uid == 0 || uid == nil && psc.RunAsUser != nil && *psc.RunAsUser == 0 {
			bad("container %q runs as uid 0", c.Name)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			bad("container %q: readOnlyRootFilesystem is not true", c.Name)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			bad("container %q: allowPrivilegeEscalation is not false", c.Name)
		}
		if sc.Privileged != nil && *sc.Privileged {
			bad("container %q is privileged", c.Name)
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			bad("container %q does not drop ALL capabilities", c.Name)
		} else if len(sc.Capabilities.Add) > 0 {
			bad("container %q adds capabilities %v", c.Name, sc.Capabilities.Add)
		}
		seccomp := sc.SeccompProfile
		if seccomp == nil {
			seccomp = psc.SeccompProfile
		}
		if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
			bad("container %q: seccomp profile is not RuntimeDefault", c.Name)
		}
		if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
			bad("container %q has no memory limit", c.Name)
		}
		if _, ok := c.Resources.Requests[corev1.ResourceCPU]; !ok {
			bad("container %q has no CPU request", c.Name)
		}
		if c.ReadinessProbe == nil {
			bad("container %q has no readiness probe", c.Name)
		}
		if c.LivenessProbe == nil {
			bad("container %q has no liveness probe", c.Name)
		}
	}
	return out
}

// TestPodSecurityCheckBites shows podSecurityProblems is not vacuous: each
// case loosens the real Bulwark Deployment in one way.
func TestPodSecurityCheckBites(t *testing.T) {
	t.Parallel()
	base := mustFind[*appsv1.Deployment](t, build(t, "base"), bulwarkNamespace, bulwarkName)
	if p := podSecurityProblems(base.Spec.Template.Spec); len(p) > 0 {
		t.Fatalf("base deployment already fails: %v", p)
	}
	yes, no := true, false
	tests := []struct {
		name string
		edit func(*corev1.PodSpec)
		want string
	}{
		{"root allowed", func(s *corev1.PodSpec) {
			s.SecurityContext.RunAsNonRoot = nil
			s.Containers[0].SecurityContext.RunAsNonRoot = &no
		}, "runAsNonRoot"},
		{"writable root", func(s *corev1.PodSpec) { s.Containers[0].SecurityContext.ReadOnlyRootFilesystem = &no }, "readOnlyRootFilesystem"},
		{"escalation", func(s *corev1.PodSpec) { s.Containers[0].SecurityContext.AllowPrivilegeEscalation = &yes }, "allowPrivilegeEscalation"},
		{"escalation unset", func(s *corev1.PodSpec) { s.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil }, "allowPrivilegeEscalation"},
		{"capabilities kept", func(s *corev1.PodSpec) {
			s.Containers[0].SecurityContext.Capabilities.Drop = []corev1.Capability{"NET_RAW"}
		}, "drop ALL"},
		{"capability added", func(s *corev1.PodSpec) {
			s.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
		}, "adds capabilities"},
		{"seccomp unconfined", func(s *corev1.PodSpec) {
			s.SecurityContext.SeccompProfile = nil
			s.Containers[0].SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
		}, "RuntimeDefault"},
		{"no liveness probe", func(s *corev1.PodSpec) { s.Containers[0].LivenessProbe = nil }, "liveness probe"},
		{"host path", func(s *corev1.PodSpec) {
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}})
		}, "hostPath"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := base.DeepCopy()
			tc.edit(&d.Spec.Template.Spec)
			got := strings.Join(podSecurityProblems(d.Spec.Template.Spec), "; ")
			if !strings.Contains(got, tc.want) {
				t.Fatalf("problems %q do not mention %q", got, tc.want)
			}
		})
	}
}

// TestStrictDecodingRejectsUnknownFields proves every decoder, including the
// Istio protobuf path and the Envoy Gateway mirror, refuses a misspelling.
func TestStrictDecodingRejectsUnknownFields(t *testing.T) {
	t.Parallel()
	tests := []struct{ gvk, doc string }{
		{"apps/v1/Deployment", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      securityContex: {}\n"},
		{"/v1/Service", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 1, appProtocl: grpc}]}\n"},
		{"networking.istio.io/v1alpha3/EnvoyFilter", "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: x}\nspec: {configPatches: [{applyTo: HTTP_FILTER, patch: {operaton: INSERT_BEFORE}}]}\n"},
		{"networking.istio.io/v1alpha3/EnvoyFilter", "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: x}\nspec: {configPatches: [{applyTo: HTTP_FILTR}]}\n"},
		{"gateway.envoyproxy.io/v1alpha1/EnvoyExtensionPolicy", "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyExtensionPolicy\nmetadata: {name: x}\nspec: {extProc: [{backendRefs: [{name: b, port: 1}], failopen: false}]}\n"},
		{"gateway.envoyproxy.io/v1alpha1/EnvoyExtensionPolicy", "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyExtensionPolicy\nmetadata: {name: x}\nspec: {extProc: [{backendRefs: [{name: b, prot: 1}]}]}\n"},
		{"monitoring.coreos.com/v1/ServiceMonitor", "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\nspec: {endpoints: [{prot: admin}]}\n"},
		{"gateway.networking.k8s.io/v1beta1/ReferenceGrant", "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: x}\nspec: {form: []}\n"},
		{"example.com/v1/Unknown", "apiVersion: example.com/v1\nkind: Unknown\nmetadata: {name: x}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.gvk, func(t *testing.T) {
			t.Parallel()
			if _, err := decodeStrict(tc.gvk, []byte(tc.doc)); err == nil {
				t.Fatalf("accepted:\n%s", tc.doc)
			}
		})
	}
}

// TestBulwarkWiring checks the Deployment, Service, ConfigMaps and
// availability objects agree with each other and with the server contract,
// plus what only kustomize does: the content-hashed settings ConfigMap.
func TestBulwarkWiring(t *testing.T) {
	t.Parallel()
	objs := build(t, "base")
	cfgCM, rulesCM := checkBulwarkWiring(t, objs, bulwarkNamespace, bulwarkName)
	checkAvailability(t, objs, bulwarkNamespace, bulwarkName)
	if !strings.HasPrefix(cfgCM.Name, "bulwark-config-") {
		t.Errorf("settings ConfigMap %q carries no content hash: a settings change would not roll the pods", cfgCM.Name)
	}
	if rulesCM == nil || rulesCM.Name != "bulwark-rules" {
		t.Errorf("rules ConfigMap is %v, want the stable name bulwark-rules (a hashed name forces a restart)", rulesCM)
	}
}

// checkBulwarkWiring is what every rendering of Bulwark must satisfy, the
// kustomize base and overlays as much as the Helm chart: one container
// listening on the contract ports it declares, HTTP probes on the admin
// port, a gRPC Service landing on it, a settings file the server's own
// loader accepts, hot-reloadable rules, and availability and fencing
// objects that select the pods. It returns the settings ConfigMap and the
// rules ConfigMap (nil when no rules are mounted).
func checkBulwarkWiring(t *testing.T, objs []object, namespace, name string) (cfgCM, rulesCM *corev1.ConfigMap) {
	t.Helper()
	d := mustFind[*appsv1.Deployment](t, objs, namespace, name)
	svc := mustFind[*corev1.Service](t, objs, namespace, name)
	pod := d.Spec.Template
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]

	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	for _, tc := range []struct {
		port, env string
		want      int32
	}{
		{"grpc", "BULWARK_GRPC_ADDR", grpcPort},
		{"admin", "BULWARK_ADMIN_ADDR", adminPort},
	} {
		p, ok := containerPort(c, tc.port)
		if !ok || p != tc.want {
			t.Errorf("container port %q = %d, want %d", tc.port, p, tc.want)
		}
		if got, want := env[tc.env], fmt.Sprintf(":%d", tc.want); got != want {
			t.Errorf("%s = %q, want %q (the port the server listens on must be the declared one)", tc.env, got, want)
		}
	}
	if env["BULWARK_CONFIG"] != configPath {
		t.Errorf("BULWARK_CONFIG = %q, want %q", env["BULWARK_CONFIG"], configPath)
	}

	for name, probe := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil {
			t.Errorf("%s probe is not an HTTP probe", name)
			continue
		}
		if pt := probe.HTTPGet.Port; !(pt.StrVal == "admin" || pt.IntVal == adminPort) {
			t.Errorf("%s probe targets port %s, want the admin port", name, pt.String())
		}
		want := "/healthz"
		if name == "readiness" {
			want = "/readyz"
		}
		if probe.HTTPGet.Path != want {
			t.Errorf("%s probe path %q, want %q", name, probe.HTTPGet.Path, want)
		}
	}

	// Service: gRPC on the contract port, declared as gRPC, landing on the
	// container's grpc port; selector picks exactly this pod template.
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) {
		t.Errorf("service selector %v does not match pod labels %v", svc.Spec.Selector, pod.Labels)
	}
	sp := servicePort(t, svc, "grpc")
	if sp.Port != grpcPort || sp.AppProtocol == nil || *sp.AppProtocol != "grpc" {
		t.Errorf("service grpc port = %d appProtocol %v, want %d grpc", sp.Port, sp.AppProtocol, grpcPort)
	}
	if p, err := resolveTargetPort(objs, svc, sp); err != nil || p != grpcPort {
		t.Errorf("service grpc targetPort resolves to %d (%v), want %d", p, err, grpcPort)
	}
	for _, sp := range svc.Spec.Ports {
		if _, err := resolveTargetPort(objs, svc, sp); err != nil {
			t.Error(err)
		}
	}

	// Volumes: settings file and the hot-reloaded rules directory.
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	cmFor := func(mountPath string) *corev1.ConfigMap {
		m, ok := mounts[mountPath]
		if !ok {
			t.Fatalf("nothing mounted at %s", mountPath)
		}
		v := volumes[m.Name]
		if v.ConfigMap == nil {
			t.Fatalf("%s is not a ConfigMap volume", mountPath)
		}
		return mustFind[*corev1.ConfigMap](t, objs, namespace, v.ConfigMap.Name)
	}
	cfgCM = cmFor(configPath)
	if mounts[configPath].SubPath != path.Base(configPath) {
		t.Errorf("config mount subPath %q, want %q", mounts[configPath].SubPath, path.Base(configPath))
	}
	if _, ok := mounts[rulesDir]; ok {
		rulesCM = cmFor(rulesDir)
		if mounts[rulesDir].SubPath != "" {
			t.Error("rules are mounted with subPath: the kubelet never updates subPath mounts, so hot reload would not work")
		}
	}
	if _, ok := mounts["/tmp"]; !ok {
		t.Error("no writable /tmp: Coraza spills large bodies there")
	}
	var cfg struct {
		FailMode string `json:"fail_mode"`
		WAF      struct {
			RulesFiles []string `json:"rules_files"`
		} `json:"waf"`
		Metadata struct {
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal([]byte(cfgCM.Data["config.yaml"]), &cfg); err != nil {
		t.Fatalf("config.yaml: %v", err)
	}
	if cfg.Metadata.Namespace != envoy.MetadataNamespace {
		t.Errorf("metadata.namespace %q, but the proxies receive %q", cfg.Metadata.Namespace, envoy.MetadataNamespace)
	}
	if cfg.FailMode != "closed" {
		t.Errorf("fail_mode %q, but the proxies fail closed", cfg.FailMode)
	}
	if rulesCM == nil {
		if len(cfg.WAF.RulesFiles) > 0 {
			t.Errorf("waf.rules_files %v, but nothing is mounted at %s", cfg.WAF.RulesFiles, rulesDir)
		}
	} else {
		var globbed []string
		for f := range rulesCM.Data {
			for _, g := range cfg.WAF.RulesFiles {
				if ok, _ := path.Match(g, path.Join(rulesDir, f)); ok {
					globbed = append(globbed, f)
				}
			}
		}
		if len(globbed) != len(rulesCM.Data) || len(globbed) == 0 {
			t.Errorf("waf.rules_files %v loads %v of the rules ConfigMap's files %v", cfg.WAF.RulesFiles, globbed, keys(rulesCM.Data))
		}
	}
	if err := serverRefusal(objs, d, c); err != nil {
		t.Errorf("the server refuses the rendered settings: %v", err)
	}

	return cfgCM, rulesCM
}

// checkAvailability checks the PodDisruptionBudget, the autoscaler and the
// NetworkPolicy select the Bulwark pods, and the policy admits proxies only.
func checkAvailability(t *testing.T, objs []object, namespace, name string) {
	t.Helper()
	d := mustFind[*appsv1.Deployment](t, objs, namespace, name)
	podLabels := labels.Set(d.Spec.Template.Labels)
	pdb := mustFind[*policyv1.PodDisruptionBudget](t, objs, namespace, name)
	if s, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err != nil || !s.Matches(podLabels) {
		t.Error("PodDisruptionBudget does not select the Bulwark pods")
	}
	hpa := mustFind[*autoscalingv2.HorizontalPodAutoscaler](t, objs, namespace, name)
	if r := hpa.Spec.ScaleTargetRef; r.Kind != "Deployment" || r.Name != d.Name {
		t.Errorf("HPA scales %s/%s, want Deployment/%s", r.Kind, r.Name, d.Name)
	}
	if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 {
		t.Error("HPA minReplicas < 2: with fail-closed proxies one pod is an outage waiting to happen")
	}
	np := mustFind[*networkingv1.NetworkPolicy](t, objs, namespace, name)
	if s, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector); err != nil || !s.Matches(podLabels) {
		t.Error("NetworkPolicy does not select the Bulwark pods")
	}
	if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
		t.Error("NetworkPolicy does not restrict ingress")
	}
	if admitted(np, "default", map[string]string{"app": "random"}, map[string]string{"kubernetes.io/metadata.name": "default"}, grpcPort) {
		t.Error("NetworkPolicy lets an arbitrary pod reach the gRPC port")
	}
	if !admitted(np, "anywhere", map[string]string{"bulwark.io/proxy": "true"}, map[string]string{"kubernetes.io/metadata.name": "anywhere"}, grpcPort) {
		t.Error("NetworkPolicy does not admit pods labelled bulwark.io/proxy=true")
	}
}

// serverRefusal loads the rendered settings with the server's own loader
// (config.Load: strict YAML, then the container's BULWARK_* environment,
// then validation), so a key the server does not know, a bad value or an
// env var that contradicts the file fails here and not in a crash-looping
// pod. The ConfigMaps the container mounts are written under a temporary
// root and /etc/bulwark paths are moved there, so file settings point at
// real files; settings that name files from volumes outside the render
// (Secrets, a model ConfigMap the user creates) are left out.
func serverRefusal(objs []object, d *appsv1.Deployment, c corev1.Container) error {
	root, err := os.MkdirTemp("", "bulwark-k8s-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	moved := func(s string) string {
		return strings.ReplaceAll(s, "/etc/bulwark", filepath.Join(root, "etc", "bulwark"))
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range d.Spec.Template.Spec.Volumes {
		volumes[v.Name] = v
	}
	// external are mount paths whose content is not in the render (a
	// Secret, a ConfigMap or volume the user brings); settings pointing
	// there are the user's files and are left out of the check.
	var external []string
	for _, m := range c.VolumeMounts {
		v := volumes[m.Name]
		var cm *corev1.ConfigMap
		if v.ConfigMap != nil {
			cm, _ = find[*corev1.ConfigMap](objs, d.Namespace, v.ConfigMap.Name)
		}
		if cm == nil {
			external = append(external, m.MountPath)
			continue
		}
		dst := moved(m.MountPath)
		files := map[string]string{}
		for k, b := range cm.BinaryData {
			files[k] = string(b)
		}
		for k, body := range cm.Data {
			files[k] = body
		}
		for k, body := range files {
			if m.SubPath != "" && m.SubPath != k {
				continue
			}
			file := filepath.Join(dst, k)
			if m.SubPath != "" {
				file = dst
			}
			if k == "config.yaml" {
				body = moved(body)
			}
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
				return err
			}
		}
	}
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil || slices.ContainsFunc(external, func(dir string) bool { return strings.HasPrefix(e.Value, dir+"/") }) {
			continue
		}
		env[e.Name] = moved(e.Value)
	}
	_, err = config.Load(config.Source{Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}, io.Discard)
	return err
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestEnvoyOverlay decodes the Envoy config shipped in the overlay's
// ConfigMap and checks it against the Services and Deployments it names.
func TestEnvoyOverlay(t *testing.T) {
	t.Parallel()
	objs := build(t, "overlays/envoy")
	dep := mustFind[*appsv1.Deployment](t, objs, "bulwark-demo", "envoy")

	var cm *corev1.ConfigMap
	for _, v := range dep.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil {
			cm = mustFind[*corev1.ConfigMap](t, objs, dep.Namespace, v.ConfigMap.Name)
		}
	}
	if cm == nil {
		t.Fatal("envoy deployment mounts no ConfigMap")
	}
	b, err := envoy.DecodeBootstrap([]byte(cm.Data["envoy.yaml"]))
	if err != nil {
		t.Fatal(err)
	}
	if err := envoy.ValidateDeep(b); err != nil {
		t.Fatal(err)
	}
	if err := envoy.CheckBootstrap(b); err != nil {
		t.Fatal(err)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	if !slices.Contains(c.Args, "/etc/envoy/envoy.yaml") || c.VolumeMounts[0].MountPath != "/etc/envoy" {
		t.Errorf("envoy does not load the mounted config (args %v)", c.Args)
	}

	// Every upstream cluster must name a Service in the build, on a port
	// that Service exposes and that reaches a container.
	for _, cl := range b.GetStaticResources().GetClusters() {
		host, port, err := envoy.ClusterPort(b, cl.GetName())
		if err != nil {
			t.Fatal(err)
		}
		name, ns, ok := strings.Cut(strings.TrimSuffix(host, ".svc.cluster.local"), ".")
		if !ok {
			t.Errorf("cluster %s address %q is not a <svc>.<ns>.svc.cluster.local name", cl.GetName(), host)
			continue
		}
		svc := mustFind[*corev1.Service](t, objs, ns, name)
		matched := false
		for _, sp := range svc.Spec.Ports {
			if sp.Port == int32(port) {
				matched = true
				if _, err := resolveTargetPort(objs, svc, sp); err != nil {
					t.Error(err)
				}
			}
		}
		if !matched {
			t.Errorf("cluster %s dials %s:%d, but service %s/%s has no port %d", cl.GetName(), host, port, ns, name, port)
		}
		if cl.GetName() == "bulwark" {
			if port != grpcPort {
				t.Errorf("bulwark cluster port %d, want %d", port, grpcPort)
			}
			if svc.Spec.ClusterIP != corev1.ClusterIPNone {
				t.Errorf("bulwark cluster uses service %s, which is not headless: streams would pin to one pod per connection", name)
			}
		}
	}

	// Listener ports match the container ports and probes.
	listenerPorts := map[uint32]bool{}
	for _, l := range b.GetStaticResources().GetListeners() {
		listenerPorts[l.GetAddress().GetSocketAddress().GetPortValue()] = true
	}
	for _, p := range c.Ports {
		if !listenerPorts[uint32(p.ContainerPort)] {
			t.Errorf("container port %s/%d has no Envoy listener", p.Name, p.ContainerPort)
		}
	}
	esvc := mustFind[*corev1.Service](t, objs, "bulwark-demo", "envoy")
	for _, sp := range esvc.Spec.Ports {
		if _, err := resolveTargetPort(objs, esvc, sp); err != nil {
			t.Error(err)
		}
	}

	np := mustFind[*networkingv1.NetworkPolicy](t, objs, bulwarkNamespace, bulwarkName)
	ns := mustFind[*corev1.Namespace](t, objs, "", dep.Namespace)
	nsLabels := map[string]string{"kubernetes.io/metadata.name": ns.Name}
	for k, v := range ns.Labels {
		nsLabels[k] = v
	}
	if !admitted(np, dep.Namespace, dep.Spec.Template.Labels, nsLabels, grpcPort) {
		t.Error("Bulwark's NetworkPolicy does not admit the Envoy pods")
	}
}

// TestIstioOverlays checks the EnvoyFilters: the inserted filter passes the
// same ext_proc checks as envoy.yaml, and its cluster is the one Istio
// generates for our Service's gRPC port.
func TestIstioOverlays(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dir      string
		contexts []istionet.EnvoyFilter_PatchContext
	}{
		{"overlays/istio", []istionet.EnvoyFilter_PatchContext{istionet.EnvoyFilter_GATEWAY}},
		{"overlays/istio-sidecars", []istionet.EnvoyFilter_PatchContext{istionet.EnvoyFilter_GATEWAY, istionet.EnvoyFilter_SIDECAR_INBOUND}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			objs := build(t, tc.dir)
			svc := mustFind[*corev1.Service](t, objs, bulwarkNamespace, bulwarkName)
			sp := servicePort(t, svc, "grpc")
			wantCluster := fmt.Sprintf("outbound|%d||%s.%s.svc.cluster.local", sp.Port, svc.Name, svc.Namespace)

			var seen []istionet.EnvoyFilter_PatchContext
			for _, f := range all[*istioEnvoyFilter](objs) {
				if f.spec.GetWorkloadSelector() == nil || len(f.spec.GetWorkloadSelector().GetLabels()) == 0 {
					t.Errorf("EnvoyFilter %s has no workloadSelector: it would hit every proxy in %s, Bulwark's callers included", f.Name, f.Namespace)
				}
				for i, cp := range f.spec.GetConfigPatches() {
					where := fmt.Sprintf("EnvoyFilter %s patch %d", f.Name, i)
					seen = append(seen, cp.GetMatch().GetContext())
					if cp.GetApplyTo() != istionet.EnvoyFilter_HTTP_FILTER || cp.GetPatch().GetOperation() != istionet.EnvoyFilter_Patch_INSERT_BEFORE {
						t.Errorf("%s: want HTTP_FILTER INSERT_BEFORE, got %s %s", where, cp.GetApplyTo(), cp.GetPatch().GetOperation())
					}
					if sub := cp.GetMatch().GetListener().GetFilterChain().GetFilter().GetSubFilter().GetName(); sub != envoy.RouterFilterName {
						t.Errorf("%s: inserted before %q, want before the router", where, sub)
					}
					js, err := protojson.Marshal(cp.GetPatch().GetValue())
					if err != nil {
						t.Fatal(err)
					}
					hf := &hcmv3.HttpFilter{}
					if err := envoy.DecodeInto(js, hf); err != nil {
						t.Fatalf("%s: %v", where, err)
					}
					if err := envoy.ValidateDeep(hf); err != nil {
						t.Fatalf("%s: %v", where, err)
					}
					if hf.GetName() != envoy.ExtProcFilterName {
						t.Errorf("%s: filter name %q, want %q", where, hf.GetName(), envoy.ExtProcFilterName)
					}
					ep := &extprocv3.ExternalProcessor{}
					if err := hf.GetTypedConfig().UnmarshalTo(ep); err != nil {
						t.Fatalf("%s: %v", where, err)
					}
					if err := envoy.CheckExtProc(ep); err != nil {
						t.Errorf("%s: %v", where, err)
					}
					if got := ep.GetGrpcService().GetEnvoyGrpc().GetClusterName(); got != wantCluster {
						t.Errorf("%s: cluster %q, want %q", where, got, wantCluster)
					}
				}
			}
			for _, want := range tc.contexts {
				if !slices.Contains(seen, want) {
					t.Errorf("no patch for context %s (have %v)", want, seen)
				}
			}

			np := mustFind[*networkingv1.NetworkPolicy](t, objs, bulwarkNamespace, bulwarkName)
			if !admitted(np, "istio-system", map[string]string{"istio": "ingressgateway", "app": "istio-ingressgateway"},
				map[string]string{"kubernetes.io/metadata.name": "istio-system"}, grpcPort) {
				t.Error("NetworkPolicy does not admit the Istio ingress gateway")
			}
			if slices.Contains(tc.contexts, istionet.EnvoyFilter_SIDECAR_INBOUND) &&
				!admitted(np, "shop", map[string]string{"bulwark.io/protect": "true"}, map[string]string{"kubernetes.io/metadata.name": "shop"}, grpcPort) {
				t.Error("NetworkPolicy does not admit protected sidecars")
			}
			ns := mustFind[*corev1.Namespace](t, objs, "", bulwarkNamespace)
			if ns.Labels["istio-injection"] != "disabled" {
				t.Error("bulwark namespace is open to sidecar injection: Bulwark would filter its own traffic")
			}
		})
	}
}

// TestEnvoyGatewayOverlay checks the EnvoyExtensionPolicy reaches our
// Service's gRPC port, is allowed to by a ReferenceGrant, and sets the
// processing modes that Envoy Gateway would otherwise default to SKIP.
func TestEnvoyGatewayOverlay(t *testing.T) {
	t.Parallel()
	objs := build(t, "overlays/envoy-gateway")
	policies := all[*envoyExtensionPolicy](objs)
	if len(policies) == 0 {
		t.Fatal("no EnvoyExtensionPolicy")
	}
	grants := all[*gwapiv1beta1.ReferenceGrant](objs)
	for _, p := range policies {
		if len(p.Spec.TargetRefs) == 0 && p.Spec.TargetRef == nil {
			t.Errorf("policy %s targets nothing", p.Name)
		}
		for _, tr := range p.Spec.TargetRefs {
			if tr.Group != "gateway.networking.k8s.io" || (tr.Kind != "Gateway" && tr.Kind != "HTTPRoute") {
				t.Errorf("policy %s targets %s/%s, want a Gateway or HTTPRoute", p.Name, tr.Group, tr.Kind)
			}
		}
		if len(p.Spec.ExtProc) != 1 {
			t.Fatalf("policy %s has %d extProc entries, want 1", p.Name, len(p.Spec.ExtProc))
		}
		ep := p.Spec.ExtProc[0]
		for _, br := range ep.BackendRefs {
			ns := p.Namespace
			if br.Namespace != nil {
				ns = string(*br.Namespace)
			}
			if (br.Kind != nil && *br.Kind != "Service") || ns != bulwarkNamespace || br.Name != bulwarkName {
				t.Errorf("backendRef %v is not Service %s/%s", br, bulwarkNamespace, bulwarkName)
				continue
			}
			svc := mustFind[*corev1.Service](t, objs, ns, string(br.Name))
			sp := servicePort(t, svc, "grpc")
			if br.Port == nil || int32(*br.Port) != sp.Port {
				t.Errorf("backendRef port %v, service grpc port %d", br.Port, sp.Port)
			}
			if ns != p.Namespace && !granted(grants, p.Namespace, ns, string(br.Name)) {
				t.Errorf("no ReferenceGrant in %s lets EnvoyExtensionPolicy from %s reach Service %s", ns, p.Namespace, br.Name)
			}
		}
		if ep.FailOpen == nil || *ep.FailOpen {
			t.Error("failOpen must be set, and false, to match fail_mode: closed")
		}
		if ep.MessageTimeout == nil {
			t.Error("messageTimeout is not set")
		} else if d, err := time.ParseDuration(string(*ep.MessageTimeout)); err != nil || d <= 0 || d > envoy.MaxMessageTimeout {
			t.Errorf("messageTimeout %s outside (0, %s]", *ep.MessageTimeout, envoy.MaxMessageTimeout)
		}
		pm := ep.ProcessingMode
		if pm == nil || pm.Request == nil || pm.Response == nil {
			t.Fatal("processingMode.request and .response must both be present, or Envoy Gateway skips headers")
		}
		if pm.Request.Body == nil || *pm.Request.Body != "Buffered" {
			t.Errorf("request body mode %v, want Buffered", pm.Request.Body)
		}
		if !pm.AllowModeOverride {
			t.Error("allowModeOverride is false")
		}
		for _, want := range envoy.RequiredRequestAttributes {
			if !slices.Contains(pm.Request.Attributes, want) {
				t.Errorf("request attributes lack %q", want)
			}
		}
		if ep.Metadata == nil || !slices.Contains(ep.Metadata.WritableNamespaces, envoy.MetadataNamespace) {
			t.Errorf("metadata.writableNamespaces lacks %q", envoy.MetadataNamespace)
		}
	}
	np := mustFind[*networkingv1.NetworkPolicy](t, objs, bulwarkNamespace, bulwarkName)
	if !admitted(np, "envoy-gateway-system",
		map[string]string{"app.kubernetes.io/managed-by": "envoy-gateway", "app.kubernetes.io/component": "proxy", "app.kubernetes.io/name": "envoy"},
		map[string]string{"kubernetes.io/metadata.name": "envoy-gateway-system"}, grpcPort) {
		t.Error("NetworkPolicy does not admit Envoy Gateway's proxies")
	}
}

func granted(grants []*gwapiv1beta1.ReferenceGrant, fromNS, toNS, svc string) bool {
	for _, g := range grants {
		if g.Namespace != toNS {
			continue
		}
		fromOK, toOK := false, false
		for _, f := range g.Spec.From {
			fromOK = fromOK || f.Group == "gateway.envoyproxy.io" && f.Kind == "EnvoyExtensionPolicy" && string(f.Namespace) == fromNS
		}
		for _, to := range g.Spec.To {
			toOK = toOK || to.Group == "" && to.Kind == "Service" && (to.Name == nil || string(*to.Name) == svc)
		}
		if fromOK && toOK {
			return true
		}
	}
	return false
}

// TestMonitoringOverlay checks the ServiceMonitor scrapes the admin port and
// the dashboard is valid JSON over metrics the server actually exports.
func TestMonitoringOverlay(t *testing.T) {
	t.Parallel()
	objs := build(t, "overlays/monitoring")
	svc := mustFind[*corev1.Service](t, objs, bulwarkNamespace, bulwarkName)
	sm := mustFind[*monitoringv1.ServiceMonitor](t, objs, bulwarkNamespace, bulwarkName)
	if s, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector); err != nil || !s.Matches(labels.Set(svc.Labels)) {
		t.Errorf("ServiceMonitor selector does not match service labels %v", svc.Labels)
	}
	for _, ep := range sm.Spec.Endpoints {
		sp := servicePort(t, svc, ep.Port)
		if p, err := resolveTargetPort(objs, svc, sp); err != nil || p != adminPort {
			t.Errorf("ServiceMonitor port %q reaches %d (%v), want the admin port %d", ep.Port, p, err, adminPort)
		}
		if ep.Path != "/metrics" {
			t.Errorf("ServiceMonitor path %q", ep.Path)
		}
	}

	cm := mustFind[*corev1.ConfigMap](t, objs, bulwarkNamespace, "bulwark-grafana-dashboard")
	if cm.Labels["grafana_dashboard"] != "1" {
		t.Error("dashboard ConfigMap lacks grafana_dashboard=1, so Grafana's sidecar will not load it")
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Type       string `json:"type"`
			Title      string `json:"title"`
			Datasource any    `json:"datasource"`
			Targets    []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal([]byte(cm.Data["bulwark-dashboard.json"]), &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	if dash.UID == "" {
		t.Error("dashboard has no uid: every import would create a copy")
	}
	metricRE := regexp.MustCompile(`\bbulwark_[a-z_]+`)
	used := map[string]bool{}
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || len(p.Targets) == 0 {
			t.Errorf("panel %q has no datasource or no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, m := range metricRE.FindAllString(tg.Expr, -1) {
				used[trimHistogramSuffix(m)] = true
			}
		}
	}
	exported := exportedMetrics(t)
	for m := range used {
		switch {
		case exported[m]:
		case pendingMetrics[m] != "":
			t.Logf("dashboard metric %s is not exported yet (%s)", m, pendingMetrics[m])
		default:
			t.Errorf("dashboard queries %s, which no Go code in the repository defines", m)
		}
	}
	for m := range pendingMetrics {
		if exported[m] {
			t.Logf("%s is exported now: drop it from pendingMetrics", m)
		}
	}
}

// pendingMetrics are dashboard series the server does not export yet, each
// with the feature that will add it. Panels over them stay empty until then;
// anything not listed here must exist in the code.
var pendingMetrics = map[string]string{}

func trimHistogramSuffix(m string) string {
	for _, s := range []string{"_bucket", "_sum", "_count"} {
		if strings.HasSuffix(m, s) && !strings.HasSuffix(m, "_total"+s) {
			return strings.TrimSuffix(m, s)
		}
	}
	return m
}

// exportedMetrics collects metric names declared as string literals in the
// repository's non-test Go files: cheap, and enough to catch a renamed
// metric leaving a dashboard panel silently empty.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	re := regexp.MustCompile(`"(bulwark_[a-z_]+)"`)
	out := map[string]bool{}
	err := filepath.WalkDir("..", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			out[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
