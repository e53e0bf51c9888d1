package inspect

import (
	"strconv"
	"strings"

	"github.com/bulwark-waf/bulwark/waf"
)

// CRS tags an attack rule with its class. modelledTags are the classes the
// model scores (sqli, xss, rce with code injection, traversal with file
// inclusion); outsideTags are attack classes it does not, which keep a
// rule outside even when it also carries a modelled tag (934110 is both
// injection and SSRF).
var (
	modelledTags = map[string]bool{"attack-sqli": true, "attack-xss": true, "attack-rce": true, "attack-lfi": true,
		"attack-rfi": true, "attack-injection-php": true, "attack-injection-java": true, "attack-injection-generic": true,
		"attack-generic": true}
	outsideTags = map[string]bool{"attack-ssrf": true, "attack-protocol": true, "attack-fixation": true,
		"attack-reputation-scanner": true, "attack-multipart-header": true, "attack-deprecated-header": true,
		"attack-disclosure": true}
)

// unmodelled lists the inbound rules of v that count towards the blocking
// score at paranoia level pl and are not of a class the model scores:
// method and protocol enforcement, scanners, session fixation, SSRF, and any rule
// of your own without a modelled CRS attack tag. A block they are part of is
// CRS's to make: the model has nothing to say about them.
func unmodelled(v waf.Verdict, pl int) []int {
	var out []int
	for _, m := range v.Matches {
		if !m.Logged || m.Severity == "" || m.Phase > 2 || IsCRSBlockingRule(m.ID) {
			continue
		}
		modelled, outside, level := false, false, 0
		for _, t := range m.Tags {
			switch {
			case modelledTags[t]:
				modelled = true
			case outsideTags[t]:
				outside = true
			case strings.HasPrefix(t, "paranoia-level/"):
				level, _ = strconv.Atoi(strings.TrimPrefix(t, "paranoia-level/"))
			}
		}
		if level > pl {
			continue // detection only: it adds to the detection score, not the blocking one
		}
		// Method enforcement (911xxx) is tagged attack-generic, but it is the
		// site's policy on methods (a WebDAV PROPFIND, a CalDAV REPORT), not
		// an attack the model could score.
		if m.ID/1000 == 911 {
			outside = true
		}
		if !modelled || outside {
			out = append(out, m.ID)
		}
	}
	return out
}
