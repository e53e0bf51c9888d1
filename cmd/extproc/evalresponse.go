package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/model/evaluate"
)

// evalFlags are the `extproc eval` flags the response eval shares with the
// request eval.
type evalFlags struct {
	data, preds, outDir string
	threshold, workers  int
	noCRS, asJSON       bool
	modelGiven          bool
	model               string
}

// runEvalResponses is `extproc eval` on labelled responses (records with a
// "response" object): every response goes through the server's inspection
// core behind a plain GET — the leakage model and CRS's outbound rules in
// one exchange, the body decoded for both when it has a Content-Encoding —
// and the report gives, per leak class, the model's and CRS outbound's
// rates on the same rows, with the histogram and ROC plots of the request
// eval. --model names the leakage model file here (as --model-leak-path).
func runEvalResponses(ctx context.Context, raw []byte, f evalFlags, settings *config.Flags, short *shorthands, stdout io.Writer) error {
	rt, err := toolRuntime(settings, func(c *config.Config) {
		// --paranoia and the other shorthands apply; --model is the
		// leakage model here, not the request model.
		reqModel := c.Model.Path
		short.apply(c)
		c.Model.Path = reqModel
		c.ML.Enabled = false
		c.Response.Inspect = true
		if f.modelGiven {
			c.Model.LeakPath = f.model
		}
		if f.threshold > 0 {
			c.Response.Threshold = f.threshold
		}
	})
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if rt.Leak == nil {
		return fmt.Errorf("eval: no leakage model loaded")
	}
	t := rt.Policies.Default.Response.Threshold
	rows, err := evaluate.ScoreResponses(ctx, bytes.NewReader(raw), evaluate.ResponseOptions{Core: rt.Core, NoCRS: f.noCRS, Workers: f.workers})
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	rep := evaluate.SummarizeResponses(rows, t)
	crsName := fmt.Sprintf("CRS outbound PL%d (threshold %d)", rt.Config.WAF.ParanoiaLevel, rt.Config.WAF.OutboundAnomalyThreshold)
	if err := writeFile(filepath.Join(f.outDir, "histogram.png"), func(w io.Writer) error { return evaluate.WriteResponseHistogram(w, rows, t) }); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(f.outDir, "roc.png"), func(w io.Writer) error { return evaluate.WriteResponseROC(w, rows, &rep) }); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(f.outDir, "report.json"), func(w io.Writer) error {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(rep)
	}); err != nil {
		return err
	}
	if f.preds != "" {
		if err := writeFile(f.preds, func(w io.Writer) error { return evaluate.WriteResponsePredictions(w, rows) }); err != nil {
			return err
		}
	}
	if f.asJSON {
		e := json.NewEncoder(stdout)
		e.SetIndent("", "  ")
		return e.Encode(rep)
	}
	info := rt.Leak.Info()
	fmt.Fprintf(stdout, "leakage model: %s (%s, %s, trained %s, data sha256 %.12s)\n", rt.LeakSource, info.SchemaVersion, info.Trainer, info.Created, info.TrainingDataHash)
	rep.WriteText(stdout, crsName)
	fmt.Fprintf(stdout, "\nplots: %s, %s\n", filepath.Join(f.outDir, "histogram.png"), filepath.Join(f.outDir, "roc.png"))
	return nil
}
