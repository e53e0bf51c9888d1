// Package tlsfiles serves TLS and mutual TLS from certificate files that
// are reloaded when they change: a cert-manager renewal or a rotated
// Kubernetes Secret takes effect on the next handshake, without a restart,
// and a broken renewal keeps the last good files.
package tlsfiles
