// Package waf owns Bulwark's use of Coraza and the OWASP Core Rule Set: it turns
// a typed Config into SecLang directives, builds a Coraza WAF with CRS embedded
// from coraza-coreruleset, reports rule-file errors with their file and line,
// and reads a finished transaction back into a Verdict (anomaly scores and
// matched rules). It knows nothing about Envoy; the ext_proc protocol lives in
// package filter.
package waf
