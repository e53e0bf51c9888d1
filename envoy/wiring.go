package envoy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/encoding/protojson"
)

// Names and values from Bulwark's server contract that every proxy config
// must agree with.
const (
	ExtProcFilterName  = "envoy.filters.http.ext_proc"
	RouterFilterName   = "envoy.filters.http.router"
	MetadataNamespace  = "bulwark"
	GRPCPort           = 50051
	HealthCheckPath    = "/healthz"
	MaxMessageTimeout  = time.Second
	accessLogMetaToken = "%DYNAMIC_METADATA(" + MetadataNamespace + ":"
)

// RequiredRequestAttributes are the attributes the server reads; Envoy sends
// only the ones it is asked for.
var RequiredRequestAttributes = []string{
	"source.address", "destination.address", "request.protocol", "xds.route_name",
}

// CheckExtProc reports where an ext_proc filter config departs from what the
// server needs. It is separate from CheckBootstrap because Istio inserts the
// same filter through an EnvoyFilter patch, where there is no Bootstrap.
func CheckExtProc(ep *extprocv3.ExternalProcessor) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	gs := ep.GetGrpcService()
	switch {
	case gs == nil:
		bad("grpc_service is not set: Bulwark speaks gRPC only")
	case gs.GetEnvoyGrpc().GetClusterName() == "":
		bad("grpc_service must use envoy_grpc with a cluster_name")
	}
	if gs.GetTimeout() == nil {
		bad("grpc_service.timeout is not set")
	}
	pm := ep.GetProcessingMode()
	if pm.GetRequestHeaderMode() == extprocv3.ProcessingMode_SKIP {
		bad("processing_mode.request_header_mode is SKIP: CRS phase 1 would never run")
	}
	switch pm.GetRequestBodyMode() {
	case extprocv3.ProcessingMode_BUFFERED, extprocv3.ProcessingMode_BUFFERED_PARTIAL:
	case extprocv3.ProcessingMode_FULL_DUPLEX_STREAMED:
		// The server can only decide at end of stream, which it sees through
		// the trailers; fail-open would forward a body it never judged.
		if pm.GetRequestTrailerMode() != extprocv3.ProcessingMode_SEND {
			bad("FULL_DUPLEX_STREAMED request body needs request_trailer_mode SEND")
		}
		if ep.GetFailureModeAllow() {
			bad("FULL_DUPLEX_STREAMED request body needs failure_mode_allow false")
		}
	default:
		bad("processing_mode.request_body_mode %s: CRS phase 2 needs the body (BUFFERED recommended)", pm.GetRequestBodyMode())
	}
	if pm.GetResponseHeaderMode() == extprocv3.ProcessingMode_SKIP {
		bad("processing_mode.response_header_mode is SKIP: outbound rules would never run")
	}
	if !ep.GetAllowModeOverride() {
		bad("allow_mode_override is false: the server's mode_override would be ignored")
	}
	switch mt := ep.GetMessageTimeout(); {
	case mt == nil:
		bad("message_timeout is not set (Envoy's 200ms default is too tight for body inspection)")
	case mt.AsDuration() <= 0 || mt.AsDuration() > MaxMessageTimeout:
		bad("message_timeout %s is outside (0, %s]", mt.AsDuration(), MaxMessageTimeout)
	}
	for _, want := range RequiredRequestAttributes {
		if !slices.Contains(ep.GetRequestAttributes(), want) {
			bad("request_attributes lacks %q", want)
		}
	}
	if !slices.Contains(ep.GetMetadataOptions().GetReceivingNamespaces().GetUntyped(), MetadataNamespace) {
		bad("metadata_options.receiving_namespaces.untyped lacks %q: verdicts would not reach the access log", MetadataNamespace)
	}
	if ep.GetObservabilityMode() {
		bad("observability_mode is on: Bulwark could never block")
	}
	return errors.Join(errs...)
}

// CheckBootstrap checks the Bulwark wiring of a whole Envoy config: every
// HTTP connection manager runs ext_proc before the router, points it at an
// HTTP/2 cluster that exists, logs Bulwark's metadata, generates request IDs
// and exempts the health-check route. It assumes ValidateDeep passed.
func CheckBootstrap(b *bootstrapv3.Bootstrap) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	clusters := map[string]*clusterv3.Cluster{}
	for _, c := range b.GetStaticResources().GetClusters() {
		clusters[c.GetName()] = c
	}
	hcms, err := HTTPConnectionManagers(b)
	if err != nil {
		return err
	}
	if len(hcms) == 0 {
		return errors.New("no http_connection_manager in any listener")
	}
	for name, hcm := range hcms {
		bad := func(format string, a ...any) { bad("%s: "+format, append([]any{name}, a...)...) }
		ep, _, err := extProcFilter(hcm)
		if err != nil {
			// A listener that forwards nowhere (a readiness endpoint) needs no
			// WAF; one that reaches a backend without Bulwark is a bypass.
			if routed := routedClusters(hcm); len(routed) > 0 {
				bad("%v, yet it routes to %v", err, routed)
			}
			continue
		}
		if !hcm.GetGenerateRequestId().GetValue() {
			bad("generate_request_id must be set to true explicitly")
		}
		filters := hcm.GetHttpFilters()
		if filters[len(filters)-1].GetName() != RouterFilterName {
			bad("the router is not the last HTTP filter, so ext_proc may not run before it")
		}
		if err := CheckExtProc(ep); err != nil {
			bad("ext_proc: %v", err)
		}
		cname := ep.GetGrpcService().GetEnvoyGrpc().GetClusterName()
		if c, ok := clusters[cname]; !ok {
			bad("ext_proc cluster %q is not defined", cname)
		} else if !isHTTP2(c) {
			bad("cluster %q does not speak HTTP/2, which gRPC needs", cname)
		}
		logged := false
		for _, al := range hcm.GetAccessLog() {
			inner, err := al.GetTypedConfig().UnmarshalNew()
			if err != nil {
				bad("access log %q: %v", al.GetName(), err)
				continue
			}
			js, _ := protojson.Marshal(inner)
			logged = logged || strings.Contains(string(js), accessLogMetaToken)
		}
		if !logged {
			bad("no access log prints %s...)%%", accessLogMetaToken)
		}
		healthExempt := false
		for _, vh := range hcm.GetRouteConfig().GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if c := r.GetRoute().GetCluster(); c != "" {
					if _, ok := clusters[c]; !ok {
						bad("route %q targets undefined cluster %q", r.GetName(), c)
					}
				}
				if isHealthRoute(r) {
					ok, err := extProcDisabled(r)
					if err != nil {
						bad("route %q: %v", r.GetName(), err)
					}
					healthExempt = healthExempt || ok
				}
			}
		}
		if !healthExempt {
			bad("no %s route with ExtProcPerRoute{disabled: true}", HealthCheckPath)
		}
	}
	return errors.Join(errs...)
}

// HTTPConnectionManagers returns the decoded connection managers of all
// static listeners, keyed by listener name and filter-chain index.
func HTTPConnectionManagers(b *bootstrapv3.Bootstrap) (map[string]*hcmv3.HttpConnectionManager, error) {
	out := map[string]*hcmv3.HttpConnectionManager{}
	for _, l := range b.GetStaticResources().GetListeners() {
		for i, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				hcm := &hcmv3.HttpConnectionManager{}
				if f.GetTypedConfig().MessageIs(hcm) {
					if err := f.GetTypedConfig().UnmarshalTo(hcm); err != nil {
						return nil, err
					}
					out[fmt.Sprintf("listener %s chain %d", l.GetName(), i)] = hcm
				}
			}
		}
	}
	return out, nil
}

// IsProtectingListener reports whether a connection manager runs ext_proc.
// Listeners without it (a readiness listener, say) are not Bulwark's concern.
func IsProtectingListener(hcm *hcmv3.HttpConnectionManager) bool {
	_, _, err := extProcFilter(hcm)
	return err == nil
}

func extProcFilter(hcm *hcmv3.HttpConnectionManager) (*extprocv3.ExternalProcessor, int, error) {
	for i, f := range hcm.GetHttpFilters() {
		ep := &extprocv3.ExternalProcessor{}
		if f.GetTypedConfig().MessageIs(ep) {
			if f.GetName() != ExtProcFilterName {
				return nil, 0, fmt.Errorf("ext_proc filter is named %q; per-route overrides key on %q", f.GetName(), ExtProcFilterName)
			}
			if err := f.GetTypedConfig().UnmarshalTo(ep); err != nil {
				return nil, 0, err
			}
			return ep, i, nil
		}
	}
	return nil, 0, errors.New("no ext_proc filter")
}

// ClusterPort returns the port of the first endpoint of a static cluster.
func ClusterPort(b *bootstrapv3.Bootstrap, name string) (host string, port uint32, err error) {
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() != name {
			continue
		}
		for _, le := range c.GetLoadAssignment().GetEndpoints() {
			for _, ep := range le.GetLbEndpoints() {
				sa := ep.GetEndpoint().GetAddress().GetSocketAddress()
				return sa.GetAddress(), sa.GetPortValue(), nil
			}
		}
		return "", 0, fmt.Errorf("cluster %q has no endpoints", name)
	}
	return "", 0, fmt.Errorf("no cluster %q", name)
}

func isHTTP2(c *clusterv3.Cluster) bool {
	//lint:ignore SA1019 the deprecated form still configures HTTP/2 in Envoy
	if c.GetHttp2ProtocolOptions() != nil {
		return true
	}
	any := c.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
	if any == nil {
		return false
	}
	po := &upstreamhttpv3.HttpProtocolOptions{}
	if err := any.UnmarshalTo(po); err != nil {
		return false
	}
	return po.GetExplicitHttpConfig().GetHttp2ProtocolOptions() != nil
}

func isHealthRoute(r *routev3.Route) bool {
	m := r.GetMatch()
	return m.GetPath() == HealthCheckPath || m.GetPrefix() == HealthCheckPath
}

func extProcDisabled(r *routev3.Route) (bool, error) {
	a := r.GetTypedPerFilterConfig()[ExtProcFilterName]
	if a == nil {
		return false, nil
	}
	per := &extprocv3.ExtProcPerRoute{}
	if err := a.UnmarshalTo(per); err != nil {
		return false, err
	}
	return per.GetDisabled(), nil
}

func routedClusters(hcm *hcmv3.HttpConnectionManager) []string {
	var out []string
	for _, vh := range hcm.GetRouteConfig().GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			if c := r.GetRoute().GetCluster(); c != "" {
				out = append(out, c)
			}
		}
	}
	return out
}
