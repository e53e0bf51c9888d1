package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/bulwark-waf/bulwark/internal/envoysim"
)

// MetadataHeader carries the dynamic metadata Bulwark wrote, as JSON, on
// every response the proxy returns, for debugging.
const MetadataHeader = "x-bulwark-metadata"

// Options configure a Proxy.
type Options struct {
	// Upstream is the base URL requests are forwarded to.
	Upstream *url.URL
	// Filter is the ext_proc filter configuration Envoy would have.
	Filter envoysim.Filter
	// Client talks to the ext_proc server.
	Client extprocv3.ExternalProcessorClient
	// MaxBody bounds request and response bodies read into memory.
	MaxBody int64
	// UpstreamTimeout bounds one upstream round trip.
	UpstreamTimeout time.Duration
	Logger          *slog.Logger
}

// Proxy is an http.Handler.
type Proxy struct {
	opts   Options
	client *http.Client
}

// New checks opts.
func New(opts Options) (*Proxy, error) {
	if opts.Upstream == nil || opts.Upstream.Host == "" || (opts.Upstream.Scheme != "http" && opts.Upstream.Scheme != "https") {
		return nil, errors.New("proxy: --upstream must be an http:// or https:// URL")
	}
	if opts.Client == nil {
		return nil, errors.New("proxy: no ext_proc client")
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 16 << 20
	}
	if opts.UpstreamTimeout <= 0 {
		opts.UpstreamTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Proxy{opts: opts, client: &http.Client{
		Timeout: opts.UpstreamTimeout,
		// The client sees the upstream's redirects, as through Envoy.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// hopByHop are connection-level headers Envoy does not forward.
var hopByHop = map[string]bool{"connection": true, "keep-alive": true, "proxy-connection": true, "transfer-encoding": true, "upgrade": true, "te": true}

// ServeHTTP runs one request through ext_proc and the upstream.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, p.opts.MaxBody+1))
	if err != nil {
		http.Error(w, "reading the request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if int64(len(body)) > p.opts.MaxBody {
		http.Error(w, "request body over the proxy's limit", http.StatusRequestEntityTooLarge)
		return
	}
	msg := &envoysim.Message{Method: r.Method, Path: r.URL.RequestURI(), Authority: r.Host, Scheme: "http", Body: body}
	if r.TLS != nil {
		msg.Scheme = "https"
	}
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if hopByHop[lk] {
			continue
		}
		for _, v := range vs {
			msg.Headers = append(msg.Headers, [2]string{lk, v})
		}
	}
	if len(body) > 0 && r.Header.Get("Content-Length") == "" {
		// Envoy's HTTP/1 codec de-chunks the body; the upstream gets it
		// with its length.
		msg.Headers = append(msg.Headers, [2]string{"content-length", strconv.Itoa(len(body))})
	}
	for k, vs := range r.Trailer {
		for _, v := range vs {
			msg.Trailers = append(msg.Trailers, [2]string{strings.ToLower(k), v})
		}
	}
	f := p.opts.Filter
	host, port, _ := net.SplitHostPort(r.RemoteAddr)
	attrs := map[string]string{"source.address": net.JoinHostPort(host, port), "request.protocol": r.Proto}
	for k, v := range f.Attributes {
		attrs[k] = v
	}
	f.Attributes = attrs
	var upstreamErr error
	res, err := f.Do(r.Context(), p.opts.Client, msg, func(m *envoysim.Message) *envoysim.Message {
		resp, err := p.forward(r.Context(), m)
		if err != nil {
			upstreamErr = err
			return &envoysim.Message{Status: http.StatusBadGateway, Headers: [][2]string{{"content-type", "text/plain"}}, Body: []byte("upstream: " + err.Error() + "\n")}
		}
		return resp
	})
	if err != nil {
		p.opts.Logger.Error("ext_proc exchange failed", "error", err)
		http.Error(w, "ext_proc: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if upstreamErr != nil {
		p.opts.Logger.Warn("upstream failed", "error", upstreamErr)
	}
	if md := res.Metadata; md != nil {
		if b, err := json.Marshal(md.AsMap()); err == nil {
			w.Header().Set(MetadataHeader, string(b))
		}
	}
	if l := res.Local; l != nil {
		write(w, l.Status, l.Headers, l.Body)
		return
	}
	if d := res.Downstream; d != nil {
		write(w, d.Status, d.Headers, d.Body)
		return
	}
	http.Error(w, "no response", http.StatusBadGateway)
}

func write(w http.ResponseWriter, status int, headers [][2]string, body []byte) {
	h := w.Header()
	for _, kv := range headers {
		if strings.HasPrefix(kv[0], ":") || hopByHop[kv[0]] || kv[0] == "content-length" {
			continue
		}
		h.Add(kv[0], kv[1])
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if status < 100 || status > 999 {
		status = http.StatusBadGateway
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// forward sends the request as Envoy released it to the upstream.
func (p *Proxy) forward(ctx context.Context, m *envoysim.Message) (*envoysim.Message, error) {
	u := *p.opts.Upstream
	path, query, _ := strings.Cut(m.Path, "?")
	u.RawQuery = query
	req, err := http.NewRequestWithContext(ctx, m.Method, u.String(), bytes.NewReader(m.Body))
	if err != nil {
		return nil, err
	}
	// The path goes out byte for byte, as Envoy forwards it: Opaque keeps
	// net/url from re-encoding it.
	req.URL.Opaque = strings.TrimSuffix(p.opts.Upstream.EscapedPath(), "/") + path
	for _, kv := range m.Headers {
		switch kv[0] {
		case "host", "content-length":
			continue
		}
		req.Header.Add(kv[0], kv[1])
	}
	req.Host = m.Authority
	req.ContentLength = int64(len(m.Body))
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, p.opts.MaxBody+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > p.opts.MaxBody {
		return nil, errors.New("response body over the proxy's limit")
	}
	out := &envoysim.Message{Status: resp.StatusCode, Body: b}
	for k, vs := range resp.Header {
		lk := strings.ToLower(k)
		if hopByHop[lk] {
			continue
		}
		for _, v := range vs {
			out.Headers = append(out.Headers, [2]string{lk, v})
		}
	}
	return out, nil
}
