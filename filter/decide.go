package filter

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/corazawaf/coraza/v3/types"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/bulwark-waf/bulwark/verdict"
	"github.com/bulwark-waf/bulwark/waf"
)

func wrapInternal(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", errInternal, what, err)
}

// evaluate runs the body phase (2 for requests, 4 for responses) on what has
// been written and records the decision. It returns the block answer when the
// transaction is interrupted, or nil to continue.
func (st *stream) evaluate(request bool) ([]*extprocv3.ProcessingResponse, error) {
	d, name := st.dir(request)
	d.done = true
	var it *types.Interruption
	var err error
	if request {
		if st.policy.Mode != verdict.ModeGated || st.policy.Shadow {
			// Before phase 2, so rules can read TX:ML_SCORE*.
			st.scoreML()
		}
		it, err = st.tx.ProcessRequestBody()
	} else {
		it, err = st.tx.ProcessResponseBody()
	}
	if err != nil {
		return nil, wrapInternal(name+" body phase", err)
	}
	if it != nil {
		return st.block(it, request), nil
	}
	v := waf.ReadVerdict(st.tx)
	cfg := st.engine.Config()
	action := "allow"
	if request {
		st.verdict = v
		if out := st.decide(v); out != nil {
			return out, nil
		}
		action = st.action
	} else {
		st.respVerd = v
		switch {
		case v.OutboundScore >= cfg.OutboundAnomalyThreshold:
			action = "would_block"
		case v.OutboundScore > 0 || hasLogged(v, 3, 4):
			action = "flag"
		}
		st.respAction = action
	}
	st.opts.Metrics.decisions.WithLabelValues(name, action).Inc()
	return nil, nil
}

func hasLogged(v waf.Verdict, lo, hi int) bool {
	for _, m := range v.Matches {
		if m.Logged && m.Phase >= lo && m.Phase <= hi {
			return true
		}
	}
	return false
}

// block records an interruption and builds the block page.
func (st *stream) block(it *types.Interruption, request bool) []*extprocv3.ProcessingResponse {
	v := waf.ReadVerdict(st.tx)
	d, name := st.dir(request)
	d.done = true
	status, reason := st.opts.BlockStatus, "bulwark_blocked"
	if it.Status == 413 {
		status, reason = 413, "bulwark_body_too_large"
	}
	return st.sendBlock(request, v, it.RuleID, status, reason, name)
}

// tooLarge rejects a body past the configured limit that Coraza itself did
// not interrupt (FULL_DUPLEX holding, BUFFERED_PARTIAL truncation). Under
// DetectionOnly it is logged as would_block and the body judged as seen.
func (st *stream) tooLarge(request bool) []*extprocv3.ProcessingResponse {
	if st.engine.Config().Engine == waf.EngineDetectionOnly {
		return nil
	}
	d, name := st.dir(request)
	d.done = true
	v := waf.ReadVerdict(st.tx)
	status := 413
	if !request {
		// The client did nothing wrong; the upstream sent too much.
		status = 502
	}
	return st.sendBlock(request, v, 0, status, "bulwark_body_too_large", name)
}

func (st *stream) sendBlock(request bool, v waf.Verdict, ruleID, status int, reason, name string) []*extprocv3.ProcessingResponse {
	st.blocked = true
	st.blockRule = ruleID
	if request {
		st.verdict, st.action = v, "block"
		st.opts.Memory.Record(st.clientKey, true)
	} else {
		st.respVerd, st.respAction = v, "block"
	}
	st.opts.Metrics.decisions.WithLabelValues(name, "block").Inc()
	st.opts.Metrics.blocked(ruleID)
	ans := blockPage{status: status, requestID: st.id, reason: reason}.answer(st.accept)
	ans.DynamicMetadata = st.metadata()
	return []*extprocv3.ProcessingResponse{ans}
}

// verdictHeaders adds the request verdict for the upstream, when enabled.
func (st *stream) verdictHeaders(m *mutation) {
	if !st.opts.UpstreamHeaders || st.failedOpen || !st.req.done {
		return
	}
	action := st.action
	if action == "would_block" {
		action = "flag"
	}
	p := st.opts.HeaderPrefix
	m.set = append(m.set,
		[2]string{p + "anomaly", strconv.Itoa(st.verdict.InboundScore)},
		[2]string{p + "verdict", action},
	)
	for k, v := range st.scoreFields() {
		m.set = append(m.set, [2]string{p + k, v})
	}
}

// metadata is the verdict so far in the configured namespace. Envoy merges
// each answer's namespace into the stream's dynamic metadata, so repeating
// request fields on response answers is harmless.
func (st *stream) metadata() *structpb.Struct {
	if !st.req.done && !st.resp.done {
		return nil
	}
	f := map[string]any{"request_id": st.id}
	if st.req.done && st.tx != nil {
		f["action"] = st.action
		f["anomaly_score"] = st.verdict.InboundScore
		f["matched_rules"] = joinIDs(st.verdict, 1, 2, st.opts.MaxMetadataRules)
		f["mode"] = string(st.policy.Mode)
		if st.policy.Name != "" {
			f["policy"] = st.policy.Name
		}
		for k, v := range st.scoreFields() {
			n, _ := strconv.Atoi(v)
			f[strings.ReplaceAll(k, "-", "_")] = n
		}
		if st.ml != nil && len(st.ml.Locations) > 0 {
			l := st.ml.Locations[0]
			f["ml_location"] = l.Part + ":" + l.Field
		}
		if st.decision != nil && st.decision.Override {
			f["ml_override"] = true
		}
	}
	if st.resp.done && st.tx != nil && st.respAction != "" {
		f["response_action"] = st.respAction
		f["response_anomaly_score"] = st.respVerd.OutboundScore
		f["response_matched_rules"] = joinIDs(st.respVerd, 3, 4, st.opts.MaxMetadataRules)
	}
	if st.blocked && st.blockRule != 0 {
		f["blocking_rule"] = st.blockRule
	}
	return metadataStruct(st.opts.MetadataNamespace, f)
}

func joinIDs(v waf.Verdict, lo, hi, max int) string {
	var b strings.Builder
	n := 0
	for _, m := range v.Matches {
		if !m.Logged || m.Phase < lo || m.Phase > hi {
			continue
		}
		if n == max {
			break
		}
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(m.ID))
		n++
	}
	return b.String()
}

// passthrough answers a message without inspecting it, after Bulwark failed
// open on this stream. Held FULL_DUPLEX bytes are released first.
func (st *stream) passthrough(req *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
	var out []*extprocv3.ProcessingResponse
	for _, request := range []bool{true, false} {
		if d, _ := st.dir(request); d.holding {
			out = append(out, st.release(request, false)...)
		}
	}
	switch r := req.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		st.req.headersSeen = true
		out = append(out, requestHeadersAnswer(nil))
	case *extprocv3.ProcessingRequest_RequestBody:
		out = append(out, st.passBody(true, &st.req, r.RequestBody))
	case *extprocv3.ProcessingRequest_RequestTrailers:
		out = append(out, trailersAnswer(true))
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		st.resp.headersSeen = true
		out = append(out, responseHeadersAnswer(nil))
	case *extprocv3.ProcessingRequest_ResponseBody:
		out = append(out, st.passBody(false, &st.resp, r.ResponseBody))
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		out = append(out, trailersAnswer(false))
	}
	return out
}

// finish runs Coraza's logging phase and writes the audit line. It runs when
// the stream ends for any reason, cut streams included.
func (st *stream) finish() {
	if st.finished || st.tx == nil {
		return
	}
	st.finished = true
	defer func() {
		if r := recover(); r != nil {
			st.opts.Logger.Error("panic in logging phase", "request_id", st.id, "panic", r)
		}
		_ = st.tx.Close()
	}()
	st.tx.ProcessLogging()
	if !notable(st.action) && !notable(st.respAction) {
		return
	}
	// Read after the logging phase: matches are cumulative, and phase-5
	// rules (CRS correlation, 980170) exist only now.
	v := waf.ReadVerdict(st.tx)
	st.opts.Audit.LogAttrs(st.ctx, slog.LevelInfo, "waf decision",
		slog.String("request_id", st.id),
		slog.String("client", st.client),
		slog.String("method", st.method),
		slog.String("uri", truncate(st.uri, 2048)),
		slog.String("decision", st.action),
		slog.String("response_decision", st.respAction),
		slog.Int("anomaly_score", st.verdict.InboundScore),
		slog.Int("response_anomaly_score", st.respVerd.OutboundScore),
		slog.Int("blocking_rule", st.blockRule),
		slog.Any("rules", auditRules(v)),
		slog.String("explanation", st.explanation()),
		slog.Any("ml", st.ml),
		slog.Duration("duration", time.Since(st.start)),
	)
}

type auditRule struct {
	ID       int    `json:"id"`
	Msg      string `json:"msg,omitempty"`
	Data     string `json:"data,omitempty"`
	Severity string `json:"severity,omitempty"`
}

func auditRules(v waf.Verdict) []auditRule {
	var out []auditRule
	for _, m := range v.Logged() {
		if len(out) == 32 {
			break
		}
		out = append(out, auditRule{ID: m.ID, Msg: m.Message, Data: truncate(m.Data, 200), Severity: m.Severity})
	}
	return out
}

// explanation is the one-line why of the request decision.
func (st *stream) explanation() string {
	if st.decision != nil {
		return st.decision.Explain
	}
	if st.blockRule != 0 {
		return fmt.Sprintf("mode=%s rule %d interrupted → block", st.policy.Mode, st.blockRule)
	}
	return ""
}

func notable(action string) bool {
	return action != "" && action != "allow"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
