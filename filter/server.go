package filter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/bulwark-waf/bulwark/inspect"
)

// Options configure the ext_proc state machine. Their defaults live in
// config.Default, the one source of defaults; NewServer refuses options
// that leave a required value unset.
type Options struct {
	// Core inspects each exchange (required): CoreInspector(core) in
	// production, a fake in the state machine's unit tests.
	Core Inspector
	// FailOpen passes traffic when Bulwark itself fails on a stream; when
	// false such a request gets ErrorStatus.
	FailOpen bool
	// BlockStatus is the status of a block page.
	BlockStatus int
	// EmptyBlockBody sends block pages without a body.
	EmptyBlockBody bool
	// ErrorStatus is the status sent when a stream fails closed.
	ErrorStatus int
	// MetadataNamespace is the dynamic-metadata namespace for verdicts.
	// Envoy must list it in metadata_options.receiving_namespaces.untyped.
	MetadataNamespace string
	// UpstreamHeaders adds the verdict as request headers for the upstream.
	UpstreamHeaders bool
	// HeaderPrefix starts every header Bulwark adds, lower case.
	// Client-sent headers with this prefix are always removed.
	HeaderPrefix string
	// TrustedHops is how many proxies in front of Envoy append to
	// X-Forwarded-For; 0 takes the client from Envoy's source.address.
	TrustedHops int
	// RequestBodyMode and ResponseBodyMode are the body modes assumed when
	// Envoy does not send protocol_config (Envoy before 1.34).
	RequestBodyMode  procmodev3.ProcessingMode_BodySendMode
	ResponseBodyMode procmodev3.ProcessingMode_BodySendMode
	// ModeOverride lets Bulwark answer headers with a mode_override that
	// turns body sending off when the rules will not read the body. Envoy
	// honours it only with allow_mode_override: true.
	ModeOverride bool
	// DeferBuffered starts the exchange (the Coraza transaction and phase
	// 1) of a request whose body Envoy buffers (BUFFERED or
	// BUFFERED_PARTIAL, as its protocol_config says) when the body comes
	// rather than at the headers: the request is held by Envoy until then
	// either way, and a stream waiting for its body holds no transaction.
	// A phase-1 block then comes on the body answer, and no mode_override
	// can skip a body the rules would not read.
	DeferBuffered bool
	// MaxWaitingTransactions bounds the streams that keep their exchange's
	// Coraza transaction while they wait for a request body. Past it a
	// waiting stream parks its exchange, and phase 1 runs again when the
	// body comes: slow uploads then cost their request, not CRS's phase-1
	// state. 0 is no bound.
	MaxWaitingTransactions int
	// MaxMetadataRules caps the rule ids put in dynamic metadata.
	MaxMetadataRules int
	// Logger gets operational logs; Audit gets one JSON line per flagged or
	// blocked transaction. Both are required.
	Logger *slog.Logger
	Audit  *slog.Logger
	// Metrics are required; NewMetrics(nil) registers nothing.
	Metrics *Metrics
	// MaxStreams bounds the streams open at once across connections; past
	// it a new stream gets the fail-mode answer (the error page under
	// fail-closed). 0 is no bound.
	MaxStreams int
	// SlowBodyBytes and SlowBodyTimeout: before inspecting a body of at
	// least SlowBodyBytes, Bulwark asks Envoy for SlowBodyTimeout instead of
	// its message_timeout (override_message_timeout; Envoy honours it up to
	// its max_message_timeout). 0 turns this off.
	SlowBodyBytes   int
	SlowBodyTimeout time.Duration
}

// ErrOptions is wrapped by NewServer and Update for incomplete options.
var ErrOptions = errors.New("filter: invalid options")

func (o *Options) validate() error {
	var missing []string
	check := func(ok bool, name string) {
		if !ok {
			missing = append(missing, name)
		}
	}
	check(o.Core != nil, "Core")
	check(o.BlockStatus >= 200 && o.BlockStatus <= 599, "BlockStatus")
	check(o.ErrorStatus >= 200 && o.ErrorStatus <= 599, "ErrorStatus")
	check(o.MetadataNamespace != "", "MetadataNamespace")
	check(o.HeaderPrefix != "" && o.HeaderPrefix == strings.ToLower(o.HeaderPrefix), "HeaderPrefix")
	check(o.RequestBodyMode != procmodev3.ProcessingMode_NONE, "RequestBodyMode")
	check(o.ResponseBodyMode != procmodev3.ProcessingMode_NONE, "ResponseBodyMode")
	check(o.MaxMetadataRules > 0, "MaxMetadataRules")
	check(o.MaxWaitingTransactions >= 0, "MaxWaitingTransactions")
	check(o.Logger != nil, "Logger")
	check(o.Audit != nil, "Audit")
	check(o.Metrics != nil, "Metrics")
	if len(missing) > 0 {
		return fmt.Errorf("%w: unset or out of range: %s", ErrOptions, strings.Join(missing, ", "))
	}
	return nil
}

// Server implements envoy.service.ext_proc.v3.ExternalProcessor.
type Server struct {
	extprocv3.UnimplementedExternalProcessorServer
	// opts is swapped whole on reload. Each stream loads it once when it
	// starts, so rules and settings never change in the middle of a request.
	opts atomic.Pointer[Options]
	// open counts the streams open now, for MaxStreams.
	open atomic.Int64
	// waiting counts the streams waiting for a request body with their
	// transaction alive, for MaxWaitingTransactions.
	waiting atomic.Int64
}

// NewServer returns a server running opts.
func NewServer(opts Options) (*Server, error) {
	s := &Server{}
	if err := s.Update(opts); err != nil {
		return nil, err
	}
	return s, nil
}

// Update installs new options (a reloaded WAF, changed settings) for streams
// that start from now on; streams already open finish on the old ones.
func (s *Server) Update(opts Options) error {
	if err := opts.validate(); err != nil {
		return err
	}
	s.opts.Store(&opts)
	return nil
}

// errProtocol marks a message Envoy should never send in this state.
var errProtocol = errors.New("ext_proc protocol violation")

// errInternal marks a failure inside Bulwark (Coraza error, panic).
var errInternal = errors.New("internal error")

func wrapInternal(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", errInternal, what, err)
}

func protocolErr(c codes.Code, format string, args ...any) error {
	return &protoError{code: c, msg: fmt.Sprintf(format, args...)}
}

type protoError struct {
	code codes.Code
	msg  string
}

func (e *protoError) Error() string { return e.msg }
func (e *protoError) Unwrap() error { return errProtocol }

// Process runs one ext_proc stream: one HTTP request and its response.
func (s *Server) Process(srv extprocv3.ExternalProcessor_ProcessServer) error {
	ctx := srv.Context()
	opts := s.opts.Load()
	m := opts.Metrics
	if n := s.open.Add(1); opts.MaxStreams > 0 && n > int64(opts.MaxStreams) {
		s.open.Add(-1)
		m.errors.WithLabelValues("max_streams").Inc()
		return overloaded(srv, opts)
	}
	defer s.open.Add(-1)
	m.streams.Inc()
	m.activeStream.Inc()
	st := newStream(ctx, opts)
	st.sendEarly = srv.Send
	defer func() {
		st.finish()
		m.activeStream.Dec()
	}()
	for {
		counted := false
		if max := opts.MaxWaitingTransactions; max > 0 && st.awaitingBody() {
			if n := s.waiting.Add(1); n > int64(max) {
				s.waiting.Add(-1)
				st.park()
			} else {
				counted = true
				m.waiting.Inc()
			}
		}
		req, err := srv.Recv()
		if counted {
			s.waiting.Add(-1)
			m.waiting.Dec()
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(ctx.Err(), context.Canceled) || status.Code(err) == codes.Canceled {
				// Envoy closes the stream when the HTTP exchange ends.
				return nil
			}
			m.errors.WithLabelValues("recv").Inc()
			if ctx.Err() == nil && !st.opts.FailOpen && !st.refused && !st.observability {
				// A message Bulwark could not receive (over
				// grpc_max_message_bytes, or malformed) was not inspected:
				// under fail-closed the request gets the error page before
				// the stream ends, whatever failure_mode_allow says.
				st.refused = true
				st.failAction = inspect.ActionErrorClosed
				_ = srv.Send(st.errorPage(inspect.ReasonInternal))
			}
			return err
		}
		out, err := st.safeHandle(req)
		if err != nil {
			if out, err = st.fail(srv, req, err); err != nil {
				return err
			}
		}
		if st.observability {
			// Envoy ignores answers in observability mode; sending would only
			// cost bandwidth.
			continue
		}
		for _, r := range out {
			if err := srv.Send(r); err != nil {
				m.errors.WithLabelValues("send").Inc()
				if ctx.Err() == nil && !st.opts.FailOpen && r.GetImmediateResponse() == nil {
					// The answer could not be sent (it failed to marshal, or
					// was too large): under fail-closed the request must
					// still not pass, whatever failure_mode_allow says.
					st.refused = true
					st.failAction = inspect.ActionErrorClosed
					_ = srv.Send(st.errorPage(inspect.ReasonInternal))
				}
				return err
			}
		}
	}
}

// safeHandle turns a panic anywhere in inspection into an internal error, so
// one poisoned request cannot take the process down.
func (st *stream) safeHandle(req *extprocv3.ProcessingRequest) (out []*extprocv3.ProcessingResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			st.opts.Logger.Error("panic while handling ext_proc message", "request_id", st.requestID(), "panic", r, "stack", string(debug.Stack()))
			out, err = nil, fmt.Errorf("%w: panic: %v", errInternal, r)
		}
	}()
	start := time.Now()
	kind := messageKind(req)
	st.opts.Metrics.messages.WithLabelValues(kind).Inc()
	out, err = st.handle(req)
	st.opts.Metrics.phase.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	return out, err
}

// fail applies the failure policy. Protocol violations close the stream with
// a gRPC status that names the problem. Internal errors give the configured
// fail-open or fail-closed answer and keep the stream open, so Envoy, not
// Bulwark, ends it.
func (st *stream) fail(srv extprocv3.ExternalProcessor_ProcessServer, req *extprocv3.ProcessingRequest, err error) ([]*extprocv3.ProcessingResponse, error) {
	log := st.opts.Logger.With("request_id", st.requestID(), "message", messageKind(req), "error", err)
	var pe *protoError
	if errors.As(err, &pe) {
		st.opts.Metrics.errors.WithLabelValues("protocol").Inc()
		log.Warn("closing ext_proc stream on protocol violation")
		if !st.opts.FailOpen && !st.observability && !st.refused {
			// Fail closed even if Envoy runs with failure_mode_allow: the
			// local reply lands before the stream error does.
			st.refused = true
			st.failAction = inspect.ActionErrorClosed
			_ = srv.Send(st.errorPage(inspect.ReasonProtocol))
		}
		return nil, status.Error(pe.code, pe.msg)
	}
	st.opts.Metrics.errors.WithLabelValues("internal").Inc()
	if st.opts.FailOpen {
		log.Error("inspection failed; failing open")
		st.opts.Metrics.decisions.WithLabelValues("request", string(inspect.ActionErrorOpen)).Inc()
		st.failedOpen = true
		st.failAction = inspect.ActionErrorOpen
		return st.passthrough(req), nil
	}
	log.Error("inspection failed; failing closed")
	st.opts.Metrics.decisions.WithLabelValues("request", string(inspect.ActionErrorClosed)).Inc()
	st.refused = true
	st.failAction = inspect.ActionErrorClosed
	return []*extprocv3.ProcessingResponse{st.errorPage(inspect.ReasonInternal)}, nil
}

// errorPage is the fail-closed answer. It carries no metadata, so nothing
// user-controlled can keep it from being marshalled.
func (st *stream) errorPage(reason inspect.Reason) *extprocv3.ProcessingResponse {
	return blockPage{status: st.opts.ErrorStatus, requestID: bounded(st.requestID(), maxMetadataString), reason: string(reason)}.answer(st.accept)
}

// requestID is the exchange's id, or "" before the request headers.
func (st *stream) requestID() string {
	if st.x == nil {
		if st.deferred != nil {
			return st.deferred.Request.ID
		}
		return ""
	}
	return st.x.ID()
}

func messageKind(req *extprocv3.ProcessingRequest) string {
	switch req.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		return "request_headers"
	case *extprocv3.ProcessingRequest_RequestBody:
		return "request_body"
	case *extprocv3.ProcessingRequest_RequestTrailers:
		return "request_trailers"
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		return "response_headers"
	case *extprocv3.ProcessingRequest_ResponseBody:
		return "response_body"
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		return "response_trailers"
	}
	return "unknown"
}

// overloaded answers a stream past MaxStreams without inspecting it: under
// fail-closed the request gets the error page, under fail-open the stream
// ends with Unavailable, which Envoy's failure_mode_allow passes.
func overloaded(srv extprocv3.ExternalProcessor_ProcessServer, opts *Options) error {
	if opts.FailOpen {
		return status.Error(codes.Unavailable, "bulwark: grpc.max_streams reached")
	}
	req, err := srv.Recv()
	if err != nil {
		return nil
	}
	accept := ""
	if h, ok := req.GetRequest().(*extprocv3.ProcessingRequest_RequestHeaders); ok {
		accept, _ = lookup(headerList(h.RequestHeaders.GetHeaders()), "accept")
	}
	_ = srv.Send(blockPage{status: opts.ErrorStatus, reason: string(inspect.ReasonOverloaded)}.answer(accept))
	return status.Error(codes.ResourceExhausted, "bulwark: grpc.max_streams reached")
}
