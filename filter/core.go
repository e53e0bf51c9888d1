package filter

import (
	"context"

	"github.com/bulwark-waf/bulwark/inspect"
)

// Inspector starts the inspection of one exchange. The server talks to the
// inspection core only through it, so the state machine can be tested
// against a fake; production uses CoreInspector.
type Inspector interface {
	Begin(ctx context.Context, h inspect.Head) Exchange
}

// Exchange is the inspection of one request and its response, as the state
// machine drives it. *inspect.Exchange implements it.
type Exchange interface {
	ID() string
	Limits() inspect.Limits
	RequestHeaders() *inspect.Interruption
	RequestBodyAccessible() bool
	WriteRequestBody(chunk []byte) (*inspect.Interruption, error)
	FinishRequest() (inspect.Outcome, error)
	ResponseHeaders(status int, proto string, headers [][2]string) *inspect.Interruption
	ResponseBodyAccessible() bool
	WriteResponseBody(chunk []byte) (*inspect.Interruption, error)
	FinishResponse(rep inspect.Replace) (inspect.Outcome, error)
	Refuse(d inspect.Direction, reason inspect.Reason, status int) *inspect.Interruption
	Failed(a inspect.Action)
	// Park releases what the exchange holds while it waits for a request
	// body (the Coraza transaction); Resume runs phase 1 again and returns
	// its interruption, if any.
	Park()
	Resume() *inspect.Interruption
	Report() inspect.Report
	Close() (inspect.Report, error)
}

// CoreInspector serves c.
func CoreInspector(c *inspect.Core) Inspector { return coreInspector{c} }

type coreInspector struct{ c *inspect.Core }

func (ci coreInspector) Begin(ctx context.Context, h inspect.Head) Exchange {
	return ci.c.Begin(ctx, h)
}
