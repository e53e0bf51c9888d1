package inspect

// Action is what Bulwark did, or would do, with one direction of an
// exchange. The values are the labels of bulwark_decisions_total and the
// `action` field of metadata and audit lines.
type Action string

// The actions.
const (
	// ActionNone: the direction has not been judged (yet).
	ActionNone Action = ""
	// ActionAllow: nothing matched.
	ActionAllow Action = "allow"
	// ActionFlag: something matched but not enough to block.
	ActionFlag Action = "flag"
	// ActionBlock: the direction was refused.
	ActionBlock Action = "block"
	// ActionMask: the response body was rewritten with its leaks redacted.
	ActionMask Action = "mask"
	// ActionWouldBlock: it would have been refused, but the engine runs
	// DetectionOnly (or, for responses, blocking is not configured).
	ActionWouldBlock Action = "would_block"
	// ActionErrorOpen and ActionErrorClosed: inspection failed and the
	// configured fail mode passed or refused the request.
	ActionErrorOpen   Action = "error_open"
	ActionErrorClosed Action = "error_closed"
)

// Notable reports whether the action deserves an audit line.
func (a Action) Notable() bool { return a != ActionNone && a != ActionAllow }

// Reason says why a direction was refused. It is the token Envoy logs as
// %RESPONSE_CODE_DETAILS% (ImmediateResponse.details).
type Reason string

// The reasons.
const (
	// ReasonRule: a rule interrupted the transaction (CRS's anomaly
	// threshold in crs mode, or a user rule with deny).
	ReasonRule Reason = "bulwark_blocked"
	// ReasonBodyTooLarge: a body past its limit, under the reject action.
	ReasonBodyTooLarge Reason = "bulwark_body_too_large"
	// ReasonLimit: a parser limit (arguments, JSON depth, multipart parts,
	// headers) was exceeded, so part of the request could not be inspected.
	ReasonLimit Reason = "bulwark_limit_exceeded"
	// ReasonBudget: the request spent its @rx work budget, so some rules
	// never saw it (waf.rx_budget_bytes).
	ReasonBudget Reason = "bulwark_budget_exceeded"
	// ReasonLeak: the response leaked data and its policy blocks leaks.
	ReasonLeak Reason = "bulwark_response_leak"
	// ReasonOverloaded: more streams were open than grpc.max_streams.
	ReasonOverloaded Reason = "bulwark_overloaded"
	// ReasonInternal and ReasonProtocol: Bulwark failed, closed.
	ReasonInternal Reason = "bulwark_internal_error"
	ReasonProtocol Reason = "bulwark_protocol_error"
)

// ReasonDecision is the reason of a block decided by combining CRS and the
// model under mode.
func ReasonDecision(m Mode) Reason { return Reason("bulwark_blocked_" + string(m)) }

// Interruption is a refusal: which rule (0 when none), the HTTP status the
// rule asked for (0 when it named none) and why.
type Interruption struct {
	RuleID int
	Status int
	Reason Reason
}
