package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/bulwark-waf/bulwark/model"
)

// runFeatures writes the training matrix for model/train: the feature
// vectors come from the same Go code that scores live traffic, so training
// and serving cannot drift.
func runFeatures(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("features", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "labelled JSON Lines corpus (- for stdin)")
	out := fs.String("out", "", "matrix output: raw little-endian float64 rows, or CSV with --csv")
	meta := fs.String("meta", "", "per-row CSV metadata output (id, part, field, label, ...)")
	asCSV := fs.Bool("csv", false, "write the matrix as CSV with a header row")
	names := fs.Bool("names", false, "print the schema version, feature fingerprint and feature names, then exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: extproc features --data CORPUS.jsonl --out X.f64 --meta META.csv [--csv]\n       extproc features --names\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *names {
		fmt.Fprintln(stdout, model.SchemaVersion)
		fmt.Fprintln(stdout, "fingerprint="+model.FeatureFingerprint())
		for _, n := range model.FeatureNames {
			fmt.Fprintln(stdout, n)
		}
		return nil
	}
	if *data == "" || *out == "" || *meta == "" {
		fs.Usage()
		return errors.New("features: --data, --out and --meta are required")
	}
	var in io.Reader = os.Stdin
	if *data != "-" {
		f, err := os.Open(*data)
		if err != nil {
			return fmt.Errorf("features: %w", err)
		}
		defer f.Close()
		in = f
	}
	mf, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("features: %w", err)
	}
	defer mf.Close()
	tf, err := os.Create(*meta)
	if err != nil {
		return fmt.Errorf("features: %w", err)
	}
	defer tf.Close()
	st, err := model.WriteFeatures(in, mf, tf, *asCSV)
	if err != nil {
		return fmt.Errorf("features: %w", err)
	}
	if err := mf.Close(); err != nil {
		return fmt.Errorf("features: %w", err)
	}
	if err := tf.Close(); err != nil {
		return fmt.Errorf("features: %w", err)
	}
	fmt.Fprintf(stderr, "features: %d rows x %d features (%s); %d attack records, %d with the payload field prefiltered, %d with it not found\n",
		st.Rows, model.NumFeatures, model.SchemaVersion, st.Attacks, st.AttackPrefiltered, st.AttackFieldMissing)
	_ = ctx
	return nil
}
