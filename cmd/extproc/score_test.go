package main

import (
	"testing"

	"github.com/bulwark-waf/bulwark/model/evaluate"
)

// TestHandWrittenScoreRanks checks the request score (inspect.Score) on
// the hand-written benign and attack requests through the shipped
// defaults: every blocked request scores at or below the model threshold,
// every other one keeps the model's score, and the score ranks attacks
// above benign requests at least as well as the model's own (ROC AUC
// 0.982 against 0.973 when this was written).
func TestHandWrittenScoreRanks(t *testing.T) {
	t.Parallel()
	var score, ml [2][]float64 // [attack, benign] suspicion: 100 - score
	for i, set := range []string{"attack-requests", "benign-requests"} {
		eachHandWritten(t, set, 390, func(h handWritten) {
			sc, m := h.rep.Score, h.rep.ML
			if sc == nil || m == nil {
				t.Errorf("%s: no score (%v) or no model scores (%v)", h.name, sc, m)
				return
			}
			cut := h.rep.Plan.Policy.MLThreshold
			switch {
			case h.blocks && sc.Overall > cut:
				t.Errorf("%s: blocked with score %d, above the threshold %d: %s", h.name, sc.Overall, cut, h.rep.Explanation())
			case !h.blocks && sc.Overall != m.Overall:
				t.Errorf("%s: not blocked, score %d where the model's is %d", h.name, sc.Overall, m.Overall)
			}
			score[i] = append(score[i], float64(100-sc.Overall))
			ml[i] = append(ml[i], float64(100-m.Overall))
		})
	}
	auc, mlAUC := evaluate.AUC(score[0], score[1]), evaluate.AUC(ml[0], ml[1])
	t.Logf("ROC AUC: score %.4f, the model's %.4f", auc, mlAUC)
	if auc < mlAUC || auc < 0.98 {
		t.Errorf("ROC AUC of the score %.4f, the model's %.4f: want at least the model's and 0.98", auc, mlAUC)
	}
}
