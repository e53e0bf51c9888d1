package waf

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bulwark-waf/bulwark/internal/rx"
)

// Engine modes accepted in Config.Engine. They mirror SecRuleEngine.
const (
	EngineOn            = "On"
	EngineDetectionOnly = "DetectionOnly"
)

// Body limit actions accepted in Config.RequestBodyLimitAction and
// Config.ResponseBodyLimitAction.
const (
	LimitReject         = "reject"
	LimitProcessPartial = "process_partial"
)

// ErrInvalidConfig is wrapped by every validation error so callers can tell a
// bad setting from a bad rule file.
var ErrInvalidConfig = errors.New("invalid waf config")

// Config is the CRS and Coraza part of Bulwark's settings. The YAML keys sit
// under `waf:` in the config file.
type Config struct {
	// Engine is On (block) or DetectionOnly (log, never block).
	Engine string `yaml:"engine" usage:"On blocks; DetectionOnly only logs and scores"`
	// ParanoiaLevel is CRS's blocking paranoia level, 1 to 4.
	ParanoiaLevel int `yaml:"paranoia_level" usage:"CRS blocking paranoia level, 1 to 4"`
	// DetectionParanoiaLevel runs rules up to this level for scoring and logs
	// without letting them block. 0 means the same as ParanoiaLevel.
	DetectionParanoiaLevel int `yaml:"detection_paranoia_level" usage:"run rules up to this level for scores and logs only; 0 = paranoia_level"`
	// InboundAnomalyThreshold is the request anomaly score at which CRS blocks.
	InboundAnomalyThreshold int `yaml:"inbound_anomaly_threshold" usage:"request anomaly score at which CRS blocks"`
	// OutboundAnomalyThreshold is the response anomaly score at which CRS
	// blocks (or, under a response policy that does not block, flags).
	OutboundAnomalyThreshold int `yaml:"outbound_anomaly_threshold" usage:"response anomaly score at which CRS blocks the response (flags it unless response.action is block)"`
	// EarlyBlocking lets CRS block at the end of phases 1 and 3 instead of
	// waiting for the body phases.
	EarlyBlocking bool `yaml:"early_blocking" usage:"CRS early blocking: decide at the end of the header phases"`
	// DisableCRS loads no CRS rules, only RulesFiles and Directives: for a
	// rule set of your own, or a test suite that brings its rules.
	DisableCRS bool `yaml:"disable_crs" usage:"load no CRS rules, only waf.rules_files and waf.directives (a rule set of your own)"`
	// RulesFiles are SecLang files or globs loaded after CRS: custom rules and
	// rule exclusions.
	RulesFiles []string `yaml:"rules_files" usage:"SecLang files or globs loaded after CRS (custom rules, exclusions); comma-separated in flags and env"`
	// AllowEmptyGlobs lets a rules_files glob match nothing. Off, an empty
	// glob is an error: a typo in a mount path would otherwise drop every
	// custom rule without a word.
	AllowEmptyGlobs bool `yaml:"allow_empty_globs" usage:"let a waf.rules_files glob match nothing (off: an empty glob is an error)"`
	// Directives is inline SecLang loaded after RulesFiles.
	Directives string `yaml:"directives" usage:"inline SecLang loaded after waf.rules_files"`
	// RequestBodyLimit is the largest request body, in bytes, that is inspected.
	RequestBodyLimit int `yaml:"request_body_limit" usage:"request body bytes inspected; CRS costs about 12 µs per KB"`
	// RequestBodyLimitAction is what happens past RequestBodyLimit: reject
	// (413) or process_partial (inspect the first RequestBodyLimit bytes).
	RequestBodyLimitAction string `yaml:"request_body_limit_action" usage:"reject (413) or process_partial (inspect the first request_body_limit bytes, pass the rest)"`
	// ResponseBodyAccess turns response body inspection (phase 4) on.
	ResponseBodyAccess bool `yaml:"response_body_access" usage:"inspect response bodies (CRS 95x data-leak rules)"`
	// ResponseBodyLimit is the largest response body, in bytes, that is inspected.
	ResponseBodyLimit int `yaml:"response_body_limit" usage:"response body bytes inspected"`
	// ResponseBodyLimitAction is reject (the client gets an error) or
	// process_partial.
	ResponseBodyLimitAction string `yaml:"response_body_limit_action" usage:"reject (502) or process_partial"`
	// ResponseBodyMimeTypes are the response content types phase 4 inspects.
	ResponseBodyMimeTypes []string `yaml:"response_body_mime_types" usage:"response content types that are inspected"`
	// RxPreFilter turns on Coraza's experimental @rx pre-filter, for
	// RxEngine go only: about 2.4× less CRS time, but in the CRS regression
	// suite it misses two stages that match without it (932311-7, 942220-2;
	// docs/CORAZA-UPSTREAM.md), so it is off by default.
	RxPreFilter bool `yaml:"rx_prefilter" usage:"Coraza's experimental regex pre-filter, rx_engine go only: CRS cheaper, but it missed 2 CRS regression stages (932311-7, 942220-2)"`
	// RxEngine picks the @rx implementation: re2 (Bulwark's operator in
	// internal/rx: RE2 behind an exact literal prefilter, falling back to
	// Coraza's operator wherever the two could differ; and Coraza's @pm,
	// @pmFromFile behind an exact phrase-DFA gate) or go (Coraza's own
	// operators, unchanged).
	// RxPreFilter is Coraza's prefilter for the go engine; the re2 engine
	// has its own and rejects it.
	// RxBudgetBytes bounds the input bytes the @rx operators of one
	// transaction may scan (rx_engine re2). Past it the remaining
	// evaluations are skipped and the request gets the request body limit
	// action: refused under reject. 0 is no bound.
	RxBudgetBytes int64     `yaml:"rx_budget_bytes" usage:"input bytes the regular expressions of one request may scan (rx_engine re2); past it the request gets the request body limit action; 0 = no bound"`
	RxEngine      rx.Engine `yaml:"rx_engine" usage:"@rx implementation: re2 (RE2 with an exact literal prefilter and Coraza fallback, plus an exact phrase gate in front of Coraza's @pm; the default) or go (Coraza's own operators)"`
	// ArgumentsLimit is how many values Coraza keeps per argument
	// collection (query, body). Rules never see values past it, so a
	// request that reaches it is refused unless LimitAction is
	// process_partial.
	ArgumentsLimit int `yaml:"arguments_limit" usage:"values kept per argument collection (query, body); a request reaching it is refused under waf.limit_action reject"`
	// JSONDepthLimit is the deepest JSON request body Coraza parses; a
	// deeper one is a body error, which the recommended rules refuse.
	JSONDepthLimit int `yaml:"json_depth_limit" usage:"deepest JSON request body parsed; deeper is a body error, refused"`
	// MaxRequestHeaders is the most request headers a request may carry;
	// more are refused under LimitAction reject.
	MaxRequestHeaders int `yaml:"max_request_headers" usage:"most request headers inspected; more are refused under waf.limit_action reject"`
	// LimitAction is what happens at a parser limit (arguments_limit,
	// max_request_headers): reject (400, reason bulwark_limit_exceeded) or
	// process_partial (inspect what fits, flag the request).
	LimitAction string `yaml:"limit_action" usage:"at a parser limit (arguments, headers): reject (400, bulwark_limit_exceeded) or process_partial (inspect what fits, flag)"`
	// AllowedMethods are the methods CRS accepts (rule 911100); empty keeps
	// CRS's own default, GET HEAD POST OPTIONS.
	AllowedMethods []string `yaml:"allowed_methods" usage:"HTTP methods CRS accepts (911100); empty = CRS's default GET HEAD POST OPTIONS"`
	// AllowedRequestContentTypes are the request content types CRS accepts
	// (rule 920420); empty keeps CRS's own default.
	AllowedRequestContentTypes []string `yaml:"allowed_request_content_types" usage:"request content types CRS accepts (920420); empty = CRS's default"`
}

// DefaultConfig is CRS at paranoia level 1 with its standard thresholds,
// blocking, request bodies over 128 KiB rejected, and the first 512 KiB of
// text and JSON responses inspected. The body limit is low on purpose: CRS
// costs about 12 µs per KB of argument, so a 1 MiB body is a second of CPU.
func DefaultConfig() Config {
	return Config{
		Engine:                   EngineOn,
		ParanoiaLevel:            1,
		InboundAnomalyThreshold:  5,
		OutboundAnomalyThreshold: 4,
		RequestBodyLimit:         128 << 10,
		RequestBodyLimitAction:   LimitReject,
		ResponseBodyAccess:       true,
		ResponseBodyLimit:        512 << 10,
		ResponseBodyLimitAction:  LimitProcessPartial,
		RxEngine:                 rx.EngineRE2,
		RxBudgetBytes:            16 << 20,
		ResponseBodyMimeTypes:    []string{"text/plain", "text/html", "text/xml", "application/json"},
		ArgumentsLimit:           1000,
		JSONDepthLimit:           64,
		MaxRequestHeaders:        128,
		LimitAction:              LimitReject,
		// REST APIs in a mesh use PUT, PATCH and DELETE, and plain-text
		// bodies; CRS's narrower defaults block them at paranoia level 1.
		AllowedMethods: []string{"GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"},
		AllowedRequestContentTypes: []string{"application/x-www-form-urlencoded", "multipart/form-data", "multipart/related",
			"text/xml", "application/xml", "application/soap+xml", "application/json", "application/cloudevents+json",
			"application/cloudevents-batch+json", "text/plain"},
	}
}

// maxBodyLimit keeps a typo from turning into gigabytes of buffered bodies per stream.
const maxBodyLimit = 512 << 20

// Validate reports the first bad setting, naming its YAML key under waf.
func (c Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("%w: waf.%s: %s", ErrInvalidConfig, key, fmt.Sprintf(format, args...))
	}
	switch c.Engine {
	case EngineOn, EngineDetectionOnly:
	default:
		return bad("engine", "%q is not one of On, DetectionOnly", c.Engine)
	}
	if c.ParanoiaLevel < 1 || c.ParanoiaLevel > 4 {
		return bad("paranoia_level", "%d is outside 1..4", c.ParanoiaLevel)
	}
	if c.DetectionParanoiaLevel != 0 && (c.DetectionParanoiaLevel < c.ParanoiaLevel || c.DetectionParanoiaLevel > 4) {
		return bad("detection_paranoia_level", "%d must be 0 or between paranoia_level (%d) and 4", c.DetectionParanoiaLevel, c.ParanoiaLevel)
	}
	if c.InboundAnomalyThreshold < 1 {
		return bad("inbound_anomaly_threshold", "%d must be at least 1", c.InboundAnomalyThreshold)
	}
	if c.OutboundAnomalyThreshold < 1 {
		return bad("outbound_anomaly_threshold", "%d must be at least 1", c.OutboundAnomalyThreshold)
	}
	if c.RequestBodyLimit < 1 || c.RequestBodyLimit > maxBodyLimit {
		return bad("request_body_limit", "%d is outside 1..%d bytes", c.RequestBodyLimit, maxBodyLimit)
	}
	if c.ResponseBodyLimit < 1 || c.ResponseBodyLimit > maxBodyLimit {
		return bad("response_body_limit", "%d is outside 1..%d bytes", c.ResponseBodyLimit, maxBodyLimit)
	}
	if c.ArgumentsLimit < 1 || c.ArgumentsLimit > 100000 {
		return bad("arguments_limit", "%d is outside 1..100000", c.ArgumentsLimit)
	}
	if c.JSONDepthLimit < 1 || c.JSONDepthLimit > 10000 {
		return bad("json_depth_limit", "%d is outside 1..10000", c.JSONDepthLimit)
	}
	if c.MaxRequestHeaders < 1 || c.MaxRequestHeaders > 10000 {
		return bad("max_request_headers", "%d is outside 1..10000", c.MaxRequestHeaders)
	}
	for key, v := range map[string]string{"request_body_limit_action": c.RequestBodyLimitAction, "response_body_limit_action": c.ResponseBodyLimitAction, "limit_action": c.LimitAction} {
		if v != LimitReject && v != LimitProcessPartial {
			return bad(key, "%q is not one of reject, process_partial", v)
		}
	}
	for i, m := range c.ResponseBodyMimeTypes {
		if m == "" || strings.ContainsAny(m, " \t\"") {
			return bad(fmt.Sprintf("response_body_mime_types[%d]", i), "%q is not a media type", m)
		}
	}
	for i, m := range c.AllowedMethods {
		if m == "" || strings.ContainsAny(m, " \t|'\"") {
			return bad(fmt.Sprintf("allowed_methods[%d]", i), "%q is not a method", m)
		}
	}
	for i, m := range c.AllowedRequestContentTypes {
		if m == "" || strings.ContainsAny(m, " \t|'\"") {
			return bad(fmt.Sprintf("allowed_request_content_types[%d]", i), "%q is not a media type", m)
		}
	}
	if c.RxBudgetBytes < 0 {
		return bad("rx_budget_bytes", "%d is negative", c.RxBudgetBytes)
	}
	if !c.RxEngine.Valid() {
		return bad("rx_engine", "%q is not one of re2, go", c.RxEngine)
	}
	if c.RxPreFilter && c.RxEngine == rx.EngineRE2 {
		return bad("rx_prefilter", "applies to rx_engine go only; rx_engine re2 has its own exact prefilter")
	}
	for i, f := range c.RulesFiles {
		if strings.TrimSpace(f) == "" {
			return bad(fmt.Sprintf("rules_files[%d]", i), "empty path")
		}
	}
	return nil
}

func (c Config) detectionLevel() int {
	if c.DetectionParanoiaLevel == 0 {
		return c.ParanoiaLevel
	}
	return c.DetectionParanoiaLevel
}

func limitAction(a string) string {
	if a == LimitProcessPartial {
		return "ProcessPartial"
	}
	return "Reject"
}

// baseDirectives renders everything that comes before the user's rule files.
func (c Config) baseDirectives() string {
	var b strings.Builder
	b.WriteString("Include @coraza.conf-recommended\n")
	if c.RxPreFilter {
		b.WriteString("SecRxPreFilter On\n")
	}
	fmt.Fprintf(&b, "SecRuleEngine %s\n", c.Engine)
	fmt.Fprintf(&b, "SecRequestBodyLimit %d\n", c.RequestBodyLimit)
	// The in-memory limit equals the body limit so Coraza never spills bodies
	// to temporary files: the container runs with a read-only root filesystem.
	fmt.Fprintf(&b, "SecRequestBodyInMemoryLimit %d\n", c.RequestBodyLimit)
	fmt.Fprintf(&b, "SecRequestBodyLimitAction %s\n", limitAction(c.RequestBodyLimitAction))
	fmt.Fprintf(&b, "SecArgumentsLimit %d\n", c.ArgumentsLimit)
	fmt.Fprintf(&b, "SecRequestBodyJsonDepthLimit %d\n", c.JSONDepthLimit)
	if c.ResponseBodyAccess {
		b.WriteString("SecResponseBodyAccess On\n")
	} else {
		b.WriteString("SecResponseBodyAccess Off\n")
	}
	fmt.Fprintf(&b, "SecResponseBodyLimit %d\n", c.ResponseBodyLimit)
	fmt.Fprintf(&b, "SecResponseBodyLimitAction %s\n", limitAction(c.ResponseBodyLimitAction))
	if len(c.ResponseBodyMimeTypes) > 0 {
		b.WriteString("SecResponseBodyMimeTypesClear\n")
		fmt.Fprintf(&b, "SecResponseBodyMimeType %s\n", strings.Join(c.ResponseBodyMimeTypes, " "))
	}
	// Bulwark writes its own JSON audit line per decision.
	b.WriteString("SecAuditEngine Off\n")
	if c.DisableCRS {
		for _, phase := range []int{1, 2, 3, 4, 5} {
			fmt.Fprintf(&b, "SecDefaultAction \"phase:%d,log,auditlog,pass\"\n", phase)
		}
		return b.String()
	}
	b.WriteString("Include @crs-setup.conf.example\n")
	fmt.Fprintf(&b, "SecAction \"id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level=%d\"\n", c.ParanoiaLevel)
	fmt.Fprintf(&b, "SecAction \"id:900001,phase:1,pass,t:none,nolog,setvar:tx.detection_paranoia_level=%d\"\n", c.detectionLevel())
	fmt.Fprintf(&b, "SecAction \"id:900110,phase:1,pass,t:none,nolog,setvar:tx.inbound_anomaly_score_threshold=%d,setvar:tx.outbound_anomaly_score_threshold=%d\"\n",
		c.InboundAnomalyThreshold, c.OutboundAnomalyThreshold)
	if len(c.AllowedMethods) > 0 {
		fmt.Fprintf(&b, "SecAction \"id:900200,phase:1,pass,t:none,nolog,setvar:'tx.allowed_methods=%s'\"\n", strings.Join(c.AllowedMethods, " "))
	}
	if len(c.AllowedRequestContentTypes) > 0 {
		fmt.Fprintf(&b, "SecAction \"id:900220,phase:1,pass,t:none,nolog,setvar:'tx.allowed_request_content_type=|%s|'\"\n", strings.Join(c.AllowedRequestContentTypes, "| |"))
	}
	// crs-setup only sets default actions for phases 1 and 2; without these,
	// Coraza compiles CRS's response and correlation rules without log, so
	// they never show in audit lines or metadata (ModSecurity's built-in
	// default logs them).
	for _, phase := range []int{3, 4, 5} {
		fmt.Fprintf(&b, "SecDefaultAction \"phase:%d,log,auditlog,pass\"\n", phase)
	}
	if c.EarlyBlocking {
		b.WriteString("SecAction \"id:900120,phase:1,pass,t:none,nolog,setvar:tx.early_blocking=1\"\n")
	}
	b.WriteString("Include @owasp_crs/*.conf\n")
	return b.String()
}
