package rx

import (
	"path/filepath"
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

// TestPrefilterDFAMatchesScan checks the one-pass automaton against the
// needle-by-needle search on every CRS prefilter, over the FuzzRx seeds,
// their variants and the needles themselves in both cases.
func TestPrefilterDFAMatchesScan(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzRx", "*"))
	if err != nil || len(files) < 100 {
		t.Fatalf("fuzz seeds: %d files, %v", len(files), err)
	}
	var inputs []string
	for _, f := range files {
		in, err := readSeed(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, variants(in)...)
	}
	withDFA := 0
	for _, p := range crsPairs(t) {
		o, ok := p.ours.(*operator)
		if !ok || o.pf == nil || o.pf.dfa == nil {
			continue
		}
		withDFA++
		extra := []string{}
		for _, n := range o.pf.needles {
			extra = append(extra, n, strings.ToUpper(n), "x"+n[:len(n)-1], n[1:]+"y")
		}
		for _, in := range append(extra, inputs...) {
			if a, b := o.pf.mayMatch(in), o.pf.scan(in); a != b {
				t.Fatalf("%s %q needles %q fold=%v on %q: dfa %v, scan %v", p.group, p.args, o.pf.needles, o.pf.fold, in, a, b)
			}
		}
	}
	if withDFA < 100 {
		t.Fatalf("only %d CRS prefilters use the automaton", withDFA)
	}
}
