package model

import (
	"bytes"
	"encoding/csv"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bulwark-waf/bulwark/internal/repo"
)

// parityRows: every field of the testdata requests, plus rows that mix
// their columns at random so that many more tree paths are exercised.
func parityRows(t *testing.T) [][]float64 {
	t.Helper()
	f, err := os.Open("testdata/parity.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]float64
	err = ReadRecords(f, func(_ int, rec *Record) error {
		for _, fl := range Fields(rec.Request()) {
			fv := make([]float64, NumFeatures)
			FieldFeatures(&fl, fv)
			rows = append(rows, fv)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := len(rows)
	for i := 0; i < 300; i++ {
		fv := make([]float64, NumFeatures)
		for j := range fv {
			fv[j] = rows[rng.IntN(n)][j]
			if rng.IntN(10) == 0 {
				fv[j] *= 1 + rng.Float64()
			}
		}
		rows = append(rows, fv)
	}
	return rows
}

func TestLeavesMatchesPythonLightGBM(t *testing.T) {
	py := repo.LightGBMPython(t)
	m, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	rows := parityRows(t)
	rowsPath := filepath.Join(t.TempDir(), "rows.csv")
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(FeatureNames[:])
	for _, r := range rows {
		rec := make([]string, len(r))
		for i, v := range r {
			rec[i] = strconv.FormatFloat(v, 'g', -1, 64)
		}
		_ = w.Write(rec)
	}
	w.Flush()
	if err := os.WriteFile(rowsPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ensembles := []struct {
		key  string
		pred func([]float64) []float64
	}{
		{"lightgbm_model", m.RawPredict},
		{"gate_model", func(fv []float64) []float64 {
			v, ok := m.RawGate(fv)
			if !ok {
				t.Fatal("embedded model has no gate ensemble")
			}
			return []float64{v}
		}},
	}
	for _, e := range ensembles {
		t.Run(e.key, func(t *testing.T) {
			want := pythonRaw(t, py, rowsPath, e.key)
			if len(want) != len(rows) {
				t.Fatalf("python returned %d rows, want %d", len(want), len(rows))
			}
			const tol = 1e-6
			var worst float64
			for i, r := range rows {
				got := e.pred(r)
				if len(got) != len(want[i]) {
					t.Fatalf("row %d: leaves has %d outputs, python %d", i, len(got), len(want[i]))
				}
				for k, pv := range want[i] {
					d := math.Abs(got[k] - pv)
					worst = max(worst, d)
					if d > tol {
						t.Errorf("row %d output %d: leaves %.12g, lightgbm %.12g (diff %.3g)", i, k, got[k], pv, d)
					}
				}
			}
			t.Logf("%d rows x %d outputs, max |diff| = %.3g", len(rows), len(want[0]), worst)
		})
	}
}

func pythonRaw(t *testing.T, py, rowsPath, key string) [][]float64 {
	t.Helper()
	cmd := exec.Command(py, filepath.Join("train", "predict.py"), "bulwark.model.gz", rowsPath, key)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("predict.py: %v\n%s", err, stderr.String())
	}
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	res := make([][]float64, len(recs))
	for i, rec := range recs {
		for _, s := range rec {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				t.Fatal(err)
			}
			res[i] = append(res[i], v)
		}
	}
	return res
}
