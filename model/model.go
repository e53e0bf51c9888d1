package model

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/dmitryikh/leaves"
)

// FileFormat identifies Bulwark model files.
const FileFormat = "bulwark-model/1"

// Classes are the attack classes the model scores, in model output order
// after the leading "benign" output.
var Classes = []string{"sqli", "xss", "rce", "traversal"}

// ErrSchemaMismatch is wrapped by Load when a model was trained on a
// different feature layout than this binary computes.
var ErrSchemaMismatch = errors.New("model feature schema does not match this binary")

// Calibration maps a raw model probability to a calibrated one by linear
// interpolation between knots (fitted by isotonic regression on a
// validation split the trees never saw).
type Calibration struct {
	X []float64 `json:"x"`
	Y []float64 `json:"y"`
}

// Apply maps p through the knots (p itself when there are none).
func (c Calibration) Apply(p float64) float64 {
	n := len(c.X)
	if n == 0 || len(c.Y) != n {
		return p
	}
	if p <= c.X[0] {
		return c.Y[0]
	}
	if p >= c.X[n-1] {
		return c.Y[n-1]
	}
	i := sort.SearchFloat64s(c.X, p)
	x0, x1, y0, y1 := c.X[i-1], c.X[i], c.Y[i-1], c.Y[i]
	if x1 == x0 {
		return y1
	}
	return y0 + (y1-y0)*(p-x0)/(x1-x0)
}

// Metadata describes a model file. Metrics is whatever the trainer's
// evaluation wrote; it is shown, never interpreted.
type Metadata struct {
	Format             string   `json:"format"`
	SchemaVersion      string   `json:"schema_version"`
	FeatureNames       []string `json:"feature_names"`
	Outputs            []string `json:"outputs"`
	FeatureFingerprint string   `json:"feature_fingerprint"`
	TrainingDataHash   string   `json:"training_data_sha256"`
	Created            string   `json:"created"`
	Trainer            string   `json:"trainer"`
	DefaultThreshold   int      `json:"default_threshold"`
	// GateMaxRaw: a field whose raw score from the small gate ensemble
	// (binary: any attack vs benign) is below it is clean without running
	// the main ensemble. The trainer sets it below the gate score of every
	// validation field the main model scores at 50 or less.
	GateMaxRaw float64 `json:"gate_max_raw"`
	// NoveltyFloor is the lowest score a field without any attack shape
	// (the evidence feature is 0) can get; the trainer sets it above the
	// default threshold, so novelty alone never flags a request.
	NoveltyFloor int                    `json:"novelty_floor"`
	Calibration  map[string]Calibration `json:"calibration"`
	Metrics      map[string]any         `json:"metrics"`
	// Lineage is set on site-adapted models (`extproc learn train`): the
	// base model, the data window, hashes of every input and the gates'
	// metrics. Empty for the base pipeline's models.
	Lineage map[string]any `json:"lineage,omitempty"`
}

type fileJSON struct {
	Metadata
	LightGBM string `json:"lightgbm_model"`
	Gate     string `json:"gate_model"`
}

// Model scores requests. It is immutable after Load and safe for
// concurrent use.
type Model struct {
	meta     Metadata
	ens      *leaves.Ensemble
	gate     *leaves.Ensemble // nil: every field runs the main ensemble
	classIdx []int            // output index of each entry of Classes
	// calAttack and calClass are the calibrations, looked up once at load
	// rather than in a map per field.
	calAttack Calibration
	calClass  []Calibration // parallel to Classes
	benign    int
	pool      sync.Pool
}

type scratch struct {
	fv  []float64
	out []float64
}

// Open returns the model at path, or the embedded one when path is empty,
// the meaning model.path has everywhere.
func Open(path string) (*Model, error) {
	if path == "" {
		return Default()
	}
	return Load(path)
}

// Load reads a model file (gzip-compressed or plain JSON).
func Load(path string) (*Model, error) { return LoadFile(path, "model", Parse) }

// LoadFile reads the model file at path and decodes it with parse; what
// names the kind of model in errors. The request and leakage models share
// it.
func LoadFile[M any](path, what string, parse func([]byte) (M, error)) (M, error) {
	var zero M
	b, err := os.ReadFile(path)
	if err != nil {
		return zero, fmt.Errorf("read %s: %w", what, err)
	}
	m, err := parse(b)
	if err != nil {
		return zero, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return m, nil
}

// maxModelBytes bounds a decompressed model file, so a corrupt or hostile
// file cannot exhaust memory at load (the shipped models are a few MB).
const maxModelBytes = 256 << 20

// Unpack returns a model file's JSON: the bytes as they are, or
// decompressed when they are gzip, up to maxModelBytes. The request and
// leakage models share it.
func Unpack(b []byte) ([]byte, error) {
	if len(b) <= 2 || b[0] != 0x1f || b[1] != 0x8b {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxModelBytes+1))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	if len(out) > maxModelBytes {
		return nil, fmt.Errorf("gunzip: more than %d bytes", maxModelBytes)
	}
	return out, nil
}

// Parse decodes a model file's bytes.
func Parse(b []byte) (*Model, error) {
	b, err := Unpack(b)
	if err != nil {
		return nil, err
	}
	var f fileJSON
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if f.Format != FileFormat {
		return nil, fmt.Errorf("unknown model format %q, want %q", f.Format, FileFormat)
	}
	if f.SchemaVersion != SchemaVersion || len(f.FeatureNames) != NumFeatures {
		return nil, fmt.Errorf("%w: model has %q with %d features, binary computes %q with %d",
			ErrSchemaMismatch, f.SchemaVersion, len(f.FeatureNames), SchemaVersion, NumFeatures)
	}
	for i, n := range f.FeatureNames {
		if n != FeatureNames[i] {
			return nil, fmt.Errorf("%w: feature %d is %q in the model, %q in the binary (%s)",
				ErrSchemaMismatch, i, n, FeatureNames[i], SchemaVersion)
		}
	}
	if f.FeatureFingerprint != "" && f.FeatureFingerprint != FeatureFingerprint() {
		return nil, fmt.Errorf("%w: the feature code changed since the model was trained (fingerprint %s, binary %s): retrain, and bump SchemaVersion",
			ErrSchemaMismatch, f.FeatureFingerprint, FeatureFingerprint())
	}
	ens, err := leaves.LGEnsembleFromReader(bufio.NewReader(strings.NewReader(f.LightGBM)), false)
	if err != nil {
		return nil, fmt.Errorf("lightgbm model: %w", err)
	}
	if ens.NRawOutputGroups() != len(f.Outputs) {
		return nil, fmt.Errorf("lightgbm model has %d outputs, metadata names %d", ens.NRawOutputGroups(), len(f.Outputs))
	}
	if ens.NFeatures() > NumFeatures {
		return nil, fmt.Errorf("%w: lightgbm model uses %d features, binary computes %d", ErrSchemaMismatch, ens.NFeatures(), NumFeatures)
	}
	m := &Model{meta: f.Metadata, ens: ens, benign: -1}
	if f.Gate != "" {
		if m.gate, err = leaves.LGEnsembleFromReader(bufio.NewReader(strings.NewReader(f.Gate)), false); err != nil {
			return nil, fmt.Errorf("lightgbm gate model: %w", err)
		}
		if m.gate.NRawOutputGroups() != 1 || m.gate.NFeatures() > NumFeatures {
			return nil, fmt.Errorf("gate model has %d outputs and %d features, want 1 and <= %d", m.gate.NRawOutputGroups(), m.gate.NFeatures(), NumFeatures)
		}
	}
	idx := map[string]int{}
	for i, o := range f.Outputs {
		idx[o] = i
	}
	var ok bool
	if m.benign, ok = idx["benign"]; !ok {
		return nil, errors.New("model has no benign output")
	}
	for _, c := range Classes {
		i, ok := idx[c]
		if !ok {
			return nil, fmt.Errorf("model has no %q output", c)
		}
		m.classIdx = append(m.classIdx, i)
		m.calClass = append(m.calClass, m.meta.Calibration[c])
	}
	m.calAttack = m.meta.Calibration["attack"]
	if m.meta.DefaultThreshold <= 0 {
		m.meta.DefaultThreshold = 20
	}
	nOut := len(f.Outputs)
	m.pool.New = func() any {
		return &scratch{fv: make([]float64, NumFeatures), out: make([]float64, nOut)}
	}
	return m, nil
}

// Info returns the model's metadata.
func (m *Model) Info() Metadata { return m.meta }

// Location says which field carried a class's worst score.
type Location struct {
	Class string `json:"class"`
	Part  string `json:"part"`
	Field string `json:"field"`
	Score int    `json:"score"`
}

// Scores are 1 (certainly an attack) to 99 (clean).
type Scores struct {
	Overall   int            `json:"overall"`
	Class     map[string]int `json:"class"`
	Locations []Location     `json:"locations"`
	// Complete is false when the model did not score every field of the
	// request (a cap on fields, bytes or body size was hit, or the context
	// ended): a clean score then says nothing about the unseen part, and
	// the decision must not let it overrule CRS. Limit says which cap.
	Complete bool   `json:"complete"`
	Limit    string `json:"limit,omitempty"`
	// Shaped is Overall counting only the fields that have one of the
	// shapes attacks are made of (see evidenceFeatures); 99 when none has.
	// When Shaped is high and Overall low, what the model distrusts is
	// novelty, not an attack: confirm mode lets such a request overrule a
	// CRS block of a class the model covers (ml.clear_shapeless).
	Shaped int `json:"shaped"`
}

// FieldScore is the result for one field; Skipped fields were judged
// harmless by the prefilter and never reached the model, Dropped ones lost
// the risk ranking to the per-request caps.
type FieldScore struct {
	Field   Field
	Skipped bool
	Dropped bool
	Overall int
	Class   []int // parallel to Classes
}

// ScoreFromProb maps a calibrated attack probability to the 1–99 scale.
func ScoreFromProb(p float64) int {
	s := int(math.Round(99 - 98*p))
	return max(1, min(99, s))
}

// locationCutoff: fields scoring above it are not worth listing.
const locationCutoff = 50

// Score scores every field of r and combines them: a request is as
// suspicious as its most suspicious field, per class and overall.
func (m *Model) Score(ctx context.Context, r *Request) Scores {
	s, _ := m.score(ctx, r, false)
	return s
}

// ScoreFields is Score plus the per-field detail, for explaining a verdict.
func (m *Model) ScoreFields(ctx context.Context, r *Request) (Scores, []FieldScore) {
	return m.score(ctx, r, true)
}

func (m *Model) score(ctx context.Context, r *Request, detail bool) (Scores, []FieldScore) {
	fields, cov := SplitFields(r)
	res := Scores{Overall: 99, Class: make(map[string]int, len(Classes)), Complete: cov.Complete, Limit: cov.Limit, Shaped: 99}
	for _, c := range Classes {
		res.Class[c] = 99
	}
	var out []FieldScore
	if detail {
		out = make([]FieldScore, len(fields))
	}
	sc := m.pool.Get().(*scratch)
	defer m.pool.Put(sc)
	var cls [8]int
	for i := range fields {
		f := &fields[i]
		overall := 99
		for j := range Classes {
			cls[j] = 99
		}
		skipped := f.skip || f.dropped
		if !skipped && ctx.Err() != nil {
			skipped = true
			if res.Complete {
				res.Complete, res.Limit = false, "context done: "+ctx.Err().Error()
			}
		}
		if !skipped {
			overall = m.scoreField(f, sc, cls[:len(Classes)])
			if sc.fv[fEvidence] > 0 {
				res.Shaped = min(res.Shaped, overall)
			}
		}
		if detail {
			out[i] = FieldScore{Field: *f, Skipped: f.skip, Dropped: f.dropped, Overall: overall, Class: slices.Clone(cls[:len(Classes)])}
		}
		if skipped {
			continue
		}
		res.Overall = min(res.Overall, overall)
		listed, worst := false, 0
		for j, c := range Classes {
			v := cls[j]
			res.Class[c] = min(res.Class[c], v)
			if v <= locationCutoff {
				res.Locations = append(res.Locations, Location{Class: c, Part: f.Part, Field: f.Name, Score: v})
				listed = true
			}
			if v < cls[worst] {
				worst = j
			}
		}
		if !listed && overall <= locationCutoff {
			// Suspicious overall without one class standing out: still say
			// where, under the most likely class.
			res.Locations = append(res.Locations, Location{Class: Classes[worst], Part: f.Part, Field: f.Name, Score: cls[worst]})
		}
	}
	sort.SliceStable(res.Locations, func(a, b int) bool { return res.Locations[a].Score < res.Locations[b].Score })
	return res, out
}

// scoreField fills cls (parallel to Classes) and returns the overall score.
func (m *Model) scoreField(f *Field, sc *scratch, cls []int) int {
	FieldFeatures(f, sc.fv)
	// The gate only lets out fields without any attack shape: those are
	// capped at the novelty floor anyway, and a field with evidence always
	// gets the main ensemble, so traffic unlike the training set cannot
	// slip an attack past the gate.
	if m.gate != nil && sc.fv[fEvidence] == 0 && m.gate.PredictSingle(sc.fv, 0) < m.meta.GateMaxRaw {
		return 99
	}
	probs := m.predict(sc)
	floor := 1
	if sc.fv[fEvidence] == 0 {
		floor = max(1, m.meta.NoveltyFloor)
	}
	overall := max(floor, ScoreFromProb(m.calAttack.Apply(1-probs[m.benign])))
	for j := range Classes {
		// A class is never more certain than "some attack": the class
		// calibrations are fitted apart from the overall one, and where
		// validation data is thin their steps can put a class at 5 while
		// the request as a whole scores 52. The overall score is what
		// decides, so the classes follow it.
		cls[j] = max(floor, overall, ScoreFromProb(m.calClass[j].Apply(probs[m.classIdx[j]])))
	}
	return overall
}

// predict returns the softmax of the raw ensemble outputs; done here
// rather than by leaves so that no per-call allocation happens.
func (m *Model) predict(sc *scratch) []float64 {
	_ = m.ens.Predict(sc.fv, 0, sc.out)
	mx := math.Inf(-1)
	for _, v := range sc.out {
		mx = math.Max(mx, v)
	}
	var sum float64
	for i, v := range sc.out {
		e := math.Exp(v - mx)
		sc.out[i] = e
		sum += e
	}
	for i := range sc.out {
		sc.out[i] /= sum
	}
	return sc.out
}

// RawPredict returns the raw (pre-softmax) ensemble outputs for a feature
// vector; the parity test compares it with Python LightGBM.
func (m *Model) RawPredict(fv []float64) []float64 {
	out := make([]float64, m.ens.NRawOutputGroups())
	_ = m.ens.Predict(fv, 0, out)
	return out
}

// RawGate returns the gate ensemble's raw score, and false if the model
// has no gate.
func (m *Model) RawGate(fv []float64) (float64, bool) {
	if m.gate == nil {
		return 0, false
	}
	return m.gate.PredictSingle(fv, 0), true
}

// EmbeddedFile is the model file embedded in the binary, byte for byte:
// `extproc learn train` hands it to the trainer as the base model.
func EmbeddedFile() []byte { return defaultModel }
