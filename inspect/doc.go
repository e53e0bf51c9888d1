// Package verdict owns how Bulwark combines CRS and the ML model into one
// decision: the combination modes (crs, ml, and, or, gated), shadow mode, the
// per-route policies and their selection, the bounded per-client memory of
// recent scores, and the one-line explanation every flagged or blocked
// transaction carries. It is pure logic: filter feeds it CRS's anomaly score
// and the model's scores and acts on the Decision.
package inspect
