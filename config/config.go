package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/waf"
)

// ErrInvalid is wrapped by every error about a bad setting.
var ErrInvalid = errors.New("invalid config")

// Config is every Bulwark setting. YAML keys are the yaml tags; flags and
// environment variables are derived from them (see Settings).
type Config struct {
	GRPCAddr                 string        `yaml:"grpc_addr" usage:"ext_proc gRPC listen address; grpc.health.v1 is served on the same port"`
	AdminAddr                string        `yaml:"admin_addr" usage:"admin HTTP listen address for /healthz, /readyz and /metrics"`
	LogLevel                 string        `yaml:"log_level" usage:"debug, info, warn or error"`
	LogFormat                string        `yaml:"log_format" usage:"json or text (operational logs go to stderr)"`
	AuditLog                 string        `yaml:"audit_log" usage:"where the JSON audit line of each flagged or blocked transaction goes: stdout, stderr, off or a file path"`
	FailMode                 string        `yaml:"fail_mode" usage:"open passes traffic when inspection fails internally; closed answers block.error_status"`
	ShutdownTimeout          time.Duration `yaml:"shutdown_timeout" usage:"how long open streams may drain after SIGTERM before they are cut"`
	TrustedHops              int           `yaml:"trusted_hops" usage:"proxies in front of Envoy that append to X-Forwarded-For; 0 uses Envoy's source.address"`
	ModeOverride             bool          `yaml:"mode_override" usage:"answer headers with a mode_override that skips bodies the rules will not read (needs allow_mode_override: true in Envoy)"`
	DeferBufferedHeaders     bool          `yaml:"defer_buffered_headers" usage:"when Envoy buffers the request body (BUFFERED or BUFFERED_PARTIAL in its protocol_config), run phase 1 with the body instead of at the headers: a stream waiting for its body holds no Coraza transaction, but a phase-1 block waits for the body and mode_override cannot skip it"`
	MaxWaitingTransactions   int           `yaml:"max_waiting_transactions" usage:"streams that keep their Coraza transaction (phase 1's state, about 40 KiB) while they wait for the request body; past this many a waiting stream releases it, costs about 12 KiB, and phase 1 runs again when the body comes; 0 = no bound"`
	AssumedRequestBodyMode   string        `yaml:"assumed_request_body_mode" usage:"request body mode assumed when Envoy sends no protocol_config (Envoy < 1.34); set it to the filter's request_body_mode"`
	AssumedResponseBodyMode  string        `yaml:"assumed_response_body_mode" usage:"response body mode assumed when Envoy sends no protocol_config"`
	GRPCMaxMessageBytes      int           `yaml:"grpc_max_message_bytes" usage:"largest ext_proc message accepted; must exceed Envoy's buffer limit for BUFFERED bodies"`
	GRPCMaxConcurrentStreams int           `yaml:"grpc_max_concurrent_streams" usage:"ext_proc streams (HTTP requests in flight) per Envoy connection"`
	SlowBodyBytes            int           `yaml:"slow_body_bytes" usage:"bodies at least this large get an override_message_timeout before inspection; 0 = never"`
	SlowBodyTimeout          time.Duration `yaml:"slow_body_timeout" usage:"message timeout asked of Envoy for such bodies (Envoy caps it at max_message_timeout)"`
	GRPC                     GRPC          `yaml:"grpc"`
	Admin                    Admin         `yaml:"admin"`
	Block                    Block         `yaml:"block"`
	Metadata                 Metadata      `yaml:"metadata"`
	UpstreamHeaders          Headers       `yaml:"upstream_headers"`
	Reload                   Reload        `yaml:"reload"`
	WAF                      waf.Config    `yaml:"waf"`
	Model                    Model         `yaml:"model"`
	ML                       ML            `yaml:"ml"`
	Response                 Response      `yaml:"response"`
	Learn                    Learn         `yaml:"learn"`
	Session                  Session       `yaml:"session"`
	ClientMemory             ClientMemory  `yaml:"client_memory"`
	// Policies are per-route overrides, YAML only.
	Policies []Policy `yaml:"policies" yamlonly:"per-route overrides of the default policy (mode, thresholds, paranoia level, engine, response inspection, collection), chosen by route metadata, xds.route_name, host and path prefix"`
}

// ML configures how the model takes part in the default policy.
type ML struct {
	Enabled bool `yaml:"enabled" usage:"score requests with the ML model (scores in metadata, headers and TX variables)"`
	// Mode is crs, ml, and, or or gated (see verdict.Mode).
	Mode string `yaml:"mode" usage:"how CRS and the model combine: crs, ml, and, or, gated, confirm (see docs/MODES.md)"`
	// Threshold: a score at or below it is an attack; 0 takes the model's
	// calibrated default.
	Threshold int `yaml:"threshold" usage:"model score (1 attack .. 99 clean) at or below which a request is an attack; 0 = the model's calibrated default"`
	ORPoints  int `yaml:"or_points" usage:"anomaly points a model attack adds in or and gated modes"`
	// ClearScore: in confirm mode a CRS block of a class the model covers
	// is overruled when the model saw the whole request and scores it
	// above this.
	ClearScore int `yaml:"clear_score" usage:"confirm mode: a CRS block of a class the model covers (not protocol, scanner or your own rules) is overruled when the model saw the whole request and scores it above this (1..99)"`
	// ClearShapeless: a request whose distrusted fields have no attack
	// shape (only novelty) also overrules such a block.
	ClearShapeless bool `yaml:"clear_shapeless" usage:"confirm mode: a request the model saw whole also overrules such a CRS block when no field it scores at or below clear_score has an attack shape"`
	Shadow         bool `yaml:"shadow" usage:"compute and log the model's opinion but let CRS alone decide"`
}

// Response configures response inspection by the leakage model, for the
// default policy. CRS's outbound rules are configured under waf.
type Response struct {
	// Inspect scores response bodies for leaked secrets, personal data,
	// error pages and source code.
	Inspect bool `yaml:"inspect" usage:"score response bodies with the leakage model (secrets, personal data, error pages, source code)"`
	// Threshold: a class score at or below it is a leak; 0 takes the
	// leakage model's calibrated default.
	Threshold int `yaml:"threshold" usage:"a leak class score at or below it is a leak; 0 = the leakage model's default"`
	// Action is log, flag, mask or block, for every class Actions does not
	// name. flag (the default) never changes a response.
	Action string `yaml:"action" usage:"log, flag (metadata only, the default), mask (redact, where the mode allows) or block; per class under response.actions (YAML)"`
	// Actions are per-class actions (secret, pii, error, source), YAML only.
	Actions map[string]string `yaml:"actions" yamlonly:"per-class leak actions, e.g. {secret: block, pii: mask}"`
	// MaxDecodedBytes bounds one decompressed body; MaxRatio refuses a
	// decompression bomb by its decoded/compressed ratio.
	MaxDecodedBytes int64   `yaml:"max_decoded_bytes" usage:"most bytes one decompressed response body may produce"`
	MaxRatio        float64 `yaml:"max_ratio" usage:"decoded/compressed ratio past which a body is a decompression bomb (checked past 1 MiB)"`
	// SkipTypes are content types that are not inspected (media, fonts,
	// archives); a missing type is sniffed, never skipped.
	SkipTypes []string `yaml:"skip_types" usage:"content types not inspected (media, fonts, archives); a missing type is sniffed"`
}

// Learn configures the sampling of traffic for site-adapted models
// (`extproc learn`).
type Learn struct {
	// Collect samples the default policy's traffic (policies can turn it
	// on or off with collect).
	Collect bool `yaml:"collect" usage:"sample traffic into learn.dir for site-adapted models (extproc learn)"`
	// Dir is where the rotating JSON Lines store lives.
	Dir string `yaml:"dir" usage:"directory of the rotating JSON Lines sample store"`
	// SampleRate is the fraction of exchanges kept, 0..1.
	SampleRate float64 `yaml:"sample_rate" usage:"fraction of exchanges sampled, 0..1"`
	// MaxBytes bounds the store; FileBytes is when a file rotates.
	MaxBytes  int64 `yaml:"max_bytes" usage:"most bytes the sample store keeps; the oldest files go first"`
	FileBytes int64 `yaml:"file_bytes" usage:"a sample file rotates at this size"`
	// RedactHeaders are hashed whole; RedactFields are substrings of
	// argument, JSON key and cookie names whose values are hashed. Cookies
	// are always hashed.
	RedactHeaders []string `yaml:"redact_headers" usage:"headers whose values are stored as keyed hashes"`
	RedactFields  []string `yaml:"redact_fields" usage:"substrings of argument, JSON key and cookie names whose values are stored as keyed hashes"`
}

// Session names where a session key comes from, for the client memory.
type Session struct {
	Cookie string `yaml:"cookie" usage:"cookie whose value keys the client memory instead of the IP"`
	Header string `yaml:"header" usage:"header whose value keys the client memory instead of the IP"`
}

// ClientMemory bounds the per-client memory of recent attacks.
type ClientMemory struct {
	Size                  int           `yaml:"size" usage:"clients (IPs or sessions) whose recent attacks are remembered; least recently seen are forgotten first"`
	Window                time.Duration `yaml:"window" usage:"how long an attack counts against its client"`
	OffenderAttacks       int           `yaml:"offender_attacks" usage:"recent attacks after which a client gets stricter thresholds; 0 = off, the default: everyone behind one address (a NAT, a proxy, a load test) would share an attacker's thresholds"`
	OffenderThresholdDrop int           `yaml:"offender_threshold_drop" usage:"how much a repeat offender's CRS anomaly threshold drops"`
	OffenderMLBoost       int           `yaml:"offender_ml_boost" usage:"how much a repeat offender's model threshold rises"`
}

// Policy overrides the default decision for matching routes. Zero values
// inherit the top-level setting.
type Policy struct {
	Name                    string `yaml:"name"`
	Route                   string `yaml:"route"`
	Host                    string `yaml:"host"`
	PathPrefix              string `yaml:"path_prefix"`
	Mode                    string `yaml:"mode"`
	MLThreshold             int    `yaml:"ml_threshold"`
	ORPoints                int    `yaml:"or_points"`
	Shadow                  *bool  `yaml:"shadow"`
	ResponseInspect         *bool  `yaml:"response_inspect"`
	Collect                 *bool  `yaml:"collect"`
	ResponseAction          string `yaml:"response_action"`
	Engine                  string `yaml:"engine"`
	ParanoiaLevel           int    `yaml:"paranoia_level"`
	InboundAnomalyThreshold int    `yaml:"inbound_anomaly_threshold"`
}

// GRPC secures and bounds the ext_proc listener.
type GRPC struct {
	// TLSCertFile and TLSKeyFile turn on TLS; TLSClientCAFile also
	// requires client certificates that chain to it (mutual TLS), so only
	// your Envoys can call the processor. The files are reloaded when they
	// change.
	TLSCertFile     string `yaml:"tls_cert_file" usage:"PEM certificate chain: turns on TLS for the ext_proc listener (reloaded on change)"`
	TLSKeyFile      string `yaml:"tls_key_file" usage:"PEM private key of grpc.tls_cert_file"`
	TLSClientCAFile string `yaml:"tls_client_ca_file" usage:"PEM CA bundle: require client certificates chaining to it (mutual TLS, only your Envoys may call)"`
	// MaxStreams bounds the ext_proc streams open across all connections;
	// past it a new stream gets the fail-mode answer.
	MaxStreams int `yaml:"max_streams" usage:"ext_proc streams open across all connections; past it a new stream gets the fail-mode answer"`
	// MaxConnectionIdle closes a connection without streams after this
	// long; MaxConnectionAge closes any connection after this long (with
	// MaxConnectionAgeGrace for its streams to finish), so connections
	// rebalance and none lives forever.
	MaxConnectionIdle     time.Duration `yaml:"max_connection_idle" usage:"close a connection without streams after this long"`
	MaxConnectionAge      time.Duration `yaml:"max_connection_age" usage:"close any connection after this long, so connections rebalance"`
	MaxConnectionAgeGrace time.Duration `yaml:"max_connection_age_grace" usage:"time open streams get after grpc.max_connection_age"`
	// KeepaliveTime pings an idle connection after this long, and
	// KeepaliveTimeout closes it when the ping is not answered.
	KeepaliveTime    time.Duration `yaml:"keepalive_time" usage:"ping a connection idle this long"`
	KeepaliveTimeout time.Duration `yaml:"keepalive_timeout" usage:"close a connection whose ping is not answered within this"`
}

// Admin bounds the admin HTTP server (/healthz, /readyz, /metrics).
type Admin struct {
	ReadTimeout  time.Duration `yaml:"read_timeout" usage:"admin server: time to read a request"`
	WriteTimeout time.Duration `yaml:"write_timeout" usage:"admin server: time to write a response"`
	IdleTimeout  time.Duration `yaml:"idle_timeout" usage:"admin server: keep-alive idle time"`
	// Pprof serves /debug/pprof/ on the admin listener; off by default,
	// because profiles expose internals. Bind admin_addr to localhost
	// (127.0.0.1:9090) or a separate interface when you turn it on.
	Pprof bool `yaml:"pprof" usage:"serve /debug/pprof/ on the admin listener (bind admin_addr to localhost when on)"`
}

// Block configures what a blocked client sees.
type Block struct {
	Status int `yaml:"status" usage:"HTTP status of the block page"`
	// Body is page (an HTML or JSON page with the request id) or empty.
	Body        string `yaml:"body" usage:"block page body: page (HTML or JSON with the request id) or empty"`
	ErrorStatus int    `yaml:"error_status" usage:"HTTP status sent when failing closed"`
}

// The block page bodies.
const (
	BlockBodyPage  = "page"
	BlockBodyEmpty = "empty"
)

// Metadata configures the Envoy dynamic metadata Bulwark writes.
type Metadata struct {
	Namespace string `yaml:"namespace" usage:"Envoy dynamic-metadata namespace for verdicts; list it in metadata_options.receiving_namespaces"`
	MaxRules  int    `yaml:"max_rules" usage:"most rule ids written to metadata"`
}

// Headers configures the verdict headers sent to the upstream.
type Headers struct {
	Enabled bool   `yaml:"enabled" usage:"send the verdict to the upstream as request headers"`
	Prefix  string `yaml:"prefix" usage:"prefix of verdict headers; client-sent headers with it are always removed"`
}

// Reload configures hot reloading.
type Reload struct {
	Watch    bool          `yaml:"watch" usage:"reload when the config file or a rule file changes (SIGHUP always reloads)"`
	Debounce time.Duration `yaml:"debounce" usage:"wait this long after a file change before reloading"`
}

// Model configures the ML model.
type Model struct {
	// Path is a model file; empty means the model embedded in the binary.
	Path string `yaml:"path" usage:"LightGBM model file; empty uses the model embedded in the binary"`
	// LeakPath is a leakage model file; empty means the embedded one.
	LeakPath string `yaml:"leak_path" usage:"leakage model file; empty uses the embedded model"`
	// CandidatePath is a model scored in shadow beside the live one, for
	// promotion: its disagreements are counted and logged; it never
	// decides. Promote by making it model.path; roll back the same way.
	CandidatePath string `yaml:"candidate_path" usage:"a model scored in shadow beside the live one; its disagreements are counted and logged, it never decides"`
}

// Default returns the settings used when nothing is configured.
func Default() Config {
	return Config{
		GRPCAddr:                 ":50051",
		AdminAddr:                ":9090",
		LogLevel:                 "info",
		LogFormat:                "json",
		AuditLog:                 "stdout",
		FailMode:                 "closed",
		ShutdownTimeout:          15 * time.Second,
		ModeOverride:             true,
		AssumedRequestBodyMode:   "STREAMED",
		AssumedResponseBodyMode:  "STREAMED",
		GRPCMaxMessageBytes:      8 << 20,
		GRPCMaxConcurrentStreams: 10000,
		SlowBodyBytes:            32 << 10,
		MaxWaitingTransactions:   1024,
		SlowBodyTimeout:          2 * time.Second,
		GRPC: GRPC{MaxStreams: 20000, MaxConnectionIdle: 15 * time.Minute, MaxConnectionAge: 2 * time.Hour, MaxConnectionAgeGrace: time.Minute,
			KeepaliveTime: 2 * time.Minute, KeepaliveTimeout: 20 * time.Second},
		Admin:           Admin{ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute},
		Block:           Block{Status: 403, Body: BlockBodyPage, ErrorStatus: 500},
		Metadata:        Metadata{Namespace: "bulwark", MaxRules: 32},
		UpstreamHeaders: Headers{Enabled: false, Prefix: "x-bulwark-"},
		Reload:          Reload{Watch: true, Debounce: 500 * time.Millisecond},
		WAF:             waf.DefaultConfig(),
		ML:              ML{Enabled: true, Mode: "confirm", ORPoints: 5, ClearScore: inspect.DefaultClearScore, ClearShapeless: true},
		Response: Response{Inspect: true, Action: "flag", MaxDecodedBytes: 1 << 30, MaxRatio: 200,
			SkipTypes: []string{"image/*", "video/*", "audio/*", "font/*", "application/font-woff", "application/font-woff2",
				"application/vnd.ms-fontobject", "application/x-font-ttf", "application/zip", "application/gzip", "application/x-gzip",
				"application/x-tar", "application/x-7z-compressed", "application/x-rar-compressed", "application/vnd.rar", "application/x-bzip2",
				"application/x-xz", "application/zstd", "application/java-archive", "application/vnd.android.package-archive", "application/wasm",
				"application/pdf"}},
		Learn: Learn{Dir: "/var/lib/bulwark/samples", SampleRate: 0.01, MaxBytes: 256 << 20, FileBytes: 16 << 20,
			RedactHeaders: []string{"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token", "x-csrf-token"},
			RedactFields:  []string{"pass", "pwd", "secret", "token", "key", "auth", "session", "csrf", "credit", "card", "cvv", "ssn"}},
		ClientMemory: ClientMemory{Size: 50000, Window: 10 * time.Minute, OffenderAttacks: 0, OffenderThresholdDrop: 2, OffenderMLBoost: 10},
	}
}

var bodyModes = []string{"NONE", "STREAMED", "BUFFERED", "BUFFERED_PARTIAL", "FULL_DUPLEX_STREAMED"}

// Validate reports the first bad setting by its YAML key.
// Validate reports every bad setting by its YAML key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalid, key, fmt.Sprintf(format, args...)))
	}
	for key, addr := range map[string]string{"grpc_addr": c.GRPCAddr, "admin_addr": c.AdminAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad(key, "%q is not host:port (%v)", addr, err)
		}
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		bad("log_level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("log_format", "%q is not one of json, text", c.LogFormat)
	}
	if c.AuditLog == "" {
		bad("audit_log", "empty: use stdout, stderr, off or a file path")
	}
	if c.FailMode != FailOpen && c.FailMode != FailClosed {
		bad("fail_mode", "%q is not one of open, closed", c.FailMode)
	}
	if c.ShutdownTimeout < 0 {
		bad("shutdown_timeout", "%v is negative", c.ShutdownTimeout)
	}
	if c.TrustedHops < 0 || c.TrustedHops > 16 {
		bad("trusted_hops", "%d is outside 0..16", c.TrustedHops)
	}
	for key, m := range map[string]string{"assumed_request_body_mode": c.AssumedRequestBodyMode, "assumed_response_body_mode": c.AssumedResponseBodyMode} {
		if !slices.Contains(bodyModes, m) {
			bad(key, "%q is not one of %s", m, strings.Join(bodyModes, ", "))
		}
	}
	if c.GRPCMaxMessageBytes < 64<<10 {
		bad("grpc_max_message_bytes", "%d is below 65536", c.GRPCMaxMessageBytes)
	}
	if c.MaxWaitingTransactions < 0 {
		bad("max_waiting_transactions", "%d is negative", c.MaxWaitingTransactions)
	}
	if c.SlowBodyBytes < 0 {
		bad("slow_body_bytes", "%d is negative", c.SlowBodyBytes)
	}
	if c.SlowBodyTimeout < 0 || c.SlowBodyTimeout > time.Hour {
		bad("slow_body_timeout", "%v is outside 0..1h", c.SlowBodyTimeout)
	}
	if c.GRPCMaxConcurrentStreams < 1 {
		bad("grpc_max_concurrent_streams", "%d must be at least 1", c.GRPCMaxConcurrentStreams)
	}
	if (c.GRPC.TLSCertFile == "") != (c.GRPC.TLSKeyFile == "") {
		bad("grpc.tls_cert_file", "grpc.tls_cert_file and grpc.tls_key_file go together")
	}
	if c.GRPC.TLSClientCAFile != "" && c.GRPC.TLSCertFile == "" {
		bad("grpc.tls_client_ca_file", "mutual TLS needs grpc.tls_cert_file and grpc.tls_key_file too")
	}
	if c.GRPC.MaxStreams < 1 {
		bad("grpc.max_streams", "%d must be at least 1", c.GRPC.MaxStreams)
	}
	for key, d := range map[string]time.Duration{"grpc.max_connection_idle": c.GRPC.MaxConnectionIdle, "grpc.max_connection_age": c.GRPC.MaxConnectionAge,
		"grpc.max_connection_age_grace": c.GRPC.MaxConnectionAgeGrace, "grpc.keepalive_time": c.GRPC.KeepaliveTime, "grpc.keepalive_timeout": c.GRPC.KeepaliveTimeout,
		"admin.read_timeout": c.Admin.ReadTimeout, "admin.write_timeout": c.Admin.WriteTimeout, "admin.idle_timeout": c.Admin.IdleTimeout} {
		if d <= 0 {
			bad(key, "%v must be positive", d)
		}
	}
	if c.Block.Body != BlockBodyPage && c.Block.Body != BlockBodyEmpty {
		bad("block.body", "%q is not one of page, empty", c.Block.Body)
	}
	for key, s := range map[string]int{"block.status": c.Block.Status, "block.error_status": c.Block.ErrorStatus} {
		if s < 200 || s > 599 {
			bad(key, "%d is not an HTTP status from 200 to 599 (Envoy turns anything below 200 into 200)", s)
		}
	}
	if c.Metadata.Namespace == "" || strings.HasPrefix(c.Metadata.Namespace, "envoy.") {
		bad("metadata.namespace", "%q must be non-empty and not an envoy.* namespace", c.Metadata.Namespace)
	}
	if c.Metadata.MaxRules < 1 || c.Metadata.MaxRules > 256 {
		bad("metadata.max_rules", "%d is outside 1..256", c.Metadata.MaxRules)
	}
	if p := c.UpstreamHeaders.Prefix; len(p) < 2 || strings.ContainsAny(p, " :\t") || strings.ToLower(p) != p {
		bad("upstream_headers.prefix", "%q must be a lower-case header-name prefix such as x-bulwark-", p)
	}
	if c.Reload.Debounce < 0 {
		bad("reload.debounce", "%v is negative", c.Reload.Debounce)
	}
	if err := c.WAF.Validate(); err != nil {
		errs = append(errs, err)
	}
	if !slices.Contains(inspect.Modes, inspect.Mode(c.ML.Mode)) {
		bad("ml.mode", "%q is not one of crs, ml, and, or, gated, confirm", c.ML.Mode)
	}
	if c.ML.Threshold < 0 || c.ML.Threshold > 98 {
		bad("ml.threshold", "%d is outside 0..98 (0 = the model's default)", c.ML.Threshold)
	}
	if c.Response.Threshold < 0 || c.Response.Threshold > 98 {
		bad("response.threshold", "%d is outside 0..98 (0 = the leakage model's default)", c.Response.Threshold)
	}
	leakActions := []string{"log", "flag", "mask", "block"}
	if !slices.Contains(leakActions, c.Response.Action) {
		bad("response.action", "%q is not one of log, flag, mask, block", c.Response.Action)
	}
	for class, a := range c.Response.Actions {
		if !slices.Contains([]string{"secret", "pii", "error", "source"}, class) {
			bad("response.actions."+class, "not a leakage class (secret, pii, error, source)")
		}
		if !slices.Contains(leakActions, a) {
			bad("response.actions."+class, "%q is not one of log, flag, mask, block", a)
		}
	}
	if c.Response.MaxDecodedBytes < 1 {
		bad("response.max_decoded_bytes", "%d must be at least 1", c.Response.MaxDecodedBytes)
	}
	if c.Response.MaxRatio < 1 {
		bad("response.max_ratio", "%v must be at least 1", c.Response.MaxRatio)
	}
	if c.Learn.SampleRate < 0 || c.Learn.SampleRate > 1 {
		bad("learn.sample_rate", "%v is outside 0..1", c.Learn.SampleRate)
	}
	if c.Learn.MaxBytes < 1 || c.Learn.FileBytes < 1 || c.Learn.FileBytes > c.Learn.MaxBytes {
		bad("learn.file_bytes", "learn.max_bytes (%d) and learn.file_bytes (%d) must be positive, file_bytes <= max_bytes", c.Learn.MaxBytes, c.Learn.FileBytes)
	}
	if c.Learn.Collect && c.Learn.Dir == "" {
		bad("learn.dir", "required when learn.collect is on")
	}
	if c.ML.ClearScore < 1 || c.ML.ClearScore > 99 {
		bad("ml.clear_score", "%d is outside 1..99", c.ML.ClearScore)
	}
	if c.ML.ORPoints < 0 || c.ML.ORPoints > 100 {
		bad("ml.or_points", "%d is outside 0..100", c.ML.ORPoints)
	}
	if c.ClientMemory.Size < 1 || c.ClientMemory.Size > 10_000_000 {
		bad("client_memory.size", "%d is outside 1..10000000", c.ClientMemory.Size)
	}
	if c.ClientMemory.Window <= 0 {
		bad("client_memory.window", "%v must be positive", c.ClientMemory.Window)
	}
	if c.ClientMemory.OffenderAttacks < 0 || c.ClientMemory.OffenderThresholdDrop < 0 || c.ClientMemory.OffenderMLBoost < 0 {
		bad("client_memory", "offender settings must not be negative")
	}
	names := map[string]bool{}
	for i, p := range c.Policies {
		key := fmt.Sprintf("policies[%d]", i)
		switch {
		case p.Name == "":
			bad(key+".name", "required")
		case names[p.Name]:
			bad(key+".name", "%q is used twice", p.Name)
		case p.Route == "" && p.Host == "" && p.PathPrefix == "":
			bad(key, "needs route, host or path_prefix to match on")
		case p.Mode != "" && !slices.Contains(inspect.Modes, inspect.Mode(p.Mode)):
			bad(key+".mode", "%q is not one of crs, ml, and, or, gated, confirm", p.Mode)
		case p.MLThreshold < 0 || p.MLThreshold > 98:
			bad(key+".ml_threshold", "%d is outside 0..98", p.MLThreshold)
		case p.Engine != "" && p.Engine != waf.EngineOn && p.Engine != waf.EngineDetectionOnly:
			bad(key+".engine", "%q is not one of On, DetectionOnly", p.Engine)
		case p.ParanoiaLevel < 0 || p.ParanoiaLevel > 4:
			bad(key+".paranoia_level", "%d is outside 1..4", p.ParanoiaLevel)
		case p.InboundAnomalyThreshold < 0:
			bad(key+".inbound_anomaly_threshold", "%d is negative", p.InboundAnomalyThreshold)
		case p.ResponseAction != "" && !slices.Contains(leakActions, p.ResponseAction):
			bad(key+".response_action", "%q is not one of log, flag, mask, block", p.ResponseAction)
		}
		names[p.Name] = true
	}
	return errors.Join(errs...)
}

// Source is where the settings come from; Load can be called again with the
// same Source to reload.
type Source struct {
	Args []string
	// Env looks up an environment variable; nil means os.LookupEnv.
	Env func(string) (string, bool)
}

// ErrHelp is returned when --help was asked for; the usage was printed.
var ErrHelp = flag.ErrHelp

// Loaded is the result of Load.
type Loaded struct {
	Config Config
	// Path is the YAML file read, if any; the reloader watches it.
	Path string
	// ValidateOnly is set by --validate.
	ValidateOnly bool
}

// Load builds the config: defaults, then the YAML file named by --config or
// BULWARK_CONFIG, then BULWARK_* environment variables, then flags.
// usage receives --help output.
func Load(src Source, usage io.Writer) (Loaded, error) {
	fs := flag.NewFlagSet("extproc", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := AddFlags(fs, src.Env)
	if err := fs.Parse(src.Args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			PrintUsage(usage)
			return Loaded{}, err
		}
		return Loaded{}, fmt.Errorf("%w (run 'extproc --help' for every setting)", err)
	}
	if fs.NArg() > 0 {
		return Loaded{}, fmt.Errorf("%w: unexpected argument %q", ErrInvalid, fs.Arg(0))
	}
	return f.Load()
}

// Flags are the server's settings registered on a flag set, so the tools
// (check, eval, modes, proxy) take the same --config, environment and
// flags as the server.
type Flags struct {
	env        func(string) (string, bool)
	fs         *flag.FlagSet
	configPath *string
	validate   *bool
	set        map[string]*string
}

// AddFlags registers --config, --validate and one flag per setting on fs.
// env looks up environment variables; nil means os.LookupEnv.
func AddFlags(fs *flag.FlagSet, env func(string) (string, bool)) *Flags {
	if env == nil {
		env = os.LookupEnv
	}
	f := &Flags{env: env, fs: fs, set: map[string]*string{}}
	f.configPath = fs.String("config", "", "YAML config file (env BULWARK_CONFIG); optional")
	f.validate = fs.Bool("validate", false, "load and validate the config and rules, then exit")
	for _, s := range Settings() {
		v := new(string)
		fs.Func(s.Flag(), s.Usage+" (env "+s.Env()+", yaml "+s.Key+")", func(x string) error { *v = x; return nil })
		f.set[s.Key] = v
	}
	return f
}

// Load builds the config after the flag set was parsed.
func (f *Flags) Load() (Loaded, error) {
	cfg := Default()
	path := *f.configPath
	if path == "" {
		path, _ = f.env("BULWARK_CONFIG")
	}
	if path != "" {
		if err := loadFile(path, &cfg); err != nil {
			return Loaded{Path: path}, err
		}
	}
	visited := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { visited[fl.Name] = true })
	var errs []error
	for _, s := range Settings() {
		if v, ok := f.env(s.Env()); ok {
			if err := s.Set(&cfg, v); err != nil {
				errs = append(errs, fmt.Errorf("%w: %s (from %s): %w", ErrInvalid, s.Key, s.Env(), err))
			}
		}
	}
	for _, s := range Settings() {
		if visited[s.Flag()] {
			if err := s.Set(&cfg, *f.set[s.Key]); err != nil {
				errs = append(errs, fmt.Errorf("%w: %s (from --%s): %w", ErrInvalid, s.Key, s.Flag(), err))
			}
		}
	}
	if len(errs) > 0 {
		return Loaded{Path: path}, errors.Join(errs...)
	}
	if err := cfg.Validate(); err != nil {
		return Loaded{Path: path}, err
	}
	return Loaded{Config: cfg, Path: path, ValidateOnly: *f.validate}, nil
}

// loadFile decodes YAML strictly: an unknown key is an error with its line,
// so a typo never silently falls back to a default.
func loadFile(path string, cfg *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: config file: %w", ErrInvalid, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, path, err)
	}
	if len(root.Content) > 0 {
		var unknown []error
		checkKeys(root.Content[0], reflect.TypeFor[Config](), "", path, &unknown)
		if len(unknown) > 0 {
			return errors.Join(unknown...)
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, path, err)
	}
	return nil
}

// PrintUsage documents every setting with its flag, variable, key and default.
func PrintUsage(w io.Writer) {
	fmt.Fprintf(w, `Usage: extproc [flags]            serve ext_proc (the default)
       extproc version            print the version and the CRS version
       extproc check [flags] URL  score one request (see extproc check --help)
       extproc eval --data F      evaluate the model and CRS on labelled JSON Lines
       extproc features ...       write the model's feature matrix
       extproc settings           print the table of every setting (Markdown)
       extproc modes --data F     every combination mode through the ext_proc server
       extproc healthcheck        exit 0 when a local Bulwark is ready (for HEALTHCHECK)

Settings come from defaults, then the YAML file (--config or BULWARK_CONFIG),
then environment variables, then flags.

  --config FILE                    YAML config file (env BULWARK_CONFIG)
  --validate                       load config and rules, report errors, exit

`)
	d := Default()
	for _, s := range Settings() {
		fmt.Fprintf(w, "  --%s\n        %s\n        env %s, yaml %s, default %q\n", s.Flag(), s.Usage, s.Env(), s.Key, s.Get(&d))
	}
}

// Markdown renders the settings table for the README.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| YAML key | flag | environment | default | meaning |\n|---|---|---|---|---|\n")
	b.WriteString("| (none) | `--config` | `BULWARK_CONFIG` | (none) | the YAML file of these settings; flags beat variables, which beat the file |\n")
	b.WriteString("| (none) | `--validate` | (none) | `false` | load and validate the config, rules, model and policies exactly as start does, then exit |\n")
	d := Default()
	for _, s := range Settings() {
		def := s.Get(&d)
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(&b, "| `%s` | `--%s` | `%s` | `%s` | %s |\n", s.Key, s.Flag(), s.Env(), strings.ReplaceAll(def, "|", "\\|"), s.Usage)
	}
	for _, y := range YAMLOnly() {
		fmt.Fprintf(&b, "| `%s` | (YAML only) | (YAML only) | (none) | %s |\n", y[0], y[1])
	}
	return b.String()
}

// The fail modes.
const (
	FailOpen   = "open"
	FailClosed = "closed"
)

// Apply is the policy p describes, inheriting from def every setting p
// leaves at its zero value. Modes other than crs need the model, so with
// the model off the mode stays def's.
func (p Policy) Apply(def inspect.Policy, modelOn bool) inspect.Policy {
	out := def
	out.Name = p.Name
	if p.Mode != "" && modelOn {
		out.Mode = inspect.Mode(p.Mode)
	}
	if p.MLThreshold != 0 {
		out.MLThreshold = p.MLThreshold
	}
	if p.ORPoints != 0 {
		out.ORPoints = p.ORPoints
	}
	if p.Shadow != nil {
		out.Shadow = *p.Shadow
	}
	if p.ResponseInspect != nil {
		out.Response.Inspect = *p.ResponseInspect
	}
	if p.Collect != nil {
		out.Collect = *p.Collect
	}
	if p.ResponseAction != "" {
		out.Response.Action = inspect.LeakAction(p.ResponseAction)
		out.Response.Actions = nil
	}
	return out
}

// WAF is the WAF config of the policy, inheriting from def, and whether it
// differs from def (so the policy needs a WAF of its own).
func (p Policy) WAF(def waf.Config) (waf.Config, bool) {
	wc := def
	if p.Engine != "" {
		wc.Engine = p.Engine
	}
	if p.ParanoiaLevel != 0 {
		wc.ParanoiaLevel = p.ParanoiaLevel
		if wc.DetectionParanoiaLevel != 0 && wc.DetectionParanoiaLevel < wc.ParanoiaLevel {
			wc.DetectionParanoiaLevel = wc.ParanoiaLevel
		}
	}
	if p.InboundAnomalyThreshold != 0 {
		wc.InboundAnomalyThreshold = p.InboundAnomalyThreshold
	}
	return wc, p.Engine != "" || p.ParanoiaLevel != 0 || p.InboundAnomalyThreshold != 0
}

// checkKeys reports every mapping key that names no field, by its dotted
// path and line, so a typo never silently falls back to a default.
func checkKeys(n *yaml.Node, t reflect.Type, prefix, file string, errs *[]error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" && name != "-" {
				fields[name] = t.Field(i).Type
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				*errs = append(*errs, fmt.Errorf("%w: %s:%d: unknown key %s%s", ErrInvalid, file, k.Line, prefix, k.Value))
				continue
			}
			if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Duration]() || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Pointer {
				checkKeys(v, ft, prefix+k.Value+".", file, errs)
			}
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, e := range n.Content {
			checkKeys(e, t.Elem(), fmt.Sprintf("%s[%d].", strings.TrimSuffix(prefix, "."), i), file, errs)
		}
	}
}
