package rx

import (
	"bytes"
	"regexp/syntax"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The prefilter answers one question before a regexp runs: can this value
// match at all? It says no only when the value lacks every literal of a set
// that each match must contain one of. Those literals come from Go's parse
// tree of the very pattern Coraza compiles, by rules that each keep
// "every match contains one of the needles" true:
//
//   - a literal rune is a one-character needle; under case folding only if
//     its whole fold orbit is ASCII letters (k and s are not: K and ſ fold
//     to them), and then it is compared ignoring ASCII case;
//   - a class of a few ASCII runes is a set of one-character needles;
//   - a concatenation joins neighbours' exact sets (cross product, bounded)
//     and keeps the most selective set found along it;
//   - an alternation is the union of its branches' sets, and has none if
//     any branch has none;
//   - x+ and x{n,} with n >= 1 keep x's set; x*, x?, x{0,n}, ., and wide
//     classes have none;
//   - U+FFFD is never a needle: Go's matcher reads an invalid byte as
//     U+FFFD, so the input need not contain its encoding.
//
// Anything else yields no requirement, and then the prefilter is not used.

const (
	// maxExact bounds the cross products of exact sets in a concatenation.
	maxExact = 16
	// maxNeedles bounds a requirement: past it, checking costs more than
	// it saves.
	maxNeedles = 32
	// maxClassRunes is the widest class turned into one-character needles.
	maxClassRunes = 6
)

// info describes one node of the tree. If exact is non-nil, every match of
// the node is one of the strings in exact. Otherwise every match contains
// one of req; an empty req means nothing is known. With fold set, the
// strings are lower case and stand for any ASCII-case variant.
type info struct {
	exact []string
	req   []string
	fold  bool
}

var unknown = info{}

func exactInfo(fold bool, s ...string) info { return info{exact: s, fold: fold} }

// needles of an info: the strings each match must contain one of, or nil.
func (i info) needles() []string {
	set := i.req
	if i.exact != nil {
		set = i.exact
	}
	for _, s := range set {
		if s == "" {
			return nil
		}
	}
	return set
}

func analyze(re *syntax.Regexp) info {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return exactInfo(false, "")
	case syntax.OpLiteral:
		fold := re.Flags&syntax.FoldCase != 0
		parts := make([]info, len(re.Rune))
		for i, r := range re.Rune {
			parts[i] = runeInfo(r, fold)
		}
		return concat(parts)
	case syntax.OpCharClass:
		return classInfo(re.Rune)
	case syntax.OpCapture:
		return analyze(re.Sub[0])
	case syntax.OpPlus:
		return required(analyze(re.Sub[0]))
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(analyze(re.Sub[0]))
		}
		return unknown
	case syntax.OpQuest:
		sub := analyze(re.Sub[0])
		if sub.exact != nil && len(sub.exact) < maxExact {
			return info{exact: append(append([]string(nil), sub.exact...), ""), fold: sub.fold}
		}
		return unknown
	case syntax.OpConcat:
		parts := make([]info, len(re.Sub))
		for i, s := range re.Sub {
			parts[i] = analyze(s)
		}
		return concat(parts)
	case syntax.OpAlternate:
		return alternate(re.Sub)
	default:
		// OpNoMatch, OpAnyChar, OpAnyCharNotNL, OpStar and anything new.
		return unknown
	}
}

// required turns an exact set into a requirement: x+ contains x.
func required(i info) info {
	n := i.needles()
	if n == nil {
		return unknown
	}
	return info{req: n, fold: i.fold}
}

func runeInfo(r rune, fold bool) info {
	if r == utf8.RuneError || r < 0 || r > unicode.MaxRune || (r >= 0xD800 && r <= 0xDFFF) {
		return unknown
	}
	if !fold {
		return exactInfo(false, string(r))
	}
	lower, ok := asciiFold(r)
	if !ok {
		return unknown
	}
	return exactInfo(true, lower)
}

// asciiFold returns r's lower-case ASCII form if every rune of its fold orbit
// is ASCII, so that an ASCII case-insensitive comparison finds exactly the
// orbit.
func asciiFold(r rune) (string, bool) {
	if r >= 0x80 {
		// A non-ASCII rune folded only to itself is matched byte for byte,
		// but it then needs no folding: treat it as such.
		if unicode.SimpleFold(r) == r {
			return string(r), true
		}
		return "", false
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f >= 0x80 {
			return "", false
		}
	}
	return asciiLower(string(r)), true
}

func classInfo(ranges []rune) info {
	n := 0
	for i := 0; i+1 < len(ranges); i += 2 {
		n += int(ranges[i+1]-ranges[i]) + 1
		if n > 2*maxClassRunes || ranges[i+1] >= 0x80 {
			return unknown
		}
	}
	if n == 0 {
		return unknown
	}
	var set []string
	fold := false
	seen := map[string]bool{}
	for i := 0; i+1 < len(ranges); i += 2 {
		for r := ranges[i]; r <= ranges[i+1]; r++ {
			s := string(r)
			s = asciiLower(s)
			if 'a' <= s[0] && s[0] <= 'z' {
				// The class holds a letter: compare it ignoring case.
				// That is looser than the class, never stricter.
				fold = true
			}
			if !seen[s] {
				seen[s] = true
				set = append(set, s)
			}
		}
	}
	if len(set) > maxClassRunes {
		return unknown
	}
	return exactInfo(fold, set...)
}

// concat joins exact neighbours and keeps the best requirement seen.
func concat(parts []info) info {
	cur := exactInfo(false, "")
	var best info
	consider := func(i info) {
		if better(i, best) {
			best = info{req: i.needles(), fold: i.fold}
		}
	}
	allExact := true
	for _, p := range parts {
		if p.exact != nil && len(cur.exact)*len(p.exact) <= maxExact {
			cur = cross(cur, p)
			continue
		}
		allExact = false
		consider(cur)
		if p.exact != nil {
			cur = p
		} else {
			consider(p)
			cur = exactInfo(false, "")
		}
	}
	if allExact {
		return cur
	}
	consider(cur)
	return best
}

func cross(a, b info) info {
	fold := a.fold || b.fold
	out := make([]string, 0, len(a.exact)*len(b.exact))
	for _, x := range a.exact {
		for _, y := range b.exact {
			s := x + y
			if fold {
				s = asciiLower(s)
			}
			out = append(out, s)
		}
	}
	return info{exact: dedupe(out), fold: fold}
}

// asciiLower lower-cases ASCII letters only: the input side of a folded
// comparison does the same, and non-ASCII bytes must compare exactly.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func alternate(subs []*syntax.Regexp) info {
	infos := make([]info, len(subs))
	allExact := true
	total := 0
	fold := false
	for i, s := range subs {
		infos[i] = analyze(s)
		fold = fold || infos[i].fold
		if infos[i].exact == nil {
			allExact = false
		}
		total += len(infos[i].exact)
	}
	if allExact && total <= maxExact {
		var set []string
		for _, in := range infos {
			set = append(set, in.exact...)
		}
		if fold {
			set = lowerAll(set)
		}
		return info{exact: dedupe(set), fold: fold}
	}
	var req []string
	for _, in := range infos {
		n := in.needles()
		if n == nil {
			return unknown
		}
		req = append(req, n...)
	}
	if fold {
		req = lowerAll(req)
	}
	req = minimal(dedupe(req))
	if len(req) > maxNeedles {
		return unknown
	}
	return info{req: req, fold: fold}
}

// better prefers the requirement whose shortest needle is longest, then the
// one with fewer needles, then a case-sensitive one.
func better(a, b info) bool {
	na, nb := a.needles(), b.needles()
	if na == nil || len(na) > maxNeedles {
		return false
	}
	if nb == nil {
		return true
	}
	ma, mb := shortest(na), shortest(nb)
	if ma != mb {
		return ma > mb
	}
	if len(na) != len(nb) {
		return len(na) < len(nb)
	}
	return !a.fold && b.fold
}

func shortest(set []string) int {
	m := -1
	for _, s := range set {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return m
}

func lowerAll(set []string) []string {
	out := make([]string, len(set))
	for i, s := range set {
		out[i] = asciiLower(s)
	}
	return out
}

func dedupe(set []string) []string {
	seen := make(map[string]bool, len(set))
	out := set[:0:0]
	for _, s := range set {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// minimal drops needles that contain another needle: containing the longer
// one implies containing the shorter (folded needles are all lower case, so
// the same holds under ASCII folding).
func minimal(set []string) []string {
	var out []string
	for i, s := range set {
		redundant := false
		for j, t := range set {
			if i != j && len(t) < len(s) && strings.Contains(s, t) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, s)
		}
	}
	return out
}

// prefilter is the compiled check.
type prefilter struct {
	needles []string
	// folded holds the needles as bytes for the folded comparison, which
	// searches a lower-cased copy of the value.
	folded [][]byte
	fold   bool
	// dfa finds any of several needles in one pass over the value, without
	// a lower-cased copy; nil for a single unfolded needle, which
	// strings.Contains finds faster, and if the automaton is too large.
	dfa *phraseDFA
}

// newPrefilter returns nil when the tree yields no requirement.
func newPrefilter(re *syntax.Regexp) *prefilter {
	in := analyze(re)
	n := in.needles()
	if n == nil {
		return nil
	}
	n = minimal(dedupe(n))
	if len(n) == 0 || len(n) > maxNeedles {
		return nil
	}
	p := &prefilter{needles: n, fold: in.fold}
	for _, s := range n {
		p.folded = append(p.folded, []byte(s))
	}
	if len(n) > 1 || p.fold {
		p.dfa = newPhraseDFA(n, p.fold)
	}
	return p
}

// lowerBufs holds the buffers folded comparisons lower-case values into;
// pooled, because a value is checked by dozens of rules per request.
var lowerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// mayMatch is false only when v contains none of the needles.
func (p *prefilter) mayMatch(v string) bool {
	if p.dfa != nil {
		return p.dfa.anyIn(v)
	}
	return p.scan(v)
}

// scan is mayMatch needle by needle; the DFA's reference in tests.
func (p *prefilter) scan(v string) bool {
	if !p.fold {
		for _, n := range p.needles {
			if strings.Contains(v, n) {
				return true
			}
		}
		return false
	}
	bp := lowerBufs.Get().(*[]byte)
	low := append((*bp)[:0], v...)
	for i, c := range low {
		if 'A' <= c && c <= 'Z' {
			low[i] = c + 'a' - 'A'
		}
	}
	found := false
	for _, n := range p.folded {
		if bytes.Contains(low, n) {
			found = true
			break
		}
	}
	*bp = low
	lowerBufs.Put(bp)
	return found
}
