// Command leaktool is the Go side of the leakage model's training and
// evaluation (make train-leak): it writes the feature matrix of a labelled
// corpus with the same feature code that serves, and evaluates a model
// beside CRS's outbound rules.
//
//	leaktool features --data corpus.jsonl --out features.csv
//	leaktool eval --data test.jsonl [--model leak.model.gz] --out docs/LEAKAGE.md
//	leaktool score [--model leak.model.gz] [--content-type T] [--status N] FILE...   (one line per file)
package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/bulwark-waf/bulwark/model/leak"
)

// Record is one labelled response of the corpus.
type Record struct {
	ID          string   `json:"id"`
	Source      string   `json:"source"`
	Family      string   `json:"family"`
	Split       string   `json:"split"`
	Labels      []string `json:"labels"`
	ContentType string   `json:"content_type"`
	Status      int      `json:"status"`
	Body        string   `json:"body"`
	Real        bool     `json:"real"`
	Hard        bool     `json:"hard"`
}

func readRecords(path string, fn func(*Record) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if err := fn(&r); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
	}
	return sc.Err()
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: leaktool features|eval|score ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "features":
		err = features(os.Args[2:])
	case "eval":
		err = eval(os.Args[2:])
	case "score":
		err = score(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "leaktool:", err)
		os.Exit(1)
	}
}

func features(args []string) error {
	fs := flag.NewFlagSet("features", flag.ExitOnError)
	data := fs.String("data", "", "corpus JSON Lines")
	out := fs.String("out", "", "feature CSV to write")
	_ = fs.Parse(args)
	if *data == "" || *out == "" {
		return errors.New("features: --data and --out are required")
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	hdr := append([]string{"id"}, leak.FeatureNames[:]...)
	if err := w.Write(hdr); err != nil {
		return err
	}
	rec := make([]string, len(hdr))
	err = readRecords(*data, func(r *Record) error {
		fv := leak.ResponseFeatures(r.Status, r.ContentType, []byte(r.Body))
		rec[0] = r.ID
		for i, v := range fv {
			rec[i+1] = strconv.FormatFloat(v, 'g', -1, 64)
		}
		return w.Write(rec)
	})
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
