package model_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/waf"
)

// typicalRequest is about 1 KB on the wire: a browser-ish JSON API call
// with a query string, the usual headers, cookies and a small JSON body.
func typicalRequest() *model.Request {
	return &model.Request{
		Method: "POST",
		URI:    "/api/v2/orders/8812/items?expand=product,price&lang=en-GB&ref=newsletter_2024&page=2",
		Headers: [][2]string{
			{"host", "shop.example.com"},
			{"user-agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"},
			{"accept", "application/json, text/plain, */*"},
			{"accept-language", "en-GB,en;q=0.9,de;q=0.7"},
			{"accept-encoding", "gzip, deflate, br"},
			{"referer", "https://shop.example.com/basket?step=2&coupon=SPRING24"},
			{"content-type", "application/json"},
			{"cookie", "session=7f9c2ba4e88f827d616045507605853e; _ga=GA1.2.1155327541.1714572210; consent=analytics%2Cfunctional; theme=dark"},
			{"x-requested-with", "XMLHttpRequest"},
		},
		Body: []byte(`{"sku":"SHOE-4471-BLK-42","quantity":2,"gift":true,"note":"Please leave it with the neighbour if I'm not home, thanks!","address":{"name":"Siobhán O'Connell","street":"12 Harbour Road","city":"Cork","zip":"T12 X8C2"},"coupon":null}`),
	}
}

func durations(b *testing.B, f func()) {
	b.Helper()
	ds := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		f()
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(ds[len(ds)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkScoreVsCRS runs the model and CRS (PL1, in-process Coraza) on
// the same request in one run, so their costs can be compared directly.
func BenchmarkScoreVsCRS(b *testing.B) {
	m, err := model.Default()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	req := typicalRequest()
	b.Run("model", func(b *testing.B) {
		durations(b, func() { m.Score(ctx, req) })
	})
	eng, err := waf.New(waf.DefaultConfig(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	// CRS alone, through the same core the server runs.
	crs, err := inspect.New(inspect.Options{Engine: eng})
	if err != nil {
		b.Fatal(err)
	}
	wr := *req
	wr.ClientIP = "192.0.2.1"
	b.Run("crs", func(b *testing.B) {
		durations(b, func() {
			if _, err := crs.Inspect(ctx, &wr); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchmarkScoreHostile bounds the cost of requests built to exhaust the
// caps: 5 000 risky arguments (4 096 are split out, 256 scored), and a
// 128 KiB JSON body 40 levels deep.
func BenchmarkScoreHostile(b *testing.B) {
	m, err := model.Default()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var q strings.Builder
	q.WriteString("/search?")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&q, "p%d=%%27x%%3Cb%%3E%d&", i, i)
	}
	args := &model.Request{Method: "GET", URI: q.String()}
	var body strings.Builder
	for body.Len() < 128<<10 {
		body.WriteString(strings.Repeat(`{"a":`, 40) + `"<b>x</b> and 'y'"` + strings.Repeat("}", 40) + "\n")
	}
	deep := &model.Request{Method: "POST", URI: "/api", Headers: [][2]string{{"content-type", "text/plain"}}, Body: []byte(body.String())}
	b.Run("args", func(b *testing.B) { durations(b, func() { m.Score(ctx, args) }) })
	b.Run("body", func(b *testing.B) { durations(b, func() { m.Score(ctx, deep) }) })
}
