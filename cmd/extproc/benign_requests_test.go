package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/bulwark-waf/bulwark/cmd/extproc/app"
	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/inspect"
)

// testdata/benign-requests holds 1,425 benign requests written by hand in
// ten sets, of kinds the training corpus lacked (forms in ten languages,
// SDK, webhook, payment and observability traffic, SOAP, XML-RPC, SAML,
// GraphQL, query languages, CI parameters, paths, schedules; then legacy
// and enterprise apps, legacy charsets, passwords, free text, search,
// shops and ops tools, b3-*; modern app backends, media, devices, SaaS
// APIs and body formats, b4-*; everyday browsing and its beacons, b5-*;
// rich-text and user-generated content, b6-*; crawlers, monitors, API
// clients, apps and devices, b7-*; requests of unusual shape and size,
// b8-*; attack-looking prose in 21 languages, b9-*; SPA and mobile API
// traffic, b10-*; README.md there).
// Through the server's core with the shipped defaults, none may be
// blocked where CRS PL1 alone lets it through, except the ones known.json lists with the reason; the test also
// fails when a listed one stops being blocked, so the list stays true.
func TestHandWrittenBenignRequests(t *testing.T) {
	t.Parallel()
	var worse, cleared, both int
	n := eachHandWritten(t, "benign-requests", 1420, func(h handWritten) {
		switch {
		case h.blocks && !h.crsBlocks && !h.isKnown:
			worse++
			t.Errorf("%s: blocked where CRS PL1 is not: %s", h.name, h.rep.Explanation())
		case h.isKnown && !(h.blocks && !h.crsBlocks):
			t.Errorf("%s: listed in known.json (%s) but no longer blocked alone: drop it from the list", h.name, h.why)
		case h.blocks && !h.crsBlocks:
			worse++
			t.Logf("%s: known: %s", h.name, h.why)
		case h.blocks:
			both++
		case h.crsBlocks:
			cleared++
		}
	})
	t.Logf("%d requests: blocked where CRS is not %d, blocked by both %d, CRS's block cleared %d", n, worse, both, cleared)
}

// handWritten is one hand-written request's outcome through the core.
type handWritten struct {
	name              string
	rep               inspect.Report
	blocks, crsBlocks bool
	// why is known.json's reason when isKnown.
	why     string
	isKnown bool
}

// eachHandWritten sends every request of testdata/dir (at least min)
// through the core with the shipped defaults, each from its own client
// (one shared address would make the requests before it count against
// it in the client memory), and hands fn each outcome with what
// testdata/dir/known.json says of it. It returns how many there were.
func eachHandWritten(t *testing.T, dir string, min int, fn func(handWritten)) int {
	t.Helper()
	dir = filepath.Join("testdata", dir)
	raw, err := os.ReadFile(filepath.Join(dir, "known.json"))
	if err != nil {
		t.Fatal(err)
	}
	var known map[string]string
	if err := json.Unmarshal(raw, &known); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.http"))
	if err != nil || len(files) < min {
		t.Fatalf("%d requests in %s (%v)", len(files), dir, err)
	}
	sort.Strings(files)
	rt := defaultRuntime(t)
	ctx := context.Background()
	for i, f := range files {
		req, err := parseRaw(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		req.ClientIP = fmt.Sprintf("198.18.%d.%d", i/250, 1+i%250)
		rep, err := inspectAsEnvoy(ctx, rt.Core, req)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		_, crsBlocks := crsVerdict(&rep)
		h := handWritten{name: filepath.Base(f), rep: rep, blocks: rep.Request.Action == inspect.ActionBlock, crsBlocks: crsBlocks}
		h.why, h.isKnown = known[h.name]
		fn(h)
	}
	return len(files)
}

// defaultRuntime is the server's runtime with the shipped defaults and the
// model on, whatever BULWARK_* variables the test runs under.
func defaultRuntime(t *testing.T) *app.Runtime {
	t.Helper()
	noEnv := func(string) (string, bool) { return "", false }
	rt, err := toolRuntime(config.AddFlags(flag.NewFlagSet("defaults", flag.ContinueOnError), noEnv), func(c *config.Config) { c.ML.Enabled = true })
	if err != nil {
		t.Fatal(err)
	}
	return rt
}
