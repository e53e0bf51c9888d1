// Package ftw owns Bulwark's run of the OWASP CRS regression suite (the
// go-ftw YAML tests shipped with the CRS release Bulwark embeds).
//
// It loads the suite from the tests package of the coraza-coreruleset module
// the rules are embedded from (so tests and rules are always one release),
// plus the file that module drops (testdata/crs), and Coraza's
// engine-specific overrides (vendored in testdata/crs), turns every test
// stage into the request go-ftw would put on the wire, and replays it twice
// with the same rule configuration: once through bare in-process Coraza
// (phases 1 to 5, response included) and once through Bulwark's real ext_proc
// server driven by envoysim, with Envoy's own HTTP/1 admission rules applied
// first. It then judges both observations against the stage's expectations
// and renders the side-by-side report kept in docs/CONFORMANCE.md.
//
// TestCRSConformance fails when a stage bare Coraza passes fails through
// ext_proc, unless testdata/protocol_exceptions.yaml lists it with a
// protocol-level reason, and when the ext_proc pass rate drops below the one
// recorded in testdata/recorded.json. `make conformance` (ftw.mk) rewrites
// both the report and the recorded rate.
package ftw
