// Package filter owns the Envoy ext_proc protocol: the gRPC
// ExternalProcessor service, the per-stream state machine that maps Envoy's
// messages to Coraza's phases for every processing mode, and the answers
// (continue, header mutations, dynamic metadata, immediate responses) Envoy
// gets back. Ordering rules come from shared/EXTPROC.md; an ordering bug here
// is a WAF bypass, so every message is either answered in order or the stream
// is closed with a gRPC status.
package filter
