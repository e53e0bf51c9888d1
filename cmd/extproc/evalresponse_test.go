package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwark-waf/bulwark/model/evaluate"
)

// TestEvalResponses runs `extproc eval` on labelled responses through the
// real core (real Coraza and CRS outbound rules, the embedded leakage
// model): each case's verdicts land in the predictions CSV, the report
// counts them per class beside CRS outbound, and the plots are PNGs.
func TestEvalResponses(t *testing.T) {
	t.Parallel()
	gz := func(s string) string {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write([]byte(s))
		_ = w.Close()
		return base64.StdEncoding.EncodeToString(b.Bytes())
	}
	var users strings.Builder
	users.WriteString(`{"users":[`)
	for i := 0; i < 200; i++ {
		if i > 0 {
			users.WriteByte(',')
		}
		users.WriteString(`{"id":` + strings.Repeat("1", 1+i%3) + `,"email":"customer` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `@gmail.com"}`)
	}
	users.WriteString(`]}`)
	const awsJSON = `{"region":"us-east-1","aws_access_key_id":"AKIAZ3MSJV2KQWERTYUI","aws_secret_access_key":"q9Fz1uB0+7kLmN3oPqRsTuVwXyZaBcDeFgHiJkL2"}`
	tests := []struct {
		name, label, category string
		status                int
		headers               map[string]string
		body, encoding        string
		modelFlags, crsFlags  bool
	}{
		{"aws-keys", "leak", "secret", 200, map[string]string{"content-type": "application/json"}, awsJSON, "", true, false},
		{"aws-keys-gzip", "leak", "secret", 200, map[string]string{"content-type": "application/json", "content-encoding": "gzip"}, gz(awsJSON), "base64", true, false},
		{"env-no-type", "leak", "source+secret", 200, nil, "APP_ENV=production\nDB_HOST=10.0.3.7\nDB_PASSWORD=Tr0ub4dor&3xyz\nAWS_SECRET_ACCESS_KEY=q9Fz1uB0+7kLmN3oPqRsTuVwXyZaBcDeFgHiJkL2\n", "", true, false},
		{"bulk-emails", "leak", "pii", 200, map[string]string{"content-type": "application/json"}, users.String(), "", true, false},
		{"mysql-error", "leak", "error", 500, map[string]string{"content-type": "text/html"}, "<html><body><b>Warning</b>: mysqli_query(): You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '''' at line 1 in <b>/var/www/html/item.php</b> on line <b>23</b></body></html>", "", true, true},
		{"profile", "benign", "", 200, map[string]string{"content-type": "application/json"}, `{"id":42,"name":"Ada Lovelace","email":"ada.lovelace@gmail.com","plan":"pro"}`, "", false, false},
		{"docs-example-conn", "benign", "", 200, map[string]string{"content-type": "text/html"}, `<html><body><p>Connect with</p><pre>engine = create_engine("postgresql://scott:tiger@localhost/test")</pre><p>and the key <code>AKIAIOSFODNN7EXAMPLE</code>.</p></body></html>`, "", false, false},
		{"spec-example-password", "benign", "", 201, map[string]string{"content-type": "application/json"}, `{"id":"u_1","username":"string","password":"string","client_secret":"<your secret>"}`, "", false, false},
	}
	dir := t.TempDir()
	var data bytes.Buffer
	for _, tc := range tests {
		rec := map[string]any{"id": tc.name, "label": tc.label, "category": tc.category, "source": "test",
			"response": map[string]any{"status": tc.status, "headers": tc.headers, "body": tc.body, "body_encoding": tc.encoding}}
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		data.Write(append(b, '\n'))
	}
	in := filepath.Join(dir, "responses.jsonl")
	if err := os.WriteFile(in, data.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(dir, "report")
	preds := filepath.Join(dir, "preds.csv")
	var out, errOut bytes.Buffer
	if code := run([]string{"eval", "--data", in, "--out-dir", outDir, "--predictions", preds, "--workers", "2"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"secret TPR", "pii TPR", "error TPR", "source TPR", "all benign FPR", "CRS outbound PL1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	f, err := os.Open(preds)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	byID := map[string][]string{}
	for _, r := range recs[1:] {
		byID[r[col["id"]]] = r
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := byID[tc.name]
			if r == nil {
				t.Fatal("no prediction row")
			}
			if r[col["inspect_error"]] != "" {
				t.Fatalf("inspect error: %s", r[col["inspect_error"]])
			}
			flagged := r[col["action"]] == "flag" || r[col["action"]] == "block" || r[col["action"]] == "mask"
			model := false
			for _, c := range strings.Split(tc.category, "+") {
				if c == "" {
					continue
				}
				model = model || atoi(t, r[col[c]]) <= 20
			}
			if tc.category == "" {
				model = atoi(t, r[col["overall"]]) <= 20
			}
			if model != tc.modelFlags {
				t.Errorf("leakage model flags %v, want %v (row %v)", model, tc.modelFlags, r)
			}
			if tc.modelFlags && !flagged {
				t.Errorf("action %q for a leak the model found", r[col["action"]])
			}
			if crs := r[col["crs_flagged"]] == "true"; crs != tc.crsFlags {
				t.Errorf("CRS outbound flags %v, want %v (score %s)", crs, tc.crsFlags, r[col["crs_outbound_score"]])
			}
		})
	}
	var rep evaluate.ResponseReport
	b, err := os.ReadFile(filepath.Join(outDir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Leaky != 5 || rep.Benign != 3 || rep.AllLeaky.Model.Flagged != 5 || rep.BenignAll.Model.Flagged != 0 || rep.AllLeaky.CRS.Flagged != 1 {
		t.Errorf("report: %+v", rep)
	}
	for _, name := range []string{"histogram.png", "roc.png"} {
		f, err := os.Open(filepath.Join(outDir, name))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width < 600 {
			t.Errorf("%s: %v %+v", name, err, cfg)
		}
	}
}

// Malformed response eval files fail with the line at fault.
func TestEvalResponsesRejectsBadRecords(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, data, want string }{
		{"mixed", `{"id":"a","label":"benign","response":{"status":200,"headers":{},"body":"ok"}}` + "\n" + `{"id":"b","label":"benign","method":"GET","uri":"/"}`, "line 2: no \"response\" object"},
		{"bad label", `{"id":"a","label":"attackish","response":{"status":200,"headers":{},"body":"ok"}}`, `label "attackish"`},
		{"bad class", `{"id":"a","label":"leak","category":"sql","response":{"status":200,"headers":{},"body":"ok"}}`, `category "sql"`},
		{"bad encoding", `{"id":"a","label":"leak","category":"secret","response":{"status":200,"headers":{},"body":"ok","body_encoding":"hex"}}`, `body_encoding "hex"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			in := filepath.Join(dir, "r.jsonl")
			if err := os.WriteFile(in, []byte(tc.data+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			if code := run([]string{"eval", "--data", in, "--out-dir", filepath.Join(dir, "o")}, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("exit %d, stderr %q, want %q", code, errOut.String(), tc.want)
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("not a score: %q", s)
		}
		n = n*10 + int(c-'0')
	}
	return n
}
