package envoy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"sigs.k8s.io/yaml"

	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/internal/repo"
)

// knownConfigs must be found by the discovery walk; if one is moved the test
// says so instead of silently validating nothing.
var knownConfigs = []string{
	"envoy/envoy.yaml",
	"envoy/envoy-mtls.yaml",
	"k8s/overlays/envoy/envoy.yaml",
}

// envoyConfigs finds every YAML file in the repository whose top level looks
// like an Envoy bootstrap, so a config added later is validated without
// anyone remembering to list it.
func envoyConfigs(t *testing.T, root string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "vendor", ".venv", "__pycache__":
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var top map[string]any
		if yaml.Unmarshal(raw, &top) != nil {
			return nil // multi-document or not a mapping: not a bootstrap
		}
		if _, ok := top["static_resources"]; ok {
			rel, _ := filepath.Rel(root, path)
			found = append(found, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestEnvoyConfigsAreValid(t *testing.T) {
	t.Parallel()
	root := repo.Root(t)
	configs := envoyConfigs(t, root)
	for _, want := range knownConfigs {
		if !slices.Contains(configs, want) {
			t.Errorf("expected Envoy config %s was not found (found %v)", want, configs)
		}
	}
	for _, rel := range configs {
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(filepath.Join(root, rel))
			if err != nil {
				t.Fatal(err)
			}
			b, err := DecodeBootstrap(raw)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if err := ValidateDeep(b); err != nil {
				t.Fatalf("validate: %v", err)
			}
			if err := CheckBootstrap(b); err != nil {
				t.Fatalf("bulwark wiring: %v", err)
			}
			host, port, err := ClusterPort(b, "bulwark")
			if err != nil {
				t.Fatal(err)
			}
			if port != GRPCPort {
				t.Errorf("bulwark cluster %s:%d, want port %d", host, port, GRPCPort)
			}
			if err := checkBufferLimits(b, config.Default()); err != nil {
				t.Error(err)
			}
		})
	}
}

// checkBufferLimits holds every listener's per_connection_buffer_limit_bytes
// to what the README's body-mode table says about it. Envoy buffers both
// directions of a BUFFERED stream under that one limit: a request body above
// it gets Envoy's own 413 and a response body above it Envoy's 500, before
// Bulwark sees either. So it must be at least Bulwark's request and response
// inspection limits (below them, Bulwark's limit is unreachable and a
// response Bulwark would inspect partially fails instead), and at most
// grpc_max_message_bytes, or a buffered body would be a gRPC message the
// server refuses.
func checkBufferLimits(b *bootstrapv3.Bootstrap, cfg config.Config) error {
	var errs []error
	for _, l := range b.GetStaticResources().GetListeners() {
		protecting := false
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				hcm := &hcmv3.HttpConnectionManager{}
				if f.GetTypedConfig().UnmarshalTo(hcm) == nil && IsProtectingListener(hcm) {
					protecting = true
				}
			}
		}
		if !protecting {
			continue
		}
		lim := l.GetPerConnectionBufferLimitBytes()
		if lim == nil {
			errs = append(errs, fmt.Errorf("listener %s: set per_connection_buffer_limit_bytes (Envoy's 1 MiB default is implicit)", l.GetName()))
			continue
		}
		v := int(lim.GetValue())
		need := max(cfg.WAF.RequestBodyLimit, cfg.WAF.ResponseBodyLimit)
		if v < need {
			errs = append(errs, fmt.Errorf("listener %s: per_connection_buffer_limit_bytes %d is below Bulwark's body limits (request %d, response %d)",
				l.GetName(), v, cfg.WAF.RequestBodyLimit, cfg.WAF.ResponseBodyLimit))
		}
		if v > cfg.GRPCMaxMessageBytes {
			errs = append(errs, fmt.Errorf("listener %s: per_connection_buffer_limit_bytes %d exceeds grpc_max_message_bytes %d", l.GetName(), v, cfg.GRPCMaxMessageBytes))
		}
	}
	return errors.Join(errs...)
}

func TestBufferLimitCheckBites(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile("envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := DecodeBootstrap(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkBufferLimits(b, config.Default()); err != nil {
		t.Fatalf("envoy.yaml already fails: %v", err)
	}
	for name, edit := range map[string]func(*config.Config){
		"response limit above Envoy's":  func(c *config.Config) { c.WAF.ResponseBodyLimit = 2 << 20 },
		"request limit above Envoy's":   func(c *config.Config) { c.WAF.RequestBodyLimit = 4 << 20 },
		"gRPC messages smaller than it": func(c *config.Config) { c.GRPCMaxMessageBytes = 512 << 10 },
	} {
		cfg := config.Default()
		edit(&cfg)
		if checkBufferLimits(b, cfg) == nil {
			t.Errorf("%s: not caught", name)
		}
	}
}

// TestValidationCatchesMistakes proves the checks are not vacuous: each case
// breaks envoy/envoy.yaml in one way and expects a specific complaint.
func TestValidationCatchesMistakes(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile("envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type stage int
	const (
		decode stage = iota
		validate
		wiring
	)
	tests := []struct {
		name    string
		edit    func(string) string                // textual edit, for typos
		mutate  func(*extprocv3.ExternalProcessor) // structural edit of the ext_proc filter
		failsAt stage
		want    string
	}{
		{
			name:    "misspelled field",
			edit:    func(s string) string { return strings.Replace(s, "allow_mode_override:", "allow_mode_overide:", 1) },
			failsAt: decode, want: "allow_mode_overide",
		},
		{
			name:    "unknown typed_config type",
			edit:    func(s string) string { return strings.Replace(s, "router.v3.Router", "router.v3.Routr", 1) },
			failsAt: decode, want: "Routr",
		},
		{
			name: "invalid enum inside the ext_proc Any",
			edit: func(s string) string {
				return strings.Replace(s, "request_body_mode: BUFFERED", "request_body_mode: BUFFER", 1)
			},
			failsAt: decode, want: "BUFFER",
		},
		{
			name: "per-route override that does not disable",
			edit: func(s string) string { return strings.Replace(s, "disabled: true", "disabled: false", 1) },
			// PGV requires disabled to be const true; it sits in a map of
			// Any, so only the deep walk can see it.
			failsAt: validate, want: "Disabled",
		},
		{
			name:    "empty stat_prefix in the connection manager",
			edit:    func(s string) string { return strings.Replace(s, "stat_prefix: ingress", `stat_prefix: ""`, 1) },
			failsAt: validate, want: "StatPrefix",
		},
		{
			name:    "ext_proc points at a missing cluster",
			edit:    func(s string) string { return strings.Replace(s, "cluster_name: bulwark", "cluster_name: bulwrk", 1) },
			failsAt: wiring, want: `"bulwrk" is not defined`,
		},
		{
			name:    "health route still inspected",
			edit:    func(s string) string { return strings.Replace(s, "path: /healthz", "path: /health", 1) },
			failsAt: wiring, want: "/healthz",
		},
		{
			name:    "metadata namespace not received",
			edit:    func(s string) string { return strings.Replace(s, "untyped: [bulwark]", "untyped: [other]", 1) },
			failsAt: wiring, want: "receiving_namespaces",
		},
		{
			name: "no request id",
			edit: func(s string) string {
				return strings.Replace(s, "generate_request_id: true", "generate_request_id: false", 1)
			},
			failsAt: wiring, want: "generate_request_id",
		},
		{
			name:    "mode override refused",
			mutate:  func(ep *extprocv3.ExternalProcessor) { ep.AllowModeOverride = false },
			failsAt: wiring, want: "allow_mode_override",
		},
		{
			name:    "message timeout too long",
			mutate:  func(ep *extprocv3.ExternalProcessor) { ep.MessageTimeout = durationpb.New(5e9) },
			failsAt: wiring, want: "message_timeout",
		},
		{
			name:    "missing request attribute",
			mutate:  func(ep *extprocv3.ExternalProcessor) { ep.RequestAttributes = ep.RequestAttributes[1:] },
			failsAt: wiring, want: "source.address",
		},
		{
			name: "full duplex without trailers and fail-open",
			mutate: func(ep *extprocv3.ExternalProcessor) {
				ep.ProcessingMode.RequestBodyMode = extprocv3.ProcessingMode_FULL_DUPLEX_STREAMED
				ep.FailureModeAllow = true
			},
			failsAt: wiring, want: "request_trailer_mode SEND",
		},
		{
			name: "body never sent",
			mutate: func(ep *extprocv3.ExternalProcessor) {
				ep.ProcessingMode.RequestBodyMode = extprocv3.ProcessingMode_NONE
			},
			failsAt: wiring, want: "request_body_mode",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := string(good)
			if tc.edit != nil {
				doc = tc.edit(doc)
				if doc == string(good) {
					t.Fatal("edit did not change envoy.yaml; update the test")
				}
			}
			b, err := DecodeBootstrap([]byte(doc))
			if tc.failsAt == decode {
				expectErr(t, err, tc.want)
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if tc.mutate != nil {
				mutateExtProc(t, b, tc.mutate)
			}
			err = ValidateDeep(b)
			if tc.failsAt == validate {
				expectErr(t, err, tc.want)
				return
			}
			if err != nil {
				t.Fatalf("validate: %v", err)
			}
			expectErr(t, CheckBootstrap(b), tc.want)
		})
	}
}

func expectErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not mention %q", err, want)
	}
}

// mutateExtProc edits every ext_proc filter in place and re-packs the Any
// chain (listener filter -> connection manager -> HTTP filter).
func mutateExtProc(t *testing.T, b *bootstrapv3.Bootstrap, f func(*extprocv3.ExternalProcessor)) {
	t.Helper()
	n := 0
	for _, l := range b.GetStaticResources().GetListeners() {
		for _, fc := range l.GetFilterChains() {
			for _, nf := range fc.GetFilters() {
				hcm := &hcmv3.HttpConnectionManager{}
				if !nf.GetTypedConfig().MessageIs(hcm) {
					continue
				}
				if err := nf.GetTypedConfig().UnmarshalTo(hcm); err != nil {
					t.Fatal(err)
				}
				for _, hf := range hcm.GetHttpFilters() {
					ep := &extprocv3.ExternalProcessor{}
					if !hf.GetTypedConfig().MessageIs(ep) {
						continue
					}
					if err := hf.GetTypedConfig().UnmarshalTo(ep); err != nil {
						t.Fatal(err)
					}
					f(ep)
					hf.ConfigType = &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, ep)}
					n++
				}
				nf.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, hcm)}
			}
		}
	}
	if n == 0 {
		t.Fatal("no ext_proc filter to mutate")
	}
}

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The mutual-TLS variant presents a client certificate to Bulwark and
// checks Bulwark's against a CA and its name.
func TestMutualTLSConfig(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(repo.Root(t), "envoy", "envoy-mtls.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := DecodeBootstrap(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() != "bulwark" {
			continue
		}
		ts := c.GetTransportSocket()
		if ts == nil {
			t.Fatal("the bulwark cluster has no transport_socket")
		}
		var up tlsv3.UpstreamTlsContext
		if err := ts.GetTypedConfig().UnmarshalTo(&up); err != nil {
			t.Fatalf("transport_socket: %v", err)
		}
		ctx := up.GetCommonTlsContext()
		if len(ctx.GetTlsCertificates()) == 0 || ctx.GetValidationContext().GetTrustedCa().GetFilename() == "" ||
			len(ctx.GetValidationContext().GetMatchTypedSubjectAltNames()) == 0 {
			t.Fatalf("want a client certificate, a trusted CA and a server name check: %v", ctx)
		}
		return
	}
	t.Fatal("no bulwark cluster")
}
