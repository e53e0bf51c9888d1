package evaluate

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/waf"
)

var screenshot = flag.String("screenshot", "", "write a PNG of the rendered report.html here")

// reportSample adds sources and more categories to the shared sample so the
// per-source table has rows.
const reportSample = sample + `{"id":"s1","label":"benign","category":"api","method":"GET","uri":"/api/items?page=2","headers":{"accept":"application/json"},"body":"","source":"example/capture@abc:log.json#1"}
{"id":"s2","label":"benign","category":"api","method":"POST","uri":"/api/items","headers":{"content-type":"application/json"},"body":"{\"name\":\"O'Brien\"}","source":"example/capture@abc:log.json#2"}
{"id":"s3","label":"attack","category":"sqli","method":"GET","uri":"/api/items?id=1%20UNION%20SELECT%20password%20FROM%20users--","headers":{},"body":"","source":"example/payloads@def:sqli.txt#7"}
{"id":"s4","label":"attack","category":"rce","method":"GET","uri":"/x?cmd=%3Bcat%20%2Fetc%2Fpasswd","headers":{},"body":"","source":"example/payloads@def:rce.txt#3"}
`

// findChromium returns a Chromium binary, or fails under CI (where make
// test installs one) and skips elsewhere, saying what is missing.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("BULWARK_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (apt-get install chromium, or set BULWARK_CHROMIUM): report.html is not checked in a browser"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestReportHTMLInBrowser renders report.html from real model and CRS scores
// in headless Chromium over the DevTools protocol, fails on any console
// error or uncaught exception, and moves both sliders with the keyboard to
// check every number the page shows against the Go computation.
func TestReportHTMLInBrowser(t *testing.T) {
	chromium := findChromium(t)
	m, err := model.Default()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := waf.New(waf.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	crs, err := inspect.New(inspect.Options{Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Score(context.Background(), strings.NewReader(reportSample), Options{Model: m, CRS: crs, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Rows at chosen scores besides the real ones, so every slider position
	// the test visits changes the numbers.
	for i, sc := range []struct {
		label, cat  string
		model, crs  int
		crsBlocking bool
	}{
		{"attack", "xss", 12, 3, false}, {"attack", "xss", 30, 8, true}, {"attack", "sqli", 55, 20, true}, {"attack", "rce", 80, 0, false},
		{"benign", "api", 20, 5, true}, {"benign", "api", 60, 0, false}, {"benign", "browser-page-load", 95, 12, true}, {"benign", "browser-page-load", 70, 0, false},
	} {
		rows = append(rows, Row{ID: fmt.Sprintf("fixed-%d", i), Label: sc.label, Category: sc.cat,
			Scores: model.Scores{Overall: sc.model}, CRSRan: true, CRSScore: sc.crs, CRSBlocked: sc.crsBlocking})
	}
	threshold := m.Info().DefaultThreshold
	rep := Summarize(rows, threshold)
	var page bytes.Buffer
	opt := HTMLOptions{Title: "sample.jsonl", ModelDesc: "embedded model", CRSName: "CRS PL1", CRSThreshold: 5}
	if err := WriteHTML(&page, rows, &rep, opt); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, bad := range []string{" src=", "<link", "@import", "url(", "fetch(", "XMLHttpRequest", "https://"} {
		if strings.Contains(html, bad) {
			t.Errorf("report.html is not self-contained: it contains %q", bad)
		}
	}
	if n := strings.Count(html, "http://"); n != strings.Count(html, `"http://www.w3.org/2000/svg"`) {
		t.Errorf("report.html names %d http:// URLs besides the SVG namespace", n)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.WindowSize(1400, 1900),
		// Root in a container has no user namespace for the sandbox.
		chromedp.NoSandbox,
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	var mu sync.Mutex
	var problems []string
	listener := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *cdpruntime.EventConsoleAPICalled:
			if ev.Type == cdpruntime.ConsoleAPICalledTypeError || ev.Type == cdpruntime.ConsoleAPICalledTypeWarning || ev.Type == cdpruntime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *cdpruntime.EventExceptionThrown:
			d := ev.ExceptionDetails
			desc := d.Text
			if d.Exception != nil {
				desc += " " + d.Exception.Description
			}
			problems = append(problems, fmt.Sprintf("uncaught exception at %d:%d: %s", d.LineNumber+1, d.ColumnNumber+1, desc))
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
				problems = append(problems, fmt.Sprintf("log %s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		}
	}

	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(listener))
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	read := func(ids ...string) map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, id := range ids {
			v, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#"+id)))
			if err != nil {
				t.Fatalf("reading #%s: %v", id, err)
			}
			out[id] = v
		}
		return out
	}
	// The browser starts on the first command; the log domain then reports
	// failed loads and other browser-side errors.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate("file://"+file),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
	); err != nil {
		t.Fatalf("loading the report: %v", err)
	}

	ds := Distribute(rows)
	want := func(t2, k int) map[string]string {
		return map[string]string{
			"model-threshold-value": fmt.Sprint(t2),
			"model-tpr":             fmt.Sprintf("%.2f%%", 100*ds.Attacks.ModelRate(t2)),
			"model-fpr":             fmt.Sprintf("%.3f%%", 100*ds.Benign.ModelRate(t2)),
			"crs-threshold-value":   fmt.Sprint(k),
			"crs-tpr":               fmt.Sprintf("%.2f%%", 100*ds.Attacks.CRSRate(k)),
			"crs-fpr":               fmt.Sprintf("%.3f%%", 100*ds.Benign.CRSRate(k)),
		}
	}
	seen := map[string]string{}
	check := func(stage string, t2, k int) {
		t.Helper()
		w := want(t2, k)
		for _, id := range []string{"model-tpr", "model-fpr", "crs-tpr", "crs-fpr"} {
			if prev, ok := seen[id]; ok && prev == w[id] {
				t.Fatalf("%s: #%s would read %s as before: the stage cannot tell a working slider from a dead one", stage, id, prev)
			}
			seen[id] = w[id]
		}
		var ids []string
		for id := range w {
			ids = append(ids, id)
		}
		got := read(ids...)
		for id, v := range w {
			if got[id] != v {
				t.Errorf("%s: #%s shows %q, want %q", stage, id, got[id], v)
			}
		}
	}
	check("initial", threshold, 5)
	if got := read("model-auc")["model-auc"]; got != fmt.Sprintf("%.4f", rep.ModelAUC) {
		t.Errorf("model AUC shows %q, want %.4f", got, rep.ModelAUC)
	}

	// A user's keyboard on the sliders: Home and End jump to the ends,
	// arrows step by one; each fires the input events the page listens to.
	if err := chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS("#model-threshold")), chromedp.KeyEvent(kb.Home),
		chromedp.Focus(chromedp.CSS("#crs-threshold")), chromedp.KeyEvent(kb.End),
	); err != nil {
		t.Fatal(err)
	}
	check("model at 1, CRS at the cap", 1, CRSScoreCap)
	if err := chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS("#model-threshold")), chromedp.KeyEvent(kb.End),
		chromedp.Focus(chromedp.CSS("#crs-threshold")), chromedp.KeyEvent(kb.Home), chromedp.KeyEvent(kb.ArrowRight),
	); err != nil {
		t.Fatal(err)
	}
	check("model at 99, CRS at 2", 99, 2)
	steps := []chromedp.Action[chromedp.Void]{chromedp.Focus(chromedp.CSS("#model-threshold")), chromedp.KeyEvent(kb.Home)}
	for range 24 {
		steps = append(steps, chromedp.KeyEvent(kb.ArrowRight))
	}
	steps = append(steps, chromedp.Focus(chromedp.CSS("#crs-threshold")))
	for range 6 {
		steps = append(steps, chromedp.KeyEvent(kb.ArrowRight))
	}
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
	check("model at 25, CRS at 8", 25, 8)

	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS("#model-threshold")), chromedp.KeyEvent(kb.End)); err != nil {
		t.Fatal(err)
	}
	// The tables follow the sliders too: at 99 the model flags everything.
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#categories td.model")).map((c) => c.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != len(ds.Categories)+2 {
		t.Errorf("category table has %d model cells, want %d: %q", len(cells), len(ds.Categories)+2, cells)
	}
	for _, c := range cells {
		if c != "100.00%" {
			t.Errorf("at threshold 99 a category shows %q, want 100.00%%", c)
		}
	}
	sourceRows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#sources td.model").length`))
	if err != nil {
		t.Fatal(err)
	}
	if sourceRows != len(ds.Sources) || len(ds.Sources) != 2 {
		t.Errorf("source table has %d rows, want %d (example/capture, example/payloads)", sourceRows, len(ds.Sources))
	}

	if *screenshot != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*screenshot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
}
