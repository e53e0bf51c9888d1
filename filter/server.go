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

	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/verdict"
	"github.com/bulwark-waf/bulwark/waf"
)

// Options configure the ext_proc server. Zero values are replaced by the
// defaults documented on each field.
type Options struct {
	// Engine is the compiled WAF (required).
	Engine *waf.Engine
	// FailOpen passes traffic when Bulwark itself fails on a stream; when
	// false (the default) such a request gets ErrorStatus.
	FailOpen bool
	// BlockStatus is the status of a block page (default 403).
	BlockStatus int
	// ErrorStatus is the status sent when a stream fails closed (default 500).
	ErrorStatus int
	// MetadataNamespace is the dynamic-metadata namespace for verdicts
	// (default "bulwark"). Envoy must list it in
	// metadata_options.receiving_namespaces.untyped.
	MetadataNamespace string
	// UpstreamHeaders adds the verdict as request headers for the upstream.
	UpstreamHeaders bool
	// HeaderPrefix starts every header Bulwark adds (default "x-bulwark-").
	// Client-sent headers with this prefix are always removed.
	HeaderPrefix string
	// TrustedHops is how many proxies in front of Envoy append to
	// X-Forwarded-For; 0 takes the client from Envoy's source.address.
	TrustedHops int
	// RequestBodyMode and ResponseBodyMode are the body modes assumed when
	// Envoy does not send protocol_config (Envoy before 1.34). Default
	// STREAMED, the choice under which a wrong guess never skips inspection.
	RequestBodyMode  procmodev3.ProcessingMode_BodySendMode
	ResponseBodyMode procmodev3.ProcessingMode_BodySendMode
	// ModeOverride lets Bulwark answer headers with a mode_override that
	// turns body sending off when the rules will not read the body. Envoy
	// honours it only with allow_mode_override: true.
	ModeOverride bool
	// MaxMetadataRules caps the rule ids put in dynamic metadata (default 32).
	MaxMetadataRules int
	// Logger gets operational logs; Audit gets one JSON line per flagged or
	// blocked transaction.
	Logger *slog.Logger
	Audit  *slog.Logger
	// Metrics may be nil in tests.
	Metrics *Metrics

	// Model scores requests; nil runs CRS alone.
	Model *model.Model
	// Policies choose how CRS and the model combine, per route; nil is CRS
	// alone. PolicyEngines holds the WAF of each policy that overrides WAF
	// settings, by policy name; others use Engine.
	Policies      *verdict.Set
	PolicyEngines map[string]*waf.Engine
	// Memory remembers recent attacks per client; it may be nil.
	Memory *verdict.Memory
	// SessionCookie or SessionHeader, when set and present, key the client
	// memory by session instead of by IP.
	SessionCookie string
	SessionHeader string
	// A client with at least OffenderAttacks recent attacks has its CRS
	// threshold lowered by OffenderThresholdDrop and its model threshold
	// raised by OffenderMLBoost. OffenderAttacks 0 turns this off.
	OffenderAttacks       int
	OffenderThresholdDrop int
	OffenderMLBoost       int

	// SlowBodyBytes and SlowBodyTimeout: before inspecting a body of at
	// least SlowBodyBytes, Bulwark asks Envoy for SlowBodyTimeout instead of
	// its message_timeout (override_message_timeout; Envoy honours it up to
	// its max_message_timeout). 0 turns this off.
	SlowBodyBytes   int
	SlowBodyTimeout time.Duration
}

func (o *Options) setDefaults() {
	if o.BlockStatus == 0 {
		o.BlockStatus = 403
	}
	if o.ErrorStatus == 0 {
		o.ErrorStatus = 500
	}
	if o.MetadataNamespace == "" {
		o.MetadataNamespace = "bulwark"
	}
	if o.HeaderPrefix == "" {
		o.HeaderPrefix = "x-bulwark-"
	}
	o.HeaderPrefix = strings.ToLower(o.HeaderPrefix)
	if o.RequestBodyMode == procmodev3.ProcessingMode_NONE {
		o.RequestBodyMode = procmodev3.ProcessingMode_STREAMED
	}
	if o.ResponseBodyMode == procmodev3.ProcessingMode_NONE {
		o.ResponseBodyMode = procmodev3.ProcessingMode_STREAMED
	}
	if o.MaxMetadataRules == 0 {
		o.MaxMetadataRules = 32
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Audit == nil {
		o.Audit = o.Logger
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
}

// Server implements envoy.service.ext_proc.v3.ExternalProcessor.
type Server struct {
	extprocv3.UnimplementedExternalProcessorServer
	// opts is swapped whole on reload. Each stream loads it once when it
	// starts, so rules and settings never change in the middle of a request.
	opts atomic.Pointer[Options]
}

// ErrNoEngine is returned when Options carry no WAF engine.
var ErrNoEngine = errors.New("filter: Options.Engine is required")

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
	if opts.Engine == nil {
		return ErrNoEngine
	}
	opts.setDefaults()
	s.opts.Store(&opts)
	return nil
}

// errProtocol marks a message Envoy should never send in this state.
var errProtocol = errors.New("ext_proc protocol violation")

// errInternal marks a failure inside Bulwark (Coraza error, panic).
var errInternal = errors.New("internal error")

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
	m.streams.Inc()
	m.activeStream.Inc()
	st := newStream(ctx, opts)
	st.sendEarly = srv.Send
	defer func() {
		st.finish()
		m.activeStream.Dec()
	}()
	for {
		req, err := srv.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(ctx.Err(), context.Canceled) || status.Code(err) == codes.Canceled {
				// Envoy closes the stream when the HTTP exchange ends.
				return nil
			}
			m.errors.WithLabelValues("recv").Inc()
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
			st.opts.Logger.Error("panic while handling ext_proc message", "request_id", st.id, "panic", r, "stack", string(debug.Stack()))
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
	log := st.opts.Logger.With("request_id", st.id, "message", messageKind(req), "error", err)
	var pe *protoError
	if errors.As(err, &pe) {
		st.opts.Metrics.errors.WithLabelValues("protocol").Inc()
		log.Warn("closing ext_proc stream on protocol violation")
		if !st.opts.FailOpen && !st.observability && !st.blocked {
			// Fail closed even if Envoy runs with failure_mode_allow: the
			// local reply lands before the stream error does.
			st.blocked = true
			st.action = "error_closed"
			_ = srv.Send(blockPage{status: st.opts.ErrorStatus, requestID: st.id, reason: "bulwark_protocol_error"}.answer(st.accept))
		}
		return nil, status.Error(pe.code, pe.msg)
	}
	st.opts.Metrics.errors.WithLabelValues("internal").Inc()
	if st.opts.FailOpen {
		log.Error("inspection failed; failing open")
		st.opts.Metrics.decisions.WithLabelValues("request", "error_open").Inc()
		st.failedOpen = true
		st.action = "error_open"
		return st.passthrough(req), nil
	}
	log.Error("inspection failed; failing closed")
	st.opts.Metrics.decisions.WithLabelValues("request", "error_closed").Inc()
	st.blocked = true
	st.action = "error_closed"
	return []*extprocv3.ProcessingResponse{blockPage{status: st.opts.ErrorStatus, requestID: st.id, reason: "bulwark_internal_error"}.answer(st.accept)}, nil
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
