package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/model/evaluate"
)

// responseResult is the --json output of `extproc check --response`.
type responseResult struct {
	Status int `json:"status"`
	// Action is what the server would do: allow, flag, mask or block
	// (under the configured response.action), or would_block for CRS.
	Action      string              `json:"action"`
	Leak        *inspect.LeakReport `json:"leak,omitempty"`
	CRSAnomaly  int                 `json:"crs_outbound_anomaly_score"`
	CRSRules    []int               `json:"crs_outbound_rules"`
	MaskedBytes int                 `json:"masked_body_bytes,omitempty"`
}

// checkResponse scores a saved response through the same core as the
// server: the leakage model and CRS's outbound rules, behind a plain GET.
func checkResponse(ctx context.Context, settings *config.Flags, short *shorthands, path, ctype string, asJSON bool, stdout io.Writer) error {
	raw, err := readPath(path)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	status, headers, body, err := parseResponse(raw, ctype)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	rt, err := toolRuntime(settings, func(c *config.Config) {
		short.apply(c)
		c.ML.Enabled = false
		c.Response.Inspect = true
	})
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	out, err := evaluate.InspectResponse(ctx, rt.Core, "", status, headers, body)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	o, rep := out.Outcome, out.Report
	res := responseResult{Status: status, Action: string(o.Action), Leak: rep.Leak, CRSAnomaly: rep.ResponseCRS.OutboundScore, MaskedBytes: len(rep.Masked)}
	for _, m := range rep.ResponseCRS.Logged() {
		if m.Phase >= 3 {
			res.CRSRules = append(res.CRSRules, m.ID)
		}
	}
	if asJSON {
		e := json.NewEncoder(stdout)
		e.SetIndent("", "  ")
		return e.Encode(res)
	}
	fmt.Fprintf(stdout, "response %d: %s\n", status, res.Action)
	if lr := res.Leak; lr != nil {
		fmt.Fprintf(stdout, "leakage model: %d overall (1 = certainly a leak, 99 = clean; leak at <= %d)\n", lr.Scores.Overall, rt.Policies.Default.Response.Threshold)
		classes := make([]string, 0, len(lr.Scores.Class))
		for c := range lr.Scores.Class {
			classes = append(classes, c)
		}
		sort.Strings(classes)
		for _, c := range classes {
			fmt.Fprintf(stdout, "  %-8s %d\n", c, lr.Scores.Class[c])
		}
		for _, l := range lr.Scores.Locations {
			fmt.Fprintf(stdout, "  %s at %s (%s)\n", l.Class, l.Where, l.Feature)
		}
		if lr.Note != "" {
			fmt.Fprintf(stdout, "note: %s\n", lr.Note)
		}
	}
	fmt.Fprintf(stdout, "CRS outbound: anomaly score %d, rules %v\n", res.CRSAnomaly, res.CRSRules)
	return nil
}

// parseResponse reads a raw HTTP response, or the body alone when ctype is
// given.
func parseResponse(raw []byte, ctype string) (int, [][2]string, []byte, error) {
	if ctype != "" {
		return 200, [][2]string{{"content-type", ctype}}, raw, nil
	}
	if !bytes.Contains(raw, []byte("\r\n")) {
		// Saved by hand: bare newlines in the head.
		head, body, _ := bytes.Cut(raw, []byte("\n\n"))
		raw = append(append(bytes.ReplaceAll(head, []byte("\n"), []byte("\r\n")), "\r\n\r\n"...), body...)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("raw response (or give --content-type for a bare body): %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("raw response body: %w", err)
	}
	var headers [][2]string
	for k, vs := range resp.Header {
		for _, v := range vs {
			headers = append(headers, [2]string{strings.ToLower(k), v})
		}
	}
	sort.Slice(headers, func(a, b int) bool { return headers[a][0] < headers[b][0] })
	return resp.StatusCode, headers, body, nil
}
