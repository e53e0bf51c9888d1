package rx

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// pmPair is one CRS @pm or @pmFromFile argument under Bulwark's gated
// operator and Coraza's.
type pmPair struct {
	name, args     string
	ours, upstream plugintypes.Operator
	phrases        []string
}

var pmArgRx = regexp.MustCompile(`"!?@(pm|pmFromFile|pmf) ([^"]*)"`)

// crsPMPairs builds every distinct @pm and @pmFromFile argument of the
// embedded CRS, as Coraza's parser would hand it to the factory.
var crsPMPairs = sync.OnceValues(func() ([]pmPair, error) {
	files, err := fs.Glob(coreruleset.FS, "@owasp_crs/*.conf")
	if err != nil {
		return nil, err
	}
	root := WithEngine(coreruleset.FS, EngineRE2)
	seen := map[string]bool{}
	var out []pmPair
	for _, f := range files {
		b, err := fs.ReadFile(coreruleset.FS, f)
		if err != nil {
			return nil, err
		}
		for _, m := range pmArgRx.FindAllStringSubmatch(string(b), -1) {
			name, args := m[1], m[2]
			if seen[name+" "+args] {
				continue
			}
			seen[name+" "+args] = true
			opts := plugintypes.OperatorOptions{Arguments: args, Path: []string{"@owasp_crs"}, Root: root}
			up, words := corazaNewPM, pmWords
			if name != "pm" {
				up, words = corazaNewPMFromFile, pmFileWords
			}
			upstream, err := up(opts)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", name, args, err)
			}
			ours, err := newPMOperator(up, words)(opts)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", name, args, err)
			}
			phrases, err := words(opts)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", name, args, err)
			}
			out = append(out, pmPair{name: name, args: args, ours: ours, upstream: upstream, phrases: phrases})
		}
	}
	if len(out) < 20 {
		return nil, fmt.Errorf("only %d @pm arguments found in CRS", len(out))
	}
	return out, nil
})

func pmPairs(t testing.TB) []pmPair {
	t.Helper()
	ps, err := crsPMPairs()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func (p pmPair) differ(value string) string {
	for _, capturing := range []bool{false, true} {
		a, b := newRecTx(capturing), newRecTx(capturing)
		ma, mb := p.ours.Evaluate(a, value), p.upstream.Evaluate(b, value)
		if ma != mb {
			return fmt.Sprintf("capturing=%v: gated matched=%v, coraza matched=%v", capturing, ma, mb)
		}
		if fmt.Sprint(a.caps) != fmt.Sprint(b.caps) {
			return fmt.Sprintf("capturing=%v: gated captures %v, coraza captures %v", capturing, a.caps, b.caps)
		}
	}
	return ""
}

func TestCRSPhraseListsGated(t *testing.T) {
	t.Parallel()
	for _, p := range pmPairs(t) {
		_, gated := p.ours.(*pmOperator)
		t.Logf("%s %s: %d phrases, gated=%v", p.name, p.args, len(p.phrases), gated)
		// Every list rules read on requests must get the gate; only
		// php-errors (a response-body list) is past the table bound.
		if !gated && p.args != "php-errors.data" {
			t.Errorf("%s %s is not gated", p.name, p.args)
		}
	}
}

// TestPMMatchesCoraza runs every CRS phrase list on inputs built around its
// own phrases (whole, case-changed, cut short, embedded, overlapping) and on
// random and invalid-UTF-8 text, and on every FuzzRx seed.
func TestPMMatchesCoraza(t *testing.T) {
	t.Parallel()
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzRx", "*"))
	if err != nil || len(seeds) < 100 {
		t.Fatalf("fuzz seeds: %d files, %v", len(seeds), err)
	}
	var common []string
	for _, f := range seeds {
		in, err := readSeed(f)
		if err != nil {
			t.Fatal(err)
		}
		common = append(common, in)
	}
	common = append(common, "", "a", "\xff", "\x00", "İ", "\u212a", "K", strings.Repeat("a", 300))
	rng := rand.New(rand.NewPCG(7, 12))
	for _, p := range pmPairs(t) {
		inputs := append([]string(nil), common...)
		for i, ph := range p.phrases {
			if i%7 != 0 && len(p.phrases) > 200 {
				continue // a sample of the long lists keeps the test short
			}
			other := p.phrases[rng.IntN(len(p.phrases))]
			inputs = append(inputs, ph, strings.ToUpper(ph), ph[:len(ph)-1], "x"+ph+"y",
				ph+other, other[:len(other)/2]+ph, randomCase(rng, ph), "\xc3"+ph, ph[:len(ph)/2]+"\xff"+ph[len(ph)/2:])
		}
		for range 200 {
			inputs = append(inputs, randomText(rng, p.phrases))
		}
		for _, in := range inputs {
			if d := p.differ(in); d != "" {
				t.Errorf("%s %s on %q: %s", p.name, p.args, in, d)
			}
		}
	}
}

func randomCase(rng *rand.Rand, s string) string {
	b := []byte(s)
	for i, c := range b {
		if rng.IntN(2) == 0 {
			if 'a' <= c && c <= 'z' {
				b[i] = c - 'a' + 'A'
			}
		}
	}
	return string(b)
}

// randomText is random bytes with pieces of phrases mixed in.
func randomText(rng *rand.Rand, phrases []string) string {
	var b strings.Builder
	for range 1 + rng.IntN(8) {
		switch rng.IntN(3) {
		case 0:
			ph := phrases[rng.IntN(len(phrases))]
			i, j := rng.IntN(len(ph)+1), rng.IntN(len(ph)+1)
			b.WriteString(ph[min(i, j):max(i, j)])
		case 1:
			for range rng.IntN(6) {
				b.WriteByte(byte(rng.IntN(256)))
			}
		default:
			b.WriteString(" /=.'")
		}
	}
	return b.String()
}

// FuzzPM runs one CRS phrase list (chosen by sel) through the gated
// operator and Coraza's on the fuzzer's input and its variants.
func FuzzPM(f *testing.F) {
	for i, s := range []string{"", "a", "\xff", "/etc/passwd", "document.cookie", "ZmxhZw", "bash -c id"} {
		f.Add(uint16(i), []byte(s))
	}
	pairs := pmPairs(f)
	f.Fuzz(func(t *testing.T, sel uint16, in []byte) {
		if len(in) > maxFuzzInput {
			in = in[:maxFuzzInput]
		}
		p := pairs[int(sel)%len(pairs)]
		for _, x := range variants(string(in)) {
			if d := p.differ(x); d != "" {
				t.Fatalf("%s %s on %q: %s", p.name, p.args, x, d)
			}
		}
	})
}

func TestPhraseDFA(t *testing.T) {
	t.Parallel()
	cases := []struct {
		dict []string
		in   string
		want bool
	}{
		{[]string{"he", "she", "his", "hers"}, "ushers", true},
		{[]string{"he", "she", "his", "hers"}, "uSHErs", true},
		{[]string{"he", "she", "his", "hers"}, "hi s", false},
		{[]string{"abcd", "bc"}, "abc", true},
		{[]string{"abcd", "cde"}, "abcxcde", true},
		{[]string{"abcd", "cde"}, "abce", false},
		{[]string{"aab"}, "aaab", true},
		{[]string{"é"}, "É", false}, // ASCII folding only, as Coraza's
		{[]string{"é"}, "xé", true},
		{[]string{"a\x00b"}, "a\x00B", true},
	}
	for _, c := range cases {
		d := newPhraseDFA(c.dict, true)
		if d == nil {
			t.Fatalf("%q: no automaton", c.dict)
		}
		if got := d.anyIn(c.in); got != c.want {
			t.Errorf("%q in %q = %v, want %v", c.dict, c.in, got, c.want)
		}
	}
	if newPhraseDFA([]string{"a", ""}, true) != nil || newPhraseDFA(nil, true) != nil {
		t.Error("an empty phrase or no phrases must leave the operator to Coraza")
	}
	exact := newPhraseDFA([]string{"Ab", "c"}, false)
	for in, want := range map[string]bool{"xAb": true, "ab": false, "AB": false, "C": false, "c": true} {
		if got := exact.anyIn(in); got != want {
			t.Errorf("unfolded %q: %v, want %v", in, got, want)
		}
	}
}
