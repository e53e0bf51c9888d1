// Package servertest starts Bulwark's real ext_proc server on a loopback
// socket for tests and benchmarks: the one copy of the serve helper, the
// engine helper and the test baseline of server options.
package servertest
