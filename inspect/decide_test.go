package inspect

import (
	"strings"
	"testing"
	"time"

	"github.com/bulwark-waf/bulwark/model"
)

func scores(overall int) *model.Scores {
	return &model.Scores{Overall: overall, Complete: true, Class: map[string]int{"sqli": overall, "xss": 99, "rce": 99, "traversal": 99},
		Locations: []model.Location{{Class: "sqli", Part: "query", Field: "id", Score: overall}}}
}

// The decision table of every mode: CRS below or at its threshold, the model
// attack, clean or not run.
func TestDecideTable(t *testing.T) {
	t.Parallel()
	crsBlock := CRS{Score: 10, Threshold: 5, Rules: []int{942100, 942190}}
	crsNear := CRS{Score: 3, Threshold: 5, Rules: []int{920350}}
	crsClean := CRS{Score: 0, Threshold: 5}
	attack, clean := scores(8), scores(87)
	tests := []struct {
		mode     Mode
		crs      CRS
		ml       *model.Scores
		block    bool
		action   Action
		override bool
	}{
		{ModeCRS, crsBlock, clean, true, "block", false},
		{ModeCRS, crsClean, attack, false, "flag", false},
		{ModeCRS, crsClean, clean, false, "allow", false},
		{ModeML, crsBlock, clean, false, "flag", false},
		{ModeML, crsClean, attack, true, "block", false},
		{ModeAnd, crsBlock, attack, true, "block", false},
		{ModeAnd, crsBlock, clean, false, "flag", true},
		{ModeAnd, crsClean, attack, false, "flag", false},
		{ModeAnd, crsBlock, nil, false, "flag", false},
		{ModeAnd, CRS{Score: 5, Threshold: 5, Rules: []int{920350}, Unmodelled: []int{920350}}, clean, true, "block", false},
		{ModeOr, crsBlock, clean, true, "block", false},
		{ModeOr, crsClean, attack, true, "block", false},
		{ModeOr, crsNear, clean, false, "flag", false},
		{ModeOr, crsClean, clean, false, "allow", false},
		{ModeGated, crsBlock, nil, true, "block", false},
		{ModeGated, crsNear, attack, true, "block", false},
		{ModeGated, crsClean, nil, false, "allow", false},
	}
	for _, tt := range tests {
		p := Policy{Mode: tt.mode, MLThreshold: 20, ORPoints: 5}
		d := Decide(p, tt.crs, tt.ml)
		if d.Block != tt.block || d.Action != tt.action || d.Override != tt.override {
			t.Errorf("%s crs=%d ml=%v: got block=%v action=%s override=%v (%s)", tt.mode, tt.crs.Score, tt.ml != nil, d.Block, d.Action, d.Override, d.Explain)
		}
		// DetectionOnly and shadow never change what is computed, only what is enforced.
		p.DetectionOnly = true
		if dd := Decide(p, tt.crs, tt.ml); dd.Block != tt.block || (tt.block && dd.Action != ActionWouldBlock) {
			t.Errorf("%s DetectionOnly: %+v", tt.mode, dd)
		}
	}
}

func TestShadowLetsCRSDecide(t *testing.T) {
	t.Parallel()
	p := Policy{Mode: ModeAnd, MLThreshold: 20, ORPoints: 5, Shadow: true}
	d := Decide(p, CRS{Score: 10, Threshold: 5}, scores(90))
	if !d.Block || d.Override {
		t.Fatalf("shadow and-mode must leave CRS's block alone: %+v", d)
	}
	d = Decide(Policy{Mode: ModeOr, MLThreshold: 20, ORPoints: 5, Shadow: true}, CRS{Threshold: 5}, scores(3))
	if d.Block || d.Action != "flag" {
		t.Fatalf("shadow or-mode must not block on the model: %+v", d)
	}
}

func TestNeedsML(t *testing.T) {
	t.Parallel()
	p := Policy{Mode: ModeGated, MLThreshold: 20, ORPoints: 3}
	for score, want := range map[int]bool{0: false, 1: false, 2: true, 4: true, 5: false, 12: false} {
		if got := p.NeedsML(CRS{Score: score, Threshold: 5}); got != want {
			t.Errorf("gated, points 3, CRS %d: NeedsML=%v want %v", score, got, want)
		}
	}
	if (Policy{Mode: ModeCRS}).NeedsML(CRS{Threshold: 5}) || !(Policy{Mode: ModeOr}).NeedsML(CRS{Score: 9, Threshold: 5}) {
		t.Error("crs never needs the model; or always does")
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	d := Decide(Policy{Mode: ModeAnd, MLThreshold: 20}, CRS{Score: 10, Threshold: 5, Rules: []int{942100, 942190}}, scores(87))
	want := "mode=and crs=block(anomaly 10: 942100,942190) ml=clean(sqli 87 in query:id) → flag (ml override)"
	if d.Explain != want {
		t.Fatalf("explain\n got %q\nwant %q", d.Explain, want)
	}
	d = Decide(Policy{Mode: ModeGated, MLThreshold: 20, ORPoints: 5}, CRS{Score: 0, Threshold: 5}, nil)
	if !strings.Contains(d.Explain, "ml=skipped") {
		t.Fatalf("gated without the model: %q", d.Explain)
	}
}

func TestPolicyValidate(t *testing.T) {
	t.Parallel()
	for _, p := range []Policy{{Mode: "xor", MLThreshold: 20}, {Mode: ModeOr, MLThreshold: 0}, {Mode: ModeOr, MLThreshold: 20, ORPoints: -1}} {
		if p.Validate() == nil {
			t.Errorf("%+v validated", p)
		}
	}
}

func TestSelect(t *testing.T) {
	t.Parallel()
	api := Policy{Name: "api", Mode: ModeAnd, MLThreshold: 20}
	admin := Policy{Name: "admin", Mode: ModeCRS, MLThreshold: 20}
	search := Policy{Name: "search", Mode: ModeML, MLThreshold: 20}
	s := &Set{Default: Policy{Name: "default", Mode: ModeOr, MLThreshold: 20}, Routes: []Route{
		{Policy: api, RouteName: "api-route"},
		{Policy: admin, Host: "admin.example.com"},
		{Policy: search, PathPrefix: "/search"},
	}}
	tests := []struct {
		key  Key
		want string
	}{
		{Key{RouteName: "api-route", Host: "admin.example.com"}, "api"},
		{Key{Policy: "search", RouteName: "api-route"}, "search"},
		{Key{Host: "Admin.Example.com:443", Path: "/search"}, "admin"},
		{Key{Host: "shop.example", Path: "/search/items"}, "search"},
		{Key{Host: "shop.example", Path: "/cart"}, "default"},
		{Key{Policy: "nope", RouteName: "other"}, "default"},
	}
	for _, tt := range tests {
		if got := s.Select(tt.key).Name; got != tt.want {
			t.Errorf("Select(%+v) = %s, want %s", tt.key, got, tt.want)
		}
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Routes = append(s.Routes, Route{Policy: api, PathPrefix: "/x"})
	if s.Validate() == nil {
		t.Fatal("duplicate policy name validated")
	}
}

func TestMemoryIsBoundedAndForgets(t *testing.T) {
	t.Parallel()
	m := NewMemory(3, time.Minute)
	now := time.Unix(1000, 0)
	m.now = func() time.Time { return now }
	m.Record("a", false)
	if m.Len() != 0 {
		t.Fatal("clean clients must not take memory")
	}
	for i := 0; i < 3; i++ {
		m.Record("a", true)
	}
	if got := m.Attacks("a"); got != 3 {
		t.Fatalf("attacks = %d", got)
	}
	for _, k := range []string{"b", "c", "d"} {
		m.Record(k, true)
	}
	if m.Len() != 3 || m.Attacks("a") != 0 {
		t.Fatalf("LRU bound not enforced: len %d, a=%d", m.Len(), m.Attacks("a"))
	}
	now = now.Add(2 * time.Minute)
	if m.Attacks("d") != 0 {
		t.Fatal("attacks outside the window still count")
	}
	for i := 0; i < 100; i++ {
		m.Record("e", true)
	}
	if got := m.Attacks("e"); got != maxAttacksKept {
		t.Fatalf("per-client history unbounded: %d", got)
	}
	var nilMem *Memory
	nilMem.Record("x", true)
	if nilMem.Attacks("x") != 0 {
		t.Fatal("nil memory")
	}
}

// When the model did not see the whole request it cannot overrule CRS in
// and mode, and the explanation says so.
func TestIncompleteModelNeverOverrules(t *testing.T) {
	t.Parallel()
	partial := scores(87)
	partial.Complete, partial.Limit = false, "fields past the budget"
	d := Decide(Policy{Mode: ModeAnd, MLThreshold: 20}, CRS{Score: 10, Threshold: 5}, partial)
	if !d.Block || d.Override || !strings.Contains(d.Explain, "CRS decides") {
		t.Fatalf("%+v", d)
	}
}

// confirm: the model blocks alone; CRS's blocks stand unless the model saw
// the whole request and is sure it is clean.
func TestConfirmMode(t *testing.T) {
	t.Parallel()
	p := Policy{Mode: ModeConfirm, MLThreshold: 25, ClearShapeless: true}
	crsBlock, crsClean := CRS{Score: 10, Threshold: 5}, CRS{Score: 0, Threshold: 5}
	scanner := CRS{Score: 5, Threshold: 5, Rules: []int{913100}, Unmodelled: []int{913100}}
	partial := scores(99)
	partial.Complete = false
	shapeless := scores(60) // the low field has no attack shape; the shaped ones score 97
	shapeless.Shaped = 97
	shapelessPartial := scores(60)
	shapelessPartial.Shaped, shapelessPartial.Complete = 97, false
	shapedLow := scores(60) // a field with an attack shape scores 60
	shapedLow.Shaped = 60
	tests := []struct {
		name     string
		p        Policy
		crs      CRS
		ml       *model.Scores
		block    bool
		override bool
	}{
		{"model attack, CRS clean", p, crsClean, scores(10), true, false},
		{"CRS block, model sure it is clean", p, crsBlock, scores(97), false, true},
		{"CRS block, model clean at the default clear score", p, crsBlock, scores(DefaultClearScore + 1), false, true},
		{"CRS block, model at the clear score", p, crsBlock, scores(DefaultClearScore), true, false},
		{"CRS block, model unsure", p, crsBlock, scores(80), true, false},
		{"CRS block, model unsure but no attack shape", p, crsBlock, shapeless, false, true},
		{"CRS block, model unsure of a field with an attack shape", p, crsBlock, shapedLow, true, false},
		{"CRS block, no attack shape, shapeless clearing off", Policy{Mode: ModeConfirm, MLThreshold: 25}, crsBlock, shapeless, true, false},
		{"CRS block, no attack shape, model saw part", p, crsBlock, shapelessPartial, true, false},
		{"CRS block, model saw part", p, crsBlock, partial, true, false},
		{"CRS block, model not run", p, crsBlock, nil, true, false},
		{"scanner rule: outside the model's classes", p, scanner, scores(99), true, false},
		{"scanner rule, no attack shape", p, scanner, shapeless, true, false},
		{"both clean", p, crsClean, scores(99), false, false},
	}
	for _, tt := range tests {
		d := Decide(tt.p, tt.crs, tt.ml)
		if d.Block != tt.block || d.Override != tt.override {
			t.Errorf("%s: block=%v override=%v (%s)", tt.name, d.Block, d.Override, d.Explain)
		}
	}
}
