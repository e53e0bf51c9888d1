package rx

import (
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
)

func TestPrefilterNeedles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern string
		needles []string // nil: no prefilter
		fold    bool
	}{
		{`abc`, []string{"abc"}, false},
		{`(?i)select`, []string{"elect"}, true}, // s folds to ſ: not a needle
		{`(?i)union\s+all`, []string{"union"}, true},
		{`foo|bar`, []string{"foo", "bar"}, false},
		{`a(?:.bc|de)`, []string{"bc", "de"}, false}, // Coraza's prefilter wrongly needs "abc"
		{`2(?:1|.25)`, []string{"2"}, false},
		{`x[/\\]y`, []string{`x/y`, `x\y`}, false},
		{`a+b`, []string{"a"}, false},
		{`(?:ab)+cd`, []string{"ab"}, false},
		{`a*`, nil, false},
		{`a?b?`, nil, false},
		{`foo|.*`, nil, false},
		{`\x{FFFD}x`, []string{"x"}, false},
		{`(?i)é`, nil, true},
		{`[Aa]bc`, []string{"abc"}, true},
		{`^$`, nil, false},
	}
	for _, c := range cases {
		re, err := syntax.Parse("(?sm)"+c.pattern, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		p := newPrefilter(re)
		if c.needles == nil {
			if p != nil {
				t.Errorf("%q: needles %q, want none", c.pattern, p.needles)
			}
			continue
		}
		if p == nil {
			t.Errorf("%q: no prefilter, want %q", c.pattern, c.needles)
			continue
		}
		got := slices.Clone(p.needles)
		want := slices.Clone(c.needles)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) || p.fold != c.fold {
			t.Errorf("%q: needles %q fold=%v, want %q fold=%v", c.pattern, p.needles, p.fold, c.needles, c.fold)
		}
	}
}

func TestPrefilterMayMatch(t *testing.T) {
	t.Parallel()
	re, _ := syntax.Parse(`(?i)union\s+all`, syntax.Perl)
	p := newPrefilter(re)
	for v, want := range map[string]bool{
		"UNION ALL":                         true,
		"uNiOn":                             true,
		"onion":                             false,
		strings.Repeat("x", 5000):           false,
		strings.Repeat("x", 5000) + "Union": true,
	} {
		if got := p.mayMatch(v); got != want {
			t.Errorf("mayMatch(%.20q) = %v, want %v", v, got, want)
		}
	}
}
