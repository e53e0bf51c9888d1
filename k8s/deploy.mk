# Container image and kind e2e targets. Included from the top-level Makefile.
#
#   make image                 build ghcr.io/bulwark-waf/bulwark:dev
#   make e2e-kind              kind cluster, Envoy + Istio scenarios (skips without Docker/kind)
#   make validate-deploy       Envoy config, kustomize and Helm chart checks only (no cluster)
#   make test-k8s              vet, staticcheck and tests of the k8s and e2e/kind modules
#
# k8s/ (manifests and Helm chart tests) and e2e/kind/ are Go modules of their
# own: Kubernetes, Istio, Gateway API, kustomize and Helm are test-only
# dependencies, kept out of the shipped module's graph.

IMAGE        ?= ghcr.io/bulwark-waf/bulwark
IMAGE_TAG    ?= dev
KIND_CLUSTER ?= bulwark-e2e
# Scenarios to run: envoy, istio, or both (comma-separated).
E2E_SCENARIOS ?= envoy,istio
E2E_TIMEOUT  ?= 45m

.PHONY: image e2e-kind validate-deploy test-k8s compose-up compose-down

image: ## build the container image $(IMAGE):$(IMAGE_TAG)
	docker build --build-arg VERSION=$(IMAGE_TAG) -t $(IMAGE):$(IMAGE_TAG) .

# The test builds and loads the image itself, after checking that a Docker
# engine and kind exist; without them every scenario is reported as SKIP,
# never as a pass. Set BULWARK_E2E_REQUIRE=1 (CI does) to turn a skip into a
# failure.
e2e-kind: ## kind cluster, Envoy and Istio scenarios (needs Docker, kind, kubectl)
	BULWARK_E2E_IMAGE=$(IMAGE):e2e \
	BULWARK_E2E_CLUSTER=$(KIND_CLUSTER) \
	BULWARK_E2E_SCENARIOS=$(E2E_SCENARIOS) \
	cd e2e/kind && go test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) -v ./...

validate-deploy: ## Envoy config, kustomize and Helm chart checks only (no cluster)
	go test -count=1 ./envoy/
	cd k8s && go test -count=1 ./...

STATICCHECK_VERSION ?= v0.8.2
test-k8s: ## vet, staticcheck and tests of the k8s and e2e/kind modules
	cd k8s && go vet ./... && go run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./... && go test -count=1 ./...
	cd e2e/kind && go vet -tags e2e ./... && go run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) -tags e2e ./...

compose-up: ## docker compose demo: Envoy on :8080 in front of an echo backend
	docker compose -f envoy/docker-compose.yaml up --build -d

compose-down: ## stop the compose demo
	docker compose -f envoy/docker-compose.yaml down
