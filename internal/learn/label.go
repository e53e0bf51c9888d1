package learn

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/bulwark-waf/bulwark/internal/collect"
	"github.com/bulwark-waf/bulwark/model"
)

// Label is what a request is taught as.
type Label string

const (
	// LabelBenign requests train the site model as the site's normal traffic.
	LabelBenign Label = "benign"
	// LabelAttack requests train it as attacks (their flagged field only).
	LabelAttack Label = "attack"
	// LabelSuspect requests carry some attack evidence, not enough to call
	// them attacks: they are kept out of training either way, so that a
	// lone high-paranoia match neither teaches the model that the site's
	// own traffic is an attack nor that a real attack is normal.
	LabelSuspect Label = "suspect"
)

// Reason says why a request got its label; `extproc learn label` counts them.
type Reason string

const (
	ReasonClean        Reason = "clean: no attack rule and the model under its threshold"
	ReasonProtocolOnly Reason = "clean: only protocol or policy rules matched (no attack rule)"
	ReasonCRSAndModel  Reason = "attack: CRS attack rules and the model agree"
	ReasonCRS          Reason = "attack: a CRS attack rule at paranoia 1, confirmed by more attack rules"
	ReasonCRSWeak      Reason = "suspect: CRS attack rules at paranoia 1-2 without confirmation, the model disagrees"
	ReasonCRSHigh      Reason = "suspect: CRS attack rules at paranoia 3-4 only, the model disagrees"
	ReasonModelOnly    Reason = "suspect: the model alone (no CRS attack rule)"
	ReasonNoField      Reason = "suspect: attack evidence, but no field to label (neither the model nor CRS located it)"
	ReasonFPRequest    Reason = "benign: operator feedback (false positive, by request id)"
	ReasonFPRule       Reason = "benign: operator feedback (false positive, by rule and field) discounted the evidence"
	ReasonMissedReq    Reason = "attack: operator feedback (missed attack, by request id)"
	ReasonMissedRule   Reason = "attack: operator feedback (rule and field marked as attack)"
	ReasonCommon       Reason = "benign: every flag is the site's normal (a rule or the model flags that field in most of the site's requests)"
)

// Evidence weights. A request is an attack at AttackScore or more when a
// paranoia-1 attack rule or the model is part of it, a suspect above 0.
// One PL1 rule (3) and the model (3): attack; a PL1 rule and a PL2 rule:
// attack; two PL2 rules and a PL3 rule (5, no PL1, no model): suspect.
const (
	weightPL1    = 3
	weightPL2    = 2
	weightPL3    = 1
	weightModel  = 3
	weightRuleFB = 5
	AttackScore  = 5
)

// Hit is one matched rule, with the field it matched when known (from a
// re-run through the inspection core; collected records carry ids only).
type Hit struct {
	ID       int    `json:"id"`
	Paranoia int    `json:"paranoia_level,omitempty"`
	Part     string `json:"part,omitempty"`
	Field    string `json:"field,omitempty"`
}

// Evidence is what the rules and the model said about one request.
type Evidence struct {
	Rules []Hit `json:"rules,omitempty"`
	// Rerun is true when the rules come from re-running the request at
	// paranoia 4 (detection only), not from the record.
	Rerun bool `json:"rerun,omitempty"`
	// Model is the current model's view (always re-scored: the record's
	// own model scores may come from an older model).
	Model *model.Scores `json:"model,omitempty"`
}

// Rerunner re-inspects a request with every CRS paranoia level running for
// detection and returns the matched rules with their fields.
type Rerunner interface {
	Rerun(ctx context.Context, r *model.Request) ([]Hit, error)
}

// RerunMode says when records are re-run through the rules.
type RerunMode string

const (
	// RerunAuto re-runs records that carry no evidence (Bulwark.Mode
	// empty: plain `extproc eval` files) and attack candidates whose field
	// the model did not locate.
	RerunAuto   RerunMode = "auto"
	RerunAlways RerunMode = "always"
	RerunNever  RerunMode = "never"
)

// Options configure a Labeler.
type Options struct {
	// Model is the current model (required).
	Model *model.Model
	// Threshold: a request whose overall score is <= it is flagged by the
	// model; 0 takes the model's default.
	Threshold int
	// Rerun may be nil with RerunNever.
	Rerun     Rerunner
	RerunMode RerunMode
	Feedback  *Feedbacks
}

// Labeler labels records; it is safe for concurrent use.
type Labeler struct {
	opts Options
}

// NewLabeler checks opts.
func NewLabeler(opts Options) (*Labeler, error) {
	if opts.Model == nil {
		return nil, fmt.Errorf("learn: a model is required")
	}
	if opts.Threshold == 0 {
		opts.Threshold = opts.Model.Info().DefaultThreshold
	}
	switch opts.RerunMode {
	case "":
		opts.RerunMode = RerunAuto
	case RerunAuto, RerunAlways, RerunNever:
	default:
		return nil, fmt.Errorf("learn: rerun %q is not auto, always or never", opts.RerunMode)
	}
	if opts.RerunMode != RerunNever && opts.Rerun == nil {
		return nil, fmt.Errorf("learn: rerun %q needs a rerunner", opts.RerunMode)
	}
	return &Labeler{opts: opts}, nil
}

// Labelled is one output line: the request in the format `extproc
// features` and `extproc eval` read (model.Record's keys), plus why.
type Labelled struct {
	ID          string            `json:"id"`
	Label       Label             `json:"label"`
	Category    string            `json:"category,omitempty"`
	Method      string            `json:"method"`
	URI         string            `json:"uri"`
	Headers     map[string]string `json:"headers"`
	Body        string            `json:"body"`
	AttackPart  string            `json:"attack_part,omitempty"`
	AttackField string            `json:"attack_field,omitempty"`
	Family      string            `json:"family,omitempty"`
	Time        time.Time         `json:"time"`
	Source      string            `json:"source,omitempty"`
	Reason      Reason            `json:"reason"`
	// Weight is the training weight the evidence earns (the trainer
	// multiplies it with its own per-class weights).
	Weight   float64  `json:"weight"`
	Score    int      `json:"evidence_score"`
	Evidence Evidence `json:"evidence"`
	Note     string   `json:"note,omitempty"`
	Redacted []string `json:"redacted,omitempty"`
}

// Label labels one collected record.
func (l *Labeler) Label(ctx context.Context, rec *collect.Record) (Labelled, error) {
	out := Labelled{ID: rec.ID, Method: rec.Method, URI: rec.URI, Headers: rec.Headers, Body: rec.Body,
		Time: rec.Time, Source: rec.Source, Family: "site", Redacted: rec.Redacted}
	req := (&model.Record{Method: rec.Method, URI: rec.URI, Headers: rec.Headers, Body: rec.Body}).Request()
	sc := l.opts.Model.Score(ctx, req)
	ev := Evidence{Model: &sc}
	noEvidence := rec.Bulwark.Mode == "" && len(rec.Bulwark.Rules) == 0 && rec.Bulwark.Model == nil
	rerun := func() error {
		hits, err := l.opts.Rerun.Rerun(ctx, req)
		if err != nil {
			return fmt.Errorf("learn: re-run %s: %w", rec.ID, err)
		}
		ev.Rules, ev.Rerun = hits, true
		return nil
	}
	switch {
	case l.opts.RerunMode == RerunAlways, l.opts.RerunMode == RerunAuto && noEvidence:
		if err := rerun(); err != nil {
			return out, err
		}
	default:
		for _, r := range rec.Bulwark.Rules {
			ev.Rules = append(ev.Rules, Hit{ID: r.ID, Paranoia: r.Paranoia})
		}
	}
	fields, _ := model.SplitFields(req)
	l.decide(&out, &ev, fields, nil)
	// A CRS-only attack needs the field CRS matched: re-run once to learn it.
	if out.Label == LabelSuspect && out.Reason == ReasonNoField && !ev.Rerun && l.opts.RerunMode == RerunAuto {
		if err := rerun(); err != nil {
			return out, err
		}
		l.decide(&out, &ev, fields, nil)
	}
	out.Evidence = ev
	return out, nil
}

// decide applies the evidence weights and the feedback.
func (l *Labeler) decide(out *Labelled, ev *Evidence, fields []model.Field, prof *Profile) {
	out.Category, out.AttackPart, out.AttackField, out.Note = "", "", "", ""
	if f, ok := l.opts.Feedback.request(out.ID); ok {
		out.Note = f.Note
		if f.Label == LabelBenign {
			out.Label, out.Reason, out.Weight, out.Score = LabelBenign, ReasonFPRequest, 1, 0
			return
		}
		out.Label, out.Reason, out.Weight, out.Score = LabelAttack, ReasonMissedReq, 2, AttackScore
		cls, part, field := l.locate(ev, f.Class, f.Field, fields)
		out.Category, out.AttackPart, out.AttackField = cls, part, field
		if field == "" && part != model.PartPath {
			out.Label, out.Reason = LabelSuspect, ReasonNoField
		}
		return
	}
	score, attackRules, strong, pl1, discounted, marked, common := 0, 0, 0, 0, false, false, false
	classVotes := map[string]int{}
	var markedHit *Hit
	seen := map[int]bool{}
	for i, h := range ev.Rules {
		if seen[h.ID] {
			continue
		}
		seen[h.ID] = true
		// A rule counts once, however many fields it matched (a re-run
		// gives one hit per field). Feedback marking any of its fields an
		// attack marks it; otherwise it is out when every field it matched
		// is cleared, by benign feedback or as the site's normal.
		var mark *Feedback
		cleared, byFeedback := true, false
		for j := i; j < len(ev.Rules); j++ {
			hj := ev.Rules[j]
			if hj.ID != h.ID {
				continue
			}
			fb, ok := l.opts.Feedback.rule(hj, fields)
			switch {
			case ok && fb.Label == LabelAttack:
				if mark == nil {
					mark, markedHit = &fb, &ev.Rules[j]
				}
			case ok:
				byFeedback = true
			case !prof.commonHit(hj):
				cleared = false
			}
		}
		if mark == nil && cleared && byFeedback {
			discounted = true
			for j := i; j < len(ev.Rules); j++ {
				if fb, ok := l.opts.Feedback.rule(ev.Rules[j], fields); ok && ev.Rules[j].ID == h.ID {
					out.Note = fb.Note
					break
				}
			}
			continue
		}
		if mark == nil && cleared {
			common = true
			continue
		}
		if mark != nil {
			score += weightRuleFB
			marked = true
			out.Note = mark.Note
		}
		cls, isAttack := RuleClass(h.ID)
		if !isAttack {
			continue
		}
		attackRules++
		if cls != "" {
			classVotes[cls]++
		}
		switch {
		case h.Paranoia <= 1:
			score += weightPL1
			strong++
			pl1++
		case h.Paranoia == 2:
			score += weightPL2
			strong++
		default:
			score += weightPL3
		}
	}
	modelFlag := ev.Model != nil && ev.Model.Overall <= l.opts.Threshold
	if modelFlag && prof != nil && !marked {
		// The model's flag counts only if one of its flagged fields is not
		// the site's normal for that field.
		own := false
		for _, loc := range ev.Model.Locations {
			if loc.Score <= l.opts.Threshold && !prof.commonModel(loc) {
				own = true
			}
		}
		if !own && len(ev.Model.Locations) > 0 {
			modelFlag, common = false, true
		}
	}
	if modelFlag {
		score += weightModel
	}
	out.Score = score
	switch {
	case score == 0 && discounted:
		out.Label, out.Reason = LabelBenign, ReasonFPRule
	case score == 0 && common:
		out.Label, out.Reason = LabelBenign, ReasonCommon
	case score == 0 && len(ev.Rules) > 0:
		out.Label, out.Reason = LabelBenign, ReasonProtocolOnly
	case score == 0:
		out.Label, out.Reason = LabelBenign, ReasonClean
	case marked:
		out.Label, out.Reason = LabelAttack, ReasonMissedRule
	case score >= AttackScore && modelFlag && attackRules > 0:
		out.Label, out.Reason = LabelAttack, ReasonCRSAndModel
	case score >= AttackScore && !modelFlag && pl1 > 0:
		// CRS alone: its default paranoia must be part of it; noisy
		// paranoia 2-4 rules only confirm.
		out.Label, out.Reason = LabelAttack, ReasonCRS
	case attackRules == 0:
		out.Label, out.Reason = LabelSuspect, ReasonModelOnly
	case strong > 0:
		out.Label, out.Reason = LabelSuspect, ReasonCRSWeak
	default:
		out.Label, out.Reason = LabelSuspect, ReasonCRSHigh
	}
	out.Weight = 0
	switch out.Label {
	case LabelBenign:
		out.Weight = 1
	case LabelAttack:
		// More agreeing evidence, more weight: 1 at the attack score, 2 at most.
		out.Weight = min(2, float64(score)/AttackScore)
		want, fieldHint := "", ""
		if markedHit != nil {
			want, _ = RuleClass(markedHit.ID)
			if markedHit.Field != "" {
				fieldHint = markedHit.Part + ":" + markedHit.Field
			}
		} else if !modelFlag {
			want = topClass(classVotes)
		}
		cls, part, field := l.locate(ev, want, fieldHint, fields)
		out.Category, out.AttackPart, out.AttackField = cls, part, field
		if cls == "" || (field == "" && part != model.PartPath) {
			out.Label, out.Reason, out.Weight = LabelSuspect, ReasonNoField, 0
			out.Category, out.AttackPart, out.AttackField = "", "", ""
		}
	}
}

// locate picks the attack's class and field: the model's most suspicious
// location (of class want, when given), else the field the CRS attack rule
// of that class matched, when a re-run told it.
func (l *Labeler) locate(ev *Evidence, want, fieldHint string, fields []model.Field) (cls, part, field string) {
	if fieldHint != "" {
		ref, _ := parseFieldRef(fieldHint)
		for _, f := range fields {
			if ref.Matches(f.Part, f.Name) {
				part, field = f.Part, topName(f.Name)
				break
			}
		}
	}
	if ev.Model != nil && field == "" {
		for _, loc := range ev.Model.Locations { // sorted, most suspicious first
			if want == "" || loc.Class == want {
				cls, part, field = loc.Class, loc.Part, topName(loc.Field)
				break
			}
		}
	}
	if field == "" {
		for _, h := range ev.Rules {
			c, ok := RuleClass(h.ID)
			if !ok || c == "" || (want != "" && c != want) || h.Part == "" {
				continue
			}
			cls, part, field = c, h.Part, topName(h.Field)
			break
		}
	}
	if cls == "" {
		cls = want
	}
	if cls == "" && ev.Model != nil {
		cls = worstClass(ev.Model)
	}
	return cls, part, field
}

// topName is the top-level field a nested one was parsed out of: what the
// feature writer matches a labelled attack field against.
func topName(name string) string {
	if i := strings.IndexAny(name, ".?["); i > 0 {
		return name[:i]
	}
	return name
}

func worstClass(s *model.Scores) string {
	best, bs := "", 100
	for _, c := range model.Classes {
		if v, ok := s.Class[c]; ok && v < bs {
			best, bs = c, v
		}
	}
	return best
}

func topClass(votes map[string]int) string {
	keys := make([]string, 0, len(votes))
	for k := range votes {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if votes[keys[i]] != votes[keys[j]] {
			return votes[keys[i]] > votes[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// RuleClass maps a CRS rule id to the model class it is evidence for. The
// second result is false for rules that are not attack detection
// (protocol enforcement, scanners, policy, bookkeeping): those never make
// a request an attack candidate. Attack rules without a model class
// (session fixation, generic) return "" and true.
func RuleClass(id int) (string, bool) {
	switch id / 1000 {
	case 942:
		return "sqli", true
	case 941:
		return "xss", true
	case 932, 933, 944:
		return "rce", true
	case 930, 931:
		return "traversal", true
	case 934, 943:
		return "", true
	}
	return "", false
}

func (fb *Feedbacks) request(id string) (Feedback, bool) {
	if fb == nil {
		return Feedback{}, false
	}
	f, ok := fb.byID[id]
	return f, ok
}

// rule finds the feedback entry for a rule hit: when the hit knows its
// field, the entry's field must be it; otherwise the entry applies when
// the request has that field at all (collected records keep rule ids, not
// the variables they matched).
func (fb *Feedbacks) rule(h Hit, fields []model.Field) (Feedback, bool) {
	if fb == nil {
		return Feedback{}, false
	}
	for _, e := range fb.byRule[h.ID] {
		if h.Field != "" || h.Part != "" {
			if e.ref.Matches(h.Part, h.Field) {
				return e.Feedback, true
			}
			continue
		}
		for _, f := range fields {
			if e.ref.Matches(f.Part, f.Name) {
				return e.Feedback, true
			}
		}
	}
	return Feedback{}, false
}

// VariableField maps a Coraza variable ("ARGS_GET:id",
// "REQUEST_HEADERS:User-Agent", "REQUEST_COOKIES:sid", "REQUEST_FILENAME")
// to the model's part and field name. ARGS is the query or the body,
// whichever carries the name.
func VariableField(variable, rawQuery string) (part, field string) {
	coll, name, _ := strings.Cut(variable, ":")
	switch coll {
	case "ARGS_GET", "ARGS_GET_NAMES":
		return model.PartQuery, name
	case "ARGS_POST", "ARGS_POST_NAMES", "REQUEST_BODY", "XML", "JSON":
		return model.PartBody, name
	case "ARGS", "ARGS_NAMES":
		if q, err := url.ParseQuery(rawQuery); err == nil {
			if _, ok := q[name]; ok {
				return model.PartQuery, name
			}
		}
		return model.PartBody, name
	case "REQUEST_HEADERS", "REQUEST_HEADERS_NAMES":
		return model.PartHeader, strings.ToLower(name)
	case "REQUEST_COOKIES", "REQUEST_COOKIES_NAMES":
		return model.PartCookie, name
	case "REQUEST_FILENAME", "REQUEST_URI", "REQUEST_URI_RAW", "REQUEST_BASENAME", "REQUEST_LINE", "REQUEST_PATH":
		return model.PartPath, ""
	}
	return "", ""
}

// Threshold is the model threshold in use.
func (l *Labeler) Threshold() int { return l.opts.Threshold }
