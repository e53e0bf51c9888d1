package ftw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/waf"
)

// Addresses both paths report to Coraza, so REMOTE_ADDR and SERVER_PORT
// agree between them.
const (
	clientIP   = "127.0.0.1"
	clientPort = 40000
	serverIP   = "127.0.0.1"
	serverPort = 80
)

// Observation is what one path shows about a stage: what go-ftw would read
// from the WAF log and the response.
type Observation struct {
	// Rejected is set when Envoy answered the request itself.
	Rejected *Rejection
	// IDs are the logged (not nolog) rule ids, in match order.
	IDs []int
	// Log is the log text regex assertions run against.
	Log string
	// Status is the response status the client gets.
	Status int
	// Err is a harness or transport failure.
	Err error
}

// Albedo answers like the albedo backend go-ftw's CRS setup uses: POST
// /reflect returns the status, headers and body described by the JSON
// request body; anything else is an empty 200.
func Albedo(method, path string, body []byte) *envoysim.Message {
	p, _, _ := strings.Cut(path, "?")
	if method != "POST" || p != "/reflect" {
		return &envoysim.Message{Status: 200}
	}
	var spec struct {
		Status      int               `json:"status"`
		Headers     map[string]string `json:"headers"`
		Body        string            `json:"body"`
		EncodedBody string            `json:"encodedBody"`
	}
	if err := json.Unmarshal(body, &spec); err != nil {
		return &envoysim.Message{Status: 400}
	}
	m := &envoysim.Message{Status: spec.Status, Body: []byte(spec.Body)}
	if m.Status < 100 || m.Status > 599 {
		m.Status = 200
	}
	if spec.EncodedBody != "" {
		if b, err := base64.StdEncoding.DecodeString(spec.EncodedBody); err == nil {
			m.Body = b
		}
	}
	keys := make([]string, 0, len(spec.Headers))
	for k := range spec.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	hasType := false
	for _, k := range keys {
		lk := strings.ToLower(k)
		hasType = hasType || lk == "content-type"
		m.Headers = append(m.Headers, [2]string{lk, spec.Headers[k]})
	}
	if !hasType && len(m.Body) > 0 {
		// albedo is a net/http server: an unset Content-Type is sniffed.
		m.Headers = append(m.Headers, [2]string{"content-type", http.DetectContentType(m.Body)})
	}
	m.Headers = append(m.Headers, [2]string{"content-length", strconv.Itoa(len(m.Body))})
	return m
}

// Bare runs a request through the inspection core in-process, phases 1 to
// 5, with the albedo response in between: the same path the ext_proc
// server runs, without gRPC. It is the baseline: what the rules conclude
// with no proxy in the way.
type Bare struct {
	Core *inspect.Core
}

// Run replays r. id becomes the transaction id.
func (b *Bare) Run(ctx context.Context, r *Request, id string) (obs Observation) {
	req := &model.Request{ID: id, Method: r.Method, URI: r.URI, Proto: r.Version, Headers: r.Headers, Body: r.Body,
		ClientIP: clientIP, ClientPort: clientPort, ServerIP: serverIP, ServerPort: serverPort}
	x := b.Core.Begin(ctx, inspect.Head{Request: req})
	defer func() {
		rep, err := x.Close()
		if err != nil && obs.Err == nil {
			obs.Err = err
		}
		obs.IDs = rep.Final.LoggedIDs(0)
		obs.Log = errorLog(rep.Final)
	}()
	if it := x.RequestHeaders(); it == nil {
		if len(r.Body) > 0 && x.RequestBodyAccessible() {
			if _, err := x.WriteRequestBody(r.Body); err != nil {
				obs.Err = err
				return obs
			}
		}
		if _, err := x.FinishRequest(); err != nil {
			obs.Err = err
			return obs
		}
	}
	resp := Albedo(r.Method, r.URI, r.Body)
	obs.Status = resp.Status
	x.ResponseHeaders(resp.Status, r.Version, resp.Headers)
	if len(resp.Body) > 0 && x.ResponseBodyAccessible() {
		if _, err := x.WriteResponseBody(resp.Body); err != nil {
			obs.Err = err
			return obs
		}
	}
	if _, err := x.FinishResponse(inspect.Replace{Block: true, Body: true}); err != nil {
		obs.Err = err
	}
	return obs
}

// errorLog is Coraza's error-log line for every logged match: what go-ftw's
// log regexes are written against.
func errorLog(v waf.Verdict) string {
	var b strings.Builder
	for _, m := range v.Logged() {
		b.WriteString(m.ErrorLog())
		b.WriteByte('\n')
	}
	return b.String()
}

// ExtProc runs a request through Envoy's admission rules and then Bulwark's
// ext_proc server, reading the verdict back from the dynamic metadata and
// the audit log, the two places an operator sees it.
type ExtProc struct {
	Client extprocv3.ExternalProcessorClient
	// Filter is the ext_proc filter configuration; it is copied per request.
	Filter envoysim.Filter
	// Audit receives the server's audit lines (Options.Audit).
	Audit *AuditSink
	// AuditWait bounds the wait for the audit line, which the server writes
	// when the stream closes, after the client has its answer.
	AuditWait time.Duration
}

// Run replays r. id stands in for the x-request-id Envoy generates.
func (e *ExtProc) Run(ctx context.Context, r *Request, id string, wantLog bool) Observation {
	msg, rid, rej := EnvoyView(r, id)
	if rej != nil {
		return Observation{Rejected: rej, Status: rej.Status}
	}
	f := e.Filter
	f.Attributes = map[string]string{
		"source.address":      clientIP + ":" + strconv.Itoa(clientPort),
		"destination.address": serverIP + ":" + strconv.Itoa(serverPort),
		"request.protocol":    r.Version,
	}
	res, err := f.Do(ctx, e.Client, msg, func(req *envoysim.Message) *envoysim.Message {
		return Albedo(req.Method, req.Path, req.Body)
	})
	if err != nil {
		return Observation{Err: err}
	}
	var obs Observation
	switch {
	case res.StreamErr != nil:
		obs.Err = fmt.Errorf("ext_proc stream: %w", res.StreamErr)
	case res.Local != nil:
		obs.Status = res.Local.Status
	case res.Downstream != nil:
		obs.Status = res.Downstream.Status
	}
	ns := res.Metadata.GetFields()["bulwark"].GetStructValue().GetFields()
	obs.IDs = metadataIDs(ns["matched_rules"].GetStringValue(), ns["response_matched_rules"].GetStringValue())
	e.Audit.addLog(&obs, rid, e.AuditWait, wantLog)
	return obs
}

// AuditRule is one rule of an audit line.
type AuditRule struct {
	ID   int    `json:"id"`
	Msg  string `json:"msg"`
	Data string `json:"data"`
}

// AuditSink is a slog.Handler that keeps the rules of each audit line by
// request id.
type AuditSink struct {
	mu    sync.Mutex
	lines map[string][]AuditRule
}

// NewAuditSink returns an empty sink.
func NewAuditSink() *AuditSink { return &AuditSink{lines: map[string][]AuditRule{}} }

// Enabled implements slog.Handler.
func (s *AuditSink) Enabled(context.Context, slog.Level) bool { return true }

// Handle implements slog.Handler.
func (s *AuditSink) Handle(_ context.Context, rec slog.Record) error {
	var id string
	var rules []AuditRule
	rec.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "request_id":
			id = a.Value.String()
		case "rules":
			// The server logs its own unexported type; its JSON shape is
			// the audit format, so go through JSON.
			b, err := json.Marshal(a.Value.Any())
			if err == nil {
				_ = json.Unmarshal(b, &rules)
			}
		}
		return true
	})
	if id != "" {
		s.mu.Lock()
		s.lines[id] = rules
		s.mu.Unlock()
	}
	return nil
}

// WithAttrs implements slog.Handler; the server logs audit lines flat.
func (s *AuditSink) WithAttrs([]slog.Attr) slog.Handler { return s }

// WithGroup implements slog.Handler.
func (s *AuditSink) WithGroup(string) slog.Handler { return s }

// Wait returns the audit rules logged for id, polling until d has passed.
func (s *AuditSink) Wait(id string, d time.Duration) ([]AuditRule, bool) {
	deadline := time.Now().Add(d)
	for {
		s.mu.Lock()
		rules, ok := s.lines[id]
		if ok {
			delete(s.lines, id)
		}
		s.mu.Unlock()
		if ok || time.Now().After(deadline) {
			return rules, ok
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// metadataIDs reads the comma-separated rule ids of the metadata fields.
func metadataIDs(lists ...string) []int {
	var ids []int
	for _, l := range lists {
		for _, s := range strings.Split(l, ",") {
			if n, err := strconv.Atoi(s); err == nil && !slices.Contains(ids, n) {
				ids = append(ids, n)
			}
		}
	}
	return ids
}

// addLog completes obs from the audit line of request rid: the audit line
// is written at stream end, after the logging phase, so it also carries
// phase-5 rules (980170) that no metadata can.
func (s *AuditSink) addLog(obs *Observation, rid string, wait time.Duration, wantLog bool) {
	if len(obs.IDs) == 0 {
		return
	}
	rules, ok := s.Wait(rid, wait)
	if !ok {
		obs.Err = fmt.Errorf("no audit line for request %s within %v", rid, wait)
	}
	var b strings.Builder
	for _, r := range rules {
		fmt.Fprintf(&b, "[id %q] [msg %q] [data %q]\n", strconv.Itoa(r.ID), r.Msg, r.Data)
		if !slices.Contains(obs.IDs, r.ID) {
			obs.IDs = append(obs.IDs, r.ID)
		}
	}
	if wantLog {
		obs.Log = b.String()
	}
}
