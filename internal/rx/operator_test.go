package rx

import (
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

func TestCorazaFlags(t *testing.T) {
	// The default Coraza build (no coraza.rule.no_regex_multiline tag).
	if got := corazaFlags(); got != "(?sm)" {
		t.Fatalf("corazaFlags() = %q, want (?sm)", got)
	}
}

func TestCRSPatternsMostlyOnRE2(t *testing.T) {
	ps := crsPairs(t)
	onRE2, prefiltered := 0, 0
	var upstream []string
	for _, p := range ps {
		o, ok := p.ours.(*operator)
		if !ok {
			upstream = append(upstream, p.group+" "+p.args)
			continue
		}
		onRE2++
		if o.pf != nil {
			prefiltered++
		}
	}
	t.Logf("%d CRS @rx patterns: %d on RE2 (%d with a prefilter), %d on Coraza's operator", len(ps), onRE2, prefiltered, len(upstream))
	for _, u := range upstream {
		t.Logf("on Coraza's operator: %.120s", u)
	}
	// If this drops, something made the renderer or RE2 refuse CRS patterns
	// wholesale: exact still, but the operator would be pointless.
	if onRE2*100 < len(ps)*95 {
		t.Fatalf("only %d of %d CRS patterns run on RE2", onRE2, len(ps))
	}
}

func TestEvaluateMatchesCoraza(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern string
		inputs  []string
	}{
		// Multiline and dotall as Coraza sets them.
		{`^b$`, []string{"a\nb", "b\n", "ab", "b"}},
		{`a.c`, []string{"a\nc", "abc", "ac"}},
		{`\Aab\z`, []string{"ab", "ab\n", "xab"}},
		// Captures: the tenth group is not captured, absent groups are "".
		{`(a)(b)?(c)(d)(e)(f)(g)(h)(i)(j)(k)`, []string{"acdefghijk", "abcdefghijk"}},
		{`^(\d+)-(x)?`, []string{"12-", "12-x", "-"}},
		// Case folding: K folds to the Kelvin sign and s to the long s in Go.
		{`(?i)kiss`, []string{"KISS", "\u212aiſs", "kis"}},
		{`(?i)[k-s]+`, []string{"\u212a", "ſ", "A"}},
		// Unicode classes decided by Go's tables.
		{`\p{Greek}+`, []string{"αβγ", "abc", "\u0370"}},
		{`[^a]`, []string{"a", "é", "\U0001F600"}},
		// Invalid UTF-8 input goes to Coraza's operator.
		{`a.b`, []string{"a\xffb", "a\xff\xfeb"}},
		{`\x{FFFD}`, []string{"\xff", "\uFFFD", "x"}},
		// Byte-oriented patterns stay on Coraza's binary matcher.
		{`\xff\xfe`, []string{"\xff\xfe", "ÿþ"}},
		// NUL bytes in input.
		{`a\x00b`, []string{"a\x00b", "ab"}},
		// Non-greedy and alternation priority.
		{`(a+?)(b|bc)`, []string{"aaabc"}},
		{`(a|ab)(c|bcd)(d*)`, []string{"abcd"}},
		{`(a*)*`, []string{"b", "aa"}},
		{`(a*)+$`, []string{"b", "aab"}},
		{`(?U)(a+)`, []string{"aaa"}},
		{`x{2,3}?`, []string{"xxxx"}},
		{`\bfoo\B`, []string{"foox", "foo x", "éfoox"}},
	}
	for _, c := range cases {
		p, err := newPair(crsPattern{args: c.pattern})
		if err != nil {
			t.Fatalf("%q: %v", c.pattern, err)
		}
		for _, in := range c.inputs {
			if d := p.differ(in); d != "" {
				t.Errorf("%q on %q: %s", c.pattern, in, d)
			}
		}
	}
}

func TestInvalidPatternIsCorazasError(t *testing.T) {
	t.Parallel()
	_, errUp := corazaNewRX(plugintypes.OperatorOptions{Arguments: `a(b`})
	_, errOurs := newRE2Operator(plugintypes.OperatorOptions{Arguments: `a(b`})
	if errUp == nil || errOurs == nil || errUp.Error() != errOurs.Error() {
		t.Fatalf("errors differ: coraza %v, re2 %v", errUp, errOurs)
	}
}

func TestByteOriented(t *testing.T) {
	t.Parallel()
	for pattern, want := range map[string]bool{
		`abc`:         false,
		`\x0a\x7f`:    false,
		`\x{41}`:      false,
		`\x80`:        true,
		`a\xFFb`:      true,
		`\x{00ff}`:    true,
		`\x{100}`:     true,
		"caf\xe9":     true,
		`é`:           false,
		`[\x00-\x1f]`: false,
	} {
		if got := byteOriented(pattern); got != want {
			t.Errorf("byteOriented(%q) = %v, want %v", pattern, got, want)
		}
	}
}

func TestEngineSelection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		engine  Engine
		tagged  bool
		wantRE2 bool
	}{
		{EngineRE2, true, true},
		{EngineGo, true, false},
		{"", false, false},
	} {
		opts := plugintypes.OperatorOptions{Arguments: "abc"}
		if tc.tagged {
			opts.Root = WithEngine(nil, tc.engine)
		}
		op, err := newOperator(opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, isRE2 := op.(*operator); isRE2 != tc.wantRE2 {
			t.Errorf("engine %q tagged=%v: RE2 operator = %v, want %v", tc.engine, tc.tagged, isRE2, tc.wantRE2)
		}
	}
	if _, err := ParseEngine("pcre"); err == nil || !strings.Contains(err.Error(), "re2, go") {
		t.Errorf("ParseEngine(pcre) = %v", err)
	}
}
