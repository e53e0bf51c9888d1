package filter

import (
	"io"
	"strconv"
	"strings"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/verdict"
	"github.com/bulwark-waf/bulwark/waf"
)

// crsBlockingRules are CRS's anomaly-threshold blocks (phase 2 and the
// early-blocking phase 1 one). In modes where the model takes part, Bulwark
// decides on the threshold itself, so CRS must not block on its own.
var crsBlockingRules = []int{949110, 949111}

type ruleRemover interface{ RemoveRuleByID(id int) }

// selectPolicy picks the route's policy and engine from what Envoy sent:
// a policy named in route metadata (filter_metadata.bulwark.policy, when
// Envoy forwards the bulwark namespace), the xds.route_name attribute, then
// host and path.
func (st *stream) selectPolicy(req *extprocv3.ProcessingRequest, attrs map[string]*structpb.Value, host string) {
	p := st.opts.Policies
	if p == nil {
		st.policy = verdict.Policy{Mode: verdict.ModeCRS, MLThreshold: 20, DetectionOnly: st.engine.Config().Engine == waf.EngineDetectionOnly}
		return
	}
	key := verdict.Key{RouteName: attrString(attrs, "xds.route_name"), Host: host, Path: st.uri}
	if i := strings.IndexByte(key.Path, '?'); i >= 0 {
		key.Path = key.Path[:i]
	}
	if md := req.GetMetadataContext().GetFilterMetadata()[st.opts.MetadataNamespace]; md != nil {
		key.Policy = md.GetFields()["policy"].GetStringValue()
	}
	st.policy = p.Select(key)
	if e, ok := st.opts.PolicyEngines[st.policy.Name]; ok {
		st.engine = e
	}
	st.policy.DetectionOnly = st.engine.Config().Engine == waf.EngineDetectionOnly
}

// txVars sets TX variables that rules can read in every phase.
func (st *stream) txVars(vars map[string]string) {
	ts, ok := st.tx.(plugintypes.TransactionState)
	if !ok {
		return
	}
	tx := ts.Variables().TX()
	for k, v := range vars {
		tx.Set(k, []string{v})
	}
}

// prepareDecision runs at request headers, before phase 1.
func (st *stream) prepareDecision() {
	if st.policy.UsesML() && st.opts.Model != nil {
		if rr, ok := st.tx.(ruleRemover); ok {
			for _, id := range crsBlockingRules {
				rr.RemoveRuleByID(id)
			}
		}
	}
	st.clientKey = st.client
	if c := st.opts.SessionCookie; c != "" {
		if v := cookieValue(st.reqHeaders, c); v != "" {
			st.clientKey = "session:" + v
		}
	}
	if h := st.opts.SessionHeader; h != "" {
		if v, ok := lookup(st.reqHeaders, h); ok && v != "" {
			st.clientKey = "session:" + v
		}
	}
	st.recentAttacks = st.opts.Memory.Attacks(st.clientKey)
	st.txVars(map[string]string{
		"bulwark_policy":         st.policy.Name,
		"bulwark_mode":           string(st.policy.Mode),
		"bulwark_client_attacks": strconv.Itoa(st.recentAttacks),
		"bulwark_client_key":     st.clientKey,
	})
}

func cookieValue(hs [][2]string, name string) string {
	for _, h := range hs {
		if h[0] != "cookie" {
			continue
		}
		for _, part := range strings.Split(h[1], ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && k == name {
				return v
			}
		}
	}
	return ""
}

// scoreML runs the model on the request as seen so far and exposes the
// scores to rules as TX:ML_SCORE, TX:ML_SCORE_<CLASS>, TX:ML_LOCATION_<CLASS>
// (part:field) and TX:ML_THRESHOLD.
func (st *stream) scoreML() {
	if st.opts.Model == nil || st.ml != nil {
		return
	}
	r := &model.Request{Method: st.method, URI: st.uri, Headers: st.reqHeaders, ClientIP: st.client}
	if rd, err := st.tx.RequestBodyReader(); err == nil && rd != nil {
		r.Body, _ = io.ReadAll(io.LimitReader(rd, int64(st.engine.Config().RequestBodyLimit)))
	}
	s := st.opts.Model.Score(st.ctx, r)
	st.ml = &s
	st.opts.Metrics.mlCalls.Inc()
	vars := map[string]string{
		"ml_score":     strconv.Itoa(s.Overall),
		"ml_threshold": strconv.Itoa(st.policy.MLThreshold),
	}
	for c, v := range s.Class {
		vars["ml_score_"+c] = strconv.Itoa(v)
		st.opts.Metrics.mlScore.WithLabelValues(c).Observe(float64(v))
	}
	st.opts.Metrics.mlScore.WithLabelValues("overall").Observe(float64(s.Overall))
	for _, l := range s.Locations {
		k := "ml_location_" + l.Class
		if _, dup := vars[k]; !dup {
			vars[k] = l.Part + ":" + l.Field
		}
	}
	st.txVars(vars)
}

// decide combines CRS and the model after phase 2 ran without an
// interruption, and returns the block answer if the policy blocks.
func (st *stream) decide(v waf.Verdict) []*extprocv3.ProcessingResponse {
	p := st.policy
	cfg := st.engine.Config()
	c := verdict.CRS{Score: v.InboundScore, Threshold: cfg.InboundAnomalyThreshold, Rules: v.LoggedIDs(16)}
	if st.recentAttacks >= st.opts.OffenderAttacks && st.opts.OffenderAttacks > 0 {
		// A client that just attacked gets less benefit of the doubt.
		c.Threshold = max(1, c.Threshold-st.opts.OffenderThresholdDrop)
		p.MLThreshold = min(98, p.MLThreshold+st.opts.OffenderMLBoost)
	}
	if st.opts.Model != nil && (p.Mode != verdict.ModeGated || p.Shadow || p.NeedsML(c)) {
		st.scoreML()
	}
	d := verdict.Decide(p, c, st.ml)
	st.decision = &d
	if d.Override {
		st.opts.Metrics.overrides.Inc()
	}
	if d.Block && !p.DetectionOnly {
		st.opts.Metrics.blockedClass(st.ml, p.MLThreshold)
		return st.sendBlock(true, v, 0, st.opts.BlockStatus, "bulwark_blocked_"+string(p.Mode), "request")
	}
	st.action = d.Action
	st.opts.Memory.Record(st.clientKey, d.Block || d.MLAttack || c.Blocks())
	return nil
}

// scoreFields are the score values shared by headers and metadata.
func (st *stream) scoreFields() map[string]string {
	f := map[string]string{}
	if st.ml == nil {
		return f
	}
	f["score"] = strconv.Itoa(st.ml.Overall)
	for c, v := range st.ml.Class {
		f["score-"+c] = strconv.Itoa(v)
	}
	return f
}
