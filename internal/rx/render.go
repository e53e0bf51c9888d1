package rx

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode"
)

// errUnrenderable marks a parse tree node this renderer does not know; the
// pattern then stays on Coraza's operator.
var errUnrenderable = errors.New("rx: node cannot be rendered for RE2")

// renderRE2 writes a Go regexp/syntax tree as an RE2 pattern that matches
// the same language with the same capture groups, relying on nothing of
// RE2's own Unicode or case-folding tables:
//   - character classes become explicit code-point ranges (surrogates
//     dropped: RE2 only ever sees valid UTF-8, which has none);
//   - a case-folded literal rune becomes the class of its orbit under
//     unicode.SimpleFold, the relation Go's matcher uses;
//   - ^ $ . become (?m:^) (?m:$) \A \z (?s:.) [^\n] as Go's parser resolved
//     them under the pattern's flags, so no flag is left for RE2 to apply.
//
// Capture groups are written in tree order, which is the order of their
// indices, so group n of the output is group n of the input.
func renderRE2(re *syntax.Regexp) (string, error) {
	var b strings.Builder
	if err := render(&b, re); err != nil {
		return "", err
	}
	return b.String(), nil
}

func render(b *strings.Builder, re *syntax.Regexp) error {
	switch re.Op {
	case syntax.OpNoMatch:
		b.WriteString(`[^\x00-\x{10FFFF}]`)
	case syntax.OpEmptyMatch:
		b.WriteString(`(?:)`)
	case syntax.OpLiteral:
		b.WriteString(`(?:`)
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				writeClass(b, foldOrbit(r))
			} else {
				writeRune(b, r)
			}
		}
		b.WriteString(`)`)
	case syntax.OpCharClass:
		writeClass(b, re.Rune)
	case syntax.OpAnyCharNotNL:
		b.WriteString(`[^\n]`)
	case syntax.OpAnyChar:
		b.WriteString(`(?s:.)`)
	case syntax.OpBeginLine:
		b.WriteString(`(?m:^)`)
	case syntax.OpEndLine:
		b.WriteString(`(?m:$)`)
	case syntax.OpBeginText:
		b.WriteString(`\A`)
	case syntax.OpEndText:
		b.WriteString(`\z`)
	case syntax.OpWordBoundary:
		b.WriteString(`\b`)
	case syntax.OpNoWordBoundary:
		b.WriteString(`\B`)
	case syntax.OpCapture:
		b.WriteString(`(`)
		if err := render(b, re.Sub[0]); err != nil {
			return err
		}
		b.WriteString(`)`)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		b.WriteString(`(?:`)
		if err := render(b, re.Sub[0]); err != nil {
			return err
		}
		b.WriteString(`)`)
		switch re.Op {
		case syntax.OpStar:
			b.WriteString(`*`)
		case syntax.OpPlus:
			b.WriteString(`+`)
		case syntax.OpQuest:
			b.WriteString(`?`)
		default:
			switch {
			case re.Max == -1:
				fmt.Fprintf(b, "{%d,}", re.Min)
			case re.Min == re.Max:
				fmt.Fprintf(b, "{%d}", re.Min)
			default:
				fmt.Fprintf(b, "{%d,%d}", re.Min, re.Max)
			}
		}
		if re.Flags&syntax.NonGreedy != 0 {
			b.WriteString(`?`)
		}
	case syntax.OpConcat:
		b.WriteString(`(?:`)
		for _, s := range re.Sub {
			if err := render(b, s); err != nil {
				return err
			}
		}
		b.WriteString(`)`)
	case syntax.OpAlternate:
		b.WriteString(`(?:`)
		for i, s := range re.Sub {
			if i > 0 {
				b.WriteString(`|`)
			}
			if err := render(b, s); err != nil {
				return err
			}
		}
		b.WriteString(`)`)
	default:
		return fmt.Errorf("%w: op %v", errUnrenderable, re.Op)
	}
	return nil
}

// foldOrbit returns r and every rune unicode.SimpleFold reaches from it, as
// sorted class ranges.
func foldOrbit(r rune) []rune {
	runes := []rune{r}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		runes = append(runes, f)
	}
	// Orbits are tiny (at most four runes); insertion sort keeps this local.
	for i := 1; i < len(runes); i++ {
		for j := i; j > 0 && runes[j] < runes[j-1]; j-- {
			runes[j], runes[j-1] = runes[j-1], runes[j]
		}
	}
	ranges := make([]rune, 0, 2*len(runes))
	for _, x := range runes {
		ranges = append(ranges, x, x)
	}
	return ranges
}

// writeClass writes ranges (pairs lo, hi) as a bracket expression. An empty
// class (after dropping surrogates) matches nothing.
func writeClass(b *strings.Builder, ranges []rune) {
	var kept []rune
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		// Surrogates never occur in valid UTF-8, the only input RE2 sees.
		if lo < 0xD800 && hi >= 0xD800 {
			if hi > 0xDFFF {
				kept = append(kept, lo, 0xD7FF, 0xE000, hi)
			} else {
				kept = append(kept, lo, 0xD7FF)
			}
			continue
		}
		if lo >= 0xD800 && lo <= 0xDFFF {
			if hi > 0xDFFF {
				kept = append(kept, 0xE000, hi)
			}
			continue
		}
		kept = append(kept, lo, hi)
	}
	if len(kept) == 0 {
		b.WriteString(`[^\x00-\x{10FFFF}]`)
		return
	}
	b.WriteString(`[`)
	for i := 0; i < len(kept); i += 2 {
		writeRune(b, kept[i])
		if kept[i+1] != kept[i] {
			b.WriteString(`-`)
			writeRune(b, kept[i+1])
		}
	}
	b.WriteString(`]`)
}

// writeRune writes r so that it means the rune itself inside and outside a
// bracket expression: letters and digits as they are, everything else as
// \x{...}.
func writeRune(b *strings.Builder, r rune) {
	if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
		b.WriteRune(r)
		return
	}
	fmt.Fprintf(b, `\x{%X}`, r)
}
