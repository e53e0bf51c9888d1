package evaluate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/model/leak"
)

// ResponseRecord is one line of a response eval file: the request eval's
// JSON Lines with a "response" object, where label and category describe
// the response. label is "leak" (or "attack") for a leaky response,
// "benign", or empty; category names the leak classes it carries
// (secret, pii, error, source; several joined by ',' or '+').
type ResponseRecord struct {
	ID       string       `json:"id"`
	Label    string       `json:"label,omitempty"`
	Category string       `json:"category,omitempty"`
	Source   string       `json:"source,omitempty"`
	Family   string       `json:"family,omitempty"`
	Real     *bool        `json:"real,omitempty"`
	Response *ResponseMsg `json:"response"`
}

// ResponseMsg is the response itself. BodyEncoding "base64" carries a body
// that is not text (a gzip-encoded one, say) in Body as base64.
type ResponseMsg struct {
	Status       int               `json:"status"`
	Headers      map[string]string `json:"headers"`
	Body         string            `json:"body"`
	BodyEncoding string            `json:"body_encoding,omitempty"`
}

// ReadInput reads a whole eval input, gunzipping it when it starts with
// the gzip magic.
func ReadInput(in io.Reader) ([]byte, error) { return readAll(in) }

// IsResponseData reports whether JSON Lines data holds responses: its
// first record has a "response" object. Request records never do.
func IsResponseData(raw []byte) bool {
	for _, line := range bytes.Split(raw, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var probe struct {
			Response json.RawMessage `json:"response"`
		}
		if json.Unmarshal(line, &probe) != nil {
			return false
		}
		return len(probe.Response) > 0 && probe.Response[0] == '{'
	}
	return false
}

// ResponseRow is the outcome for one response.
type ResponseRow struct {
	ID     string
	Label  string // "leak", "benign" or "" when unlabelled
	Leaks  []string
	Source string
	Family string
	// Real says whether the record is a real response (its "real" field;
	// without one, any source other than "generated").
	Real bool
	// Leak is the leakage model's view; Action what the server would do
	// (allow, flag, mask, block, would_block) and Note why it was weakened
	// or the body not fully read.
	Leak   leak.Scores
	Action string
	Note   string
	// CRS outbound side: its anomaly score, whether it reaches the
	// outbound threshold (or a rule interrupted), the rules that matched.
	CRSRan     bool
	CRSScore   int
	CRSFlagged bool
	CRSRules   []int
	Err        string
}

// ResponseOptions for ScoreResponses.
type ResponseOptions struct {
	// Core is the inspection core with response inspection on; it runs the
	// leakage model and CRS's outbound rules in one exchange, as the
	// server does.
	Core *inspect.Core
	// NoCRS leaves CRS's numbers out of the report (its rules still run in
	// the exchange).
	NoCRS   bool
	Workers int
}

// ReadResponseRecords reads response records from JSON Lines (gzip or
// plain); a line without a response object is an error, so request and
// response records are never mixed up.
func ReadResponseRecords(raw []byte) ([]*ResponseRecord, error) {
	var out []*ResponseRecord
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var r ResponseRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if r.Response == nil {
			return nil, fmt.Errorf("line %d: no \"response\" object (a response eval file has one on every line)", line)
		}
		switch r.Label {
		case "", "benign", "leak", "attack":
		default:
			return nil, fmt.Errorf("line %d: label %q is not leak, benign or empty", line, r.Label)
		}
		for _, c := range splitClasses(r.Category) {
			if !isLeakClass(c) && r.Label != "benign" {
				return nil, fmt.Errorf("line %d: category %q is not one of %s", line, c, strings.Join(leak.Classes, ", "))
			}
		}
		if r.Response.BodyEncoding != "" && r.Response.BodyEncoding != "base64" {
			return nil, fmt.Errorf("line %d: body_encoding %q is not base64", line, r.Response.BodyEncoding)
		}
		if r.ID == "" {
			r.ID = fmt.Sprintf("line-%d", line)
		}
		out = append(out, &r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func splitClasses(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '+' || r == ' ' })
}

func isLeakClass(c string) bool {
	for _, k := range leak.Classes {
		if c == k {
			return true
		}
	}
	return false
}

// ScoreResponses reads response records and sends each through the core,
// behind a plain GET. Rows come back in input order.
func ScoreResponses(ctx context.Context, in io.Reader, opt ResponseOptions) ([]ResponseRow, error) {
	if opt.Core == nil {
		return nil, errors.New("evaluate: no inspection core")
	}
	raw, err := readAll(in)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	recs, err := ReadResponseRecords(raw)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	rows := make([]ResponseRow, len(recs))
	if err := forEach(ctx, len(recs), opt.Workers, func(i int) { rows[i] = scoreResponse(ctx, recs[i], opt) }); err != nil {
		return nil, err
	}
	return rows, nil
}

func scoreResponse(ctx context.Context, rec *ResponseRecord, opt ResponseOptions) ResponseRow {
	row := ResponseRow{ID: rec.ID, Source: rec.Source, Family: rec.Family}
	switch rec.Label {
	case "leak", "attack":
		row.Label = "leak"
		row.Leaks = splitClasses(rec.Category)
	case "benign":
		row.Label = "benign"
	}
	row.Real = rec.Source != "" && rec.Source != "generated"
	if rec.Real != nil {
		row.Real = *rec.Real
	}
	body := []byte(rec.Response.Body)
	if rec.Response.BodyEncoding == "base64" {
		b, err := base64.StdEncoding.DecodeString(rec.Response.Body)
		if err != nil {
			row.Err = "body_encoding base64: " + err.Error()
			return row
		}
		body = b
	}
	headers := make([][2]string, 0, len(rec.Response.Headers))
	for k, v := range rec.Response.Headers {
		headers = append(headers, [2]string{strings.ToLower(k), v})
	}
	sort.Slice(headers, func(a, b int) bool { return headers[a][0] < headers[b][0] })
	status := rec.Response.Status
	if status == 0 {
		status = 200
	}
	res, err := InspectResponse(ctx, opt.Core, rec.ID, status, headers, body)
	if err != nil {
		row.Err = err.Error()
		return row
	}
	row.Action = string(res.Outcome.Action)
	if lr := res.Report.Leak; lr != nil {
		row.Leak = lr.Scores
		row.Note = lr.Note
	} else {
		row.Leak = leak.Scores{Overall: 99, Class: map[string]int{}}
	}
	if !opt.NoCRS {
		v := res.Report.ResponseCRS
		row.CRSRan = true
		row.CRSScore = v.OutboundScore
		row.CRSFlagged = v.Interrupted || v.OutboundScore >= res.OutboundThreshold
		for _, m := range v.Matches {
			if m.Logged && m.Phase >= 3 {
				row.CRSRules = append(row.CRSRules, m.ID)
			}
		}
	}
	return row
}

// ResponseResult is one response's trip through the core.
type ResponseResult struct {
	Outcome inspect.Outcome
	Report  inspect.Report
	// OutboundThreshold is the CRS outbound anomaly threshold in force.
	OutboundThreshold int
	// Masked is the redacted body when the action was mask.
	Masked []byte
}

// responseChunk is the size the body is written in, as ext_proc streams
// it, so the scanner's chunk overlap is exercised as in the server.
const responseChunk = 16 << 10

// InspectResponse sends one response through the core behind a plain
// GET, as the server would see it in BUFFERED mode (block and mask
// possible): the leakage model and CRS's outbound rules, with the body
// decoded for both when it has a Content-Encoding. `extproc check
// --response` and `extproc eval` share it.
func InspectResponse(ctx context.Context, core *inspect.Core, id string, status int, headers [][2]string, body []byte) (ResponseResult, error) {
	req := &model.Request{ID: id, Method: "GET", URI: "/", Headers: [][2]string{{"host", "check.local"}, {"user-agent", "extproc-check"}, {"accept", "*/*"}}, ClientIP: "192.0.2.10"}
	x := core.Begin(ctx, inspect.Head{Request: req})
	if it := x.RequestHeaders(); it == nil {
		if _, err := x.FinishRequest(); err != nil {
			_, _ = x.Close()
			return ResponseResult{}, err
		}
	}
	var res ResponseResult
	if it := x.ResponseHeaders(status, "HTTP/1.1", headers); it == nil && x.ResponseBodyAccessible() {
		for off := 0; off < len(body); off += responseChunk {
			if it, err := x.WriteResponseBody(body[off:min(len(body), off+responseChunk)]); err != nil {
				_, _ = x.Close()
				return ResponseResult{}, err
			} else if it != nil {
				break
			}
		}
	}
	o, err := x.FinishResponse(inspect.Replace{Block: true, Body: true})
	if err != nil {
		_, _ = x.Close()
		return ResponseResult{}, err
	}
	rep, err := x.Close()
	if err != nil {
		return ResponseResult{}, err
	}
	res.Outcome, res.Report, res.Masked = o, rep, rep.Masked
	res.OutboundThreshold = core.Engine().Config().OutboundAnomalyThreshold
	return res, nil
}
