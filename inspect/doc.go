// Package inspect is the inspection core. It owns the Coraza transaction
// (the one request-feeding sequence, TX variables, rule removal,
// interruptions), model scoring, the plan of each exchange (the route's
// policy, its thresholds after the repeat-offender rules, when the model
// runs), the decision of the combination modes (crs, ml, and, or, gated)
// with its one-line explanation, shadow mode, policy selection and the
// bounded per-client memory of recent attacks.
//
// The ext_proc server drives an Exchange message by message; Core.Inspect
// runs the same sequence in-process for the tools, the conformance
// baseline and the benchmarks.
package inspect
