package main

import (
	"strings"
	"testing"

	"github.com/bulwark-waf/bulwark/model/evaluate"
)

// TestHandWrittenScoreRanks checks the request score (inspect.Score) on
// the hand-written benign and attack requests through the shipped
// defaults: every request blocked on a judgement (not at a parser limit)
// scores at or below the model threshold, every other one keeps the
// model's score, and the score ranks attacks above benign requests at
// least as well as the model's own. The floor is
// on the attacks of the model's four classes (ROC AUC 0.976 against the
// model's 0.972 when this was written, over 1,425 benign requests, the
// rich-text HTML of b6-* the hardest); with the classes it does not model
// (*-other-*: LDAP, XXE, SSRF, deserialization, open redirects, most of
// which CRS PL1 misses too) the score's is 0.960 and the model's 0.943.
func TestHandWrittenScoreRanks(t *testing.T) {
	t.Parallel()
	var score, ml [2][]float64 // [attack, benign] suspicion: 100 - score
	var score4, ml4 []float64  // attacks of the model's four classes
	for i, set := range []string{"attack-requests", "benign-requests"} {
		eachHandWritten(t, set, 390, func(h handWritten) {
			sc, m := h.rep.Score, h.rep.ML
			if sc == nil && m == nil && h.rep.Limit != "" {
				return // refused at a parser limit before it was judged
			}
			if sc == nil || m == nil {
				t.Errorf("%s: no score (%v) or no model scores (%v)", h.name, sc, m)
				return
			}
			cut := h.rep.Plan.Policy.MLThreshold
			switch {
			case h.blocks && sc.Overall > cut && h.rep.Limit == "":
				// A refusal at a parser limit keeps the model's score: the
				// limit says nothing about the request's intent.
				t.Errorf("%s: blocked with score %d, above the threshold %d: %s", h.name, sc.Overall, cut, h.rep.Explanation())
			case !h.blocks && sc.Overall != m.Overall:
				t.Errorf("%s: not blocked, score %d where the model's is %d", h.name, sc.Overall, m.Overall)
			}
			score[i] = append(score[i], float64(100-sc.Overall))
			ml[i] = append(ml[i], float64(100-m.Overall))
			if i == 0 && !strings.Contains(h.name, "-other-") {
				score4, ml4 = append(score4, float64(100-sc.Overall)), append(ml4, float64(100-m.Overall))
			}
		})
	}
	auc, mlAUC := evaluate.AUC(score[0], score[1]), evaluate.AUC(ml[0], ml[1])
	auc4, mlAUC4 := evaluate.AUC(score4, score[1]), evaluate.AUC(ml4, ml[1])
	t.Logf("ROC AUC: score %.4f, the model's %.4f; on the four classes %.4f and %.4f", auc, mlAUC, auc4, mlAUC4)
	if auc < mlAUC || auc4 < mlAUC4 || auc4 < 0.97 {
		t.Errorf("ROC AUC of the score %.4f (four classes %.4f), the model's %.4f (%.4f): want at least the model's, and 0.97 (the issue's target) on the four classes",
			auc, auc4, mlAUC, mlAUC4)
	}
}
