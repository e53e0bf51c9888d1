package main

import (
	"errors"
	"flag"
	"fmt"
	"mime"
	"os"
	"path/filepath"

	"github.com/bulwark-waf/bulwark/model/leak"
)

// score prints the class scores and the first location of each flagged
// class for saved bodies, one line per file: the quick look at a page
// that a tuning question needs, without a corpus record.
func score(args []string) error {
	fs := flag.NewFlagSet("score", flag.ExitOnError)
	modelPath := fs.String("model", "", "leak model file (empty: the embedded one)")
	ctype := fs.String("content-type", "", "content type of every file (empty: from the file extension)")
	spans := fs.Bool("spans", false, "also print every matched span")
	status := fs.Int("status", 0, "HTTP status of every file (0: unknown)")
	_ = fs.Parse(args)
	if fs.NArg() == 0 {
		return errors.New("score: no files")
	}
	m, err := leak.Open(*modelPath)
	if err != nil {
		return err
	}
	for _, p := range fs.Args() {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		ct := *ctype
		if ct == "" {
			ct = mime.TypeByExtension(filepath.Ext(p))
		}
		s := m.ScoreResponse(*status, ct, b)
		flag := " "
		if s.Overall <= m.DefaultThreshold() {
			flag = "!"
		}
		fmt.Printf("%s %2d secret=%d pii=%d error=%d source=%d %s", flag, s.Overall, s.Class["secret"], s.Class["pii"], s.Class["error"], s.Class["source"], p)
		for _, l := range s.Locations {
			fmt.Printf(" [%s %s %s %d]", l.Class, l.Where, l.Feature, l.Score)
		}
		fmt.Println()
		if *spans {
			for _, sp := range s.Spans {
				fmt.Printf("    %s %s %q\n", sp.Class, sp.Feature, b[sp.Start:sp.End])
			}
		}
	}
	return nil
}
