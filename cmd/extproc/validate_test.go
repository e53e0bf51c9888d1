package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --validate goes through the constructor start uses, so it refuses
// everything start would refuse: settings, rules, the model, policies.
func TestValidateRefusesWhatStartRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badRule := write("bad.conf", "SecRule ARGS \"@rx (\" \"id:100001,phase:2,deny\"\n")
	badModel := write("model.json", "{not a model")
	dupPolicies := write("policies.yaml", "policies:\n  - name: a\n    host: a.example\n  - name: a\n    host: b.example\n")
	badPolicyWAF := write("policywaf.yaml", "policies:\n  - name: a\n    host: a.example\n    paranoia_level: 9\n")
	tests := []struct {
		kind string
		args []string
		want string
	}{
		{"setting", []string{"--waf-paranoia-level", "7"}, "waf.paranoia_level"},
		{"two settings at once", []string{"--waf-paranoia-level", "7", "--block-status", "99"}, "block.status"},
		{"rules", []string{"--waf-rules-files", badRule}, "bad.conf"},
		{"empty glob", []string{"--waf-rules-files", filepath.Join(dir, "nope", "*.conf")}, "matches no file"},
		{"missing model", []string{"--model-path", "/nonexistent/model.json"}, "model.path"},
		{"broken model", []string{"--model-path", badModel}, "model.path"},
		{"policies", []string{"--config", dupPolicies}, "used twice"},
		{"policy WAF", []string{"--config", badPolicyWAF}, "paranoia_level"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := run(append([]string{"--validate"}, tt.args...), &out, &errOut)
		if code == 0 || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want a failure naming %q", tt.kind, code, errOut.String(), tt.want)
		}
		if strings.Contains(out.String(), "valid") {
			t.Errorf("%s: printed %q", tt.kind, out.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"--validate"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "valid") {
		t.Fatalf("defaults: exit %d, %s %s", code, out.String(), errOut.String())
	}
}
