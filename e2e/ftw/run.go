package ftw

import (
	"context"
	"fmt"
	"sync"
)

// Result is one stage judged on both paths.
type Result struct {
	Case    Case
	Bare    Judgement
	ExtProc Judgement
	BareIDs []int
	ExtIDs  []int
}

// Diverges reports a stage bare Coraza passes and ext_proc does not.
func (r Result) Diverges() bool {
	return r.Bare.Outcome == Pass && r.ExtProc.Outcome != Pass
}

// RunAll replays every case on both paths with workers goroutines. The
// stages of one test stay in order on one worker, as go-ftw runs them.
// Runner replays a request through one way of serving Bulwark: the
// ext_proc server driven by the Envoy-faithful client, or real HTTP through
// `extproc proxy`.
type Runner interface {
	Run(ctx context.Context, r *Request, id string, wantLog bool) Observation
}

func RunAll(ctx context.Context, cases []Case, bare *Bare, ext Runner, workers int) []Result {
	results := make([]Result, len(cases))
	// Stages of one test are adjacent in cases (Load keeps file order).
	var groups [][2]int
	for i := 0; i < len(cases); {
		j := i + cases[i].Stages
		if cases[i].Stages < 1 || j > len(cases) {
			j = i + 1
		}
		groups = append(groups, [2]int{i, j})
		i = j
	}
	work := make(chan [2]int)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range work {
				for i := g[0]; i < g[1]; i++ {
					results[i] = runOne(ctx, cases[i], bare, ext)
				}
			}
		}()
	}
	for _, g := range groups {
		work <- g
	}
	close(work)
	wg.Wait()
	return results
}

func runOne(ctx context.Context, c Case, bare *Bare, ext Runner) Result {
	res := Result{Case: c}
	req, err := BuildRequest(c.Input)
	if err != nil {
		j := Judgement{Fail, "building request: " + err.Error()}
		if c.Ignored != "" {
			j = Judgement{Skip, c.Ignored}
		}
		res.Bare, res.ExtProc = j, j
		return res
	}
	id := fmt.Sprintf("ftw-%s", c.Key)
	b := bare.Run(ctx, req, id+"-bare")
	e := ext.Run(ctx, req, id+"-extproc", needsLog(c))
	res.Bare, res.ExtProc = Judge(c, b), Judge(c, e)
	res.BareIDs, res.ExtIDs = b.IDs, e.IDs
	return res
}
