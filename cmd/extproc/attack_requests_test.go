package main

import (
	"testing"
)

// TestHandWrittenAttackRequests sends 1,122 attacks, written by hand for
// eight blind probes of sessions 7 and 8 (SQL injection, XSS, command and
// template injection, traversal and file inclusion, and in the third
// classes the model does not model, each in a real request: query, path,
// form, JSON, XML, multipart, cookies, headers, GraphQL), through the
// shipped defaults. Every one must be blocked, except those known.json
// lists with the reason; a listed one that starts being blocked fails too,
// so the list stays true. The probe's first scores are in docs/MODEL.md.
func TestHandWrittenAttackRequests(t *testing.T) {
	t.Parallel()
	var blocked, crsBlocked int
	n := eachHandWritten(t, "attack-requests", 1120, func(h handWritten) {
		if h.crsBlocks {
			crsBlocked++
		}
		if h.blocks {
			blocked++
		}
		switch {
		case !h.blocks && !h.isKnown:
			t.Errorf("%s: passes (CRS PL1 blocks: %v): %s", h.name, h.crsBlocks, h.rep.Explanation())
		case h.blocks && h.isKnown:
			t.Errorf("%s: listed in known.json (%s) but blocked now: drop it from the list", h.name, h.why)
		}
	})
	t.Logf("%d attacks: Bulwark blocks %d, CRS PL1 alone %d", n, blocked, crsBlocked)
}
