package learn

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwark-waf/bulwark/internal/collect"
	"github.com/bulwark-waf/bulwark/model"
)

func TestReadFeedbackFormats(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"feedback.yaml", "feedback.jsonl"} {
		fb, err := ReadFeedback(filepath.Join("testdata", name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fb.Len() != 3 {
			t.Errorf("%s: %d entries, want 3", name, fb.Len())
		}
		if f, ok := fb.request("req-missed"); !ok || f.Label != LabelAttack || f.Class != "xss" {
			t.Errorf("%s: req-missed = %+v, %v", name, f, ok)
		}
		if got := fb.byRule[942100]; len(got) != 1 || got[0].ref != (FieldRef{Part: "query", Name: "q"}) {
			t.Errorf("%s: rule entry %+v", name, got)
		}
	}
}

func TestFeedbackErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body, want string
	}{
		{"bad.jsonl", `{"request_id": "a", "label": "maybe"}`, "not benign or attack"},
		{"bad.jsonl", `{"rule_id": 942100, "label": "benign"}`, "needs a field"},
		{"bad.jsonl", `{"request_id": "a", "rule_id": 1, "field": "q", "label": "benign"}`, "not both"},
		{"bad.jsonl", `{"label": "benign"}`, "needs request_id"},
		{"bad.jsonl", `{"request_id": "a", "label": "attack", "class": "dos"}`, "class"},
		{"bad.jsonl", `{"request_id": "a", "label": "benign", "colour": "red"}`, "unknown field"},
		{"bad.jsonl", "{\"request_id\": \"a\", \"label\": \"benign\"}\n{\"request_id\": \"a\", \"label\": \"attack\"}", "two entries"},
		{"bad.jsonl", `not json`, "line 1"},
		{"bad.yaml", "- request_id: a\n  lable: benign\n", "lable"},
	}
	for _, c := range cases {
		p := filepath.Join(t.TempDir(), c.name)
		if err := os.WriteFile(p, []byte(c.body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := ReadFeedback(p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err %v, want it to mention %q", c.body, err, c.want)
		}
	}
}

func TestVariableField(t *testing.T) {
	t.Parallel()
	cases := []struct {
		data, query, part, field string
	}{
		{"Matched Data: union select found within ARGS:id: 1 union select 1", "id=1", "query", "id"},
		{"Matched Data: <script> found within ARGS:comment: <script>", "x=1", "body", "comment"},
		{"Matched Data: x found within ARGS_GET:q: x", "", "query", "q"},
		{"Matched Data: ../ found within REQUEST_FILENAME: /a/../b", "", "path", ""},
		{"Matched Data: sqlmap found within REQUEST_HEADERS:User-Agent: sqlmap/1.0", "", "header", "user-agent"},
		{"Matched Data: ' found within REQUEST_COOKIES:sid: 1'", "", "cookie", "sid"},
		{"no marker", "", "", ""},
	}
	for _, c := range cases {
		part, field := VariableField(matchedVariable(c.data), c.query)
		if part != c.part || field != c.field {
			t.Errorf("%q: %q %q, want %q %q", c.data, part, field, c.part, c.field)
		}
	}
}

// TestDecide covers the evidence weights and the feedback without a model
// or rules: evidence is given directly.
func TestDecide(t *testing.T) {
	t.Parallel()
	fb, err := ReadFeedback(filepath.Join("testdata", "feedback.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	l := &Labeler{opts: Options{Threshold: 20, Feedback: fb}}
	req := (&model.Record{Method: "GET", URI: "/search?q=select+1&id=7&msg=hi", Headers: map[string]string{"host": "a"}}).Request()
	fields, _ := model.SplitFields(req)
	clean := &model.Scores{Overall: 95, Class: map[string]int{"sqli": 95, "xss": 97, "rce": 98, "traversal": 99}, Complete: true}
	sqli := &model.Scores{Overall: 4, Class: map[string]int{"sqli": 4, "xss": 90, "rce": 90, "traversal": 90},
		Locations: []model.Location{{Class: "sqli", Part: "query", Field: "id", Score: 4}}, Complete: true}
	cases := []struct {
		name               string
		id                 string
		ev                 Evidence
		label              Label
		reason             Reason
		class, part, field string
	}{
		{"nothing", "r1", Evidence{Model: clean}, LabelBenign, ReasonClean, "", "", ""},
		{"protocol rule only", "r2", Evidence{Model: clean, Rules: []Hit{{ID: 920350, Paranoia: 1}}}, LabelBenign, ReasonProtocolOnly, "", "", ""},
		{"crs and model", "r3", Evidence{Model: sqli, Rules: []Hit{{ID: 942100, Paranoia: 1, Part: "query", Field: "id"}}}, LabelAttack, ReasonCRSAndModel, "sqli", "query", "id"},
		{"two PL1 rules, field from CRS", "r4", Evidence{Model: clean, Rules: []Hit{{ID: 941100, Paranoia: 1, Part: "query", Field: "msg"}, {ID: 941160, Paranoia: 1, Part: "query", Field: "msg"}}}, LabelAttack, ReasonCRS, "xss", "query", "msg"},
		{"two PL1 rules, no field known", "r5", Evidence{Model: clean, Rules: []Hit{{ID: 941100, Paranoia: 1}, {ID: 941160, Paranoia: 1}}}, LabelSuspect, ReasonNoField, "", "", ""},
		{"one PL1 rule alone", "r6", Evidence{Model: clean, Rules: []Hit{{ID: 932100, Paranoia: 1}}}, LabelSuspect, ReasonCRSWeak, "", "", ""},
		{"PL4 rules alone", "r7", Evidence{Model: clean, Rules: []Hit{{ID: 942432, Paranoia: 4}, {ID: 942460, Paranoia: 3}}}, LabelSuspect, ReasonCRSHigh, "", "", ""},
		{"paranoia 2-4 only, five points", "r11", Evidence{Model: clean, Rules: []Hit{{ID: 942430, Paranoia: 2, Part: "query", Field: "q"}, {ID: 942200, Paranoia: 2, Part: "query", Field: "q"}, {ID: 942431, Paranoia: 3, Part: "query", Field: "q"}}}, LabelSuspect, ReasonCRSWeak, "", "", ""},
		{"PL1 confirmed by PL2", "r12", Evidence{Model: clean, Rules: []Hit{{ID: 942190, Paranoia: 1, Part: "query", Field: "id"}, {ID: 942430, Paranoia: 2, Part: "query", Field: "id"}}}, LabelAttack, ReasonCRS, "sqli", "query", "id"},
		{"model alone", "r8", Evidence{Model: sqli}, LabelSuspect, ReasonModelOnly, "", "", ""},
		{"operator: false positive by id", "req-fp", Evidence{Model: sqli, Rules: []Hit{{ID: 942100, Paranoia: 1}}}, LabelBenign, ReasonFPRequest, "", "", ""},
		{"operator: rule on field discounted", "r9", Evidence{Model: clean, Rules: []Hit{{ID: 942100, Paranoia: 1, Part: "query", Field: "q"}}}, LabelBenign, ReasonFPRule, "", "", ""},
		{"operator: rule on another field stays", "r10", Evidence{Model: sqli, Rules: []Hit{{ID: 942100, Paranoia: 1, Part: "query", Field: "id"}}}, LabelAttack, ReasonCRSAndModel, "sqli", "query", "id"},
		{"operator: missed attack", "req-missed", Evidence{Model: clean}, LabelAttack, ReasonMissedReq, "xss", "query", "msg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := Labelled{ID: c.id}
			ev := c.ev
			l.decide(&out, &ev, fields, nil)
			if out.Label != c.label || out.Reason != c.reason {
				t.Fatalf("label %s (%s), want %s (%s)", out.Label, out.Reason, c.label, c.reason)
			}
			if out.Category != c.class || out.AttackPart != c.part || out.AttackField != c.field {
				t.Errorf("class/part/field %q %q %q, want %q %q %q", out.Category, out.AttackPart, out.AttackField, c.class, c.part, c.field)
			}
			if (out.Label == LabelSuspect) != (out.Weight == 0) {
				t.Errorf("weight %v for a %s", out.Weight, out.Label)
			}
		})
	}
}

func TestInputsAndRecords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lines := `{"id":"a","time":"2026-11-01T10:00:00Z","method":"GET","uri":"/","headers":{"host":"x"},"body":"","bulwark":{"mode":"or","decision":"allow","anomaly_score":0}}
{"method":"GET","uri":"/b","headers":{},"body":""}
`
	if err := os.WriteFile(filepath.Join(dir, "samples-1.jsonl"), []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".hash-key"), []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	files, err := Inputs([]string{dir})
	if err != nil || len(files) != 1 {
		t.Fatalf("Inputs: %v %v", files, err)
	}
	var ids []string
	if err := ReadRecords(context.Background(), files, func(r *collect.Record) error { ids = append(ids, r.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids, " ") != "a samples-1.jsonl:2" {
		t.Errorf("ids %v", ids)
	}
	if err := os.WriteFile(filepath.Join(dir, "samples-2.jsonl"), []byte("{broken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	files, _ = Inputs([]string{dir})
	if err := ReadRecords(context.Background(), files, func(*collect.Record) error { return nil }); err == nil || !strings.Contains(err.Error(), "samples-2.jsonl line 1") {
		t.Errorf("broken line: %v", err)
	}
	if _, err := Inputs([]string{t.TempDir()}); err == nil {
		t.Error("an empty directory is not an error")
	}
}

// TestProfile: a flag on most requests carrying a field is the site's
// normal; the same rule on a field it rarely fires on stays an attack.
func TestProfile(t *testing.T) {
	t.Parallel()
	l := &Labeler{opts: Options{Threshold: 20}}
	consent := &model.Scores{Overall: 2, Class: map[string]int{"sqli": 2}, Locations: []model.Location{{Class: "sqli", Part: "query", Field: "us_privacy", Score: 2}}}
	var recs []Labelled
	for i := range 12 {
		recs = append(recs, Labelled{ID: fmt.Sprintf("c%d", i), Method: "GET", URI: fmt.Sprintf("/ad?us_privacy=1---&id=%d", i),
			Evidence: Evidence{Model: consent, Rules: []Hit{{ID: 942100, Paranoia: 1, Part: "query", Field: "us_privacy"}}}})
	}
	attack := &model.Scores{Overall: 1, Class: map[string]int{"sqli": 1}, Locations: []model.Location{{Class: "sqli", Part: "query", Field: "id", Score: 1}}}
	recs = append(recs, Labelled{ID: "atk", Method: "GET", URI: "/ad?us_privacy=1---&id=1%27+union+select+1--",
		Evidence: Evidence{Model: attack, Rules: []Hit{{ID: 942100, Paranoia: 1, Part: "query", Field: "id"}, {ID: 942100, Paranoia: 1, Part: "query", Field: "us_privacy"}}}})
	prof := NewProfile(10, 0.5)
	for i := range recs {
		prof.Add(&recs[i])
	}
	for i := range recs {
		l.Relabel(&recs[i], prof)
	}
	for _, r := range recs[:12] {
		if r.Label != LabelBenign || r.Reason != ReasonCommon {
			t.Fatalf("%s: %s (%s), want the site's normal", r.ID, r.Label, r.Reason)
		}
	}
	if a := recs[12]; a.Label != LabelAttack || a.AttackField != "id" {
		t.Errorf("attack: %s %q (%s)", a.Label, a.AttackField, a.Reason)
	}
	var b strings.Builder
	prof.WriteCommon(&b, 10)
	if !strings.Contains(b.String(), "rule 942100 on query:us_privacy in 13 of 13 requests") {
		t.Errorf("common flags:\n%s", b.String())
	}
	// Below MinRequests nothing is common.
	small := NewProfile(20, 0.5)
	for i := range recs {
		small.Add(&recs[i])
	}
	if len(small.Common()) != 0 {
		t.Errorf("common below the minimum: %v", small.Common())
	}
}
