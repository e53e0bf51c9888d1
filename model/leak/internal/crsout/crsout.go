// Package crsout runs CRS's outbound (RESPONSE-95x) rules on one response
// through Bulwark's waf engine, the baseline the leakage model is compared
// with in its evaluation and benchmarks.
package crsout

import (
	"context"
	"fmt"
	"strconv"

	"github.com/bulwark-waf/bulwark/waf"
)

// Result is CRS's view of one response.
type Result struct {
	Flagged bool // outbound anomaly score at the threshold, or interrupted
	Score   int
	Rules   []int
}

// Inspect sends a minimal GET and then the response's headers and body
// through a transaction, as the ext_proc filter does.
func Inspect(ctx context.Context, e *waf.Engine, contentType, contentEncoding string, status int, body []byte) (Result, error) {
	tx := e.NewTransaction(ctx, "")
	defer func() {
		tx.ProcessLogging()
		_ = tx.Close()
	}()
	tx.ProcessConnection("127.0.0.1", 40000, "127.0.0.1", 8080)
	tx.ProcessURI("/resource", "GET", "HTTP/1.1")
	tx.AddRequestHeader("Host", "app.internal")
	tx.AddRequestHeader("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36")
	tx.AddRequestHeader("Accept", "*/*")
	tx.ProcessRequestHeaders()
	if _, err := tx.ProcessRequestBody(); err != nil {
		return Result{}, fmt.Errorf("request body phase: %w", err)
	}
	if contentType != "" {
		tx.AddResponseHeader("Content-Type", contentType)
	}
	if contentEncoding != "" {
		tx.AddResponseHeader("Content-Encoding", contentEncoding)
	}
	tx.AddResponseHeader("Content-Length", strconv.Itoa(len(body)))
	if status == 0 {
		status = 200
	}
	if it := tx.ProcessResponseHeaders(status, "HTTP/1.1"); it == nil && tx.IsResponseBodyAccessible() && len(body) > 0 {
		if _, _, err := tx.WriteResponseBody(body); err != nil {
			return Result{}, fmt.Errorf("response body: %w", err)
		}
	}
	if _, err := tx.ProcessResponseBody(); err != nil {
		return Result{}, fmt.Errorf("response body phase: %w", err)
	}
	v := waf.ReadVerdict(tx)
	r := Result{Score: v.OutboundScore, Flagged: v.Interrupted || v.OutboundScore >= e.Config().OutboundAnomalyThreshold}
	for _, m := range v.Matches {
		if m.Logged && m.ID >= 950000 && m.ID < 960000 {
			r.Rules = append(r.Rules, m.ID)
		}
	}
	return r, nil
}
