package ftw

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Outcome is the verdict on one stage for one path.
type Outcome int

// Outcomes. Skip is for stages that assert nothing the run can judge.
const (
	Fail Outcome = iota
	Pass
	Skip
)

func (o Outcome) String() string {
	return [...]string{"fail", "pass", "skip"}[o]
}

// Judgement is an Outcome and why.
type Judgement struct {
	Outcome Outcome
	Why     string
}

// Judge checks an observation against a stage's expectations, go-ftw's way:
// every given assertion must hold.
//
// Status mapping: the expected status is compared with the status the
// client would get. Upstream runs in DetectionOnly, so an expected 4xx is
// always the web server refusing the request, never a WAF block; the bare
// path has no web server and answers with the backend's status, the ext_proc
// path answers with Envoy's local reply when Envoy refuses. A stage with
// expect_error passes when Envoy refused the request; otherwise its log
// assertions decide.
func Judge(c Case, o Observation) Judgement {
	if c.Ignored != "" {
		return Judgement{Skip, c.Ignored}
	}
	out := c.Output
	if out.empty() {
		return Judgement{Skip, "no assertions"}
	}
	if o.Err != nil {
		return Judgement{Fail, o.Err.Error()}
	}
	if out.ExpectError && o.Rejected != nil {
		return Judgement{Pass, "expected error: " + o.Rejected.Reason}
	}
	var why []string
	if out.Status != 0 && o.Status != out.Status {
		why = append(why, fmt.Sprintf("status %d, want %d", o.Status, out.Status))
	}
	var missing, unexpected []int
	for _, id := range out.Log.ExpectIDs {
		if !slices.Contains(o.IDs, id) {
			missing = append(missing, id)
		}
	}
	for _, id := range out.Log.NoExpectIDs {
		if slices.Contains(o.IDs, id) {
			unexpected = append(unexpected, id)
		}
	}
	if len(missing) > 0 {
		why = append(why, fmt.Sprintf("missing %v", missing))
	}
	if len(unexpected) > 0 {
		why = append(why, fmt.Sprintf("unexpected %v", unexpected))
	}
	if re := out.Log.MatchRegex; re != "" {
		if ok, err := regexp.MatchString(re, o.Log); err != nil || !ok {
			why = append(why, fmt.Sprintf("log does not match %q", re))
		}
	}
	if re := out.Log.NoMatchRegex; re != "" {
		if ok, err := regexp.MatchString(re, o.Log); err != nil || ok {
			why = append(why, fmt.Sprintf("log matches %q", re))
		}
	}
	if o.Rejected != nil && len(why) > 0 {
		why = append(why, fmt.Sprintf("Envoy refused: %d %s", o.Rejected.Status, o.Rejected.Reason))
	}
	if len(why) > 0 {
		return Judgement{Fail, strings.Join(why, "; ")}
	}
	return Judgement{Pass, ""}
}

// needsLog reports whether a stage has log regex assertions, the only ones
// that need the ext_proc audit line rather than the metadata.
func needsLog(c Case) bool {
	return c.Output.Log.MatchRegex != "" || c.Output.Log.NoMatchRegex != ""
}
