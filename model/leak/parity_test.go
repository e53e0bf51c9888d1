package leak

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
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

// parityRows: the features of the testdata bodies, plus rows that mix
// their columns at random so that many more tree paths are exercised.
func parityRows(t *testing.T) [][]float64 {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "parity.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]float64
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		var r struct {
			ContentType string `json:"content_type"`
			Body        string `json:"body"`
			Status      int    `json:"status"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		fv := ResponseFeatures(r.Status, r.ContentType, []byte(r.Body))
		rows = append(rows, fv[:])
	}
	if err := sc.Err(); err != nil || len(rows) < 50 {
		t.Fatalf("%d parity rows: %v", len(rows), err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	n := len(rows)
	for i := 0; i < 400; i++ {
		fv := make([]float64, NumFeatures)
		for j := range fv {
			fv[j] = rows[rng.IntN(n)][j]
			if rng.IntN(8) == 0 {
				fv[j] *= 1 + 3*rng.Float64()
			}
		}
		rows = append(rows, fv)
	}
	return rows
}

func TestLeavesMatchesPythonLightGBM(t *testing.T) {
	py := repo.LightGBMPython(t)
	m := testModel(t)
	rows := parityRows(t)
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
	rowsPath := filepath.Join(t.TempDir(), "rows.csv")
	if err := os.WriteFile(rowsPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join("train", "predict.py"), "leak.model.gz", rowsPath)
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
	if len(recs) != len(rows) {
		t.Fatalf("python returned %d rows, want %d", len(recs), len(rows))
	}
	const tol = 1e-9
	var worst float64
	for i, r := range rows {
		got := m.RawPredict(r)
		if len(recs[i]) != len(got) {
			t.Fatalf("row %d: python has %d classes, leaves %d", i, len(recs[i]), len(got))
		}
		for c, s := range recs[i] {
			want, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				t.Fatal(err)
			}
			d := math.Abs(got[c] - want)
			worst = max(worst, d)
			if d > tol {
				t.Errorf("row %d %s: leaves %.15g, lightgbm %.15g", i, Classes[c], got[c], want)
			}
		}
	}
	t.Logf("%d rows x %d classes, max |diff| = %.3g", len(rows), numClasses, worst)
}
