package ftw

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/bulwark-waf/bulwark/internal/proxy"
)

// HTTP replays a request as raw bytes over a real TCP connection to
// `extproc proxy` (an HTTP/1.1 server this project runs, with net/http's
// codec in Envoy's place) and reads the verdict from the response's
// x-bulwark-metadata header and the audit log.
type HTTP struct {
	// Addr is the proxy's listen address.
	Addr string
	// Audit receives the server's audit lines.
	Audit     *AuditSink
	AuditWait time.Duration
}

// Run replays r. id is sent as x-request-id unless the request has one.
func (h *HTTP) Run(ctx context.Context, r *Request, id string, wantLog bool) Observation {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s\r\n", r.Method, r.URI, r.Version)
	rid := id
	if v, ok := r.Get("x-request-id"); ok {
		rid = v
	} else {
		fmt.Fprintf(&b, "x-request-id: %s\r\n", id)
	}
	for _, kv := range r.Headers {
		fmt.Fprintf(&b, "%s: %s\r\n", kv[0], kv[1])
	}
	b.WriteString("\r\n")
	b.Write(r.Body)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", h.Addr)
	if err != nil {
		return Observation{Err: err}
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return Observation{Err: err}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: r.Method})
	if err != nil {
		return Observation{Err: fmt.Errorf("reading the proxy's answer: %w", err)}
	}
	resp.Body.Close()
	obs := Observation{Status: resp.StatusCode}
	var md map[string]map[string]any
	if v := resp.Header.Get(proxy.MetadataHeader); v != "" {
		if err := json.Unmarshal([]byte(v), &md); err != nil {
			return Observation{Err: fmt.Errorf("metadata header: %w", err)}
		}
	}
	str := func(k string) string { s, _ := md["bulwark"][k].(string); return s }
	obs.IDs = metadataIDs(str("matched_rules"), str("response_matched_rules"))
	h.Audit.addLog(&obs, rid, h.AuditWait, wantLog)
	return obs
}
