package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/model/evaluate"
	"github.com/bulwark-waf/bulwark/waf"
)

// runEval implements `extproc eval --data FILE.jsonl [--predictions OUT.csv]`.
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "JSON Lines requests, optionally gzip: {id,label,category,source,method,uri,headers,body} (- for stdin); records with a \"response\": {status,headers,body} object are evaluated as responses (leakage model beside CRS outbound)")
	preds := fs.String("predictions", "", "write one CSV row per request with every score and the CRS anomaly score")
	outDir := fs.String("out-dir", "eval-report", "directory for report.html, histogram.png, roc.png and report.json")
	threshold := fs.Int("threshold", 0, "flag requests whose overall score is <= this (default: the model's)")
	noCRS := fs.Bool("no-crs", false, "skip the CRS comparison")
	workers := fs.Int("workers", 0, "parallel workers (default: GOMAXPROCS)")
	short := addShorthands(fs)
	settings := config.AddFlags(fs, nil)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: extproc eval --data FILE.jsonl [--predictions OUT.csv] [--out-dir DIR] [--model FILE] [--no-crs]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		fs.Usage()
		return errors.New("eval: --data is required")
	}
	raw, err := readEvalData(*data)
	if err != nil {
		return err
	}
	if evaluate.IsResponseData(raw) {
		// Labelled responses: the leakage model beside CRS outbound
		// (evalresponse.go).
		f := evalFlags{data: *data, preds: *preds, outDir: *outDir, threshold: *threshold, workers: *workers, noCRS: *noCRS, asJSON: *asJSON, model: *short.model}
		fs.Visit(func(fl *flag.Flag) { f.modelGiven = f.modelGiven || fl.Name == "model" })
		return runEvalResponses(ctx, raw, f, settings, short, stdout)
	}
	// The CRS side is the server's config with the model off: its rules,
	// exclusions and paranoia level, through the same core.
	crs, err := toolRuntime(settings, func(c *config.Config) {
		short.apply(c)
		c.ML.Enabled = false
	})
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	m, err := model.Open(crs.Config.Model.Path)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	t := *threshold
	thresholdSource := "--threshold"
	if t == 0 {
		t = m.Info().DefaultThreshold
		thresholdSource = "the model's calibrated default"
	}
	opt := evaluate.Options{Model: m, Workers: *workers}
	crsName := "CRS"
	crsThreshold := waf.DefaultConfig().InboundAnomalyThreshold
	if !*noCRS {
		opt.CRS = crs.Core
		crsName = fmt.Sprintf("CRS PL%d", crs.Config.WAF.ParanoiaLevel)
		crsThreshold = crs.Config.WAF.InboundAnomalyThreshold
	}
	rows, err := evaluate.Score(ctx, bytes.NewReader(raw), opt)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	rep := evaluate.Summarize(rows, t)
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if err := writeFile(filepath.Join(*outDir, "histogram.png"), func(w io.Writer) error { return evaluate.WriteHistogram(w, rows, t) }); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(*outDir, "roc.png"), func(w io.Writer) error { return evaluate.WriteROC(w, rows, &rep) }); err != nil {
		return err
	}
	info := m.Info()
	html := evaluate.HTMLOptions{
		Title:           *data,
		ModelDesc:       evaluate.Describe(info.SchemaVersion, info.Trainer, info.Created),
		ThresholdSource: thresholdSource,
		CRSName:         crsName,
		CRSThreshold:    crsThreshold,
	}
	if err := writeFile(filepath.Join(*outDir, "report.html"), func(w io.Writer) error { return evaluate.WriteHTML(w, rows, &rep, html) }); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(*outDir, "report.json"), func(w io.Writer) error {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(rep)
	}); err != nil {
		return err
	}
	if *preds != "" {
		if err := writeFile(*preds, func(w io.Writer) error { return evaluate.WritePredictions(w, rows) }); err != nil {
			return err
		}
	}
	if *asJSON {
		e := json.NewEncoder(stdout)
		e.SetIndent("", "  ")
		return e.Encode(rep)
	}
	fmt.Fprintf(stdout, "model: %s, %s, trained %s, data sha256 %.12s\n", info.SchemaVersion, info.Trainer, info.Created, info.TrainingDataHash)
	rep.WriteText(stdout, crsName)
	fmt.Fprintf(stdout, "\nreport: %s (plots: %s, %s)\n", filepath.Join(*outDir, "report.html"), filepath.Join(*outDir, "histogram.png"), filepath.Join(*outDir, "roc.png"))
	return nil
}

// readEvalData reads the eval input (a file, or - for stdin), gunzipped
// when it is gzip.
func readEvalData(path string) ([]byte, error) {
	var in io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
		defer f.Close()
		in = f
	}
	raw, err := evaluate.ReadInput(in)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	return raw, nil
}

func writeFile(path string, fn func(io.Writer) error) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if err := fn(f); err != nil {
		f.Close()
		return fmt.Errorf("eval: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	return nil
}
