package rx

import (
	"testing"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// benchValues are the kind of values CRS sees on clean traffic: form
// fields, header values, a path.
var benchValues = []string{
	"jane.doe@example.com", "correct horse battery staple", "on", "221B Baker Street", "London", "NW1 6XE",
	"+44 20 7946 0958", "Please leave the parcel with the neighbour if nobody's home.", "8f14e45fceea167a5a36dedd4bea2543",
	"lorem ipsum dolor sit amet lorem ipsum dolor sit amet ",
	"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
	"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "gzip, deflate, br",
	"session=5f0c2a1e9b7d4c3a8e6f; theme=dark", "https://shop.example/checkout", "/checkout/submit",
}

type nopTx struct{ plugintypes.TransactionState }

func (nopTx) Capturing() bool { return false }

// BenchmarkCRSPatterns evaluates every CRS @rx pattern on benchValues: one
// op is all patterns on all values, as CRS at paranoia level 4 would on a
// small request.
func BenchmarkCRSPatterns(b *testing.B) {
	ps := crsPairs(b)
	for _, mode := range []string{"coraza", "re2", "re2-no-prefilter"} {
		b.Run(mode, func(b *testing.B) {
			ops := make([]plugintypes.Operator, len(ps))
			for i, p := range ps {
				switch mode {
				case "coraza":
					ops[i] = p.upstream
				case "re2":
					ops[i] = p.ours
				default:
					if o, ok := p.ours.(*operator); ok {
						c := *o
						c.pf = nil
						ops[i] = &c
					} else {
						ops[i] = p.ours
					}
				}
			}
			tx := nopTx{}
			for b.Loop() {
				for _, op := range ops {
					for _, v := range benchValues {
						op.Evaluate(tx, v)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(ops)*len(benchValues)), "ns/eval")
		})
	}
}
