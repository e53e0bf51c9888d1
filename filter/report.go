package filter

import (
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/waf"
)

// Bounds on what user-controlled text reaches Envoy and the logs. grpc-go
// refuses to marshal a string that is not valid UTF-8, and an attacker
// controls field names, header values and the URI, so every such string is
// made valid and cut to a bound before it leaves the process.
const (
	// maxMetadataString bounds every string value in dynamic metadata and
	// upstream headers.
	maxMetadataString = 256
	// maxAuditString bounds every user-controlled string in an audit line
	// except the URI.
	maxAuditString = 256
	// maxAuditURI bounds the URI in an audit line.
	maxAuditURI = 2048
	// maxAuditRules bounds the rules listed in an audit line.
	maxAuditRules = 32
	// maxAuditLocations bounds the model locations in an audit line.
	maxAuditLocations = 8
)

// bounded makes s valid UTF-8 (invalid bytes become U+FFFD) and cuts it to
// at most n bytes on a rune boundary, saying how much was cut.
func bounded(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(+" + strconv.Itoa(len(s)-cut) + " bytes)"
}

// verdictHeaders adds the request verdict for the upstream, when enabled.
func (st *stream) verdictHeaders(m *mutation) {
	if !st.opts.UpstreamHeaders || st.failedOpen || !st.in.judged() || st.x == nil {
		return
	}
	r := st.x.Report()
	action := r.Request.Action
	if action == inspect.ActionWouldBlock {
		action = inspect.ActionFlag
	}
	p := st.opts.HeaderPrefix
	m.set = append(m.set,
		[2]string{p + "anomaly", strconv.Itoa(r.Request.Anomaly)},
		[2]string{p + "verdict", string(action)},
	)
	if sc := r.Score; sc != nil {
		m.set = append(m.set, [2]string{p + "score", strconv.Itoa(sc.Overall)})
		for c, v := range sc.Class {
			m.set = append(m.set, [2]string{p + "score-" + c, strconv.Itoa(v)})
		}
	}
}

// metadata is the verdict so far in the configured namespace. Envoy merges
// each answer's namespace into the stream's dynamic metadata, so repeating
// request fields on response answers is harmless.
func (st *stream) metadata() *structpb.Struct {
	if st.x == nil || (!st.in.judged() && !st.out.judged()) {
		return nil
	}
	r := st.x.Report()
	f := map[string]any{"request_id": bounded(r.ID, maxMetadataString)}
	if st.in.judged() {
		f["action"] = string(r.Request.Action)
		f["anomaly_score"] = r.Request.Anomaly
		f["matched_rules"] = joinIDs(r.RequestCRS, 1, 2, st.opts.MaxMetadataRules)
		f["mode"] = string(r.Plan.Policy.Mode)
		if r.Plan.Policy.Name != "" {
			f["policy"] = bounded(r.Plan.Policy.Name, maxMetadataString)
		}
		if sc := r.Score; sc != nil {
			f["score"] = sc.Overall
			f["score_source"] = string(sc.Source)
			for c, v := range sc.Class {
				f["score_"+c] = v
			}
		}
		if r.ML != nil {
			f["ml_score"] = r.ML.Overall
			if len(r.ML.Locations) > 0 {
				l := r.ML.Locations[0]
				f["ml_location"] = bounded(l.Part+":"+l.Field, maxMetadataString)
			}
		}
		if r.Decision != nil && r.Decision.Override {
			f["ml_override"] = true
		}
	}
	if st.out.judged() && r.Response.Action != inspect.ActionNone {
		f["response_action"] = string(r.Response.Action)
		f["response_anomaly_score"] = r.Response.Anomaly
		f["response_matched_rules"] = joinIDs(r.ResponseCRS, 3, 4, st.opts.MaxMetadataRules)
		if lr := r.Leak; lr != nil {
			f["leak_score"] = lr.Scores.Overall
			for c, v := range lr.Scores.Class {
				f["leak_score_"+c] = v
			}
			if len(lr.Leaks) > 0 {
				f["leak_classes"] = strings.Join(lr.Leaks, ",")
			}
			for _, l := range lr.Scores.Locations {
				if slices.Contains(lr.Leaks, l.Class) {
					f["leak_location"] = bounded(l.Class+":"+l.Where, maxMetadataString)
					break
				}
			}
			if lr.Note != "" {
				f["response_note"] = bounded(lr.Note, maxMetadataString)
			}
		}
	}
	for _, o := range []inspect.Outcome{r.Request, r.Response} {
		if it := o.Interruption; it != nil && it.RuleID != 0 {
			f["blocking_rule"] = it.RuleID
		}
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

// finish closes the exchange (Coraza's logging phase) and writes the audit
// line. It runs when the stream ends for any reason, cut streams included.
func (st *stream) finish() {
	if (st.deferred != nil || st.parked) && !st.finished {
		// The stream ended before the body came: the headers still get
		// phase 1 and the logging phase, so the audit line misses nothing
		// a non-deferred stream would have logged.
		_ = st.beginDeferred()
	}
	if st.finished || st.x == nil {
		return
	}
	st.finished = true
	if st.failAction != inspect.ActionNone {
		st.x.Failed(st.failAction)
	}
	r, err := st.x.Close()
	if err != nil {
		st.opts.Logger.Error("closing the exchange", "request_id", bounded(r.ID, maxAuditString), "error", err)
	}
	leaked := r.Leak != nil && len(r.Leak.Leaks) > 0
	if !r.Request.Action.Notable() && !r.Response.Action.Notable() && !leaked {
		return
	}
	blockRule := 0
	for _, o := range []inspect.Outcome{r.Request, r.Response} {
		if o.Interruption != nil && o.Interruption.RuleID != 0 {
			blockRule = o.Interruption.RuleID
		}
	}
	attrs := []slog.Attr{
		slog.String("request_id", bounded(r.ID, maxAuditString)),
		slog.String("client", bounded(st.req.ClientIP, maxAuditString)),
		slog.String("method", bounded(st.req.Method, maxAuditString)),
		slog.String("uri", bounded(st.req.URI, maxAuditURI)),
		slog.String("decision", string(r.Request.Action)),
		slog.String("response_decision", string(r.Response.Action)),
		slog.Int("anomaly_score", r.Request.Anomaly),
		slog.Int("response_anomaly_score", r.Response.Anomaly),
		slog.Int("blocking_rule", blockRule),
	}
	rules, omitted := auditRules(r.Final)
	attrs = append(attrs, slog.Any("rules", rules), slog.Int("rules_omitted", omitted),
		slog.String("explanation", bounded(r.Explanation(), maxAuditURI)))
	if sc := r.Score; sc != nil {
		attrs = append(attrs, slog.Any("score", map[string]any{"overall": sc.Overall, "class": sc.Class, "source": string(sc.Source)}))
	}
	if r.ML != nil {
		attrs = append(attrs, slog.Any("ml", auditML(r)))
	}
	if c := r.Candidate; c != nil {
		attrs = append(attrs, slog.Any("candidate", map[string]any{"overall": c.Overall, "class": c.Class}))
	}
	if lr := r.Leak; lr != nil && (len(lr.Leaks) > 0 || lr.Note != "") {
		locs := make([]map[string]any, 0, min(len(lr.Scores.Locations), maxAuditLocations))
		for _, l := range lr.Scores.Locations {
			if len(locs) == maxAuditLocations {
				break
			}
			locs = append(locs, map[string]any{"class": l.Class, "where": bounded(l.Where, maxAuditString), "offset": l.Offset, "score": l.Score})
		}
		attrs = append(attrs, slog.Any("leak", map[string]any{"overall": lr.Scores.Overall, "class": lr.Scores.Class, "leaks": lr.Leaks,
			"action": string(lr.Action), "note": bounded(lr.Note, maxAuditString), "locations": locs}))
	}
	attrs = append(attrs, slog.Duration("duration", time.Since(st.start)))
	st.opts.Audit.LogAttrs(st.ctx, slog.LevelInfo, "waf decision", attrs...)
}

type auditRule struct {
	ID       int    `json:"id"`
	Msg      string `json:"msg,omitempty"`
	Data     string `json:"data,omitempty"`
	Severity string `json:"severity,omitempty"`
}

// auditRules lists at most maxAuditRules logged rules, with bounded texts;
// rules past the bound are counted, not listed.
func auditRules(v waf.Verdict) ([]auditRule, int) {
	logged := v.Logged()
	out := make([]auditRule, 0, min(len(logged), maxAuditRules))
	for _, m := range logged {
		if len(out) == maxAuditRules {
			break
		}
		out = append(out, auditRule{ID: m.ID, Msg: bounded(m.Message, maxAuditString), Data: bounded(m.Data, maxAuditString), Severity: m.Severity})
	}
	return out, len(logged) - len(out)
}

type auditLocation struct {
	Class string `json:"class"`
	Part  string `json:"part"`
	Field string `json:"field"`
	Score int    `json:"score"`
}

// auditML is the model's scores with at most maxAuditLocations bounded
// locations.
func auditML(r inspect.Report) map[string]any {
	locs := make([]auditLocation, 0, min(len(r.ML.Locations), maxAuditLocations))
	for _, l := range r.ML.Locations {
		if len(locs) == maxAuditLocations {
			break
		}
		locs = append(locs, auditLocation{Class: l.Class, Part: l.Part, Field: bounded(l.Field, maxAuditString), Score: l.Score})
	}
	return map[string]any{"overall": r.ML.Overall, "class": r.ML.Class, "locations": locs, "locations_omitted": len(r.ML.Locations) - len(locs)}
}
