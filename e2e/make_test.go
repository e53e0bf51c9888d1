package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryMakeTargetIsDocumented: `make help` lists the targets that carry
// a "## what it does" comment, so every target must carry one, and the
// README's target table must list every one of them.
func TestEveryMakeTargetIsDocumented(t *testing.T) {
	t.Parallel()
	rule := regexp.MustCompile(`^([a-z][a-z0-9_-]*)\s*:([^=]|$)`)
	include := regexp.MustCompile(`^include\s+(\S+)`)
	var targets []string
	var read func(path string)
	read = func(path string) {
		b, err := os.ReadFile(filepath.Join("..", path))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := include.FindStringSubmatch(line); m != nil {
				read(m[1])
				continue
			}
			m := rule.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			targets = append(targets, m[1])
			if !strings.Contains(line, "## ") {
				t.Errorf("%s:%d: target %s has no \"## what it does\" comment, so make help omits it", path, i+1, m[1])
			}
		}
	}
	read("Makefile")
	if len(targets) < 10 {
		t.Fatalf("found only %d targets: %v", len(targets), targets)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		if !strings.Contains(string(readme), "| `make "+tg+"` |") {
			t.Errorf("README's target table lacks make %s", tg)
		}
	}
}
