package inspect

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bulwark-waf/bulwark/internal/collect"
	"github.com/bulwark-waf/bulwark/internal/decode"
	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/model/leak"
	"github.com/bulwark-waf/bulwark/waf"
)

// crsBlockingRules are CRS's anomaly-threshold blocks (phase 2 and the
// early-blocking phase 1 one). In modes where the model takes part, Bulwark
// decides on the threshold itself, so CRS must not block on its own; their
// matches are not evidence either.
var crsBlockingRules = [...]int{949110, 949111}

// crsOutboundBlockingRules are CRS's outbound anomaly-threshold blocks
// (phase 4, and phase 3 under early blocking). Response verdicts follow the
// response policy's action: unless it is block, Bulwark reports CRS's
// outbound threshold (would_block) instead of letting CRS refuse the
// response, as response inspection never blocks unless configured to.
var crsOutboundBlockingRules = [...]int{959100, 959101}

// IsCRSBlockingRule reports whether id is one of CRS's own threshold rules.
func IsCRSBlockingRule(id int) bool { return id == crsBlockingRules[0] || id == crsBlockingRules[1] }

// DefaultMLThreshold is the model threshold used when neither the config
// nor the model file names one.
const DefaultMLThreshold = 20

// Session names where a session key comes from, for the client memory.
type Session struct {
	Cookie string
	Header string
}

// Offender makes Bulwark stricter with a client that attacked recently: at
// least Attacks recent attacks lower the CRS threshold by ThresholdDrop and
// raise the model threshold by MLBoost. Attacks 0 turns it off.
type Offender struct {
	Attacks       int
	ThresholdDrop int
	MLBoost       int
}

// Options are everything a Core is built from.
type Options struct {
	// Engine is the default policy's compiled WAF (required).
	Engine *waf.Engine
	// PolicyEngines holds the WAF of each policy that overrides WAF
	// settings, by policy name; other policies use Engine.
	PolicyEngines map[string]*waf.Engine
	// Model scores requests; nil runs CRS alone.
	Model *model.Model
	// Policies choose how CRS and the model combine, per route; nil is CRS
	// alone.
	Policies *Set
	// Memory remembers recent attacks per client; nil remembers nothing.
	Memory   *Memory
	Session  Session
	Offender Offender
	// Metrics may be nil.
	Metrics *Metrics
	// Leak scores response bodies for data leakage; nil turns the leakage
	// model off. Decode bounds decompression and Types names the content
	// types that are not inspected.
	Leak   *leak.Model
	Decode decode.Limits
	Types  decode.Types
	// Candidate is a model scored in shadow beside Model: it never decides,
	// but its disagreements are counted and logged, so a site-adapted
	// model can be promoted (made Model) on evidence.
	Candidate *model.Model
	// Collect samples exchanges of policies with Collect set; nil
	// collects nothing.
	Collect *collect.Store
}

// Core answers "inspect this exchange and decide". It is immutable and safe
// for concurrent use; a reload builds a new one. The ext_proc server, the
// command-line tools, the conformance baseline and the benchmarks all go
// through it, so "bare" means the same path without gRPC.
type Core struct {
	opts Options
}

// ErrNoEngine is returned when Options carry no WAF engine.
var ErrNoEngine = errors.New("inspect: Options.Engine is required")

// New checks opts and returns the core.
func New(opts Options) (*Core, error) {
	if opts.Engine == nil {
		return nil, ErrNoEngine
	}
	if opts.Policies != nil {
		if err := opts.Policies.Validate(); err != nil {
			return nil, err
		}
		for name := range opts.PolicyEngines {
			if opts.PolicyEngines[name] == nil {
				return nil, fmt.Errorf("inspect: policy %q has a nil engine", name)
			}
		}
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	if opts.Decode.MaxOutput <= 0 {
		opts.Decode.MaxOutput = decode.DefaultMaxOutput
	}
	return &Core{opts: opts}, nil
}

// Engine is the default policy's WAF.
func (c *Core) Engine() *waf.Engine { return c.opts.Engine }

// Model is the request model, nil when the model is off.
func (c *Core) Model() *model.Model { return c.opts.Model }

// Head is what the request headers tell about an exchange.
type Head struct {
	// Request carries method, URI, protocol, headers (lower-case names, no
	// pseudo-headers, host included), the client and server addresses and
	// the request id; the body is written later.
	Request *model.Request
	// Route is what Envoy said about the route, for policy selection. Its
	// Host and Path default to the request's.
	Route Key
}

// Plan is what one exchange will run and with which thresholds: the policy
// after the client's offender adjustment.
type Plan struct {
	Policy Policy
	// CRSThreshold is the inbound anomaly threshold in force.
	CRSThreshold int
	// ModelEarly: the model scores before phase 2, so rules can read
	// TX:ML_SCORE*. Otherwise (gated mode) it runs only when its points
	// could change the outcome.
	ModelEarly bool
	// ClientKey is the client memory key (IP or session) and
	// RecentAttacks what the memory knew about it.
	ClientKey     string
	RecentAttacks int
	// Offender: the stricter thresholds apply.
	Offender bool
}

// plan chooses the policy and engine for h.
func (c *Core) plan(h Head) (Plan, *waf.Engine) {
	eng := c.opts.Engine
	var p Policy
	if c.opts.Policies == nil {
		p = Policy{Mode: ModeCRS, MLThreshold: DefaultMLThreshold}
	} else {
		k := h.Route
		if k.Host == "" {
			k.Host, _ = h.Request.Header("host")
		}
		if k.Path == "" {
			k.Path, _, _ = strings.Cut(h.Request.URI, "?")
		}
		p = c.opts.Policies.Select(k)
		if e, ok := c.opts.PolicyEngines[p.Name]; ok {
			eng = e
		}
	}
	p.DetectionOnly = eng.Config().Engine == waf.EngineDetectionOnly
	pl := Plan{Policy: p, CRSThreshold: eng.Config().InboundAnomalyThreshold}
	pl.ModelEarly = c.opts.Model != nil && (p.Mode != ModeGated || p.Shadow)
	pl.ClientKey = h.Request.ClientIP
	if name := c.opts.Session.Cookie; name != "" {
		if v := h.Request.Cookie(name); v != "" {
			pl.ClientKey = "session:" + v
		}
	}
	if name := c.opts.Session.Header; name != "" {
		if v, ok := h.Request.Header(name); ok && v != "" {
			pl.ClientKey = "session:" + v
		}
	}
	pl.RecentAttacks = c.opts.Memory.Attacks(pl.ClientKey)
	if o := c.opts.Offender; o.Attacks > 0 && pl.RecentAttacks >= o.Attacks {
		// A client that just attacked gets less benefit of the doubt.
		pl.Offender = true
		pl.CRSThreshold = max(1, pl.CRSThreshold-o.ThresholdDrop)
		pl.Policy.MLThreshold = min(98, pl.Policy.MLThreshold+o.MLBoost)
	}
	return pl, eng
}

// Inspect runs a whole request in-process: the same sequence the ext_proc
// server runs, without gRPC. It is what `extproc check`, `eval`, `modes`,
// the conformance suite's bare baseline and the benchmarks call. The
// report is final: the logging phase has run.
func (c *Core) Inspect(ctx context.Context, r *model.Request) (Report, error) {
	x := c.Begin(ctx, Head{Request: r})
	if err := x.inspectRequest(r.Body); err != nil {
		_, _ = x.Close()
		return Report{}, err
	}
	return x.Close()
}

func (x *Exchange) inspectRequest(body []byte) error {
	if it := x.RequestHeaders(); it != nil {
		return nil
	}
	if len(body) > 0 && x.RequestBodyAccessible() {
		it, err := x.WriteRequestBody(body)
		if err != nil || it != nil {
			return err
		}
	}
	_, err := x.FinishRequest()
	return err
}
