package inspect

import (
	"maps"
	"strconv"
	"strings"

	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/waf"
)

// ScoreSource says which evidence set a request's overall score.
type ScoreSource string

// The score sources.
const (
	// ScoreModel: the model's overall score, as it scored the request.
	ScoreModel ScoreSource = "model"
	// ScoreCRS: the request was blocked on CRS's evidence and the model
	// scored it higher (cleaner) than that block says.
	ScoreCRS ScoreSource = "crs"
)

// Score is Bulwark's judgement of a request on the model's scale, 1
// (certainly an attack) to 99 (clean), overall and per class. It is what
// metadata, upstream headers and audit lines call the score.
//
// It is the model's score, except on a request blocked on CRS's evidence
// (a block the model did not overrule, or a rule's interruption). There a
// score above the model threshold would contradict the verdict: a NoSQL
// operator in a parameter name, which CRS blocks and the model does not
// model, would carry the model's 99, and a threshold on the score (an
// Envoy rule, a dashboard) would pass it. So the score, and that of each
// class of the rules behind the block, is at most the threshold.
//
// Not lower: how far CRS's anomaly total is past its own threshold does
// not rank requests. The benign requests that trip CRS (a code
// playground, a SQL question on a forum) reach 35 to 50 points as attacks
// do. On the 1,056 hand-written requests of session 7 in
// cmd/extproc/testdata, a bound that fell one per point past the threshold
// ranked them with an ROC AUC of 0.974, the flat bound 0.982, the model's
// score alone 0.973.
//
// The model's own scores stay in Report.ML, TX:ML_SCORE and the
// metadata's ml_score.
type Score struct {
	Overall int            `json:"overall"`
	Class   map[string]int `json:"class"`
	Source  ScoreSource    `json:"source"`
}

// crsTagClass maps CRS's attack tags to the model's classes, for the
// per-class bound of a CRS block.
var crsTagClass = map[string]string{
	"attack-sqli": "sqli", "attack-xss": "xss",
	"attack-rce": "rce", "attack-injection-php": "rce", "attack-injection-java": "rce",
	"attack-injection-generic": "rce", "attack-lfi": "traversal", "attack-rfi": "traversal",
}

// judgeScore is the request's score: ml (nil when the model did not run)
// and, when crsBlock, the bound cut (the model threshold) on overall and on
// the classes of v's inbound rules that count at paranoia level pl. It is nil
// when there is neither: a request the model did not score and CRS did not
// block has no score.
func judgeScore(ml *model.Scores, crsBlock bool, v waf.Verdict, cut, pl int) *Score {
	if ml == nil && !crsBlock {
		return nil
	}
	// Without the model the request was blocked (crsBlock), so the bound
	// below sets Overall and Source.
	s := &Score{Overall: 99, Class: make(map[string]int, len(model.Classes)), Source: ScoreModel}
	if ml != nil {
		s.Overall = ml.Overall
		maps.Copy(s.Class, ml.Class)
	}
	if !crsBlock {
		return s
	}
	if cut < s.Overall {
		s.Overall, s.Source = cut, ScoreCRS
	}
	for _, m := range v.Matches {
		if !blockingMatch(m, pl) {
			continue
		}
		for _, t := range m.Tags {
			c, ok := crsTagClass[t]
			if !ok {
				continue
			}
			if old, seen := s.Class[c]; !seen || cut < old {
				s.Class[c] = cut
			}
		}
	}
	return s
}

// ruleLevel is the paranoia level a CRS rule is tagged with, 0 when none.
func ruleLevel(m waf.Match) int {
	for _, t := range m.Tags {
		if l, ok := strings.CutPrefix(t, "paranoia-level/"); ok {
			n, _ := strconv.Atoi(l)
			return n
		}
	}
	return 0
}
