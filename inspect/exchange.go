package inspect

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"

	"github.com/bulwark-waf/bulwark/internal/collect"
	"github.com/bulwark-waf/bulwark/internal/decode"
	"github.com/bulwark-waf/bulwark/internal/rx"
	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/waf"
)

// Direction is one half of an exchange.
type Direction int

// The directions, named as CRS names its anomaly scores.
const (
	Inbound  Direction = iota // the request
	Outbound                  // the response
)

func (d Direction) String() string {
	if d == Inbound {
		return "request"
	}
	return "response"
}

// Outcome is the judgement of one direction.
type Outcome struct {
	Action Action
	// Anomaly is CRS's blocking anomaly score for the direction.
	Anomaly int
	// Interruption is set when the direction was refused.
	Interruption *Interruption
}

// Report is everything known about an exchange, for metadata, headers,
// audit lines and the tools.
type Report struct {
	ID   string
	Plan Plan
	// Request and Response are the outcomes so far.
	Request, Response Outcome
	// RequestCRS and ResponseCRS are what CRS concluded when each
	// direction was judged; Final (after Close) adds the logging phase's
	// correlation rules.
	RequestCRS, ResponseCRS waf.Verdict
	Final                   waf.Verdict
	// ML is nil when the model did not run.
	ML *model.Scores
	// Score is the request's score, all evidence considered (see Score),
	// nil until the request was judged or when neither the model scored
	// it nor CRS blocked it.
	Score *Score
	// Decision is nil until the request was judged without an
	// interruption.
	Decision *Decision
	// Limit names the parser limit the request reached, "" when none.
	Limit string
	// Leak is the leakage model's view of the response, nil when it did
	// not run.
	Leak *LeakReport
	// Masked is the decoded response body with the leaks redacted, when
	// the action is mask.
	Masked []byte
	// Candidate is the shadow candidate model's scores, nil when none is
	// loaded or the model did not run.
	Candidate *model.Scores
}

// Explanation is the one-line why of the request decision.
func (r *Report) Explanation() string {
	if r.Decision != nil {
		return r.Decision.Explain
	}
	if it := r.Request.Interruption; it != nil && it.RuleID != 0 {
		return fmt.Sprintf("mode=%s rule %d interrupted → block", r.Plan.Policy.Mode, it.RuleID)
	}
	if r.Limit != "" {
		return fmt.Sprintf("mode=%s %s → %s", r.Plan.Policy.Mode, r.Limit, r.Request.Action)
	}
	return ""
}

// Exchange is the inspection of one request and its response: one Coraza
// transaction, the model's scores and the decision. It is not safe for
// concurrent use; the ext_proc server drives one per stream.
type Exchange struct {
	ctx    context.Context
	core   *Core
	eng    *waf.Engine
	tx     types.Transaction
	req    *model.Request
	report Report
	closed bool
	// parked: Park released the transaction (tx is nil) until Resume.
	parked bool
	resp   *responseScan
	budget *rx.Budget
	// verdicts reads CRS's verdict after each phase, converting only the
	// rules matched since the last read.
	verdicts waf.VerdictReader
}

// Begin starts an exchange: it picks the policy and WAF, opens the Coraza
// transaction and sets Bulwark's TX variables. Phase 1 is RequestHeaders.
func (c *Core) Begin(ctx context.Context, h Head) *Exchange {
	pl, eng := c.plan(h)
	x := &Exchange{ctx: ctx, core: c, eng: eng, req: h.Request}
	x.report.ID = h.Request.ID
	x.report.Plan = pl
	x.open()
	return x
}

// open starts the exchange's Coraza transaction for its plan.
func (x *Exchange) open() {
	tx := x.eng.NewTransaction(x.ctx, x.report.ID)
	x.tx = tx
	x.budget = x.eng.Budgets().Begin(tx)
	if x.report.ID == "" {
		x.report.ID = tx.ID()
	}
	pl := x.report.Plan
	if rr, ok := tx.(interface{ RemoveRuleByID(int) }); ok {
		if pl.Policy.UsesML() && x.core.opts.Model != nil {
			for _, id := range crsBlockingRules {
				rr.RemoveRuleByID(id)
			}
		}
		if pl.Policy.Response.flagsCRSOutbound() {
			for _, id := range crsOutboundBlockingRules {
				rr.RemoveRuleByID(id)
			}
		}
	}
	x.setTX(map[string]string{
		"bulwark_policy":         pl.Policy.Name,
		"bulwark_mode":           string(pl.Policy.Mode),
		"bulwark_client_attacks": strconv.Itoa(pl.RecentAttacks),
		"bulwark_client_key":     pl.ClientKey,
	})
}

// Park releases the Coraza transaction of an exchange that passed phase 1
// and waits for a request body none of which was written yet. CRS's
// phase-1 state (the matched initialisation rules, the TX collection, the
// transformation cache) is most of what a waiting stream costs; a parked
// exchange keeps only the request and its plan. Resume runs phase 1 again.
func (x *Exchange) Park() {
	if x.parked || x.closed {
		return
	}
	x.eng.Budgets().End(x.tx)
	_ = x.tx.Close()
	x.tx = nil
	x.verdicts = waf.VerdictReader{}
	x.report.Limit = "" // phase 1 sets it again
	x.parked = true
}

// Resume reopens a parked exchange: a new transaction with the same id and
// plan runs phase 1 again on the same request, so the body phase sees what
// it would have seen. Phase 1 passed before; should it refuse now (a rule
// reading the clock, say), the refusal stands. It returns nil when the
// exchange was not parked.
func (x *Exchange) Resume() *Interruption {
	if !x.parked {
		return nil
	}
	x.parked = false
	x.open()
	return x.RequestHeaders()
}

// ID is the request id: Envoy's x-request-id, or Coraza's own.
func (x *Exchange) ID() string { return x.report.ID }

// Plan is what the exchange runs.
func (x *Exchange) Plan() Plan { return x.report.Plan }

// setTX sets TX variables that rules can read in every phase.
func (x *Exchange) setTX(vars map[string]string) {
	ts, ok := x.tx.(plugintypes.TransactionState)
	if !ok {
		return
	}
	tx := ts.Variables().TX()
	for k, v := range vars {
		tx.Set(k, []string{v})
	}
}

// RequestHeaders feeds the connection, URI and headers and runs phase 1.
func (x *Exchange) RequestHeaders() *Interruption {
	r, tx := x.req, x.tx
	proto := r.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	tx.ProcessConnection(r.ClientIP, r.ClientPort, r.ServerIP, r.ServerPort)
	tx.ProcessURI(r.URI, r.Method, proto)
	var cookies waf.CookieNames
	for _, kv := range r.Headers {
		v := kv[1]
		if kv[0] == "cookie" {
			v = cookies.Header(v)
		}
		tx.AddRequestHeader(kv[0], v)
	}
	if host, ok := r.Header("host"); ok {
		tx.SetServerName(StripPort(host))
	}
	if it := tx.ProcessRequestHeaders(); it != nil {
		return x.interrupted(Inbound, it)
	}
	if len(r.Headers) > x.eng.Config().MaxRequestHeaders {
		if it := x.atLimit("request headers past waf.max_request_headers"); it != nil {
			return it
		}
	}
	return x.checkArgumentsLimit()
}

// checkArgumentsLimit refuses a request whose arguments reached Coraza's
// limit: the rules never saw the values past it.
func (x *Exchange) checkArgumentsLimit() *Interruption {
	ts, ok := x.tx.(plugintypes.TransactionState)
	if !ok || ts.Variables().ArgumentsLimitReached().Get() != "1" {
		return nil
	}
	return x.atLimit("arguments past waf.arguments_limit")
}

// atLimit records a parser limit: under reject it refuses the request (400,
// reason bulwark_limit_exceeded); under process_partial the request is
// judged on what fits and flagged.
func (x *Exchange) atLimit(what string) *Interruption {
	x.report.Limit = what
	c := x.eng.Config()
	if c.LimitAction != waf.LimitReject || c.Engine == waf.EngineDetectionOnly {
		return nil
	}
	return x.Refuse(Inbound, ReasonLimit, 400)
}

// RequestBodyAccessible reports whether the rules read the request body.
func (x *Exchange) RequestBodyAccessible() bool { return x.tx.IsRequestBodyAccessible() }

// WriteRequestBody appends a request body chunk.
func (x *Exchange) WriteRequestBody(chunk []byte) (*Interruption, error) {
	if len(chunk) == 0 {
		return nil, nil
	}
	it, _, err := x.tx.WriteRequestBody(chunk)
	if err != nil {
		return nil, fmt.Errorf("writing request body to coraza: %w", err)
	}
	if it != nil {
		return x.interrupted(Inbound, it), nil
	}
	return nil, nil
}

// FinishRequest judges the request on what was written: the model (before
// phase 2, so rules can read its scores, unless gated), phase 2, then the
// decision of the policy.
func (x *Exchange) FinishRequest() (Outcome, error) {
	pl := x.report.Plan
	if pl.ModelEarly {
		x.scoreModel()
	}
	it, err := x.tx.ProcessRequestBody()
	if err != nil {
		return Outcome{}, fmt.Errorf("request body phase: %w", err)
	}
	if it != nil {
		x.interrupted(Inbound, it)
		return x.report.Request, nil
	}
	if it := x.checkArgumentsLimit(); it != nil {
		return x.report.Request, nil
	}
	if x.budget.Exceeded() {
		// Some rules never saw the request: it was not fully inspected.
		x.report.Limit = fmt.Sprintf("rx work budget of %d bytes (waf.rx_budget_bytes) spent", x.eng.Config().RxBudgetBytes)
		if c := x.eng.Config(); c.RequestBodyLimitAction == waf.LimitReject && c.Engine != waf.EngineDetectionOnly {
			x.Refuse(Inbound, ReasonBudget, 413)
			return x.report.Request, nil
		}
	}
	v := x.verdicts.Read(x.tx)
	x.report.RequestCRS = v
	rules := make([]int, 0, 16)
	for _, m := range v.Matches {
		if len(rules) == 16 {
			break
		}
		if m.Logged && !IsCRSBlockingRule(m.ID) {
			rules = append(rules, m.ID)
		}
	}
	c := CRS{Score: v.InboundScore, Threshold: pl.CRSThreshold, Rules: rules, Unmodelled: unmodelled(v, x.eng.Config().ParanoiaLevel)}
	if x.core.opts.Model != nil && x.report.ML == nil && (pl.Policy.Mode != ModeGated || pl.Policy.Shadow || pl.Policy.NeedsML(c)) {
		x.scoreModel()
	}
	d := Decide(pl.Policy, c, x.report.ML)
	x.report.Decision = &d
	x.report.Score = judgeScore(x.report.ML, d.Block && c.Blocks(), v, pl.Policy.MLThreshold, x.eng.Config().ParanoiaLevel)
	m := x.core.opts.Metrics
	if d.Override {
		m.overrides.Inc()
	}
	x.report.Request.Anomaly = v.InboundScore
	if d.Block && !pl.Policy.DetectionOnly {
		m.blockedClass(x.report.ML, pl.Policy.MLThreshold)
		x.report.Request.Action = ActionBlock
		x.report.Request.Interruption = &Interruption{Reason: ReasonDecision(pl.Policy.Mode)}
		x.core.opts.Memory.Record(pl.ClientKey, true)
		return x.report.Request, nil
	}
	x.report.Request.Action = d.Action
	if x.report.Limit != "" && d.Action == ActionAllow {
		x.report.Request.Action = ActionFlag
	}
	x.core.opts.Memory.Record(pl.ClientKey, d.Block || d.MLAttack || c.Blocks())
	return x.report.Request, nil
}

// scoreModel runs the model on the request as seen so far and exposes the
// scores to rules as TX:ML_SCORE, TX:ML_SCORE_<CLASS>, TX:ML_LOCATION_<CLASS>
// (part:field) and TX:ML_THRESHOLD.
func (x *Exchange) scoreModel() {
	m := x.core.opts.Model
	if m == nil || x.report.ML != nil {
		return
	}
	r := *x.req
	if rd, err := x.tx.RequestBodyReader(); err == nil && rd != nil {
		r.Body, _ = io.ReadAll(io.LimitReader(rd, int64(x.eng.Config().RequestBodyLimit)))
	}
	s := m.Score(x.ctx, &r)
	x.report.ML = &s
	if c := x.core.opts.Candidate; c != nil {
		cs := c.Score(x.ctx, &r)
		x.report.Candidate = &cs
		x.core.opts.Metrics.candidateFlips(&s, &cs, x.report.Plan.Policy.MLThreshold)
	}
	met := x.core.opts.Metrics
	met.mlCalls.Inc()
	vars := map[string]string{
		"ml_score":     strconv.Itoa(s.Overall),
		"ml_threshold": strconv.Itoa(x.report.Plan.Policy.MLThreshold),
	}
	for c, v := range s.Class {
		vars["ml_score_"+c] = strconv.Itoa(v)
		met.mlScore.WithLabelValues(c).Observe(float64(v))
	}
	met.mlScore.WithLabelValues("overall").Observe(float64(s.Overall))
	for _, l := range s.Locations {
		k := "ml_location_" + l.Class
		if _, dup := vars[k]; !dup {
			vars[k] = l.Part + ":" + l.Field
		}
	}
	x.setTX(vars)
}

// ResponseHeaders feeds the response status and headers and runs phase 3,
// and sets up the response body's decoding and leak scan.
func (x *Exchange) ResponseHeaders(status int, proto string, headers [][2]string) *Interruption {
	if proto == "" {
		proto = "HTTP/1.1"
	}
	for _, kv := range x.startResponseScan(status, headers) {
		x.tx.AddResponseHeader(kv[0], kv[1])
	}
	if it := x.tx.ProcessResponseHeaders(status, proto); it != nil {
		return x.interrupted(Outbound, it)
	}
	if x.resp != nil {
		x.resp.coraza = x.corazaReadsResponse()
	}
	return nil
}

func (x *Exchange) corazaReadsResponse() bool {
	return x.tx.IsResponseBodyAccessible() && x.tx.IsResponseBodyProcessable()
}

// ResponseBodyAccessible reports whether this response's body is read: by
// the rules (access is on and its content type is inspected) or by the
// leakage model.
func (x *Exchange) ResponseBodyAccessible() bool {
	return x.corazaReadsResponse() || (x.resp != nil && x.resp.scan != nil)
}

// WriteResponseBody appends a response body chunk, as it arrived
// (compressed when the response is).
func (x *Exchange) WriteResponseBody(chunk []byte) (*Interruption, error) {
	if len(chunk) == 0 {
		return nil, nil
	}
	if s := x.resp; s != nil {
		s.writeRaw(chunk)
		if s.err != nil {
			return nil, s.err
		}
		return s.it, nil
	}
	it, _, err := x.tx.WriteResponseBody(chunk)
	if err != nil {
		return nil, fmt.Errorf("writing response body to coraza: %w", err)
	}
	if it != nil {
		return x.interrupted(Outbound, it), nil
	}
	return nil, nil
}

// FinishResponse judges the response on what was written: CRS's phase 4
// (its outbound score is reported: would_block at the outbound threshold,
// flag below it; only a rule's own interruption refuses the response) and
// the leakage model, whose action rep bounds.
func (x *Exchange) FinishResponse(rep Replace) (Outcome, error) {
	x.finishLeak(rep)
	it, err := x.tx.ProcessResponseBody()
	if err != nil {
		return Outcome{}, fmt.Errorf("response body phase: %w", err)
	}
	if it != nil {
		x.interrupted(Outbound, it)
		return x.report.Response, nil
	}
	v := x.verdicts.Read(x.tx)
	x.report.ResponseCRS = v
	o := &x.report.Response
	o.Anomaly = v.OutboundScore
	switch {
	case v.OutboundScore >= x.eng.Config().OutboundAnomalyThreshold:
		// CRS would refuse the response. Under a response policy that
		// does not block (the default, flag), that is a flag; otherwise
		// (DetectionOnly) it would have blocked.
		switch {
		case !x.report.Plan.Policy.Response.flagsCRSOutbound():
			o.Action = ActionWouldBlock
		case x.report.Leak.clean():
			// The leakage model read the whole body and found nothing:
			// CRS's outbound score and rules are reported, and the
			// model's verdict stands, as confirm mode lets the request
			// model overrule CRS on its own classes. Pages that quote
			// error messages (security blogs, Q&A threads) are most of
			// CRS outbound's false positives.
			o.Action = ActionAllow
		default:
			o.Action = ActionFlag
		}
	case v.OutboundScore > 0 || hasLogged(v, 3, 4):
		o.Action = ActionFlag
	default:
		o.Action = ActionAllow
	}
	if lr := x.report.Leak; lr != nil {
		switch lr.Action {
		case LeakBlock:
			o.Action = ActionBlock
			o.Interruption = &Interruption{Status: 502, Reason: ReasonLeak}
		case LeakMask:
			o.Action = ActionMask
		case LeakFlag:
			if o.Action == ActionAllow {
				o.Action = ActionFlag
			}
		}
		if lr.Note != "" && o.Action == ActionAllow {
			o.Action = ActionFlag
		}
	}
	return *o, nil
}

func hasLogged(v waf.Verdict, lo, hi int) bool {
	for _, m := range v.Matches {
		if m.Logged && m.Phase >= lo && m.Phase <= hi {
			return true
		}
	}
	return false
}

// interrupted records a Coraza interruption of direction d.
func (x *Exchange) interrupted(d Direction, it *types.Interruption) *Interruption {
	v := x.verdicts.Read(x.tx)
	out := &Interruption{RuleID: it.RuleID, Status: it.Status, Reason: ReasonRule}
	if it.Status == 413 {
		out.Reason = ReasonBodyTooLarge
	}
	x.refused(d, v, out)
	return out
}

// Refuse records a refusal the caller decided on (a body past its limit
// that Coraza did not see whole, a parser limit) and returns it.
func (x *Exchange) Refuse(d Direction, reason Reason, status int) *Interruption {
	out := &Interruption{Status: status, Reason: reason}
	x.refused(d, x.verdicts.Read(x.tx), out)
	return out
}

func (x *Exchange) refused(d Direction, v waf.Verdict, it *Interruption) {
	o := &x.report.Request
	if d == Inbound {
		x.report.RequestCRS = v
		o.Anomaly = v.InboundScore
		// A rule's interruption is CRS's evidence; a limit, a budget or a
		// failure says nothing about the request's intent.
		x.report.Score = judgeScore(x.report.ML, it.Reason == ReasonRule && it.RuleID != 0, v,
			x.report.Plan.Policy.MLThreshold, x.eng.Config().ParanoiaLevel)
		x.core.opts.Memory.Record(x.report.Plan.ClientKey, true)
	} else {
		o = &x.report.Response
		x.report.ResponseCRS = v
		o.Anomaly = v.OutboundScore
	}
	o.Action = ActionBlock
	o.Interruption = it
}

// Failed records that inspection failed and the fail mode's action.
func (x *Exchange) Failed(a Action) { x.report.Request.Action = a }

// Report is the exchange so far.
func (x *Exchange) Report() Report { return x.report }

// Close runs Coraza's logging phase (CRS's correlation rules) and releases
// the transaction. It returns the final report; calling it again returns
// the same report.
func (x *Exchange) Close() (r Report, err error) {
	if x.closed {
		return x.report, nil
	}
	// A stream that ended while parked still gets phase 1 and the logging
	// phase: its audit line misses nothing an unparked one would log.
	_ = x.Resume()
	x.closed = true
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in logging phase: %v", p)
		}
		x.eng.Budgets().End(x.tx)
		_ = x.tx.Close()
		r = x.report
	}()
	x.tx.ProcessLogging()
	// Read after the logging phase: matches are cumulative, and phase-5
	// rules (CRS correlation, 980170) exist only now.
	x.report.Final = x.verdicts.Read(x.tx)
	if st := x.core.opts.Collect; st != nil && x.report.Plan.Policy.Collect && st.Sample() {
		st.Offer(x.sampleRecord(st))
	}
	return x.report, nil
}

// sampleRecord is the exchange as the learning store keeps it: redacted,
// with Bulwark's evidence.
func (x *Exchange) sampleRecord(st *collect.Store) collect.Record {
	r := x.req
	var body []byte
	if rd, err := x.tx.RequestBodyReader(); err == nil && rd != nil {
		body, _ = io.ReadAll(io.LimitReader(rd, int64(x.eng.Config().RequestBodyLimit)))
	}
	uri, headers, b, redacted := st.Redact(r.URI, r.Headers, body)
	rep := x.report
	ev := collect.Evidence{Policy: rep.Plan.Policy.Name, Mode: string(rep.Plan.Policy.Mode), Decision: string(rep.Request.Action), Anomaly: rep.Request.Anomaly}
	for _, m := range rep.Final.Logged() {
		if m.Phase > 2 || IsCRSBlockingRule(m.ID) {
			continue
		}
		ev.Rules = append(ev.Rules, collect.Rule{ID: m.ID, Paranoia: paranoiaOf(m.Tags)})
	}
	if rep.ML != nil {
		ev.Model = &collect.Scores{Overall: rep.ML.Overall, Class: rep.ML.Class}
	}
	if rep.Candidate != nil {
		ev.Candidate = &collect.Scores{Overall: rep.Candidate.Overall, Class: rep.Candidate.Class}
	}
	return collect.Record{ID: rep.ID, Time: time.Now().UTC(), Method: r.Method, URI: uri, Headers: headers, Body: b, Redacted: redacted, Bulwark: ev}
}

// paranoiaOf reads CRS's paranoia-level/N tag; 0 when the rule has none.
func paranoiaOf(tags []string) int {
	for _, t := range tags {
		if n, ok := strings.CutPrefix(t, "paranoia-level/"); ok {
			if v, err := strconv.Atoi(n); err == nil {
				return v
			}
		}
	}
	return 0
}

// StripPort returns the host of a host[:port] authority.
func StripPort(hostport string) string {
	if strings.HasPrefix(hostport, "[") {
		if i := strings.Index(hostport, "]"); i > 0 {
			return hostport[1:i]
		}
	}
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[:i], ":") {
		return hostport[:i]
	}
	return hostport
}

// BodyLimit is the largest body of one direction that is inspected, and
// whether a larger one is refused (reject) or judged on its first Bytes
// (process_partial).
type BodyLimit struct {
	Bytes  int
	Reject bool
}

// Limits are the limits in force for an exchange.
type Limits struct {
	Request, Response BodyLimit
	// DetectionOnly: the WAF never blocks; refusals are logged as
	// would_block.
	DetectionOnly bool
}

// Body is the limit of direction d.
func (l Limits) Body(d Direction) BodyLimit {
	if d == Inbound {
		return l.Request
	}
	return l.Response
}

// RxBytes is how many input bytes the exchange's regular expressions have
// scanned (rx_engine re2), for the work budget.
func (x *Exchange) RxBytes() int64 { return x.budget.Used() }

// Limits are the body limits of the WAF judging this exchange. A response
// the leakage model reads is read to its end (its memory stays bounded by
// the scanner's windows), up to the decoder's output limit; Coraza still
// sees only its own response_body_limit of it.
func (x *Exchange) Limits() Limits {
	c := x.eng.Config()
	l := Limits{
		Request:       BodyLimit{Bytes: c.RequestBodyLimit, Reject: c.RequestBodyLimitAction == waf.LimitReject},
		Response:      BodyLimit{Bytes: c.ResponseBodyLimit, Reject: c.ResponseBodyLimitAction == waf.LimitReject},
		DetectionOnly: c.Engine == waf.EngineDetectionOnly,
	}
	if x.resp != nil && x.resp.scan != nil && !l.Response.Reject {
		l.Response.Bytes = int(min(int64(maxInt), x.core.opts.Decode.MaxOutput))
		if l.Response.Bytes <= 0 {
			l.Response.Bytes = decode.DefaultMaxOutput
		}
	}
	return l
}

const maxInt = int(^uint(0) >> 1)
