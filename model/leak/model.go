package leak

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/bulwark-waf/bulwark/model"
	"github.com/dmitryikh/leaves"
)

// FileFormat identifies leakage model files.
const FileFormat = "bulwark-leak-model/1"

// ErrSchemaMismatch is wrapped by Load when the model was trained on
// another feature layout than this binary computes.
var ErrSchemaMismatch = errors.New("leak model feature schema does not match this binary")

//go:embed leak.model.gz
var embedded []byte

// Calibration is the request model's: linear interpolation between
// isotonic-regression knots, so both models' scores mean the same.
type Calibration = model.Calibration

// ClassModel is one class's binary LightGBM ensemble and calibration.
type ClassModel struct {
	LightGBM    string      `json:"lightgbm_model"`
	Calibration Calibration `json:"calibration"`
}

// Metadata describes a model file.
type Metadata struct {
	Format           string                `json:"format"`
	SchemaVersion    string                `json:"schema_version"`
	FeatureNames     []string              `json:"feature_names"`
	Classes          []string              `json:"classes"`
	DefaultThreshold int                   `json:"default_threshold"`
	TrainingDataHash string                `json:"training_data_sha256"`
	Trainer          string                `json:"trainer"`
	Created          string                `json:"created"`
	Models           map[string]ClassModel `json:"models"`
	Metrics          map[string]any        `json:"metrics"`
}

// Model scores response bodies for leakage. Immutable after load, safe for
// concurrent use (each body gets its own Scanner).
type Model struct {
	meta Metadata
	ens  [numClasses]*leaves.Ensemble
	cal  [numClasses]Calibration
}

// Default returns the embedded model.
func Default() (*Model, error) { return Parse(embedded) }

// Open returns the model at path, or the embedded one when path is empty.
func Open(path string) (*Model, error) {
	if path == "" {
		return Default()
	}
	return Load(path)
}

// Load reads a model file (gzip or plain JSON).
func Load(path string) (*Model, error) { return model.LoadFile(path, "leak model", Parse) }

// Parse decodes a model file's bytes.
func Parse(b []byte) (*Model, error) {
	b, err := model.Unpack(b)
	if err != nil {
		return nil, err
	}
	var meta Metadata
	if err := json.Unmarshal(b, &meta); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if meta.Format != FileFormat {
		return nil, fmt.Errorf("unknown leak model format %q, want %q", meta.Format, FileFormat)
	}
	if meta.SchemaVersion != SchemaVersion || len(meta.FeatureNames) != NumFeatures {
		return nil, fmt.Errorf("%w: model has %q with %d features, binary computes %q with %d",
			ErrSchemaMismatch, meta.SchemaVersion, len(meta.FeatureNames), SchemaVersion, NumFeatures)
	}
	for i, n := range meta.FeatureNames {
		if n != FeatureNames[i] {
			return nil, fmt.Errorf("%w: feature %d is %q in the model, %q in the binary", ErrSchemaMismatch, i, n, FeatureNames[i])
		}
	}
	m := &Model{meta: meta}
	for c, name := range Classes {
		cm, ok := meta.Models[name]
		if !ok {
			return nil, fmt.Errorf("leak model has no %q class", name)
		}
		ens, err := leaves.LGEnsembleFromReader(bufio.NewReader(strings.NewReader(cm.LightGBM)), false)
		if err != nil {
			return nil, fmt.Errorf("%s lightgbm model: %w", name, err)
		}
		if ens.NRawOutputGroups() != 1 || ens.NFeatures() > NumFeatures {
			return nil, fmt.Errorf("%s model has %d outputs and %d features, want 1 and <= %d", name, ens.NRawOutputGroups(), ens.NFeatures(), NumFeatures)
		}
		if len(cm.Calibration.X) != len(cm.Calibration.Y) || !sort.Float64sAreSorted(cm.Calibration.X) {
			return nil, fmt.Errorf("%s calibration knots are malformed", name)
		}
		m.ens[c] = ens
		m.cal[c] = cm.Calibration
	}
	if m.meta.DefaultThreshold <= 0 {
		m.meta.DefaultThreshold = 20
	}
	m.meta.Models = nil // the tree text is not needed after load
	return m, nil
}

// Info returns the model's metadata (without the trees).
func (m *Model) Info() Metadata { return m.meta }

// DefaultThreshold is the score at or below which a class is a leak.
func (m *Model) DefaultThreshold() int { return m.meta.DefaultThreshold }

// ScoreFromProb maps a calibrated leak probability to 1–99: the request
// model's mapping, so the two scales are one.
func ScoreFromProb(p float64) int { return model.ScoreFromProb(p) }

// RawPredict returns each class ensemble's raw score (before the
// sigmoid) for a feature vector; the parity test compares it with Python
// LightGBM.
func (m *Model) RawPredict(fv []float64) [numClasses]float64 {
	var out [numClasses]float64
	for c := range m.ens {
		out[c] = m.ens[c].PredictSingle(fv, 0)
	}
	return out
}

// Probabilities returns the calibrated leak probability per class.
func (m *Model) Probabilities(fv []float64) [numClasses]float64 {
	raw := m.RawPredict(fv)
	var p [numClasses]float64
	for c, r := range raw {
		p[c] = m.cal[c].Apply(1 / (1 + math.Exp(-r)))
	}
	return p
}

func (m *Model) scoreVector(fv []float64) [numClasses]int {
	var s [numClasses]int
	for c, p := range m.Probabilities(fv) {
		s[c] = ScoreFromProb(p)
	}
	return s
}

// ScoreBody scans a whole decoded body at once.
func (m *Model) ScoreBody(contentType string, body []byte) Scores {
	return m.ScoreResponse(0, contentType, body)
}

// ScoreResponse scans a whole decoded body whose HTTP status is known
// (0: unknown).
func (m *Model) ScoreResponse(status int, contentType string, body []byte) Scores {
	s := m.NewScannerOptions(context.Background(), contentType, Options{Status: status})
	_, _ = s.Write(body)
	_ = s.Close()
	return s.Result()
}
