package rx

import (
	"sync"
	_ "unsafe" // go:linkname

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// corazaNewRX is Coraza's own @rx factory. Registering "rx" replaces it in
// Coraza's registry, and Coraza has no public way to ask for the previous
// factory, so it is linked by name. It is the fallback of the RE2 operator
// and the whole of EngineGo, which keeps both exactly upstream. A Coraza
// release that renames it fails the build at link time, never silently.
//
//go:linkname corazaNewRX github.com/corazawaf/coraza/v3/internal/operators.newRX
func corazaNewRX(options plugintypes.OperatorOptions) (plugintypes.Operator, error)

func init() {
	plugins.RegisterOperator("rx", newOperator)
}

// newOperator is the registered factory: RE2 for WAFs tagged EngineRE2,
// Coraza's operator for everything else.
func newOperator(options plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	if engineOf(options.Root) != EngineRE2 {
		return corazaNewRX(options)
	}
	return newRE2Operator(options)
}

// probeTx is the least TransactionState Coraza's operator needs when it is
// not capturing.
type probeTx struct{ plugintypes.TransactionState }

func (probeTx) Capturing() bool { return false }

// corazaFlags is the flag group Coraza puts in front of every pattern:
// "(?sm)" by default, "(?s)" when Coraza is built with the
// coraza.rule.no_regex_multiline tag. It is read from Coraza's operator's
// behaviour rather than assumed, so both builds stay exact.
var corazaFlags = sync.OnceValue(func() string {
	op, err := corazaNewRX(plugintypes.OperatorOptions{Arguments: "^b"})
	if err != nil {
		panic("rx: Coraza's @rx rejects ^b: " + err.Error())
	}
	if op.Evaluate(probeTx{}, "a\nb") {
		return "(?sm)"
	}
	return "(?s)"
})
