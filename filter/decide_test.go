package filter_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"

	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
	"github.com/bulwark-waf/bulwark/internal/servertest"
)

// script is what the fake core answers at each step of an exchange.
type script struct {
	atHeaders, atBody, atFinish *inspect.Interruption
	finishErr                   error
	bodyLimit                   int
	action                      inspect.Action
}

// fakeCore is an inspection core that answers from a script, so the state
// machine's decision table is tested without Coraza or the model.
type fakeCore struct{ s script }

func (f fakeCore) Begin(_ context.Context, h inspect.Head) filter.Exchange {
	return &fakeExchange{s: f.s, id: h.Request.ID}
}

type fakeExchange struct {
	s       script
	id      string
	written int
	parks   int
	report  inspect.Report
}

func (x *fakeExchange) ID() string { return x.id }
func (x *fakeExchange) Limits() inspect.Limits {
	n := x.s.bodyLimit
	if n == 0 {
		n = 1 << 20
	}
	return inspect.Limits{Request: inspect.BodyLimit{Bytes: n, Reject: true}, Response: inspect.BodyLimit{Bytes: n}}
}
func (x *fakeExchange) refuse(o *inspect.Outcome, it *inspect.Interruption) *inspect.Interruption {
	if it != nil {
		o.Action, o.Interruption = inspect.ActionBlock, it
	}
	return it
}
func (x *fakeExchange) RequestHeaders() *inspect.Interruption {
	return x.refuse(&x.report.Request, x.s.atHeaders)
}
func (x *fakeExchange) RequestBodyAccessible() bool { return true }
func (x *fakeExchange) Park()                       { x.parks++ }
func (x *fakeExchange) Resume() *inspect.Interruption {
	return x.refuse(&x.report.Request, x.s.atHeaders)
}
func (x *fakeExchange) WriteRequestBody(b []byte) (*inspect.Interruption, error) {
	x.written += len(b)
	return x.refuse(&x.report.Request, x.s.atBody), nil
}
func (x *fakeExchange) FinishRequest() (inspect.Outcome, error) {
	if x.s.finishErr != nil {
		return inspect.Outcome{}, x.s.finishErr
	}
	if x.refuse(&x.report.Request, x.s.atFinish) == nil {
		x.report.Request.Action = x.s.action
	}
	return x.report.Request, nil
}
func (x *fakeExchange) ResponseHeaders(int, string, [][2]string) *inspect.Interruption { return nil }
func (x *fakeExchange) ResponseBodyAccessible() bool                                   { return false }
func (x *fakeExchange) WriteResponseBody([]byte) (*inspect.Interruption, error)        { return nil, nil }
func (x *fakeExchange) FinishResponse(inspect.Replace) (inspect.Outcome, error) {
	x.report.Response.Action = inspect.ActionAllow
	return x.report.Response, nil
}
func (x *fakeExchange) Refuse(d inspect.Direction, r inspect.Reason, status int) *inspect.Interruption {
	return x.refuse(&x.report.Request, &inspect.Interruption{Reason: r, Status: status})
}
func (x *fakeExchange) Failed(a inspect.Action)        { x.report.Request.Action = a }
func (x *fakeExchange) Report() inspect.Report         { return x.report }
func (x *fakeExchange) Close() (inspect.Report, error) { return x.report, nil }

// The state machine's decision table: for each body mode and each answer of
// the core, what Envoy's client sees and what reaches the upstream.
func TestDecisionTableAgainstFakeCore(t *testing.T) {
	t.Parallel()
	rule := &inspect.Interruption{RuleID: 942100, Reason: inspect.ReasonRule}
	decided := &inspect.Interruption{Reason: inspect.ReasonDecision(inspect.ModeOr)}
	type want struct {
		status   int // 0: passed to the upstream
		details  string
		upstream bool
	}
	modes := []procv3.ProcessingMode_BodySendMode{procv3.ProcessingMode_STREAMED, procv3.ProcessingMode_BUFFERED,
		procv3.ProcessingMode_BUFFERED_PARTIAL, procv3.ProcessingMode_FULL_DUPLEX_STREAMED}
	tests := []struct {
		name string
		s    script
		want want
	}{
		{"allow", script{action: inspect.ActionAllow}, want{0, "", true}},
		{"flag passes", script{action: inspect.ActionFlag}, want{0, "", true}},
		{"would_block passes", script{action: inspect.ActionWouldBlock}, want{0, "", true}},
		{"rule at headers", script{atHeaders: rule}, want{403, "bulwark_blocked", false}},
		{"rule in body", script{atBody: rule}, want{403, "bulwark_blocked", false}},
		{"decision after body", script{atFinish: decided}, want{403, "bulwark_blocked_or", false}},
		{"body over limit", script{bodyLimit: 8, action: inspect.ActionAllow}, want{413, "bulwark_body_too_large", false}},
		{"core fails, closed", script{finishErr: errors.New("coraza broke")}, want{500, "bulwark_internal_error", false}},
	}
	for _, mode := range modes {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%s", mode, tt.name), func(t *testing.T) {
				t.Parallel()
				opts := servertest.Options(t, inspect.Options{}, filter.Options{})
				opts.Core = fakeCore{tt.s}
				client, _ := servertest.Serve(t, opts)
				f := &envoysim.Filter{Mode: &procv3.ProcessingMode{RequestBodyMode: mode}, MessageTimeout: 5 * time.Second}
				req := &envoysim.Message{Method: "POST", Path: "/form", Authority: "shop.example",
					Headers: [][2]string{{"content-type", "application/x-www-form-urlencoded"}, {"x-request-id", "fake-1"}}, Body: []byte("a=1&b=22222222")}
				res, err := f.Do(context.Background(), client, req, func(*envoysim.Message) *envoysim.Message { return &envoysim.Message{Status: 200} })
				if err != nil {
					t.Fatal(err)
				}
				if tt.want.status == 0 {
					if res.Blocked() || !res.UpstreamComplete {
						t.Fatalf("blocked=%v upstream complete=%v, want passed (%+v)", res.Blocked(), res.UpstreamComplete, res.Local)
					}
					return
				}
				if !res.Blocked() || res.Local.Status != tt.want.status || res.Local.Details != tt.want.details {
					t.Fatalf("local reply %+v, want %d %s", res.Local, tt.want.status, tt.want.details)
				}
				if res.UpstreamComplete {
					t.Fatal("the upstream got the whole request")
				}
			})
		}
	}
}
