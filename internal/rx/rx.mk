# Equivalence of Bulwark's RE2 @rx with Coraza's (internal/rx).
# Include from the top-level Makefile: include internal/rx/rx.mk
#
# make shadow-rx   the CRS regression suite at paranoia levels 1-4 through
#                  both engines (go test runs levels 1 and 4).
# make fuzz-rx     differential fuzzing, FUZZ_RX_TIME per CRS rule group.
# make fuzz-pm     differential fuzzing of the @pm gate over every CRS
#                  phrase list against Coraza's @pm, FUZZ_PM_TIME.

FUZZ_RX_TIME   ?= 10m
FUZZ_PM_TIME   ?= 10m
FUZZ_RX_GROUPS ?= REQUEST-901 REQUEST-905 REQUEST-911 REQUEST-913 REQUEST-920 REQUEST-921 REQUEST-922 \
	REQUEST-930 REQUEST-931 REQUEST-932 REQUEST-933 REQUEST-934 REQUEST-941 REQUEST-942 REQUEST-943 \
	REQUEST-944 REQUEST-949 REQUEST-999 RESPONSE-950 RESPONSE-951 RESPONSE-952 RESPONSE-953 RESPONSE-954 RESPONSE-955 RESPONSE-956 RESPONSE-959 RESPONSE-980

.PHONY: shadow-rx fuzz-rx fuzz-pm
shadow-rx: ## CRS regression suite through both @rx engines at PL1-4
	BULWARK_RX_SHADOW_LEVELS=1,2,3,4 go test ./internal/rx -run TestShadowCRSRegression -count=1 -v -timeout 30m

fuzz-rx: ## differential fuzzing of every CRS @rx pattern, RE2 against Go
	@set -e; for g in $(FUZZ_RX_GROUPS); do \
		echo "== $$g"; \
		BULWARK_RX_GROUP=$$g go test ./internal/rx -run '^$$' -fuzz '^FuzzRx$$' -fuzztime $(FUZZ_RX_TIME) -fuzzminimizetime 1s -parallel 1; \
	done

fuzz-pm: ## differential fuzzing of the @pm gate against Coraza's @pm
	go test ./internal/rx -run '^$$' -fuzz '^FuzzPM$$' -fuzztime $(FUZZ_PM_TIME) -fuzzminimizetime 1s -parallel 1
