package app

import (
	"fmt"
	"log/slog"

	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/verdict"
	"github.com/bulwark-waf/bulwark/waf"
)

// runtime is everything a reload rebuilds: the WAFs, the model and the
// policies. It is built completely, off the hot path, before anything is
// swapped.
type runtime struct {
	engine   *waf.Engine
	engines  map[string]*waf.Engine
	model    *model.Model
	policies *verdict.Set
}

// build compiles cfg: the WAF, one WAF per distinct policy WAF setting, the
// model and the policies.
func build(cfg config.Config, logger *slog.Logger) (*runtime, error) {
	rt := &runtime{engines: map[string]*waf.Engine{}}
	var err error
	if rt.engine, err = waf.New(cfg.WAF, logger); err != nil {
		return nil, err
	}
	threshold := cfg.ML.Threshold
	if cfg.ML.Enabled {
		if rt.model, err = model.Open(cfg.Model.Path); err != nil {
			return nil, fmt.Errorf("model.path: %w", err)
		}
		if threshold == 0 {
			threshold = rt.model.Info().DefaultThreshold
		}
		logger.Info("model loaded", "schema", rt.model.Info().SchemaVersion, "created", rt.model.Info().Created,
			"training_data_sha256", rt.model.Info().TrainingDataHash, "threshold", threshold)
	}
	if threshold == 0 {
		threshold = 20
	}
	def := verdict.Policy{Name: "default", Mode: verdict.Mode(cfg.ML.Mode), MLThreshold: threshold, ORPoints: cfg.ML.ORPoints, Shadow: cfg.ML.Shadow}
	if !cfg.ML.Enabled {
		def.Mode = verdict.ModeCRS
	}
	rt.policies = &verdict.Set{Default: def}
	compiled := map[string]*waf.Engine{}
	for _, pc := range cfg.Policies {
		p := def
		p.Name = pc.Name
		if pc.Mode != "" && cfg.ML.Enabled {
			p.Mode = verdict.Mode(pc.Mode)
		}
		if pc.MLThreshold != 0 {
			p.MLThreshold = pc.MLThreshold
		}
		if pc.ORPoints != 0 {
			p.ORPoints = pc.ORPoints
		}
		if pc.Shadow != nil {
			p.Shadow = *pc.Shadow
		}
		rt.policies.Routes = append(rt.policies.Routes, verdict.Route{Policy: p, RouteName: pc.Route, Host: pc.Host, PathPrefix: pc.PathPrefix})
		wc := cfg.WAF
		if pc.Engine != "" {
			wc.Engine = pc.Engine
		}
		if pc.ParanoiaLevel != 0 {
			wc.ParanoiaLevel = pc.ParanoiaLevel
			if wc.DetectionParanoiaLevel != 0 && wc.DetectionParanoiaLevel < wc.ParanoiaLevel {
				wc.DetectionParanoiaLevel = wc.ParanoiaLevel
			}
		}
		if pc.InboundAnomalyThreshold != 0 {
			wc.InboundAnomalyThreshold = pc.InboundAnomalyThreshold
		}
		if pc.Engine == "" && pc.ParanoiaLevel == 0 && pc.InboundAnomalyThreshold == 0 {
			continue
		}
		// Policies with the same WAF settings share one compiled WAF.
		key := fmt.Sprintf("%s/%d/%d", wc.Engine, wc.ParanoiaLevel, wc.InboundAnomalyThreshold)
		e, ok := compiled[key]
		if !ok {
			if e, err = waf.New(wc, nil); err != nil {
				return nil, fmt.Errorf("policies (%s): %w", pc.Name, err)
			}
			compiled[key] = e
		}
		rt.engines[pc.Name] = e
	}
	if err := rt.policies.Validate(); err != nil {
		return nil, err
	}
	return rt, nil
}
