package rx

import (
	"fmt"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"

	re2 "github.com/wasilibs/go-re2"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// maxCaptures mirrors Coraza's @rx: it fills TX:0 to TX:8 and stops at the
// tenth group.
const maxCaptures = 9

// operator is one compiled @rx on RE2.
type operator struct {
	// upstream is Coraza's operator for the same pattern, used for input
	// that is not valid UTF-8.
	upstream plugintypes.Operator
	re       *re2.Regexp
	pf       *prefilter
	budgets  *Budgets
}

// compiled is what the memoizer shares between rules with the same pattern.
type compiled struct {
	re *re2.Regexp
	pf *prefilter
	// useUpstream is set when the pattern has to stay on Coraza's operator.
	useUpstream bool
}

func newRE2Operator(options plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	// Coraza's own prefilter has a known bug (docs/CORAZA-UPSTREAM.md); the
	// fallback never uses it.
	upOpts := options
	upOpts.RxPreFilterEnabled = false
	up, err := corazaNewRX(upOpts)
	if err != nil {
		return nil, err
	}
	data := corazaFlags() + options.Arguments
	key := "bulwark-rx-re2:" + data
	var v any
	if options.Memoizer != nil {
		v, err = options.Memoizer.Do(key, func() (any, error) { return compile(data), nil })
	} else {
		v = compile(data)
	}
	if err != nil {
		return nil, err
	}
	c := v.(*compiled)
	b := budgetsOf(options.Root)
	if c.useUpstream {
		if b != nil {
			return budgeted{Operator: up, budgets: b}, nil
		}
		return up, nil
	}
	return &operator{upstream: up, re: c.re, pf: c.pf, budgets: b}, nil
}

// compile prepares the RE2 side of data, the pattern exactly as Coraza
// compiles it. Whatever it cannot prove equivalent stays upstream.
func compile(data string) *compiled {
	if byteOriented(data) {
		return &compiled{useUpstream: true}
	}
	tree, err := syntax.Parse(data, syntax.Perl)
	if err != nil {
		return &compiled{useUpstream: true}
	}
	pattern, err := renderRE2(tree)
	if err != nil {
		return &compiled{useUpstream: true}
	}
	re, err := re2.Compile(pattern)
	if err != nil {
		return &compiled{useUpstream: true}
	}
	if re.NumSubexp() != tree.MaxCap() {
		return &compiled{useUpstream: true}
	}
	return &compiled{re: re, pf: newPrefilter(tree)}
}

// byteOriented reports patterns Coraza may hand to rsc.io/binaryregexp:
// pattern text that is not valid UTF-8, or a \x escape of a byte from 0x80
// to 0xFF. It is deliberately wider than Coraza's own test (which decodes
// the escapes and checks UTF-8 validity): for any pattern it flags, the
// operator is Coraza's, whichever matcher Coraza picked.
func byteOriented(data string) bool {
	if !utf8.ValidString(data) {
		return true
	}
	for i := 0; i+2 < len(data); i++ {
		if data[i] != '\\' || data[i+1] != 'x' {
			continue
		}
		rest := data[i+2:]
		if rest[0] == '{' {
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return true
			}
			v, err := strconv.ParseUint(rest[1:end], 16, 32)
			if err != nil || v >= 0x80 {
				return true
			}
			continue
		}
		if strings.IndexByte("89abcdefABCDEF", rest[0]) >= 0 {
			return true
		}
	}
	return false
}

func (o *operator) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if o.pf != nil && !o.pf.mayMatch(value) {
		return false
	}
	if !o.budgets.charge(tx, len(value)) {
		return false
	}
	if !utf8.ValidString(value) {
		return o.upstream.Evaluate(tx, value)
	}
	if !tx.Capturing() {
		return o.re.MatchString(value)
	}
	match := o.re.FindStringSubmatchIndex(value)
	if match == nil {
		return false
	}
	for i := 0; i < len(match)/2; i++ {
		if i == maxCaptures {
			return true
		}
		if match[2*i] >= 0 {
			tx.CaptureField(i, value[match[2*i]:match[2*i+1]])
		} else {
			tx.CaptureField(i, "")
		}
	}
	return true
}

// String names the operator in debug output.
func (o *operator) String() string { return fmt.Sprintf("rx(re2, prefilter=%v)", o.pf != nil) }
