package inspect

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/waf"
)

func TestJudgeScore(t *testing.T) {
	t.Parallel()
	rule := func(id, level int, tags ...string) waf.Match {
		return waf.Match{ID: id, Severity: "CRITICAL", Phase: 2, Logged: true,
			Tags: append(tags, "paranoia-level/"+string(rune('0'+level)))}
	}
	clean := &model.Scores{Overall: 99, Class: map[string]int{"sqli": 99, "xss": 97, "rce": 99, "traversal": 99}}
	attack := &model.Scores{Overall: 3, Class: map[string]int{"sqli": 3, "xss": 90, "rce": 99, "traversal": 99}}
	nosql := waf.Verdict{InboundScore: 5, Matches: []waf.Match{rule(942290, 1, "attack-sqli")}}
	tests := []struct {
		name     string
		ml       *model.Scores
		crsBlock bool
		v        waf.Verdict
		want     *Score
	}{
		{"no model, no block: no score", nil, false, nosql, nil},
		{"the model's score when CRS did not block", clean, false, nosql,
			&Score{Overall: 99, Class: map[string]int{"sqli": 99, "xss": 97, "rce": 99, "traversal": 99}, Source: ScoreModel}},
		{"a CRS block bounds overall and the rule's class at the threshold", clean, true, nosql,
			&Score{Overall: 25, Class: map[string]int{"sqli": 25, "xss": 97, "rce": 99, "traversal": 99}, Source: ScoreCRS}},
		{"the model's lower scores stand under a CRS block", attack, true, waf.Verdict{InboundScore: 10, Matches: []waf.Match{
			rule(942100, 1, "attack-sqli"), rule(941100, 1, "attack-xss")}},
			&Score{Overall: 3, Class: map[string]int{"sqli": 3, "xss": 25, "rce": 99, "traversal": 99}, Source: ScoreModel}},
		{"a block without the model: CRS's classes only", nil, true, waf.Verdict{InboundScore: 10, Matches: []waf.Match{
			rule(930120, 1, "attack-lfi"), rule(931100, 1, "attack-rfi"), rule(920420, 1, "attack-protocol")}},
			&Score{Overall: 25, Class: map[string]int{"traversal": 25}, Source: ScoreCRS}},
		{"rules above the paranoia level, unlogged or past phase 2 name no class", clean, true, waf.Verdict{InboundScore: 5, Matches: []waf.Match{
			rule(932200, 2, "attack-rce"),
			{ID: 941000, Severity: "CRITICAL", Phase: 2, Tags: []string{"attack-xss"}},
			{ID: 951100, Severity: "CRITICAL", Phase: 4, Logged: true, Tags: []string{"attack-sqli"}},
			rule(949110, 1, "attack-sqli"),
			rule(913100, 1, "attack-reputation-scanner")}},
			&Score{Overall: 25, Class: map[string]int{"sqli": 99, "xss": 97, "rce": 99, "traversal": 99}, Source: ScoreCRS}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := judgeScore(tc.ml, tc.crsBlock, tc.v, 25, 1)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("judgeScore (-want +got):\n%s", diff)
			}
		})
	}
}
