// Package filter owns the Envoy ext_proc protocol and only that: the gRPC
// ExternalProcessor service, the per-stream state machine that orders
// Envoy's messages for every processing mode, holds and releases bytes, and
// builds the answers (continue, header mutations, dynamic metadata,
// immediate responses) Envoy gets back. What to decide is the inspection
// core's (package inspect), reached through the Inspector interface.
// Ordering rules come from shared/EXTPROC.md; an ordering bug here is a WAF
// bypass, so every message is either answered in order or the stream is
// closed with a gRPC status.
package filter
