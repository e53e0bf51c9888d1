package e2e

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/bulwark-waf/bulwark/waf"
)

// The SecLang examples in the README must compile against the embedded CRS,
// so users copying them get working rules.
func TestReadmeRulesCompile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var cur *strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "```") && cur == nil:
			cur = &strings.Builder{}
		case strings.HasPrefix(line, "```"):
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	n := 0
	for _, code := range blocks {
		if !strings.Contains(code, "SecRule ") || strings.Contains(code, "SecRule TX:BLOCKING") {
			continue
		}
		// A continuation line in the README is indented under its chain.
		code = regexp.MustCompile(`(?m)^  SecRule`).ReplaceAllString(code, "SecRule")
		n++
		cfg := waf.DefaultConfig()
		cfg.Directives = code
		if _, err := waf.New(cfg, nil); err != nil {
			t.Errorf("README rules do not compile: %v\n%s", err, code)
		}
	}
	if n < 2 {
		t.Fatalf("found %d SecLang blocks in the README; the examples moved?", n)
	}
}
