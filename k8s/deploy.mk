# Container image and kind e2e targets. Included from the top-level Makefile.
#
#   make image                 build ghcr.io/bulwark-waf/bulwark:dev
#   make e2e-kind              kind cluster, Envoy + Istio scenarios (skips without Docker/kind)
#   make validate-deploy       Envoy config and kustomize checks only (no cluster)

IMAGE        ?= ghcr.io/bulwark-waf/bulwark
IMAGE_TAG    ?= dev
KIND_CLUSTER ?= bulwark-e2e
# Scenarios to run: envoy, istio, or both (comma-separated).
E2E_SCENARIOS ?= envoy,istio
E2E_TIMEOUT  ?= 45m

.PHONY: image e2e-kind validate-deploy compose-up compose-down

image:
	docker build --build-arg VERSION=$(IMAGE_TAG) -t $(IMAGE):$(IMAGE_TAG) .

# The test builds and loads the image itself, after checking that a Docker
# engine and kind exist; without them every scenario is reported as SKIP,
# never as a pass. Set BULWARK_E2E_REQUIRE=1 (CI does) to turn a skip into a
# failure.
e2e-kind:
	BULWARK_E2E_IMAGE=$(IMAGE):e2e \
	BULWARK_E2E_CLUSTER=$(KIND_CLUSTER) \
	BULWARK_E2E_SCENARIOS=$(E2E_SCENARIOS) \
	go test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) -v ./e2e/kind/...

validate-deploy:
	go test -count=1 ./envoy/ ./k8s/

compose-up:
	docker compose -f envoy/docker-compose.yaml up --build -d

compose-down:
	docker compose -f envoy/docker-compose.yaml down
