package rx

import (
	"sync"
	"sync/atomic"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// Budgets bound the @rx work of each open transaction of one WAF: the bytes
// of input its regular expressions may scan. Coraza cannot be interrupted in
// the middle of a phase, so an attack-dense body would otherwise cost
// seconds of CPU; past its budget a transaction's remaining @rx
// evaluations return no match at once, and the caller refuses the request
// (Exceeded) because it was not fully inspected. Bytes, not time: the bound
// is the same on a loaded machine as on an idle one, so a legitimate
// request is never refused because its neighbours were busy.
type Budgets struct {
	limit int64
	open  sync.Map // transaction (the TransactionState value) → *Budget
}

// NewBudgets bounds each transaction to limit bytes; 0 or less is no bound.
func NewBudgets(limit int64) *Budgets { return &Budgets{limit: limit} }

// Budget is one transaction's.
type Budget struct {
	limit int64
	used  atomic.Int64
	over  atomic.Bool
}

// Begin opens the budget of tx (the transaction Coraza hands operators).
func (b *Budgets) Begin(tx any) *Budget {
	if b == nil || b.limit <= 0 {
		return nil
	}
	bu := &Budget{limit: b.limit}
	b.open.Store(tx, bu)
	return bu
}

// End closes the budget of tx.
func (b *Budgets) End(tx any) {
	if b != nil {
		b.open.Delete(tx)
	}
}

// charge counts n bytes against tx's budget; false means it is spent.
func (b *Budgets) charge(tx plugintypes.TransactionState, n int) bool {
	if b == nil || b.limit <= 0 {
		return true
	}
	v, ok := b.open.Load(tx)
	if !ok {
		return true
	}
	bu := v.(*Budget)
	if bu.used.Add(int64(n)) > bu.limit {
		bu.over.Store(true)
		return false
	}
	return true
}

// Exceeded reports whether the transaction ran out of budget, so some of
// its @rx evaluations were skipped.
func (bu *Budget) Exceeded() bool { return bu != nil && bu.over.Load() }

// Used is the bytes scanned so far.
func (bu *Budget) Used() int64 {
	if bu == nil {
		return 0
	}
	return bu.used.Load()
}

// budgeted charges every evaluation of an operator that is not Bulwark's
// (a pattern kept on Coraza's @rx) against the same budget.
type budgeted struct {
	plugintypes.Operator
	budgets *Budgets
}

func (o budgeted) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if !o.budgets.charge(tx, len(value)) {
		return false
	}
	return o.Operator.Evaluate(tx, value)
}
