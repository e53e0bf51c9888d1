// Package rx is Bulwark's @rx operator for Coraza, and a gate in front of
// Coraza's @pm: the CRS regular expressions run on RE2
// (github.com/wasilibs/go-re2, pure Go, no cgo) behind a literal prefilter,
// with Coraza's own operator kept for every case where RE2 and Go's regexp
// could disagree.
//
// Coraza keeps one global operator registry, and CRS rules say @rx, so this
// package registers itself as "rx" once, in init, and then decides per WAF:
// a rule set compiled with a root file system tagged by WithEngine(fsys,
// EngineRE2) gets the RE2 operator; every other WAF in the process, tagged
// EngineGo or not tagged at all (tests, a bare baseline), gets Coraza's
// upstream @rx unchanged, including its SecRxPreFilter behaviour. Loading the
// package therefore changes nothing for code that does not ask for RE2.
//
// Equivalence with Coraza's operator is by construction where possible:
//   - RE2 never sees Coraza's pattern text. The pattern is parsed once with
//     Go's regexp/syntax, with the same flags Coraza adds, and the parse tree
//     is written back out with every character class spelled as explicit
//     code-point ranges and every case-folded literal as the class of its
//     fold orbit under Go's unicode tables. RE2 thus matches exactly the
//     language Go would, whatever Unicode version RE2 was built with.
//   - Input that is not valid UTF-8 (Go reads each bad byte as U+FFFD, RE2
//     stops), byte-oriented patterns (Coraza switches those to
//     rsc.io/binaryregexp), and any pattern RE2 rejects go to Coraza's own
//     operator.
//   - The prefilter skips a regexp only when a literal that every match
//     must contain is absent; see prefilter.go.
//
// The same engine setting gates Coraza's @pm and @pmFromFile (pm.go): a
// byte-class Aho-Corasick DFA over the same phrases answers whether any
// phrase occurs at all, and only when one does is Coraza's operator asked,
// so its matches and captures are Coraza's own; under EngineGo both stay
// upstream.
//
// The CRS regression suite at paranoia levels 1 to 4 (shadow_test.go) and a
// differential fuzz test over every CRS @rx pattern (fuzz_test.go) check
// the result against Coraza's operator.
//
// Costs: every pattern is compiled twice (RE2 and Coraza's Go regexp, the
// fallback), so the cold CRS compile takes longer and the process holds
// more memory. RE2's lazily built DFA caches live in go-re2's WebAssembly
// memory, which grows with the variety of inputs seen and is never handed
// back to the OS; go-re2 bounds each pattern at its default 128 MiB and
// does not expose a smaller bound for single patterns. docs/BENCHMARKS.md
// reports compile time and RSS beside Coraza's operator.
package rx
