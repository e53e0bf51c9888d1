package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bulwark-waf/bulwark/cmd/extproc/app"
	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/model/evaluate"
	"github.com/bulwark-waf/bulwark/waf"
)

// modeRun is one row of the modes table: a combination mode at a paranoia
// level.
type modeRun struct {
	name     string
	mode     inspect.Mode
	paranoia int
	points   int
}

var modeRuns = []modeRun{
	{"crs (PL1)", inspect.ModeCRS, 1, 5},
	{"crs (PL2)", inspect.ModeCRS, 2, 5},
	{"ml", inspect.ModeML, 1, 5},
	{"and (PL2)", inspect.ModeAnd, 2, 5},
	{"or (PL1)", inspect.ModeOr, 1, 5},
	{"gated (PL1)", inspect.ModeGated, 1, 5},
	{"confirm (PL1)", inspect.ModeConfirm, 1, 5},
}

type modeStats struct {
	run            modeRun
	blocked        []bool // by sample index
	latencies      []time.Duration
	mlCalls        float64
	tp, fn, fp, tn int
	obfTP, obfN    int
	byCategory     map[string][2]int // attacks blocked, attacks
	// scores are the metadata's score (all evidence) and ml_score (the
	// model's), as suspicion (100 - score), of attacks and benign requests.
	scoreAtk, scoreBen, mlAtk, mlBen []float64
	unscored                         int
}

// metadataScore reads one number of the bulwark namespace, as suspicion.
func metadataScore(res *envoysim.Result, key string) (float64, bool) {
	ns := res.Metadata.GetFields()["bulwark"].GetStructValue()
	v, ok := ns.GetFields()[key]
	if !ok {
		return 0, false
	}
	return 100 - v.GetNumberValue(), true
}

// runModes sends a labelled sample through the real ext_proc server under
// each combination mode and writes the comparison table (docs/MODES.md).
func runModes(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("modes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "labelled JSON Lines (the format of extproc eval)")
	limit := fs.Int("limit", 6000, "requests sampled from --data (fixed seed); 0 = all")
	seed := fs.Uint64("seed", 1, "sampling seed")
	modelPath := fs.String("model", "", "model file; empty = embedded")
	mlThreshold := fs.Int("threshold", 0, "model threshold for every mode; 0 = the model's default")
	only := fs.String("modes", "", "comma-separated modes to run (crs, ml, and, or, gated, confirm); empty = all")
	out := fs.String("out", "", "write the Markdown report here instead of stdout")
	settings := config.AddFlags(fs, nil)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		return errors.New("modes: --data is required")
	}
	recs, err := sampleRecords(*data, *limit, *seed)
	if err != nil {
		return err
	}
	loaded, err := settings.Load()
	if err != nil {
		return err
	}
	base := loaded.Config
	if *modelPath != "" {
		base.Model.Path = *modelPath
	}
	m, err := model.Open(base.Model.Path)
	if err != nil {
		return err
	}
	threshold := m.Info().DefaultThreshold
	if *mlThreshold != 0 {
		threshold = *mlThreshold
	}
	var stats []*modeStats
	for _, run := range modeRuns {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), string(run.mode)) {
			continue
		}
		st, err := measureMode(ctx, base, run, threshold, recs)
		if err != nil {
			return fmt.Errorf("%s: %w", run.name, err)
		}
		fmt.Fprintf(stderr, "%s: TPR %.2f%% FPR %.3f%% AUC %.4f (ml_score %.4f)\n", run.name, pct(st.tp, st.tp+st.fn), pct(st.fp, st.fp+st.tn),
			evaluate.AUC(st.scoreAtk, st.scoreBen), evaluate.AUC(st.mlAtk, st.mlBen))
		stats = append(stats, st)
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	modelName := "the embedded model"
	if base.Model.Path != "" {
		modelName = "the model " + base.Model.Path
	}
	writeModesReport(w, *data, len(recs), *seed, modelName, threshold, stats)
	return nil
}

func sampleRecords(path string, limit int, seed uint64) ([]*model.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []*model.Record
	err = model.ReadRecords(f, func(_ int, r *model.Record) error {
		if r.Label == "attack" || r.Label == "benign" {
			recs = append(recs, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if limit > 0 && len(recs) > limit {
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		recs = recs[:limit]
	}
	return recs, nil
}

// measureMode serves ext_proc on loopback with one policy and drives every
// record through it as Envoy would (BUFFERED request body).
func measureMode(ctx context.Context, base config.Config, run modeRun, threshold int, recs []*model.Record) (*modeStats, error) {
	cfg := base
	cfg.WAF.ParanoiaLevel = run.paranoia
	cfg.WAF.RequestBodyLimitAction = waf.LimitProcessPartial
	cfg.ML.Enabled, cfg.ML.Mode, cfg.ML.Threshold, cfg.ML.ORPoints, cfg.ML.Shadow = true, string(run.mode), threshold, run.points, false
	reg := prometheus.NewRegistry()
	rt, err := app.Build(cfg, app.Deps{Metrics: inspect.NewMetrics(reg)})
	if err != nil {
		return nil, err
	}
	discard := slog.New(slog.DiscardHandler)
	srv, err := filter.NewServer(app.FilterOptions(rt, discard, discard, filter.NewMetrics(reg)))
	if err != nil {
		return nil, err
	}
	client, stop, err := envoysim.Loopback(srv)
	if err != nil {
		return nil, err
	}
	defer stop()
	f := &envoysim.Filter{
		Mode:           &procv3.ProcessingMode{RequestBodyMode: procv3.ProcessingMode_BUFFERED},
		MessageTimeout: 30 * time.Second,
		BufferLimit:    16 << 20,
	}
	st := &modeStats{run: run, byCategory: map[string][2]int{}}
	upstream := func(*envoysim.Message) *envoysim.Message { return &envoysim.Message{Status: 200} }
	for i, r := range recs {
		// Each record is its own client, as the records come from many
		// (one address for all would make the client memory treat the
		// whole run as one repeat offender and tighten every threshold).
		f.Attributes = map[string]string{"source.address": fmt.Sprintf("198.18.%d.%d:40000", i/250%250, i%250+1)}
		msg := recordMessage(r)
		start := time.Now()
		res, err := f.Do(ctx, client, msg, upstream)
		st.latencies = append(st.latencies, time.Since(start))
		if err != nil {
			return nil, err
		}
		if res.StreamErr != nil || (res.Local != nil && !res.Local.FromServer) {
			return nil, fmt.Errorf("request %s: %v %+v", r.ID, res.StreamErr, res.Local)
		}
		blocked := res.Blocked()
		st.blocked = append(st.blocked, blocked)
		obf := r.Obfuscation != "" && r.Obfuscation != "none"
		score, ok := metadataScore(res, "score")
		ml, mlOK := metadataScore(res, "ml_score")
		switch {
		case !ok || !mlOK:
			// Refused before the model ran, at a limit: no score.
			st.unscored++
		case r.Label == "attack":
			st.scoreAtk, st.mlAtk = append(st.scoreAtk, score), append(st.mlAtk, ml)
		default:
			st.scoreBen, st.mlBen = append(st.scoreBen, score), append(st.mlBen, ml)
		}
		if r.Label == "attack" {
			c := st.byCategory[r.Category]
			c[1]++
			if blocked {
				st.tp++
				c[0]++
			} else {
				st.fn++
			}
			st.byCategory[r.Category] = c
			if obf {
				st.obfN++
				if blocked {
					st.obfTP++
				}
			}
		} else if blocked {
			st.fp++
		} else {
			st.tn++
		}
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "bulwark_model_calls_total" {
			st.mlCalls = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return st, nil
}

func recordMessage(r *model.Record) *envoysim.Message {
	req := r.Request()
	msg := &envoysim.Message{Method: req.Method, Path: req.URI, Scheme: "https", Body: req.Body}
	for _, h := range req.Headers {
		if h[0] == "host" {
			msg.Authority = h[1]
			continue
		}
		msg.Headers = append(msg.Headers, h)
	}
	if msg.Authority == "" {
		msg.Authority = "app.example.com"
	}
	if len(req.Body) > 0 && !slices.ContainsFunc(msg.Headers, func(h [2]string) bool { return h[0] == "content-length" }) {
		msg.Headers = append(msg.Headers, [2]string{"content-length", fmt.Sprint(len(req.Body))})
	}
	return msg
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func writeModesReport(w io.Writer, data string, n int, seed uint64, modelName string, threshold int, stats []*modeStats) {
	fmt.Fprintf(w, "# Combination modes\n\nGenerated by `extproc modes --data %s --limit %d --seed %d` on %s: %d labelled requests sampled from %s, each sent through the real ext_proc server over loopback gRPC by envoysim (request body BUFFERED, one client address per request), one server per mode, with CRS %s and %s (threshold %d). Latency is the whole ext_proc exchange as Envoy would see it, on this machine (%d requests, sequential).\n\n",
		data, n, seed, time.Now().UTC().Format("2006-01-02"), n, data, waf.CRSVersion, modelName, threshold, n)
	fmt.Fprintf(w, "| mode | TPR | FPR | TPR obfuscated | ROC AUC of the score | ROC AUC of ml_score | ML calls / request | p50 | p99 |\n|---|---|---|---|---|---|---|---|---|\n")
	byName := map[string]*modeStats{}
	for _, s := range stats {
		byName[s.run.name] = s
		fmt.Fprintf(w, "| %s | %.2f%% | %.3f%% | %.2f%% | %.4f | %.4f | %.3f | %s | %s |\n", s.run.name, pct(s.tp, s.tp+s.fn), pct(s.fp, s.fp+s.tn),
			pct(s.obfTP, s.obfN), evaluate.AUC(s.scoreAtk, s.scoreBen), evaluate.AUC(s.mlAtk, s.mlBen),
			s.mlCalls/float64(len(s.blocked)), quantile(s.latencies, .5).Round(time.Microsecond), quantile(s.latencies, .99).Round(time.Microsecond))
	}
	fmt.Fprintf(w, "\nThe score is the metadata's `score` (the model's, bounded by the threshold where CRS's block stands); ml_score is the model's own. Requests refused before the model ran (a limit) have neither and are left out of both AUCs: %d.\n", stats[0].unscored)
	fmt.Fprintf(w, "\nPer attack class (TPR):\n\n| mode |")
	var cats []string
	for c := range stats[0].byCategory {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	for _, c := range cats {
		fmt.Fprintf(w, " %s |", c)
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", len(cats)))
	for _, s := range stats {
		fmt.Fprintf(w, "| %s |", s.run.name)
		for _, c := range cats {
			v := s.byCategory[c]
			fmt.Fprintf(w, " %.2f%% |", pct(v[0], v[1]))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\n## The targets\n\n")
	if pl2, and := byName["crs (PL2)"], byName["and (PL2)"]; pl2 != nil && and != nil {
		cut := 100.0
		if pl2.fp > 0 {
			cut = 100 * float64(pl2.fp-and.fp) / float64(pl2.fp)
		}
		fmt.Fprintf(w, "- `and` vs CRS PL2: false positives %d → %d (cut %.1f%%, goal ≥ 80%%); TPR %.2f%% → %.2f%% (%+.2f points, goal ≥ −1).\n",
			pl2.fp, and.fp, cut, pct(pl2.tp, pl2.tp+pl2.fn), pct(and.tp, and.tp+and.fn), pct(and.tp, and.tp+and.fn)-pct(pl2.tp, pl2.tp+pl2.fn))
	}
	if pl1, or := byName["crs (PL1)"], byName["or (PL1)"]; pl1 != nil && or != nil {
		fmt.Fprintf(w, "- `or` vs CRS PL1 on obfuscated attacks: TPR %.2f%% → %.2f%% (%+.2f points, goal ≥ +20); FPR %.3f%% → %.3f%% (goal: no higher).\n",
			pct(pl1.obfTP, pl1.obfN), pct(or.obfTP, or.obfN), pct(or.obfTP, or.obfN)-pct(pl1.obfTP, pl1.obfN), pct(pl1.fp, pl1.fp+pl1.tn), pct(or.fp, or.fp+or.tn))
	}
	if or, gated := byName["or (PL1)"], byName["gated (PL1)"]; or != nil && gated != nil {
		same := 0
		for i := range or.blocked {
			if or.blocked[i] == gated.blocked[i] {
				same++
			}
		}
		fmt.Fprintf(w, "- `gated` vs `or`: same verdict on %.2f%% of requests (goal ≥ 99.9%%), model called on %.1f%% of requests vs %.1f%% (or_points 5 = threshold 5: every request CRS does not already block is within reach, so the saving is the share CRS blocks alone; with or_points below the threshold gating skips more but can no longer catch what CRS scores 0).\n",
			pct(same, len(or.blocked)), 100*gated.mlCalls/float64(len(gated.blocked)), 100*or.mlCalls/float64(len(or.blocked)))
	}
}
