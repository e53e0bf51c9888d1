package learn

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bulwark-waf/bulwark/internal/collect"
)

// MaxLine bounds one JSON line; a longer one is an error, not skipped.
const MaxLine = 16 << 20

// Inputs expands the --samples arguments: a directory stands for its
// samples-*.jsonl files (the collector's, in time order) and its other
// *.jsonl and *.jsonl.gz files; a file stands for itself.
func Inputs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("learn: %w", err)
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		var names []string
		for _, pat := range []string{"*.jsonl", "*.jsonl.gz"} {
			m, err := filepath.Glob(filepath.Join(a, pat))
			if err != nil {
				return nil, fmt.Errorf("learn: %w", err)
			}
			names = append(names, m...)
		}
		sort.Strings(names)
		if len(names) == 0 {
			return nil, fmt.Errorf("learn: %s holds no .jsonl or .jsonl.gz files", a)
		}
		out = append(out, names...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("learn: no samples given")
	}
	return out, nil
}

// ReadRecords calls fn for every record of the files, in order. Record ids
// default to FILE:LINE so every record can be named in feedback.
func ReadRecords(ctx context.Context, files []string, fn func(rec *collect.Record) error) error {
	for _, name := range files {
		if err := readFile(ctx, name, fn); err != nil {
			return err
		}
	}
	return nil
}

func readFile(ctx context.Context, name string, fn func(rec *collect.Record) error) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("learn: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(name, ".gz") {
		z, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("learn: %s: %w", name, err)
		}
		defer z.Close()
		r = z
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), MaxLine)
	for line := 1; sc.Scan(); line++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var rec collect.Record
		if err := json.Unmarshal(b, &rec); err != nil {
			return fmt.Errorf("learn: %s line %d: %w", name, line, err)
		}
		if rec.ID == "" {
			rec.ID = fmt.Sprintf("%s:%d", filepath.Base(name), line)
		}
		if err := fn(&rec); err != nil {
			return fmt.Errorf("learn: %s line %d: %w", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("learn: %s: %w", name, err)
	}
	return nil
}
