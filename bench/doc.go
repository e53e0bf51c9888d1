// Package bench measures Bulwark against bare Coraza in the same run: the
// full ext_proc round trip over loopback gRPC (driven by envoysim, exactly as
// Envoy would) next to the same request processed in-process, throughput on
// all cores, and the memory an idle open stream costs the server. The
// benchmarks feed docs/BENCHMARKS.md through `make bench` (bench/report).
package bench
