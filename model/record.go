package model

import (
	"bufio"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Record is one line of the JSON Lines format `extproc eval` and the
// training pipeline read. The fields after Body are written by the corpus
// generator and are optional for users.
type Record struct {
	ID       string            `json:"id"`
	Label    string            `json:"label,omitempty"` // "attack", "benign" or empty (unlabelled)
	Category string            `json:"category,omitempty"`
	Method   string            `json:"method"`
	URI      string            `json:"uri"`
	Headers  map[string]string `json:"headers"`
	Body     string            `json:"body"`

	AttackPart  string `json:"attack_part,omitempty"`
	AttackField string `json:"attack_field,omitempty"`
	Family      string `json:"family,omitempty"`
	Obfuscation string `json:"obfuscation,omitempty"`
	Split       string `json:"split,omitempty"`
}

// Request converts the record; header keys are lower-cased and sorted so
// field order, and so every score, is deterministic.
func (rec *Record) Request() *Request {
	r := &Request{Method: rec.Method, URI: rec.URI, Body: []byte(rec.Body)}
	if r.Method == "" {
		r.Method = "GET"
	}
	keys := make([]string, 0, len(rec.Headers))
	for k := range rec.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r.Headers = append(r.Headers, [2]string{strings.ToLower(k), rec.Headers[k]})
	}
	return r
}

// ReadRecords calls fn for each JSON line of r; blank lines are skipped.
func ReadRecords(r io.Reader, fn func(line int, rec *Record) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if rec.ID == "" {
			rec.ID = strconv.Itoa(line)
		}
		if err := fn(line, &rec); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
	}
	return sc.Err()
}

// OutputIndex maps a generator category to the model output it trains.
func OutputIndex(label, category string) int {
	if label != "attack" {
		return 0
	}
	for i, c := range Classes {
		if c == category {
			return i + 1
		}
	}
	return -1
}

// WriteFeatures turns a labelled corpus into the training matrix: one row
// per field that passes the prefilter. matrix receives little-endian
// float64 rows of NumFeatures columns (what numpy.fromfile reads); meta
// receives one CSV row per matrix row. A field is labelled with the
// record's class only if it is the field the generator put the payload in;
// every other field of the request is benign, which is what teaches the
// model locations. Passing asCSV writes the matrix as CSV text instead.
func WriteFeatures(in io.Reader, matrix, meta io.Writer, asCSV bool) (st FeatureStats, err error) {
	mw := csv.NewWriter(meta)
	_ = mw.Write([]string{"id", "part", "field", "y", "label", "category", "family", "obfuscation", "split"})
	bw := bufio.NewWriterSize(matrix, 1<<20)
	var cw *csv.Writer
	if asCSV {
		cw = csv.NewWriter(bw)
		_ = cw.Write(FeatureNames[:])
	}
	fv := make([]float64, NumFeatures)
	buf := make([]byte, 8*NumFeatures)
	strs := make([]string, NumFeatures)
	err = ReadRecords(in, func(_ int, rec *Record) error {
		y := OutputIndex(rec.Label, rec.Category)
		if y > 0 {
			st.Attacks++
		}
		found, scored := false, false
		fields, _ := SplitFields(rec.Request())
		for _, f := range fields {
			// A payload field can be split further (a URL's parts, a JSON
			// document in a query value): every part of it that is scored
			// carries the label.
			carrier := y > 0 && f.Part == rec.AttackPart && f.origin == rec.AttackField && !f.nameOnly
			found = found || carrier
			if f.skip || f.dropped {
				continue
			}
			fy := 0
			if carrier {
				fy = y
				scored = true
			} else if y < 0 {
				continue
			}
			FieldFeatures(&f, fv)
			if cw != nil {
				for i, v := range fv {
					strs[i] = strconv.FormatFloat(v, 'g', -1, 64)
				}
				if err := cw.Write(strs); err != nil {
					return err
				}
			} else {
				for i, v := range fv {
					binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(v))
				}
				if _, err := bw.Write(buf); err != nil {
					return err
				}
			}
			st.Rows++
			if err := mw.Write([]string{rec.ID, f.Part, f.Name, strconv.Itoa(fy), rec.Label, rec.Category, rec.Family, rec.Obfuscation, rec.Split}); err != nil {
				return err
			}
		}
		if y > 0 && !found {
			st.AttackFieldMissing++
		} else if y > 0 && !scored {
			st.AttackPrefiltered++
		}
		return nil
	})
	if cw != nil {
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	mw.Flush()
	if err == nil {
		err = mw.Error()
	}
	return st, err
}

// FeatureStats summarises a WriteFeatures run.
type FeatureStats struct {
	Rows    int
	Attacks int
	// AttackFieldMissing counts attack records whose labelled field the
	// splitter did not produce (a generator bug); AttackPrefiltered those
	// whose payload field the prefilter skipped. Both should be near zero.
	AttackFieldMissing int
	AttackPrefiltered  int
}
