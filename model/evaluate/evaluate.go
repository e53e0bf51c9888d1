package evaluate

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/model"
)

// Row is the outcome for one request.
type Row struct {
	ID       string
	Label    string // "attack", "benign" or "" when unlabelled
	Category string
	// Source is the data source a record names in its "source" field,
	// reduced to the owner/repository (data/traffic records name
	// "<owner>/<repo>@<commit>:<path>#<index>"); empty when absent.
	Source      string
	Family      string
	Obfuscation string
	Scores      model.Scores
	// CRS side; CRSRan is false when CRS was not run or failed.
	CRSRan     bool
	CRSScore   int
	CRSBlocked bool
	CRSErr     string
}

// Labelled reports whether the row has a usable label.
func (r *Row) Labelled() bool { return r.Label == "attack" || r.Label == "benign" }

// Options for Score.
type Options struct {
	Model *model.Model
	// CRS is the inspection core (CRS alone) to compare with; nil skips
	// CRS.
	CRS     *inspect.Core
	Workers int
}

// Score reads JSON Lines records and scores each with the model and, if
// configured, CRS. Rows come back in input order.
func Score(ctx context.Context, in io.Reader, opt Options) ([]Row, error) {
	if opt.Model == nil {
		return nil, errors.New("evaluate: no model")
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	raw, err := readAll(in)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	sources := lineSources(raw)
	var recs []*model.Record
	var recSources []string
	if err := model.ReadRecords(bytes.NewReader(raw), func(line int, rec *model.Record) error {
		recs = append(recs, rec)
		recSources = append(recSources, sources[line])
		return nil
	}); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	rows := make([]Row, len(recs))
	err = forEach(ctx, len(recs), workers, func(i int) {
		rows[i] = scoreOne(ctx, recs[i], opt)
		rows[i].Source = recSources[i]
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// forEach calls fn for 0..n-1 on workers goroutines and stops handing out
// work when ctx ends; it returns ctx's error then.
func forEach(ctx context.Context, n, workers int, fn func(i int)) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return ctx.Err()
}

// readAll reads the whole input, gunzipping it when it starts with the gzip
// magic, so the vendored data/traffic files are read as they are.
func readAll(in io.Reader) ([]byte, error) {
	br := bufio.NewReader(in)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		return io.ReadAll(zr)
	}
	return io.ReadAll(br)
}

// lineSources maps 1-based line numbers (as model.ReadRecords counts them)
// to the record's source key. model.Record has no source field, so it is
// read here; a line that is not JSON is left to ReadRecords to report.
func lineSources(raw []byte) map[int]string {
	out := map[int]string{}
	for i, line := range bytes.Split(raw, []byte("\n")) {
		if !bytes.Contains(line, []byte(`"source"`)) {
			continue
		}
		var rec struct {
			Source string `json:"source"`
		}
		if json.Unmarshal(bytes.TrimSpace(line), &rec) == nil && rec.Source != "" {
			out[i+1] = SourceKey(rec.Source)
		}
	}
	return out
}

// SourceKey reduces a record's source to the slice it is reported under:
// "owner/repo@commit:path#index" becomes "owner/repo"; anything else is cut
// at the first '@', ':' or '#'.
func SourceKey(src string) string {
	if i := strings.IndexAny(src, "@:#"); i >= 0 {
		src = src[:i]
	}
	return strings.TrimSpace(src)
}

func scoreOne(ctx context.Context, rec *model.Record, opt Options) Row {
	req := rec.Request()
	row := Row{ID: rec.ID, Label: rec.Label, Category: rec.Category, Family: rec.Family, Obfuscation: rec.Obfuscation}
	row.Scores = opt.Model.Score(ctx, req)
	if opt.CRS != nil {
		wr := *req
		wr.ID, wr.ClientIP = rec.ID, "192.0.2.10"
		wr.Headers = WireHeaders(req)
		rep, err := opt.CRS.Inspect(ctx, &wr)
		if err != nil {
			row.CRSErr = err.Error()
		} else {
			row.CRSRan = true
			row.CRSScore = rep.Request.Anomaly
			row.CRSBlocked = rep.Request.Action == inspect.ActionBlock
		}
	}
	return row
}

// WireHeaders adds the headers any client puts on the wire but eval data
// often leaves out (Host, Content-Length), so CRS's protocol rules judge
// the request that would really have been sent rather than an artefact of
// the file format.
func WireHeaders(r *model.Request) [][2]string {
	var hasHost, hasLen bool
	for _, kv := range r.Headers {
		switch kv[0] {
		case "host", ":authority":
			hasHost = true
		case "content-length", "transfer-encoding":
			hasLen = true
		}
	}
	h := make([][2]string, 0, len(r.Headers)+2)
	if !hasHost {
		h = append(h, [2]string{"host", "app.example"})
	}
	h = append(h, r.Headers...)
	if !hasLen && len(r.Body) > 0 {
		h = append(h, [2]string{"content-length", strconv.Itoa(len(r.Body))})
	}
	return h
}

// WritePredictions writes one CSV row per request with every score and the
// CRS anomaly score.
func WritePredictions(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	head := []string{"id", "label", "category", "source", "overall"}
	head = append(head, model.Classes...)
	head = append(head, "top_class", "top_part", "top_field", "crs_anomaly_score", "crs_blocked")
	if err := cw.Write(head); err != nil {
		return err
	}
	for i := range rows {
		r := &rows[i]
		rec := []string{r.ID, r.Label, r.Category, r.Source, strconv.Itoa(r.Scores.Overall)}
		for _, c := range model.Classes {
			rec = append(rec, strconv.Itoa(r.Scores.Class[c]))
		}
		if len(r.Scores.Locations) > 0 {
			l := r.Scores.Locations[0]
			rec = append(rec, l.Class, l.Part, l.Field)
		} else {
			rec = append(rec, "", "", "")
		}
		if r.CRSRan {
			rec = append(rec, strconv.Itoa(r.CRSScore), strconv.FormatBool(r.CRSBlocked))
		} else {
			rec = append(rec, "", "")
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// AUC is the probability that a random attack looks more suspicious than a
// random benign request (ties count half): the Mann–Whitney form of ROC AUC.
func AUC(attack, benign []float64) float64 {
	if len(attack) == 0 || len(benign) == 0 {
		return 0
	}
	type pt struct {
		v   float64
		pos bool
	}
	all := make([]pt, 0, len(attack)+len(benign))
	for _, v := range attack {
		all = append(all, pt{v, true})
	}
	for _, v := range benign {
		all = append(all, pt{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	var rankSum float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		avg := float64(i+j+1) / 2 // 1-based average rank of the tie group
		for k := i; k < j; k++ {
			if all[k].pos {
				rankSum += avg
			}
		}
		i = j
	}
	np, nn := float64(len(attack)), float64(len(benign))
	return (rankSum - np*(np+1)/2) / (np * nn)
}
