// Package app wires Bulwark together: it builds the WAF from the config,
// serves ext_proc and gRPC health on one port and /healthz, /readyz and
// /metrics on the admin port, reloads rules and settings on SIGHUP or file
// change without dropping streams, and drains on shutdown. main only parses
// the command line and hands a context to Run.
package app
