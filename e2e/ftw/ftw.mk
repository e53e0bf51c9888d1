# CRS conformance: replays the CRS regression suite (the tests/ package of the
# coraza-coreruleset module, plus e2e/ftw/testdata/crs)
# through bare Coraza and through Bulwark's ext_proc server, then rewrites
# docs/CONFORMANCE.md and the recorded pass rate e2e/ftw/testdata/recorded.json.
# Include from the top-level Makefile: include e2e/ftw/ftw.mk

.PHONY: conformance
conformance: ## CRS regression suite bare and through ext_proc; writes docs/CONFORMANCE.md
	go test ./e2e/ftw -run TestCRSConformance -count=1 -update -v
