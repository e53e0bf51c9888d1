// Package e2e holds Bulwark's end-to-end tests. Everything here drives the
// real gRPC server over loopback through envoysim, the in-repo Envoy-faithful
// ext_proc client, with real Coraza and the real CRS: the layer that runs on
// every machine. The kind suite with a real Envoy and Istio lives in e2e/kind
// behind the e2e build tag.
package e2e
