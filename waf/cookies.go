package waf

import (
	"strconv"
	"strings"
)

// CookieNames renames repeated cookie names, across all Cookie headers of
// a request, before Coraza sees them: the second "id" becomes "id__dup2".
//
// Why: Coraza caches transformed values per phase by the argument key's
// address and its index in each rule's variable list. Repeated cookie names
// share one key, and the index depends on map iteration order, so a rule can
// be handed another value's cached transformation. The same request then
// scores differently from run to run, and a payload hidden behind a
// duplicate name ("a=1; q=<payload>; b=2; q=x") can be missed. Distinct
// names keep every value inspected; the upstream still gets the original
// header. The zero value is ready to use; use one per request.
type CookieNames struct {
	seen map[string]int
}

// Header returns the Cookie header value to give Coraza.
func (c *CookieNames) Header(v string) string {
	if c.seen == nil {
		c.seen = map[string]int{}
	}
	parts := strings.Split(v, ";")
	changed := false
	for i, p := range parts {
		name, val, hasEq := strings.Cut(p, "=")
		key := strings.TrimSpace(name)
		if key == "" {
			continue
		}
		c.seen[key]++
		if n := c.seen[key]; n > 1 {
			lead := name[:len(name)-len(strings.TrimLeft(name, " \t"))]
			renamed := lead + key + "__dup" + strconv.Itoa(n)
			if hasEq {
				renamed += "=" + val
			}
			parts[i] = renamed
			changed = true
		}
	}
	if !changed {
		return v
	}
	return strings.Join(parts, ";")
}
