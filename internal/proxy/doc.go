// Package proxy is an HTTP/1.1 and h2c listener that plays Envoy's ext_proc
// filter in front of an upstream URL, with the same Envoy-faithful client
// code the tests use (package envoysim): processing modes, message order,
// immediate responses, header mutations. It is for trying Bulwark without
// Envoy and for driving it with HTTP test tools (go-ftw, Coraza's e2e
// suite); production traffic goes through Envoy.
package proxy
