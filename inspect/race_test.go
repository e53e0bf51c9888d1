//go:build race

package inspect_test

// raceEnabled: the race detector inflates allocations, so allocation
// bounds are not checked under it.
const raceEnabled = true
