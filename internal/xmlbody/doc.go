// Package xmlbody replaces Coraza's XML request body processor with one
// that reads XML as XML.
//
// Coraza's processor (v3.8) decodes bodies with encoding/xml's
// HTMLAutoClose list, which closes HTML's void elements the moment they
// open. An XML document that uses one of those names as an ordinary
// element with content — XML-RPC's <param>, RSS's <link>, <source>,
// <meta> or <input> in enterprise and SOAP APIs — then has an end tag
// with nothing open, the decoder fails, REQBODY_ERROR is set and rule
// 200002 of the recommended configuration refuses the request with 400.
// Every WordPress XML-RPC call was refused that way. docs/CORAZA-UPSTREAM.md has
// the minimal case for upstream.
//
// This processor fills the same variables (XML://@* with attribute
// values, XML:/* with trimmed text) from the same lenient decoder, without
// the HTML list. Coraza's body processor registry is process-wide and
// takes no per-WAF options, so registering it (at init, as the @rx
// operator is) applies to every WAF in the process.
package xmlbody
