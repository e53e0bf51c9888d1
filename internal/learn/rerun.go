package learn

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/waf"
)

// CoreRerunner re-runs requests through an inspection core; the core should
// run CRS with every paranoia level for detection (waf.engine
// DetectionOnly, waf.detection_paranoia_level 4), as `extproc learn label`
// builds it.
type CoreRerunner struct {
	Core *inspect.Core
}

// Rerun inspects r and returns the matched request rules (CRS's threshold
// rules and response phases left out), each with its paranoia level: one
// hit per field the rule matched, in (part, field) order. Coraza visits a
// collection's variables in map order, so the one field its logdata names
// would change from run to run, and with it the labels.
func (c CoreRerunner) Rerun(ctx context.Context, r *model.Request) ([]Hit, error) {
	rep, err := c.Core.Inspect(ctx, r)
	if err != nil {
		return nil, err
	}
	_, rawQuery, _ := strings.Cut(r.URI, "?")
	var hits []Hit
	for _, m := range rep.Final.Logged() {
		if m.Phase > 2 || inspect.IsCRSBlockingRule(m.ID) {
			continue
		}
		datas := m.MatchedData()
		if len(datas) == 0 {
			datas = []string{m.Data}
		}
		var own []Hit
		for _, d := range datas {
			h := Hit{ID: m.ID, Paranoia: paranoiaOf(m)}
			h.Part, h.Field = VariableField(matchedVariable(d), rawQuery)
			if !slices.Contains(own, h) {
				own = append(own, h)
			}
		}
		slices.SortFunc(own, func(a, b Hit) int { return cmp.Or(cmp.Compare(a.Part, b.Part), cmp.Compare(a.Field, b.Field)) })
		hits = append(hits, own...)
	}
	return hits, nil
}

func paranoiaOf(m waf.Match) int {
	for _, t := range m.Tags {
		if n, ok := strings.CutPrefix(t, "paranoia-level/"); ok && len(n) == 1 && n[0] >= '1' && n[0] <= '4' {
			return int(n[0] - '0')
		}
	}
	return 0
}

// matchedVariable reads the variable out of CRS's logdata, "Matched Data:
// X found within ARGS:id: VALUE".
func matchedVariable(data string) string {
	const marker = " found within "
	i := strings.LastIndex(data, marker)
	if i < 0 {
		return ""
	}
	v := data[i+len(marker):]
	// VAR:NAME: VALUE — the variable ends at the ": " before the value.
	if j := strings.Index(v, ": "); j >= 0 {
		v = v[:j]
	}
	return v
}
