package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwark-waf/bulwark/internal/learn"
)

// TestLearnLabel labels a small sample file through the real rules (re-run
// at paranoia 4, detection only) and the shipped model, with feedback.
func TestLearnLabel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	samples := strings.Join([]string{
		`{"id":"clean","time":"2026-11-01T10:00:00Z","method":"GET","uri":"/products?item=42&sort=price","headers":{"host":"shop.example","user-agent":"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0","accept":"text/html"},"body":""}`,
		`{"id":"sqli","time":"2026-11-01T10:00:01Z","method":"GET","uri":"/products?id=1%27%20UNION%20SELECT%20username%2C%20password%20FROM%20users--","headers":{"host":"shop.example","user-agent":"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0","accept":"text/html"},"body":""}`,
		`{"id":"reviewed","time":"2026-11-01T10:00:02Z","method":"GET","uri":"/products?id=1%27%20UNION%20SELECT%20username%2C%20password%20FROM%20users--","headers":{"host":"shop.example","accept":"text/html"},"body":""}`,
		`{"id":"xss","time":"2026-11-01T10:00:03Z","method":"POST","uri":"/comment","headers":{"host":"shop.example","content-type":"application/x-www-form-urlencoded"},"body":"text=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E&id=3"}`,
		`{"id":"both","time":"2026-11-01T10:00:04Z","method":"GET","uri":"/search?zz=%3Cscript%3Ealert(2)%3C%2Fscript%3E&aa=%3Cscript%3Ealert(1)%3C%2Fscript%3E","headers":{"host":"shop.example","accept":"text/html"},"body":""}`,
	}, "\n") + "\n"
	in := filepath.Join(dir, "samples-1.jsonl")
	if err := os.WriteFile(in, []byte(samples), 0o600); err != nil {
		t.Fatal(err)
	}
	// In the samples directory on purpose: the feedback file is not a sample.
	fb := filepath.Join(dir, "feedback.jsonl")
	if err := os.WriteFile(fb, []byte(`{"request_id":"reviewed","label":"benign","note":"pen test, allowed"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "labelled.jsonl")
	var stdout, stderr bytes.Buffer
	if err := runLearn(context.Background(), []string{"label", "--samples", dir, "--feedback", fb, "--out", out, "--verbose", "--log-level", "error"}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[string]learn.Labelled{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l learn.Labelled
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		got[l.ID] = l
	}
	want := map[string]struct {
		label learn.Label
		class string
		part  string
	}{
		"clean":    {learn.LabelBenign, "", ""},
		"sqli":     {learn.LabelAttack, "sqli", "query"},
		"reviewed": {learn.LabelBenign, "", ""},
		"xss":      {learn.LabelAttack, "xss", "body"},
		"both":     {learn.LabelAttack, "xss", "query"},
	}
	for id, w := range want {
		l, ok := got[id]
		if !ok {
			t.Errorf("%s: not in the output", id)
			continue
		}
		if l.Label != w.label || l.Category != w.class || l.AttackPart != w.part {
			t.Errorf("%s: %s %q %q (%s), want %s %q %q", id, l.Label, l.Category, l.AttackPart, l.Reason, w.label, w.class, w.part)
		}
		if !l.Evidence.Rerun {
			t.Errorf("%s: records without evidence must be re-run through the rules", id)
		}
	}
	if got["reviewed"].Reason != learn.ReasonFPRequest {
		t.Errorf("reviewed: reason %q", got["reviewed"].Reason)
	}
	if got["sqli"].AttackField != "id" {
		t.Errorf("sqli: field %q, want id", got["sqli"].AttackField)
	}
	// A rule matching two fields names both, in order: the one field
	// Coraza's logdata names depends on its map order, run to run.
	var fields []string
	for _, h := range got["both"].Evidence.Rules {
		if h.ID == 941100 {
			fields = append(fields, h.Part+":"+h.Field)
		}
	}
	if strings.Join(fields, " ") != "query:aa query:zz" {
		t.Errorf("both: rule 941100 matched %v, want query:aa and query:zz", fields)
	}
	for _, s := range []string{"labelled 5 records: 2 benign, 3 attack, 0 suspect", string(learn.ReasonFPRequest), "data window: 2026-11-01T10:00:00Z"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("summary lacks %q:\n%s", s, stdout.String())
		}
	}
	if err := runLearn(context.Background(), []string{"label", "--out", out}, &stdout, &stderr); err == nil {
		t.Error("label without --samples was accepted")
	}
	if err := runLearn(context.Background(), []string{"fit"}, &stdout, &stderr); err == nil {
		t.Error("an unknown step was accepted")
	}
}
