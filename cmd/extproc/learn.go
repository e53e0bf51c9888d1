package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/internal/collect"
	"github.com/bulwark-waf/bulwark/internal/learn"
	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/waf"
)

// runLearn dispatches `extproc learn label|train`.
func runLearn(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	usage := "usage: extproc learn label --samples DIR|FILE... [--feedback FILE] --out labelled.jsonl\n" +
		"       extproc learn train --labelled FILE --out MODEL [--scheduler tcp://HOST:PORT|local[:N]]"
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("learn: label or train?")
	}
	switch args[0] {
	case "label":
		return runLearnLabel(ctx, args[1:], stdout, stderr)
	case "train":
		return runLearnTrain(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("learn: unknown step %q (label or train)", args[0])
}

// listFlag collects a repeated flag; each value may also list several
// paths separated by commas.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

func runLearnLabel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("learn label", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var samples listFlag
	fs.Var(&samples, "samples", "collected samples: a learn.dir directory or JSON Lines files (.jsonl, .jsonl.gz); repeatable, and trailing arguments count too")
	feedback := fs.String("feedback", "", "operator feedback: YAML list or JSON Lines of {request_id | rule_id + field, label: benign|attack, class, note} (docs/LEARNING.md)")
	out := fs.String("out", "", "labelled JSON Lines output (the format extproc features and eval read, plus label reasons)")
	verbose := fs.Bool("verbose", false, "print one line per record: id, label, class, field and reason")
	rerun := fs.String("rerun", string(learn.RerunAuto), "re-run requests through CRS at paranoia 4 detection-only: auto (records without evidence, and attack candidates the model did not locate), always, never")
	threshold := fs.Int("threshold", 0, "the model flags a request whose overall score is <= this (default: the model's)")
	workers := fs.Int("workers", 0, "parallel workers (default: GOMAXPROCS)")
	commonMin := fs.Int("common-min", learn.DefaultCommonMin, "a rule (or the model) flagging a field in at least this many requests, and in --common-share of the requests carrying it, is the site's normal there, not an attack candidate; 0 turns this off")
	commonShare := fs.Float64("common-share", learn.DefaultCommonShare, "see --common-min")
	short := addShorthands(fs)
	settings := config.AddFlags(fs, nil)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: extproc learn label --samples DIR|FILE... [--feedback FILE] --out labelled.jsonl [--verbose] [--model FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	samples = append(samples, fs.Args()...)
	if len(samples) == 0 || *out == "" {
		fs.Usage()
		return errors.New("learn label: --samples and --out are required")
	}
	files, err := learn.Inputs(samples)
	if err != nil {
		return err
	}
	var fb *learn.Feedbacks
	if *feedback != "" {
		if fb, err = learn.ReadFeedback(*feedback); err != nil {
			return err
		}
		// A feedback file kept beside the samples is not a sample.
		if abs, err := filepath.Abs(*feedback); err == nil {
			files = slices.DeleteFunc(files, func(f string) bool {
				a, err := filepath.Abs(f)
				return err == nil && a == abs
			})
			if len(files) == 0 {
				return errors.New("learn label: no samples besides the feedback file")
			}
		}
	}
	// The rules side: the server's config (its rules, exclusions and
	// policies) with every paranoia level run for detection only, so a
	// re-run sees what CRS at high paranoia would say without blocking.
	rt, err := toolRuntime(settings, func(c *config.Config) {
		short.apply(c)
		c.ML.Enabled = false
		c.WAF.Engine = waf.EngineDetectionOnly
		c.WAF.DetectionParanoiaLevel = 4
		// Responses play no part in labelling requests.
		c.Response.Inspect = false
	})
	if err != nil {
		return fmt.Errorf("learn label: %w", err)
	}
	m, err := model.Open(rt.Config.Model.Path)
	if err != nil {
		return fmt.Errorf("learn label: %w", err)
	}
	lab, err := learn.NewLabeler(learn.Options{Model: m, Threshold: *threshold, Rerun: learn.CoreRerunner{Core: rt.Core},
		RerunMode: learn.RerunMode(*rerun), Feedback: fb})
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("learn label: %w", err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	var sum learn.Summary
	n := *workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	// Two passes over records held in memory (the store is bounded by
	// learn.max_bytes): each record on its own evidence, then again with
	// the site's profile, so flags that are the site's normal are not
	// attack candidates. Output is in input order.
	var recs []*collect.Record
	if err := learn.ReadRecords(ctx, files, func(rec *collect.Record) error {
		r := *rec
		recs = append(recs, &r)
		return nil
	}); err != nil {
		return err
	}
	var prof *learn.Profile
	if *commonMin > 0 {
		prof = learn.NewProfile(*commonMin, *commonShare)
	}
	res, err := lab.LabelAll(ctx, recs, prof, n)
	if err != nil {
		return err
	}
	for _, l := range res {
		sum.Add(l)
		b, err := json.Marshal(l)
		if err != nil {
			return fmt.Errorf("learn label: %s: %w", l.ID, err)
		}
		w.Write(b)
		w.WriteByte('\n')
		if *verbose {
			where := l.AttackPart
			if l.AttackField != "" {
				where += ":" + l.AttackField
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\tscore=%d model=%d rules=%s\t%s\n", l.ID, l.Label, orDash(l.Category), orDash(where),
				l.Score, overallOf(l.Evidence.Model), ruleList(l.Evidence.Rules), l.Reason)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("learn label: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("learn label: %w", err)
	}
	info := m.Info()
	fmt.Fprintf(stdout, "model: %s, trained %s, threshold %d; rules: CRS %s at paranoia 1-4 (detection only); feedback: %d entries\n",
		info.SchemaVersion, info.Created, lab.Threshold(), waf.CRSVersion, fb.Len())
	sum.WriteText(stdout)
	if prof != nil {
		prof.WriteCommon(stdout, 20)
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func overallOf(s *model.Scores) int {
	if s == nil {
		return 0
	}
	return s.Overall
}

func ruleList(hits []learn.Hit) string {
	if len(hits) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(hits))
	for _, h := range hits {
		p := strconv.Itoa(h.ID)
		if h.Paranoia > 0 {
			p += "@PL" + strconv.Itoa(h.Paranoia)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ",")
}

// runLearnTrain runs the pinned Python pipeline (bulwark_train.site) with
// this binary as the feature writer, so the site model's features are the
// ones that serve.
func runLearnTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("learn train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	labelled := fs.String("labelled", "", "output of extproc learn label")
	out := fs.String("out", "", "site model file to write (only when it passes both gates)")
	baseModel := fs.String("base-model", "", "base model file (default: the model embedded in this binary)")
	baseCorpus := fs.String("base-corpus", "build/corpus", "base corpus directory (make corpus): train.jsonl and valid.jsonl, and test.jsonl when present (an FPR gate nothing is tuned on)")
	scheduler := fs.String("scheduler", "", "Dask: tcp://HOST:PORT of a running scheduler, or local[:N] for a LocalCluster of N workers; empty trains in this process")
	python := fs.String("python", ".venv/bin/python", "Python with model/train/requirements.txt (and requirements-learn.txt for --scheduler)")
	trainer := fs.String("trainer", "model/train", "directory holding the bulwark_train package")
	workdir := fs.String("workdir", "", "directory for features and intermediate files (default: a temporary one, removed)")
	holdout := fs.Float64("holdout", 0.2, "the latest fraction of the site's labelled traffic held out for the FPR gate")
	siteWeight := fs.Float64("site-weight", 3, "weight of a site benign field relative to a base benign field")
	seed := fs.Int("seed", 20260501, "random seed")
	extra := fs.String("trainer-args", "", "further arguments for bulwark_train.site, space separated")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: extproc learn train --labelled FILE --out MODEL [--base-corpus DIR] [--base-model FILE] [--scheduler tcp://...|local[:N]]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *labelled == "" || *out == "" {
		fs.Usage()
		return errors.New("learn train: --labelled and --out are required")
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("learn train: %w", err)
	}
	dir := *workdir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "bulwark-learn-"); err != nil {
			return fmt.Errorf("learn train: %w", err)
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("learn train: %w", err)
	}
	base := *baseModel
	if base == "" {
		base = filepath.Join(dir, "base.model.gz")
		if err := os.WriteFile(base, model.EmbeddedFile(), 0o644); err != nil {
			return fmt.Errorf("learn train: %w", err)
		}
	}
	argv := []string{"-m", "bulwark_train.site", "--labelled", *labelled, "--out", *out, "--base-model", base,
		"--base-corpus", *baseCorpus, "--extproc", self, "--workdir", dir, "--holdout", strconv.FormatFloat(*holdout, 'g', -1, 64),
		"--site-weight", strconv.FormatFloat(*siteWeight, 'g', -1, 64), "--seed", strconv.Itoa(*seed)}
	if *scheduler != "" {
		argv = append(argv, "--scheduler", *scheduler)
	}
	argv = append(argv, strings.Fields(*extra)...)
	cmd := exec.CommandContext(ctx, *python, argv...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = append(os.Environ(), "PYTHONPATH="+*trainer, "PYTHONHASHSEED=0")
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 3 {
			return fmt.Errorf("learn train: refused: the site model is worse than the base model (see above); nothing written to %s", *out)
		}
		return fmt.Errorf("learn train: %s %s: %w", *python, strings.Join(argv[:2], " "), err)
	}
	return nil
}
