// Package httpsuite runs HTTP test suites that this project did not write
// against `extproc proxy`, over real HTTP: Coraza's own end-to-end suite
// (github.com/corazawaf/coraza/v3/http/e2e) with go-httpbin as the upstream,
// and the CRS regression suite replayed over HTTP. The pass rates go to
// docs/CONFORMANCE.md.
package httpsuite
