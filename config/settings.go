package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Setting is one configurable value, addressable from YAML, environment and
// flags.
type Setting struct {
	Key   string // YAML path, dots between levels
	Usage string
	Get   func(*Config) string
	Set   func(*Config, string) error
}

// Flag is the command-line flag name: the key with dots and underscores as
// dashes.
func (s Setting) Flag() string {
	return strings.NewReplacer(".", "-", "_", "-").Replace(s.Key)
}

// Env is the environment variable: BULWARK_ and the key in upper case.
func (s Setting) Env() string {
	return "BULWARK_" + strings.ToUpper(strings.NewReplacer(".", "_").Replace(s.Key))
}

func str(key, usage string, f func(*Config) *string) Setting {
	return Setting{key, usage, func(c *Config) string { return *f(c) }, func(c *Config, v string) error { *f(c) = v; return nil }}
}

func num(key, usage string, f func(*Config) *int) Setting {
	return Setting{key, usage, func(c *Config) string { return strconv.Itoa(*f(c)) }, func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		*f(c) = n
		return nil
	}}
}

func boolean(key, usage string, f func(*Config) *bool) Setting {
	return Setting{key, usage, func(c *Config) string { return strconv.FormatBool(*f(c)) }, func(c *Config, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*f(c) = b
		return nil
	}}
}

func duration(key, usage string, f func(*Config) *time.Duration) Setting {
	return Setting{key, usage, func(c *Config) string { return f(c).String() }, func(c *Config, v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 15s", v)
		}
		*f(c) = d
		return nil
	}}
}

func num64(key, usage string, f func(*Config) *int64) Setting {
	return Setting{key, usage, func(c *Config) string { return strconv.FormatInt(*f(c), 10) }, func(c *Config, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		*f(c) = n
		return nil
	}}
}

func float(key, usage string, f func(*Config) *float64) Setting {
	return Setting{key, usage, func(c *Config) string { return strconv.FormatFloat(*f(c), 'g', -1, 64) }, func(c *Config, v string) error {
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
		*f(c) = x
		return nil
	}}
}

func list(key, usage string, f func(*Config) *[]string) Setting {
	return Setting{key, usage, func(c *Config) string { return strings.Join(*f(c), ",") }, func(c *Config, v string) error {
		var out []string
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		*f(c) = out
		return nil
	}}
}

// Settings lists every setting in documentation order.
func Settings() []Setting {
	return []Setting{
		str("grpc_addr", "ext_proc gRPC listen address; grpc.health.v1 is served on the same port", func(c *Config) *string { return &c.GRPCAddr }),
		str("admin_addr", "admin HTTP listen address for /healthz, /readyz and /metrics", func(c *Config) *string { return &c.AdminAddr }),
		str("log_level", "debug, info, warn or error", func(c *Config) *string { return &c.LogLevel }),
		str("log_format", "json or text (operational logs go to stderr)", func(c *Config) *string { return &c.LogFormat }),
		str("audit_log", "where the JSON audit line of each flagged or blocked transaction goes: stdout, stderr, off or a file path", func(c *Config) *string { return &c.AuditLog }),
		str("fail_mode", "open passes traffic when inspection fails internally; closed answers block.error_status", func(c *Config) *string { return &c.FailMode }),
		duration("shutdown_timeout", "how long open streams may drain after SIGTERM before they are cut", func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
		num("trusted_hops", "proxies in front of Envoy that append to X-Forwarded-For; 0 uses Envoy's source.address", func(c *Config) *int { return &c.TrustedHops }),
		boolean("mode_override", "answer headers with a mode_override that skips bodies the rules will not read (needs allow_mode_override: true in Envoy)", func(c *Config) *bool { return &c.ModeOverride }),
		str("assumed_request_body_mode", "request body mode assumed when Envoy sends no protocol_config (Envoy < 1.34); set it to the filter's request_body_mode", func(c *Config) *string { return &c.AssumedRequestBodyMode }),
		str("assumed_response_body_mode", "response body mode assumed when Envoy sends no protocol_config", func(c *Config) *string { return &c.AssumedResponseBodyMode }),
		num("grpc_max_message_bytes", "largest ext_proc message accepted; must exceed Envoy's buffer limit for BUFFERED bodies", func(c *Config) *int { return &c.GRPCMaxMessageBytes }),
		num("grpc_max_concurrent_streams", "ext_proc streams (HTTP requests in flight) per Envoy connection", func(c *Config) *int { return &c.GRPCMaxConcurrentStreams }),
		str("grpc.tls_cert_file", "PEM certificate chain: turns on TLS for the ext_proc listener (reloaded on change)", func(c *Config) *string { return &c.GRPC.TLSCertFile }),
		str("grpc.tls_key_file", "PEM private key of grpc.tls_cert_file", func(c *Config) *string { return &c.GRPC.TLSKeyFile }),
		str("grpc.tls_client_ca_file", "PEM CA bundle: require client certificates chaining to it (mutual TLS, only your Envoys may call)", func(c *Config) *string { return &c.GRPC.TLSClientCAFile }),
		num("grpc.max_streams", "ext_proc streams open across all connections; past it a new stream gets the fail-mode answer", func(c *Config) *int { return &c.GRPC.MaxStreams }),
		duration("grpc.max_connection_idle", "close a connection without streams after this long", func(c *Config) *time.Duration { return &c.GRPC.MaxConnectionIdle }),
		duration("grpc.max_connection_age", "close any connection after this long, so connections rebalance", func(c *Config) *time.Duration { return &c.GRPC.MaxConnectionAge }),
		duration("grpc.max_connection_age_grace", "time open streams get after grpc.max_connection_age", func(c *Config) *time.Duration { return &c.GRPC.MaxConnectionAgeGrace }),
		duration("grpc.keepalive_time", "ping a connection idle this long", func(c *Config) *time.Duration { return &c.GRPC.KeepaliveTime }),
		duration("grpc.keepalive_timeout", "close a connection whose ping is not answered within this", func(c *Config) *time.Duration { return &c.GRPC.KeepaliveTimeout }),
		duration("admin.read_timeout", "admin server: time to read a request", func(c *Config) *time.Duration { return &c.Admin.ReadTimeout }),
		duration("admin.write_timeout", "admin server: time to write a response", func(c *Config) *time.Duration { return &c.Admin.WriteTimeout }),
		duration("admin.idle_timeout", "admin server: keep-alive idle time", func(c *Config) *time.Duration { return &c.Admin.IdleTimeout }),
		boolean("admin.pprof", "serve /debug/pprof/ on the admin listener (bind admin_addr to localhost when on)", func(c *Config) *bool { return &c.Admin.Pprof }),
		num("slow_body_bytes", "bodies at least this large get an override_message_timeout before inspection; 0 = never", func(c *Config) *int { return &c.SlowBodyBytes }),
		duration("slow_body_timeout", "message timeout asked of Envoy for such bodies (Envoy caps it at max_message_timeout)", func(c *Config) *time.Duration { return &c.SlowBodyTimeout }),
		num("block.status", "HTTP status of the block page", func(c *Config) *int { return &c.Block.Status }),
		str("block.body", "block page body: page (HTML or JSON with the request id) or empty", func(c *Config) *string { return &c.Block.Body }),
		num("block.error_status", "HTTP status sent when failing closed", func(c *Config) *int { return &c.Block.ErrorStatus }),
		str("metadata.namespace", "Envoy dynamic-metadata namespace for verdicts; list it in metadata_options.receiving_namespaces", func(c *Config) *string { return &c.Metadata.Namespace }),
		num("metadata.max_rules", "most rule ids written to metadata", func(c *Config) *int { return &c.Metadata.MaxRules }),
		boolean("upstream_headers.enabled", "send the verdict to the upstream as request headers", func(c *Config) *bool { return &c.UpstreamHeaders.Enabled }),
		str("upstream_headers.prefix", "prefix of verdict headers; client-sent headers with it are always removed", func(c *Config) *string { return &c.UpstreamHeaders.Prefix }),
		boolean("reload.watch", "reload when the config file or a rule file changes (SIGHUP always reloads)", func(c *Config) *bool { return &c.Reload.Watch }),
		duration("reload.debounce", "wait this long after a file change before reloading", func(c *Config) *time.Duration { return &c.Reload.Debounce }),
		boolean("response.inspect", "score response bodies with the leakage model (secrets, personal data, error pages, source code)", func(c *Config) *bool { return &c.Response.Inspect }),
		num("response.threshold", "a leak class score at or below it is a leak; 0 = the leakage model's default", func(c *Config) *int { return &c.Response.Threshold }),
		str("response.action", "log, flag (metadata only, the default), mask (redact, where the mode allows) or block; per class under response.actions (YAML)", func(c *Config) *string { return &c.Response.Action }),
		num64("response.max_decoded_bytes", "most bytes one decompressed response body may produce", func(c *Config) *int64 { return &c.Response.MaxDecodedBytes }),
		float("response.max_ratio", "decoded/compressed ratio past which a body is a decompression bomb (checked past 1 MiB)", func(c *Config) *float64 { return &c.Response.MaxRatio }),
		list("response.skip_types", "content types not inspected (media, fonts, archives); a missing type is sniffed", func(c *Config) *[]string { return &c.Response.SkipTypes }),
		boolean("learn.collect", "sample traffic into learn.dir for site-adapted models (extproc learn)", func(c *Config) *bool { return &c.Learn.Collect }),
		str("learn.dir", "directory of the rotating JSON Lines sample store", func(c *Config) *string { return &c.Learn.Dir }),
		float("learn.sample_rate", "fraction of exchanges sampled, 0..1", func(c *Config) *float64 { return &c.Learn.SampleRate }),
		num64("learn.max_bytes", "most bytes the sample store keeps; the oldest files go first", func(c *Config) *int64 { return &c.Learn.MaxBytes }),
		num64("learn.file_bytes", "a sample file rotates at this size", func(c *Config) *int64 { return &c.Learn.FileBytes }),
		list("learn.redact_headers", "headers whose values are stored as keyed hashes", func(c *Config) *[]string { return &c.Learn.RedactHeaders }),
		list("learn.redact_fields", "substrings of argument, JSON key and cookie names whose values are stored as keyed hashes", func(c *Config) *[]string { return &c.Learn.RedactFields }),
		str("model.candidate_path", "a model scored in shadow beside the live one; its disagreements are counted and logged, it never decides", func(c *Config) *string { return &c.Model.CandidatePath }),
		str("model.leak_path", "leakage model file; empty uses the embedded model", func(c *Config) *string { return &c.Model.LeakPath }),
		str("waf.engine", "On blocks; DetectionOnly only logs and scores", func(c *Config) *string { return &c.WAF.Engine }),
		num("waf.paranoia_level", "CRS blocking paranoia level, 1 to 4", func(c *Config) *int { return &c.WAF.ParanoiaLevel }),
		num("waf.detection_paranoia_level", "run rules up to this level for scores and logs only; 0 = paranoia_level", func(c *Config) *int { return &c.WAF.DetectionParanoiaLevel }),
		num("waf.inbound_anomaly_threshold", "request anomaly score at which CRS blocks", func(c *Config) *int { return &c.WAF.InboundAnomalyThreshold }),
		num("waf.outbound_anomaly_threshold", "response anomaly score at which CRS blocks", func(c *Config) *int { return &c.WAF.OutboundAnomalyThreshold }),
		boolean("waf.early_blocking", "CRS early blocking: decide at the end of the header phases", func(c *Config) *bool { return &c.WAF.EarlyBlocking }),
		boolean("waf.disable_crs", "load no CRS rules, only waf.rules_files and waf.directives (a rule set of your own)", func(c *Config) *bool { return &c.WAF.DisableCRS }),
		list("waf.rules_files", "SecLang files or globs loaded after CRS (custom rules, exclusions); comma-separated in flags and env", func(c *Config) *[]string { return &c.WAF.RulesFiles }),
		boolean("waf.allow_empty_globs", "let a waf.rules_files glob match nothing (off: an empty glob is an error)", func(c *Config) *bool { return &c.WAF.AllowEmptyGlobs }),
		str("waf.directives", "inline SecLang loaded after waf.rules_files", func(c *Config) *string { return &c.WAF.Directives }),
		num("waf.request_body_limit", "request body bytes inspected; CRS costs about 12 µs per KB", func(c *Config) *int { return &c.WAF.RequestBodyLimit }),
		str("waf.request_body_limit_action", "reject (413) or process_partial (inspect the first request_body_limit bytes, pass the rest)", func(c *Config) *string { return &c.WAF.RequestBodyLimitAction }),
		boolean("waf.response_body_access", "inspect response bodies (CRS 95x data-leak rules)", func(c *Config) *bool { return &c.WAF.ResponseBodyAccess }),
		num("waf.response_body_limit", "response body bytes inspected", func(c *Config) *int { return &c.WAF.ResponseBodyLimit }),
		str("waf.response_body_limit_action", "reject (502) or process_partial", func(c *Config) *string { return &c.WAF.ResponseBodyLimitAction }),
		list("waf.response_body_mime_types", "response content types that are inspected", func(c *Config) *[]string { return &c.WAF.ResponseBodyMimeTypes }),
		boolean("ml.enabled", "score requests with the ML model (scores in metadata, headers and TX variables)", func(c *Config) *bool { return &c.ML.Enabled }),
		str("ml.mode", "how CRS and the model combine: crs, ml, and, or, gated (see docs/MODES.md)", func(c *Config) *string { return &c.ML.Mode }),
		num("ml.threshold", "model score (1 attack .. 99 clean) at or below which a request is an attack; 0 = the model's calibrated default", func(c *Config) *int { return &c.ML.Threshold }),
		num("ml.or_points", "anomaly points a model attack adds in or and gated modes", func(c *Config) *int { return &c.ML.ORPoints }),
		boolean("ml.shadow", "compute and log the model's opinion but let CRS alone decide", func(c *Config) *bool { return &c.ML.Shadow }),
		str("session.cookie", "cookie whose value keys the client memory instead of the IP", func(c *Config) *string { return &c.Session.Cookie }),
		str("session.header", "header whose value keys the client memory instead of the IP", func(c *Config) *string { return &c.Session.Header }),
		num("client_memory.size", "clients (IPs or sessions) whose recent attacks are remembered; least recently seen are forgotten first", func(c *Config) *int { return &c.ClientMemory.Size }),
		duration("client_memory.window", "how long an attack counts against its client", func(c *Config) *time.Duration { return &c.ClientMemory.Window }),
		num("client_memory.offender_attacks", "recent attacks after which a client gets stricter thresholds; 0 = off", func(c *Config) *int { return &c.ClientMemory.OffenderAttacks }),
		num("client_memory.offender_threshold_drop", "how much a repeat offender's CRS anomaly threshold drops", func(c *Config) *int { return &c.ClientMemory.OffenderThresholdDrop }),
		num("client_memory.offender_ml_boost", "how much a repeat offender's model threshold rises", func(c *Config) *int { return &c.ClientMemory.OffenderMLBoost }),
		num("waf.arguments_limit", "values kept per argument collection (query, body); a request reaching it is refused under waf.limit_action reject", func(c *Config) *int { return &c.WAF.ArgumentsLimit }),
		num("waf.json_depth_limit", "deepest JSON request body parsed; deeper is a body error, refused", func(c *Config) *int { return &c.WAF.JSONDepthLimit }),
		num("waf.max_request_headers", "most request headers inspected; more are refused under waf.limit_action reject", func(c *Config) *int { return &c.WAF.MaxRequestHeaders }),
		str("waf.limit_action", "at a parser limit (arguments, headers): reject (400, bulwark_limit_exceeded) or process_partial (inspect what fits, flag)", func(c *Config) *string { return &c.WAF.LimitAction }),
		boolean("waf.rx_prefilter", "Coraza's experimental regex pre-filter: CRS about 2.4x cheaper, but it missed 2 CRS regression stages (932311-7, 942220-2)", func(c *Config) *bool { return &c.WAF.RxPreFilter }),
		list("waf.allowed_methods", "HTTP methods CRS accepts (911100); empty = CRS's default GET HEAD POST OPTIONS", func(c *Config) *[]string { return &c.WAF.AllowedMethods }),
		list("waf.allowed_request_content_types", "request content types CRS accepts (920420); empty = CRS's default", func(c *Config) *[]string { return &c.WAF.AllowedRequestContentTypes }),
		str("model.path", "LightGBM model file; empty uses the model embedded in the binary", func(c *Config) *string { return &c.Model.Path }),
	}
}
