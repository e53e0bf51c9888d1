package evaluate

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"image/png"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/bulwark-waf/bulwark/model"
)

func TestAUC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		atk, ben []float64
		want     float64
	}{
		{"perfect", []float64{5, 6}, []float64{1, 2}, 1},
		{"inverted", []float64{1, 2}, []float64{5, 6}, 0},
		{"all tied", []float64{3, 3}, []float64{3, 3}, 0.5},
		{"mixed", []float64{2, 4}, []float64{1, 3}, 0.75},
		{"empty", nil, []float64{1}, 0},
	}
	for _, tc := range tests {
		if got := AUC(tc.atk, tc.ben); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: AUC = %v, want %v", tc.name, got, tc.want)
		}
	}
}

const sample = `{"id":"a1","label":"attack","category":"sqli","method":"GET","uri":"/p?id=1%27%20or%201%3D1--","headers":{},"body":""}
{"id":"a2","label":"attack","category":"xss","method":"GET","uri":"/p?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E","headers":{},"body":"","obfuscation":"url_full"}
{"id":"b1","label":"benign","category":"benign","method":"GET","uri":"/p?q=hello","headers":{"User-Agent":"curl/8"},"body":""}
{"id":"b2","label":"benign","method":"POST","uri":"/c","headers":{"Content-Type":"application/json"},"body":"{\"t\":\"drop me a line\"}"}
{"id":"u1","method":"GET","uri":"/p?q=1","headers":{},"body":""}
`

func TestScoreSummarizeAndOutputs(t *testing.T) {
	t.Parallel()
	m, err := model.Default()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Score(context.Background(), strings.NewReader(sample), Options{Model: m, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || rows[0].ID != "a1" || rows[4].ID != "u1" {
		t.Fatalf("rows out of order: %+v", rows)
	}
	rep := Summarize(rows, m.Info().DefaultThreshold)
	if rep.Attacks != 2 || rep.Benign != 2 || rep.Unlabelled != 1 || rep.CRS {
		t.Fatalf("counts: %+v", rep)
	}
	if rep.Overall.Model.Value() != 1 || rep.BenignFPR.Model.Value() != 0 || rep.ModelAUC != 1 {
		t.Fatalf("plain attacks and benign requests misjudged: %+v", rep)
	}
	if rep.Obfuscated == nil || rep.Obfuscated.Model.N != 1 {
		t.Fatalf("obfuscated slice: %+v", rep.Obfuscated)
	}
	var text bytes.Buffer
	rep.WriteText(&text, "CRS PL1")
	for _, want := range []string{"attacks TPR", "benign FPR", "threshold sweep", "(default)"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, text.String())
		}
	}
	var preds bytes.Buffer
	if err := WritePredictions(&preds, rows); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&preds).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 || recs[0][0] != "id" || recs[0][len(recs[0])-2] != "crs_anomaly_score" {
		t.Fatalf("predictions: %q", recs)
	}
	for name, draw := range map[string]func(*bytes.Buffer) error{
		"histogram": func(b *bytes.Buffer) error { return WriteHistogram(b, rows, rep.Threshold) },
		"roc":       func(b *bytes.Buffer) error { return WriteROC(b, rows, &rep) },
	} {
		var b bytes.Buffer
		if err := draw(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		img, err := png.Decode(&b)
		if err != nil {
			t.Fatalf("%s: not a PNG: %v", name, err)
		}
		if img.Bounds().Dx() != plotW {
			t.Errorf("%s: width %d", name, img.Bounds().Dx())
		}
	}
}

func TestWireHeaders(t *testing.T) {
	t.Parallel()
	h := WireHeaders(&model.Request{Headers: [][2]string{{"x", "1"}}, Body: []byte("abc")})
	want := [][2]string{{"host", "app.example"}, {"x", "1"}, {"content-length", "3"}}
	if len(h) != len(want) {
		t.Fatalf("got %q", h)
	}
	for i := range want {
		if h[i] != want[i] {
			t.Fatalf("got %q, want %q", h, want)
		}
	}
}

func TestSourceKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"GoogleChrome/lighthouse@f8eac394:core/test/fixtures/a.json#12": "GoogleChrome/lighthouse",
		"elastic/examples@6d86454e:Common Data Formats/apache_logs#0":   "elastic/examples",
		"my-capture:file.har#3": "my-capture",
		"proxy-log":             "proxy-log",
		"":                      "",
	} {
		if got := SourceKey(in); got != want {
			t.Errorf("SourceKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestScoreReadsSourcesAndGzip: the source slice comes from each record's
// own line (blank lines included in the count), and gzip input is read as
// the vendored data/traffic files are.
func TestScoreReadsSourcesAndGzip(t *testing.T) {
	t.Parallel()
	m, err := model.Default()
	if err != nil {
		t.Fatal(err)
	}
	in := `{"id":"x","label":"benign","method":"GET","uri":"/","headers":{},"body":"","source":"a/one@c:f#1"}

{"id":"y","label":"benign","method":"GET","uri":"/b","headers":{},"body":""}
{"id":"z","label":"attack","category":"xss","method":"GET","uri":"/?q=%3Cscript%3E","headers":{},"body":"","source":"b/two@c:g#2"}
`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write([]byte(in)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]io.Reader{"plain": strings.NewReader(in), "gzip": &gz} {
		rows, err := Score(context.Background(), r, Options{Model: m, Workers: 1})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := []string{}
		for _, row := range rows {
			got = append(got, row.ID+"="+row.Source)
		}
		if want := "x=a/one y= z=b/two"; strings.Join(got, " ") != want {
			t.Errorf("%s: sources %q, want %q", name, strings.Join(got, " "), want)
		}
		rep := Summarize(rows, m.Info().DefaultThreshold)
		if len(rep.Sources) != 2 || rep.Sources[0].Name != "b/two" || !rep.Sources[0].Attack || rep.Sources[1].Name != "a/one" {
			t.Errorf("%s: source groups %+v", name, rep.Sources)
		}
	}
}

// TestDistributionAgreesWithSummary: the per-score counts the HTML report
// and the plots use give the same rates as the summary at its threshold.
func TestDistributionAgreesWithSummary(t *testing.T) {
	t.Parallel()
	var rows []Row
	for i := 0; i < 200; i++ {
		label, cat := "benign", "api"
		if i%3 == 0 {
			label, cat = "attack", "sqli"
		}
		crs := (i * 7) % 60
		rows = append(rows, Row{ID: fmt.Sprint(i), Label: label, Category: cat, Source: fmt.Sprintf("s%d", i%2),
			Scores: model.Scores{Overall: 1 + (i*37)%99}, CRSRan: true, CRSScore: crs, CRSBlocked: crs >= 5})
	}
	for _, threshold := range []int{1, 20, 45, 98, 99} {
		rep := Summarize(rows, threshold)
		ds := Distribute(rows)
		if got, want := ds.Attacks.ModelRate(threshold), rep.Overall.Model.Value(); math.Abs(got-want) > 1e-12 {
			t.Errorf("t=%d: attack rate %v, summary %v", threshold, got, want)
		}
		if got, want := ds.Benign.ModelRate(threshold), rep.BenignFPR.Model.Value(); math.Abs(got-want) > 1e-12 {
			t.Errorf("t=%d: benign rate %v, summary %v", threshold, got, want)
		}
		if got, want := ds.Attacks.CRSRate(5), rep.Overall.CRS.Value(); math.Abs(got-want) > 1e-12 {
			t.Errorf("CRS at 5: %v, summary (blocked at >= 5) %v", got, want)
		}
		if len(ds.Sources) != 4 || len(ds.Categories) != 2 {
			t.Errorf("slices: %d sources (label x source), %d categories", len(ds.Sources), len(ds.Categories))
		}
	}
	ds := Distribute(rows)
	if ds.Benign.CRSRate(0) != 1 || ds.Benign.ModelRate(99) != 1 || ds.Benign.ModelRate(0) != 0 {
		t.Error("the ends of the threshold ranges do not flag everything and nothing")
	}
	if ds.Attacks.CRSRate(CRSScoreCap) != float64(ds.Attacks.CRS[CRSScoreCap])/float64(ds.Attacks.CRSN()) {
		t.Error("scores above the cap are not counted at the cap")
	}
	pts := modelROC(ds.Attacks, ds.Benign)
	for i := 1; i < len(pts); i++ {
		if pts[i].fpr < pts[i-1].fpr || pts[i].tpr < pts[i-1].tpr {
			t.Fatalf("model ROC not monotone at %d: %v then %v", i, pts[i-1], pts[i])
		}
	}
}
