package filter

import (
	"net"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// attributesKey is where Envoy puts the attributes it was asked to send.
const attributesKey = "envoy.filters.http.ext_proc"

// headerValue reads raw_value, which Envoy fills since 1.27, and falls back to
// value for older Envoys and other clients.
func headerValue(h *corev3.HeaderValue) string {
	if len(h.GetRawValue()) > 0 {
		return string(h.GetRawValue())
	}
	return h.GetValue()
}

// headerList flattens a HeaderMap into key/value pairs in wire order, keys
// lower-cased as Envoy sends them.
func headerList(m *corev3.HeaderMap) [][2]string {
	hs := m.GetHeaders()
	out := make([][2]string, 0, len(hs))
	for _, h := range hs {
		out = append(out, [2]string{strings.ToLower(h.GetKey()), headerValue(h)})
	}
	return out
}

func lookup(hs [][2]string, key string) (string, bool) {
	for _, h := range hs {
		if h[0] == key {
			return h[1], true
		}
	}
	return "", false
}

// attributes merges the attribute structs of a message; request-level ones
// win over the deprecated per-headers copy.
func attributes(req *extprocv3.ProcessingRequest, h *extprocv3.HttpHeaders) map[string]*structpb.Value {
	out := map[string]*structpb.Value{}
	//lint:ignore SA1019 older Envoys put attributes on the headers message
	perHeaders := h.GetAttributes()
	for _, src := range []map[string]*structpb.Struct{perHeaders, req.GetAttributes()} {
		for k, v := range src[attributesKey].GetFields() {
			out[k] = v
		}
	}
	return out
}

func attrString(a map[string]*structpb.Value, key string) string {
	v, ok := a[key]
	if !ok {
		return ""
	}
	switch x := v.GetKind().(type) {
	case *structpb.Value_StringValue:
		return x.StringValue
	case *structpb.Value_NumberValue:
		return strconv.FormatFloat(x.NumberValue, 'f', -1, 64)
	}
	return ""
}

// splitAddr parses Envoy's "ip:port" address attributes.
func splitAddr(s string) (string, int) {
	if s == "" {
		return "", 0
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return strings.Trim(s, "[]"), 0
	}
	p, _ := strconv.Atoi(port)
	return host, p
}

// clientIP picks the client address. With trustedHops = 0 it is Envoy's
// source.address (the TCP peer). With N > 0 there are N trusted proxies in
// front of Envoy, each appending to X-Forwarded-For, so the client is the
// (N+1)-th entry from the right; when the header is shorter than that, the
// peer address is kept rather than trusting a client-supplied entry.
func clientIP(peer string, xff string, trustedHops int) string {
	if trustedHops <= 0 || xff == "" {
		return peer
	}
	parts := strings.Split(xff, ",")
	i := len(parts) - 1 - trustedHops
	if i < 0 {
		return peer
	}
	ip := strings.TrimSpace(parts[i])
	if net.ParseIP(ip) == nil {
		return peer
	}
	return ip
}
