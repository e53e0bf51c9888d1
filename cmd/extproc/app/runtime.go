package app

import (
	"fmt"
	"log/slog"

	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"

	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/collect"
	"github.com/bulwark-waf/bulwark/internal/decode"
	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/model/leak"
	"github.com/bulwark-waf/bulwark/waf"
)

// Runtime is everything a config compiles to and a reload rebuilds: the
// WAFs, the model, the policies and the inspection core over them. It is
// built completely, off the hot path, before anything is swapped.
type Runtime struct {
	Config config.Config
	Core   *inspect.Core
	// Engine is the default policy's WAF; Engines are the policies' own.
	Engine  *waf.Engine
	Engines map[string]*waf.Engine
	// Model is nil when ml.enabled is false.
	Model *model.Model
	// ModelSource says where the model came from: "embedded" or its path.
	ModelSource string
	// Leak is the leakage model, nil when response.inspect is false;
	// LeakSource is "embedded" or its path.
	Leak       *leak.Model
	LeakSource string
	Policies   *inspect.Set
}

// Deps are the long-lived parts a Runtime plugs into: they outlive reloads.
type Deps struct {
	// Logger may be nil (nothing is logged).
	Logger *slog.Logger
	// Memory is the client memory; nil builds one from the config.
	Memory *inspect.Memory
	// Metrics may be nil (nothing is registered).
	Metrics *inspect.Metrics
	// Collect is the sample store (learn.collect); nil collects nothing.
	Collect *collect.Store
}

// Build compiles cfg: the WAF, one WAF per distinct policy WAF setting, the
// model, the policies and the core. Start, `--validate`, reload and the
// tools all call it, so whatever start would refuse, each of them refuses.
func Build(cfg config.Config, deps Deps) (*Runtime, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rt := &Runtime{Config: cfg, Engines: map[string]*waf.Engine{}}
	var err error
	if rt.Engine, err = waf.New(cfg.WAF, logger); err != nil {
		return nil, err
	}
	threshold := cfg.ML.Threshold
	if cfg.ML.Enabled {
		if rt.Model, err = model.Open(cfg.Model.Path); err != nil {
			return nil, fmt.Errorf("model.path: %w", err)
		}
		rt.ModelSource = "embedded"
		if cfg.Model.Path != "" {
			rt.ModelSource = cfg.Model.Path
		}
		if threshold == 0 {
			threshold = rt.Model.Info().DefaultThreshold
		}
		logger.Info("model loaded", "source", rt.ModelSource, "schema", rt.Model.Info().SchemaVersion, "created", rt.Model.Info().Created,
			"training_data_sha256", rt.Model.Info().TrainingDataHash, "threshold", threshold)
	}
	if threshold == 0 {
		threshold = inspect.DefaultMLThreshold
	}
	def := inspect.Policy{Name: "default", Mode: inspect.Mode(cfg.ML.Mode), MLThreshold: threshold, ORPoints: cfg.ML.ORPoints,
		ClearScore: cfg.ML.ClearScore, ClearShapeless: cfg.ML.ClearShapeless, Shadow: cfg.ML.Shadow}
	if cfg.Response.Inspect {
		if rt.Leak, err = leak.Open(cfg.Model.LeakPath); err != nil {
			return nil, fmt.Errorf("model.leak_path: %w", err)
		}
		rt.LeakSource = "embedded"
		if cfg.Model.LeakPath != "" {
			rt.LeakSource = cfg.Model.LeakPath
		}
	}
	def.Response = responsePolicy(cfg.Response, rt.Leak)
	def.Collect = cfg.Learn.Collect
	var candidate *model.Model
	if cfg.Model.CandidatePath != "" && rt.Model != nil {
		if candidate, err = model.Load(cfg.Model.CandidatePath); err != nil {
			return nil, fmt.Errorf("model.candidate_path: %w", err)
		}
		logger.Info("candidate model loaded (shadow)", "path", cfg.Model.CandidatePath, "created", candidate.Info().Created)
	}
	if !cfg.ML.Enabled {
		def.Mode = inspect.ModeCRS
	}
	rt.Policies = &inspect.Set{Default: def}
	compiled := map[string]*waf.Engine{}
	for _, pc := range cfg.Policies {
		p := pc.Apply(def, cfg.ML.Enabled)
		rt.Policies.Routes = append(rt.Policies.Routes, inspect.Route{Policy: p, RouteName: pc.Route, Host: pc.Host, PathPrefix: pc.PathPrefix})
		wc, own := pc.WAF(cfg.WAF)
		if !own {
			continue
		}
		// Policies with the same WAF settings share one compiled WAF.
		key := fmt.Sprintf("%s/%d/%d/%d", wc.Engine, wc.ParanoiaLevel, wc.DetectionParanoiaLevel, wc.InboundAnomalyThreshold)
		e, ok := compiled[key]
		if !ok {
			if e, err = waf.New(wc, nil); err != nil {
				return nil, fmt.Errorf("policies (%s): %w", pc.Name, err)
			}
			compiled[key] = e
		}
		rt.Engines[pc.Name] = e
	}
	memory := deps.Memory
	if memory == nil {
		memory = inspect.NewMemory(cfg.ClientMemory.Size, cfg.ClientMemory.Window)
	}
	rt.Core, err = inspect.New(inspect.Options{
		Engine:        rt.Engine,
		PolicyEngines: rt.Engines,
		Model:         rt.Model,
		Policies:      rt.Policies,
		Memory:        memory,
		Session:       inspect.Session{Cookie: cfg.Session.Cookie, Header: cfg.Session.Header},
		Offender: inspect.Offender{Attacks: cfg.ClientMemory.OffenderAttacks, ThresholdDrop: cfg.ClientMemory.OffenderThresholdDrop,
			MLBoost: cfg.ClientMemory.OffenderMLBoost},
		Metrics:   deps.Metrics,
		Leak:      rt.Leak,
		Candidate: candidate,
		Collect:   deps.Collect,
		Decode:    decode.Limits{MaxOutput: cfg.Response.MaxDecodedBytes, MaxRatio: cfg.Response.MaxRatio},
		Types:     decode.Types{Skip: cfg.Response.SkipTypes},
	})
	if err != nil {
		return nil, err
	}
	return rt, nil
}

// FilterOptions are the ext_proc server's options for rt.
func FilterOptions(rt *Runtime, logger, audit *slog.Logger, metrics *filter.Metrics) filter.Options {
	cfg := rt.Config
	return filter.Options{
		Core:                   filter.CoreInspector(rt.Core),
		SlowBodyBytes:          cfg.SlowBodyBytes,
		MaxWaitingTransactions: cfg.MaxWaitingTransactions,
		SlowBodyTimeout:        cfg.SlowBodyTimeout,
		FailOpen:               cfg.FailMode == config.FailOpen,
		BlockStatus:            cfg.Block.Status,
		EmptyBlockBody:         cfg.Block.Body == config.BlockBodyEmpty,
		ErrorStatus:            cfg.Block.ErrorStatus,
		MetadataNamespace:      cfg.Metadata.Namespace,
		MaxMetadataRules:       cfg.Metadata.MaxRules,
		UpstreamHeaders:        cfg.UpstreamHeaders.Enabled,
		HeaderPrefix:           cfg.UpstreamHeaders.Prefix,
		TrustedHops:            cfg.TrustedHops,
		ModeOverride:           cfg.ModeOverride,
		DeferBuffered:          cfg.DeferBufferedHeaders,
		RequestBodyMode:        bodyMode(cfg.AssumedRequestBodyMode),
		ResponseBodyMode:       bodyMode(cfg.AssumedResponseBodyMode),
		MaxStreams:             cfg.GRPC.MaxStreams,
		Logger:                 logger,
		Audit:                  audit,
		Metrics:                metrics,
	}
}

func bodyMode(s string) procmodev3.ProcessingMode_BodySendMode {
	return procmodev3.ProcessingMode_BodySendMode(procmodev3.ProcessingMode_BodySendMode_value[s])
}

// responsePolicy is the default policy's response inspection.
func responsePolicy(c config.Response, m *leak.Model) inspect.ResponsePolicy {
	p := inspect.ResponsePolicy{Inspect: c.Inspect && m != nil, Threshold: c.Threshold, Action: inspect.LeakAction(c.Action)}
	if p.Threshold == 0 && m != nil {
		p.Threshold = m.DefaultThreshold()
	}
	if p.Threshold == 0 {
		p.Threshold = inspect.DefaultMLThreshold
	}
	for class, a := range c.Actions {
		if p.Actions == nil {
			p.Actions = map[string]inspect.LeakAction{}
		}
		p.Actions[class] = inspect.LeakAction(a)
	}
	return p
}
