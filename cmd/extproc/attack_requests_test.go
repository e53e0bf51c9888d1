package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/bulwark-waf/bulwark/inspect"
)

// TestHandWrittenAttackRequests sends 394 attacks, written by hand for two
// blind probes of session 7 (SQL injection, XSS, command and template
// injection, traversal and file inclusion, each in a real request: query,
// path, form, JSON, XML, multipart, cookies, headers, GraphQL), through the
// shipped defaults. Every one must be blocked, except those known.json
// lists with the reason; a listed one that starts being blocked fails too,
// so the list stays true. The probe's first scores are in docs/MODEL.md.
func TestHandWrittenAttackRequests(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "attack-requests")
	raw, err := os.ReadFile(filepath.Join(dir, "known.json"))
	if err != nil {
		t.Fatal(err)
	}
	var known map[string]string
	if err := json.Unmarshal(raw, &known); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.http"))
	if err != nil || len(files) < 390 {
		t.Fatalf("%d requests (%v)", len(files), err)
	}
	sort.Strings(files)
	rt := defaultRuntime(t)
	ctx := context.Background()
	var blocked, crsBlocked int
	for i, f := range files {
		req, err := parseRaw(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		// Each request is its own client's: one shared address would make
		// the requests before it count against it (client memory).
		req.ClientIP = fmt.Sprintf("198.18.%d.%d", i/250, 1+i%250)
		rep, err := inspectAsEnvoy(ctx, rt.Core, req)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		_, crsBlocks := crsVerdict(&rep)
		if crsBlocks {
			crsBlocked++
		}
		blocks := rep.Request.Action == inspect.ActionBlock
		if blocks {
			blocked++
		}
		name := filepath.Base(f)
		why, isKnown := known[name]
		switch {
		case !blocks && !isKnown:
			t.Errorf("%s: passes (CRS PL1 blocks: %v): %s", name, crsBlocks, rep.Explanation())
		case blocks && isKnown:
			t.Errorf("%s: listed in known.json (%s) but blocked now: drop it from the list", name, why)
		}
	}
	t.Logf("%d attacks: Bulwark blocks %d, CRS PL1 alone %d", len(files), blocked, crsBlocked)
}
