// Package envoysim is an ext_proc client that behaves like Envoy's
// envoy.filters.http.ext_proc filter, so Bulwark's tests and benchmarks can
// drive the real gRPC server without an Envoy binary. Given a request, an
// upstream and the filter's settings (processing mode, message timeout,
// failure_mode_allow, allow_mode_override, buffer limit, observability mode)
// it sends the messages Envoy would send, in Envoy's order, applies the
// answers as Envoy would (raw_value only, ignored headers, mode overrides,
// FIFO chunk answers, ImmediateResponse without a status meaning 200) and
// reports what the upstream and the client end up receiving.
//
// The behaviour follows shared/EXTPROC.md; where Envoy versions differ, it
// follows current Envoy (spurious answers honour failure_mode_allow).
package envoysim
