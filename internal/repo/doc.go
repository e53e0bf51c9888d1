// Package repo finds the repository's root from a test, for tests that read
// files outside their package (the README, deployment configs, docs).
package repo
