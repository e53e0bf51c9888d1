package bench

import (
	"context"
	"testing"
	"time"

	"github.com/bulwark-waf/bulwark/waf"
)

func BenchmarkTmpArms(b *testing.B) {
	reqs := loadReplay(b)
	eg := bareEngine(b)
	er, _ := waf.New(waf.DefaultConfig(), nil)
	c := shipped(b)
	ctx := context.Background()
	var lg, lr, lb []time.Duration
	for b.Loop() {
		for i := range reqs {
			t0 := time.Now()
			bareReplay(ctx, eg, &reqs[i])
			t1 := time.Now()
			bareReplay(ctx, er, &reqs[i])
			t2 := time.Now()
			roundTrip.Do(ctx, c, reqs[i].message(), upstream)
			t3 := time.Now()
			lg = append(lg, t1.Sub(t0))
			lr = append(lr, t2.Sub(t1))
			lb = append(lb, t3.Sub(t2))
		}
	}
	for _, x := range []struct {
		n string
		l []time.Duration
	}{{"go", lg}, {"re2", lr}, {"bulwark", lb}} {
		b.ReportMetric(percentile(x.l, 0.5), x.n+"-p50")
		b.ReportMetric(percentile(x.l, 0.99), x.n+"-p99")
	}
}
