// Package envoy owns the Envoy side of a Bulwark deployment: envoy.yaml (a
// proxy that protects a backend with Bulwark's ext_proc filter), the docker
// compose demo around it, and the code that proves those configs are ones
// Envoy would accept.
//
// Envoy rejects a bad config at start-up, which on a cluster means a crash
// loop discovered after deployment. DecodeBootstrap and ValidateDeep move
// that failure into `go test ./...`: they decode a config with the same
// protobuf schema Envoy uses (go-control-plane), resolve every typed_config
// Any to its concrete extension message, and run the protoc-gen-validate
// rules on all of them. The k8s package reuses them for the Envoy config in
// the envoy overlay and for the filter that the Istio EnvoyFilter inserts.
//
// Nothing here is linked into the Bulwark server binary.
package envoy
