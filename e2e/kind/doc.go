// Package kind owns the end-to-end suite that runs Bulwark in a real
// Kubernetes cluster (kind) behind a real Envoy, then behind the Istio
// ingress gateway. The tests carry the e2e build tag, so plain `go test
// ./...` never starts a cluster; run them with `make e2e-kind`.
//
// They need a Docker engine, kind and kubectl (and istioctl for the Istio
// scenario). Where those are missing each scenario is skipped with a message
// saying what is missing; it is never reported as passed. CI sets
// BULWARK_E2E_REQUIRE=1 so a missing tool fails the job instead. The
// in-process Envoy harness in internal/envoysim remains the layer that runs
// everywhere.
package kind
