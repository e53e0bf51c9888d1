package inspect

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/bulwark-waf/bulwark/model"
)

// Mode is how CRS and the model combine.
type Mode string

// The combination modes.
const (
	// ModeCRS: CRS alone decides; the model is still computed for scores.
	ModeCRS Mode = "crs"
	// ModeML: the model alone decides, at MLThreshold.
	ModeML Mode = "ml"
	// ModeAnd blocks only when CRS reaches its threshold and the model
	// agrees: the false-positive cut.
	ModeAnd Mode = "and"
	// ModeOr makes the model one more scoring rule worth ORPoints.
	ModeOr Mode = "or"
	// ModeGated is ModeOr with the model run only when its points could
	// change the outcome.
	ModeGated Mode = "gated"
	// ModeConfirm lets the model block on its own at MLThreshold, and keeps
	// CRS's blocks unless the model, having seen the whole request, is sure
	// it is clean (a score above ClearScore). It keeps CRS's verdict on
	// what the model does not model (protocol attacks, XXE, scanners) and
	// drops CRS's false positives on ordinary traffic.
	ModeConfirm Mode = "confirm"
)

// Modes lists the valid modes.
var Modes = []Mode{ModeCRS, ModeML, ModeAnd, ModeOr, ModeGated, ModeConfirm}

// DefaultClearScore is the model score above which confirm mode overrules a
// CRS block. Chosen on the leave-one-source-out runs (docs/MODEL.md): from
// 80 to 90 every held-out source has the same false positives and the same
// catch rate within 0.05 points; above 90 the false positives climb (1.2%
// to 6.6% on one source at 95) because the calibration's top step moves
// from one training run to the next.
const DefaultClearScore = 90

// ErrInvalid is wrapped by policy validation errors.
var ErrInvalid = errors.New("invalid policy")

// Policy is how one route is judged.
type Policy struct {
	Name string
	Mode Mode
	// MLThreshold: a model score at or below it is an attack (1..98).
	MLThreshold int
	// ORPoints are the anomaly points a model attack adds in or and gated.
	ORPoints int
	// ClearScore: in confirm mode a CRS block is overruled when the model
	// saw the whole request and scores it above ClearScore (0 means
	// DefaultClearScore), and every rule behind the block is of a class
	// the model covers.
	ClearScore int
	// ClearShapeless: in confirm mode such a block is also overruled when
	// every field the model scores at or below ClearScore has no attack
	// shape (model.Scores.Shaped above ClearScore): CRS matched, and what
	// the model distrusts is only novelty.
	ClearShapeless bool
	// Shadow computes and logs the model's opinion but never lets it act:
	// the decision is CRS's alone.
	Shadow bool
	// DetectionOnly never blocks; would-be blocks are logged.
	DetectionOnly bool
	// Response is how the route's responses are inspected.
	Response ResponsePolicy
	// Collect samples the route's traffic into the learning store.
	Collect bool
}

// UsesML reports whether the model takes part in decisions.
func (p Policy) UsesML() bool { return p.Mode != ModeCRS && !p.Shadow }

// Validate names the bad field.
func (p Policy) Validate() error {
	ok := false
	for _, m := range Modes {
		ok = ok || p.Mode == m
	}
	if !ok {
		return fmt.Errorf("%w: mode %q is not one of crs, ml, and, or, gated, confirm", ErrInvalid, p.Mode)
	}
	if p.MLThreshold < 1 || p.MLThreshold > 98 {
		return fmt.Errorf("%w: ml_threshold %d is outside 1..98", ErrInvalid, p.MLThreshold)
	}
	if p.ORPoints < 0 || p.ORPoints > 100 {
		return fmt.Errorf("%w: or_points %d is outside 0..100", ErrInvalid, p.ORPoints)
	}
	return p.Response.Validate()
}

func (p Policy) clearScore() int {
	if p.ClearScore == 0 {
		return DefaultClearScore
	}
	return p.ClearScore
}

// CRS is CRS's side of a request verdict.
type CRS struct {
	Score     int
	Threshold int
	Rules     []int
	// Unmodelled lists rules that count towards Score and belong to no
	// class the model covers (protocol enforcement and attacks, scanners,
	// session fixation, SSRF, your own rules): the model cannot judge
	// them, so no mode lets it overrule a block they are part of.
	Unmodelled []int
}

// Blocks reports whether CRS alone reaches its threshold.
func (c CRS) Blocks() bool { return c.Score >= c.Threshold }

// NeedsML reports whether the model can still change the outcome; gated
// mode calls the model only then. In or-mode arithmetic the model can only
// add points, so a request already over the threshold, or too far below it
// for ORPoints to reach, is decided without it.
func (p Policy) NeedsML(c CRS) bool {
	switch p.Mode {
	case ModeGated:
		return !c.Blocks() && c.Score+p.ORPoints >= c.Threshold
	case ModeCRS:
		return false
	}
	return true
}

// Decision is the combined outcome.
type Decision struct {
	// Block: the request should be blocked (before DetectionOnly).
	Block bool
	// Action is allow, flag, block or would_block (DetectionOnly or shadow
	// disagreement are reported, never enforced).
	Action Action
	// Override: CRS alone would have blocked and the model overruled it.
	Override bool
	// MLAttack: the model scored the request at or below the threshold.
	MLAttack bool
	// Score is the anomaly total used for or/gated.
	Score   int
	Explain string
}

// Decide combines CRS and the model under p. ml is nil when the model was
// not run (disabled, or gated out).
func Decide(p Policy, c CRS, ml *model.Scores) Decision {
	d := Decision{Score: c.Score}
	mlAttack := ml != nil && ml.Overall <= p.MLThreshold
	d.MLAttack = mlAttack
	mode := p.Mode
	if p.Shadow {
		mode = ModeCRS
	}
	switch mode {
	case ModeCRS:
		d.Block = c.Blocks()
	case ModeML:
		d.Block = mlAttack
	case ModeAnd:
		if ml != nil && !ml.Complete {
			// The model did not see the whole request (padding past its
			// field budget, a cancelled context): it must not overrule
			// CRS.
			d.Block = c.Blocks()
			break
		}
		if len(c.Unmodelled) > 0 {
			d.Block = c.Blocks()
			break
		}
		d.Block = c.Blocks() && mlAttack
		d.Override = c.Blocks() && ml != nil && !mlAttack
	case ModeConfirm:
		clear := p.clearScore()
		d.Block = mlAttack || c.Blocks()
		if !mlAttack && c.Blocks() && ml != nil && ml.Complete && len(c.Unmodelled) == 0 &&
			(ml.Overall > clear || p.ClearShapeless && ml.Shaped > clear) {
			d.Block, d.Override = false, true
		}
	case ModeOr, ModeGated:
		if mlAttack {
			d.Score += p.ORPoints
		}
		d.Block = d.Score >= c.Threshold
	}
	switch {
	case d.Block && p.DetectionOnly:
		d.Action = ActionWouldBlock
	case d.Block:
		d.Action = ActionBlock
	case d.Override, c.Score > 0, mlAttack, len(c.Rules) > 0:
		d.Action = ActionFlag
	default:
		d.Action = ActionAllow
	}
	d.Explain = explain(p, c, ml, d)
	return d
}

func explain(p Policy, c CRS, ml *model.Scores, d Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "mode=%s", p.Mode)
	if p.Shadow {
		b.WriteString("(shadow)")
	}
	crs := "pass"
	if c.Blocks() {
		crs = "block"
	}
	fmt.Fprintf(&b, " crs=%s(anomaly %d", crs, c.Score)
	if len(c.Rules) > 0 {
		ids := make([]string, 0, len(c.Rules))
		for _, id := range c.Rules {
			ids = append(ids, strconv.Itoa(id))
		}
		fmt.Fprintf(&b, ": %s", strings.Join(ids, ","))
	}
	b.WriteString(")")
	switch {
	case ml == nil:
		b.WriteString(" ml=skipped")
	default:
		verdict := "clean"
		if ml.Overall <= p.MLThreshold {
			verdict = "attack"
		}
		cls, score := worstClass(ml)
		fmt.Fprintf(&b, " ml=%s(%s %d", verdict, cls, score)
		if len(ml.Locations) > 0 {
			l := ml.Locations[0]
			fmt.Fprintf(&b, " in %s:%s", l.Part, l.Field)
		}
		b.WriteString(")")
	}
	if ml != nil && !ml.Complete {
		b.WriteString(" (model saw part of the request")
		if ml.Limit != "" {
			fmt.Fprintf(&b, ": %s", ml.Limit)
		}
		b.WriteString("; CRS decides)")
	}
	if c.Blocks() && len(c.Unmodelled) > 0 && (p.Mode == ModeAnd || p.Mode == ModeConfirm) {
		ids := make([]string, 0, len(c.Unmodelled))
		for _, id := range c.Unmodelled {
			ids = append(ids, strconv.Itoa(id))
		}
		fmt.Fprintf(&b, " (rules outside the model's classes: %s; CRS decides)", strings.Join(ids, ","))
	}
	fmt.Fprintf(&b, " → %s", d.Action)
	if d.Override {
		b.WriteString(" (ml override")
		if clear := p.clearScore(); p.Mode == ModeConfirm && ml != nil && ml.Overall <= clear {
			b.WriteString(": no attack shape")
		}
		b.WriteString(")")
	}
	if (p.Mode == ModeOr || p.Mode == ModeGated) && d.MLAttack && !p.Shadow {
		fmt.Fprintf(&b, " (anomaly %d+%d)", c.Score, p.ORPoints)
	}
	return b.String()
}

// worstClass is the class with the lowest score; ties go to the first in
// model.Classes order so explanations are stable.
func worstClass(s *model.Scores) (string, int) {
	best, score := "overall", s.Overall
	names := make([]string, 0, len(s.Class))
	for c := range s.Class {
		names = append(names, c)
	}
	sort.Strings(names)
	first := true
	for _, c := range names {
		if v := s.Class[c]; first || v < score {
			best, score, first = c, v, false
		}
	}
	return best, score
}
