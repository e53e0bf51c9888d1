// Package k8s owns Bulwark's Kubernetes manifests: a kustomize base (the
// server, its settings and rules, availability and network fencing), the
// overlays that attach it to a standalone Envoy, the Istio ingress gateway
// (optionally sidecars) and Envoy Gateway, the monitoring component, and
// deploy.mk (image and kind e2e targets). The Helm chart in charts/bulwark
// is tested here too, with the same checks.
//
// This directory is a Go module of its own (github.com/bulwark-waf/bulwark/k8s,
// using the root module through a replace directive): the Kubernetes, Istio,
// Gateway API, kustomize and Helm libraries are test-only and stay out of
// the shipped module's dependency graph. `make test` runs it (test-k8s).
//
// There is no Go API here, only tests. They build every overlay with the
// kustomize library, decode each object strictly into its upstream Go type
// (or, for Envoy Gateway, a documented mirror of the fields we use) so that a
// misspelled field fails instead of being dropped by the API server, and then
// check what a schema cannot: restricted pod security, that ports and names
// line up between Service, Deployment and each proxy's config, that the
// NetworkPolicy admits exactly the proxies, and that the filter each proxy
// runs satisfies the same ext_proc checks as envoy/envoy.yaml, and that the
// rendered settings file is one the server's own config loader accepts.
// The chart is rendered with the Helm Go SDK (client-only install, Helm's
// linter) and must pass the same checks as the kustomize base.
package k8s
