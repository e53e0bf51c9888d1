package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/bulwark-waf/bulwark/waf"
)

// ErrInvalid is wrapped by every error about a bad setting.
var ErrInvalid = errors.New("invalid config")

// Config is every Bulwark setting. YAML keys are the yaml tags; flags and
// environment variables are derived from them (see Settings).
type Config struct {
	GRPCAddr                 string        `yaml:"grpc_addr"`
	AdminAddr                string        `yaml:"admin_addr"`
	LogLevel                 string        `yaml:"log_level"`
	LogFormat                string        `yaml:"log_format"`
	AuditLog                 string        `yaml:"audit_log"`
	FailMode                 string        `yaml:"fail_mode"`
	ShutdownTimeout          time.Duration `yaml:"shutdown_timeout"`
	TrustedHops              int           `yaml:"trusted_hops"`
	ModeOverride             bool          `yaml:"mode_override"`
	AssumedRequestBodyMode   string        `yaml:"assumed_request_body_mode"`
	AssumedResponseBodyMode  string        `yaml:"assumed_response_body_mode"`
	GRPCMaxMessageBytes      int           `yaml:"grpc_max_message_bytes"`
	GRPCMaxConcurrentStreams int           `yaml:"grpc_max_concurrent_streams"`
	SlowBodyBytes            int           `yaml:"slow_body_bytes"`
	SlowBodyTimeout          time.Duration `yaml:"slow_body_timeout"`
	Block                    Block         `yaml:"block"`
	Metadata                 Metadata      `yaml:"metadata"`
	UpstreamHeaders          Headers       `yaml:"upstream_headers"`
	Reload                   Reload        `yaml:"reload"`
	WAF                      waf.Config    `yaml:"waf"`
	Model                    Model         `yaml:"model"`
	ML                       ML            `yaml:"ml"`
	Session                  Session       `yaml:"session"`
	ClientMemory             ClientMemory  `yaml:"client_memory"`
	// Policies are per-route overrides, YAML only.
	Policies []Policy `yaml:"policies"`
}

// ML configures how the model takes part in the default policy.
type ML struct {
	Enabled bool `yaml:"enabled"`
	// Mode is crs, ml, and, or or gated (see verdict.Mode).
	Mode string `yaml:"mode"`
	// Threshold: a score at or below it is an attack; 0 takes the model's
	// calibrated default.
	Threshold int  `yaml:"threshold"`
	ORPoints  int  `yaml:"or_points"`
	Shadow    bool `yaml:"shadow"`
}

// Session names where a session key comes from, for the client memory.
type Session struct {
	Cookie string `yaml:"cookie"`
	Header string `yaml:"header"`
}

// ClientMemory bounds the per-client memory of recent attacks.
type ClientMemory struct {
	Size                  int           `yaml:"size"`
	Window                time.Duration `yaml:"window"`
	OffenderAttacks       int           `yaml:"offender_attacks"`
	OffenderThresholdDrop int           `yaml:"offender_threshold_drop"`
	OffenderMLBoost       int           `yaml:"offender_ml_boost"`
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
	Engine                  string `yaml:"engine"`
	ParanoiaLevel           int    `yaml:"paranoia_level"`
	InboundAnomalyThreshold int    `yaml:"inbound_anomaly_threshold"`
}

// Block configures what a blocked client sees.
type Block struct {
	Status      int `yaml:"status"`
	ErrorStatus int `yaml:"error_status"`
}

// Metadata configures the Envoy dynamic metadata Bulwark writes.
type Metadata struct {
	Namespace string `yaml:"namespace"`
	MaxRules  int    `yaml:"max_rules"`
}

// Headers configures the verdict headers sent to the upstream.
type Headers struct {
	Enabled bool   `yaml:"enabled"`
	Prefix  string `yaml:"prefix"`
}

// Reload configures hot reloading.
type Reload struct {
	Watch    bool          `yaml:"watch"`
	Debounce time.Duration `yaml:"debounce"`
}

// Model configures the ML model.
type Model struct {
	// Path is a model file; empty means the model embedded in the binary.
	Path string `yaml:"path"`
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
		SlowBodyTimeout:          2 * time.Second,
		Block:                    Block{Status: 403, ErrorStatus: 500},
		Metadata:                 Metadata{Namespace: "bulwark", MaxRules: 32},
		UpstreamHeaders:          Headers{Enabled: false, Prefix: "x-bulwark-"},
		Reload:                   Reload{Watch: true, Debounce: 500 * time.Millisecond},
		WAF:                      waf.DefaultConfig(),
		ML:                       ML{Enabled: true, Mode: "ml", ORPoints: 5},
		ClientMemory:             ClientMemory{Size: 50000, Window: 10 * time.Minute, OffenderAttacks: 3, OffenderThresholdDrop: 2, OffenderMLBoost: 10},
	}
}

var bodyModes = []string{"NONE", "STREAMED", "BUFFERED", "BUFFERED_PARTIAL", "FULL_DUPLEX_STREAMED"}

// Validate reports the first bad setting by its YAML key.
func (c Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, key, fmt.Sprintf(format, args...))
	}
	for key, addr := range map[string]string{"grpc_addr": c.GRPCAddr, "admin_addr": c.AdminAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return bad(key, "%q is not host:port (%v)", addr, err)
		}
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		return bad("log_level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return bad("log_format", "%q is not one of json, text", c.LogFormat)
	}
	if c.AuditLog == "" {
		return bad("audit_log", "empty: use stdout, stderr, off or a file path")
	}
	if c.FailMode != "open" && c.FailMode != "closed" {
		return bad("fail_mode", "%q is not one of open, closed", c.FailMode)
	}
	if c.ShutdownTimeout < 0 {
		return bad("shutdown_timeout", "%v is negative", c.ShutdownTimeout)
	}
	if c.TrustedHops < 0 || c.TrustedHops > 16 {
		return bad("trusted_hops", "%d is outside 0..16", c.TrustedHops)
	}
	for key, m := range map[string]string{"assumed_request_body_mode": c.AssumedRequestBodyMode, "assumed_response_body_mode": c.AssumedResponseBodyMode} {
		if !slices.Contains(bodyModes, m) {
			return bad(key, "%q is not one of %s", m, strings.Join(bodyModes, ", "))
		}
	}
	if c.GRPCMaxMessageBytes < 64<<10 {
		return bad("grpc_max_message_bytes", "%d is below 65536", c.GRPCMaxMessageBytes)
	}
	if c.SlowBodyBytes < 0 {
		return bad("slow_body_bytes", "%d is negative", c.SlowBodyBytes)
	}
	if c.SlowBodyTimeout < 0 || c.SlowBodyTimeout > time.Hour {
		return bad("slow_body_timeout", "%v is outside 0..1h", c.SlowBodyTimeout)
	}
	if c.GRPCMaxConcurrentStreams < 1 {
		return bad("grpc_max_concurrent_streams", "%d must be at least 1", c.GRPCMaxConcurrentStreams)
	}
	for key, s := range map[string]int{"block.status": c.Block.Status, "block.error_status": c.Block.ErrorStatus} {
		if s < 200 || s > 599 {
			return bad(key, "%d is not an HTTP status from 200 to 599 (Envoy turns anything below 200 into 200)", s)
		}
	}
	if c.Metadata.Namespace == "" || strings.HasPrefix(c.Metadata.Namespace, "envoy.") {
		return bad("metadata.namespace", "%q must be non-empty and not an envoy.* namespace", c.Metadata.Namespace)
	}
	if c.Metadata.MaxRules < 1 || c.Metadata.MaxRules > 256 {
		return bad("metadata.max_rules", "%d is outside 1..256", c.Metadata.MaxRules)
	}
	if p := c.UpstreamHeaders.Prefix; len(p) < 2 || strings.ContainsAny(p, " :\t") || strings.ToLower(p) != p {
		return bad("upstream_headers.prefix", "%q must be a lower-case header-name prefix such as x-bulwark-", p)
	}
	if c.Reload.Debounce < 0 {
		return bad("reload.debounce", "%v is negative", c.Reload.Debounce)
	}
	if err := c.WAF.Validate(); err != nil {
		return err
	}
	modes := []string{"crs", "ml", "and", "or", "gated"}
	if !slices.Contains(modes, c.ML.Mode) {
		return bad("ml.mode", "%q is not one of crs, ml, and, or, gated", c.ML.Mode)
	}
	if c.ML.Threshold < 0 || c.ML.Threshold > 98 {
		return bad("ml.threshold", "%d is outside 0..98 (0 = the model's default)", c.ML.Threshold)
	}
	if c.ML.ORPoints < 0 || c.ML.ORPoints > 100 {
		return bad("ml.or_points", "%d is outside 0..100", c.ML.ORPoints)
	}
	if c.ClientMemory.Size < 1 || c.ClientMemory.Size > 10_000_000 {
		return bad("client_memory.size", "%d is outside 1..10000000", c.ClientMemory.Size)
	}
	if c.ClientMemory.Window <= 0 {
		return bad("client_memory.window", "%v must be positive", c.ClientMemory.Window)
	}
	if c.ClientMemory.OffenderAttacks < 0 || c.ClientMemory.OffenderThresholdDrop < 0 || c.ClientMemory.OffenderMLBoost < 0 {
		return bad("client_memory", "offender settings must not be negative")
	}
	names := map[string]bool{}
	for i, p := range c.Policies {
		key := fmt.Sprintf("policies[%d]", i)
		switch {
		case p.Name == "":
			return bad(key+".name", "required")
		case names[p.Name]:
			return bad(key+".name", "%q is used twice", p.Name)
		case p.Route == "" && p.Host == "" && p.PathPrefix == "":
			return bad(key, "needs route, host or path_prefix to match on")
		case p.Mode != "" && !slices.Contains(modes, p.Mode):
			return bad(key+".mode", "%q is not one of crs, ml, and, or, gated", p.Mode)
		case p.MLThreshold < 0 || p.MLThreshold > 98:
			return bad(key+".ml_threshold", "%d is outside 0..98", p.MLThreshold)
		case p.Engine != "" && p.Engine != waf.EngineOn && p.Engine != waf.EngineDetectionOnly:
			return bad(key+".engine", "%q is not one of On, DetectionOnly", p.Engine)
		case p.ParanoiaLevel < 0 || p.ParanoiaLevel > 4:
			return bad(key+".paranoia_level", "%d is outside 1..4", p.ParanoiaLevel)
		case p.InboundAnomalyThreshold < 0:
			return bad(key+".inbound_anomaly_threshold", "%d is negative", p.InboundAnomalyThreshold)
		}
		names[p.Name] = true
	}
	return nil
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
// usage receives --help output and flag errors.
func Load(src Source, usage io.Writer) (Loaded, error) {
	env := src.Env
	if env == nil {
		env = os.LookupEnv
	}
	fs := flag.NewFlagSet("extproc", flag.ContinueOnError)
	fs.SetOutput(usage)
	configPath := fs.String("config", "", "YAML config file (env BULWARK_CONFIG); optional")
	validate := fs.Bool("validate", false, "load and validate the config and rules, then exit")
	set := map[string]*string{}
	for _, s := range Settings() {
		v := new(string)
		fs.Func(s.Flag(), s.Usage+" (env "+s.Env()+", yaml "+s.Key+")", func(x string) error { *v = x; return nil })
		set[s.Key] = v
	}
	fs.Usage = func() { PrintUsage(usage) }
	if err := fs.Parse(src.Args); err != nil {
		return Loaded{}, err
	}
	if fs.NArg() > 0 {
		return Loaded{}, fmt.Errorf("%w: unexpected argument %q", ErrInvalid, fs.Arg(0))
	}
	cfg := Default()
	path := *configPath
	if path == "" {
		path, _ = env("BULWARK_CONFIG")
	}
	if path != "" {
		if err := loadFile(path, &cfg); err != nil {
			return Loaded{Path: path}, err
		}
	}
	visited := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { visited[f.Name] = true })
	for _, s := range Settings() {
		if v, ok := env(s.Env()); ok {
			if err := s.Set(&cfg, v); err != nil {
				return Loaded{Path: path}, fmt.Errorf("%w: %s (from %s): %w", ErrInvalid, s.Key, s.Env(), err)
			}
		}
	}
	for _, s := range Settings() {
		if visited[s.Flag()] {
			if err := s.Set(&cfg, *set[s.Key]); err != nil {
				return Loaded{Path: path}, fmt.Errorf("%w: %s (from --%s): %w", ErrInvalid, s.Key, s.Flag(), err)
			}
		}
	}
	if err := cfg.Validate(); err != nil {
		return Loaded{Path: path}, err
	}
	return Loaded{Config: cfg, Path: path, ValidateOnly: *validate}, nil
}

// loadFile decodes YAML strictly: an unknown key is an error with its line,
// so a typo never silently falls back to a default.
func loadFile(path string, cfg *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: config file: %w", ErrInvalid, err)
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
	d := Default()
	for _, s := range Settings() {
		def := s.Get(&d)
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(&b, "| `%s` | `--%s` | `%s` | `%s` | %s |\n", s.Key, s.Flag(), s.Env(), strings.ReplaceAll(def, "|", "\\|"), s.Usage)
	}
	return b.String()
}
