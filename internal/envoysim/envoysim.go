package envoysim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// Filter mirrors the ExternalProcessor filter settings the harness honours.
type Filter struct {
	// Mode is processing_mode; nil means Envoy's defaults (headers SEND,
	// bodies NONE, trailers SKIP).
	Mode *procv3.ProcessingMode
	// MessageTimeout is message_timeout (default 200 ms, as in Envoy).
	MessageTimeout time.Duration
	// MaxMessageTimeout is max_message_timeout; 0 disables
	// override_message_timeout, as in Envoy.
	MaxMessageTimeout time.Duration
	FailureModeAllow  bool
	AllowModeOverride bool
	ObservabilityMode bool
	// SendBodyWithoutWaiting is send_body_without_waiting_for_header_response.
	SendBodyWithoutWaiting bool
	// BufferLimit is the connection buffer limit for BUFFERED and
	// BUFFERED_PARTIAL (default 1 MiB, Envoy's default).
	BufferLimit int
	// ChunkSize is how the codec splits a body into data frames when the
	// message gives no explicit chunks (default 16 KiB).
	ChunkSize int
	// NoProtocolConfig imitates Envoy before 1.34, which sent no
	// protocol_config.
	NoProtocolConfig bool
	// Attributes are sent with the first request-path message under
	// envoy.filters.http.ext_proc, e.g. source.address.
	Attributes map[string]string
	// DuplexTimeout bounds the wait for FULL_DUPLEX_STREAMED answers, which
	// Envoy does not time out; it only keeps a broken server from hanging a
	// test. Default 5 s.
	DuplexTimeout time.Duration
}

// Message is an HTTP request or response. Headers use lower-case keys;
// pseudo-headers are derived from the typed fields.
type Message struct {
	Method, Path, Authority, Scheme string // requests
	Status                          int    // responses
	Headers                         [][2]string
	Body                            []byte
	// Chunks, when set, are the data frames exactly as they arrive and
	// override Body.
	Chunks   [][]byte
	Trailers [][2]string
}

func (m *Message) chunks(size int) [][]byte {
	if m.Chunks != nil {
		return m.Chunks
	}
	var out [][]byte
	for b := m.Body; len(b) > 0; {
		n := min(size, len(b))
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

func (m *Message) body() []byte {
	if m.Chunks == nil {
		return m.Body
	}
	var b []byte
	for _, c := range m.Chunks {
		b = append(b, c...)
	}
	return b
}

// Get returns the first value of a header.
func (m *Message) Get(key string) string {
	for _, h := range m.Headers {
		if h[0] == key {
			return h[1]
		}
	}
	return ""
}

// LocalReply is a response Envoy generated itself.
type LocalReply struct {
	Status  int
	Headers [][2]string
	Body    []byte
	Details string
	// FromServer is true for an ImmediateResponse, false for Envoy's own
	// error replies (413 over the buffer limit, 500 on a stream error, 504 on
	// a timeout).
	FromServer bool
}

// Result is what Envoy would do with the exchange.
type Result struct {
	Local *LocalReply
	// Upstream is the request as forwarded, nil if nothing was sent.
	Upstream *Message
	// UpstreamComplete is false when the upstream saw the request start but
	// not end (a block in the middle of a STREAMED body).
	UpstreamComplete bool
	// BodyBeforeVerdict counts request-body bytes released to the upstream
	// before the server's last request-path answer.
	BodyBeforeVerdict int
	// Downstream is the response the client gets when there is no local reply.
	Downstream *Message
	// Metadata is the dynamic metadata the server wrote, merged per
	// namespace as Envoy does.
	Metadata *structpb.Struct
	// ServerAbandoned is true when processing went on without the server
	// (failure_mode_allow, a clean close by the server).
	ServerAbandoned bool
	// StreamErr is the gRPC status that ended the stream, if not OK.
	StreamErr error
	// UnexpectedAnswers counts answers sent in observability mode.
	UnexpectedAnswers int
	// Sent lists the message kinds sent, in order.
	Sent []string
}

// Blocked reports whether the client got a local reply from the server.
func (r *Result) Blocked() bool { return r.Local != nil && r.Local.FromServer }

// Upstream answers a forwarded request.
type Upstream func(req *Message) *Message

// ErrHarness marks a failure of the harness itself, not an Envoy outcome.
var ErrHarness = errors.New("envoysim")

func (f *Filter) defaults() Filter {
	c := *f
	if c.Mode == nil {
		c.Mode = &procv3.ProcessingMode{}
	} else {
		c.Mode = proto.Clone(c.Mode).(*procv3.ProcessingMode)
	}
	if c.MessageTimeout == 0 {
		c.MessageTimeout = 200 * time.Millisecond
	}
	if c.BufferLimit == 0 {
		c.BufferLimit = 1 << 20
	}
	if c.ChunkSize == 0 {
		c.ChunkSize = 16 << 10
	}
	if c.DuplexTimeout == 0 {
		c.DuplexTimeout = 5 * time.Second
	}
	return c
}

// Do runs one HTTP exchange through the server behind client.
func (f *Filter) Do(ctx context.Context, client extprocv3.ExternalProcessorClient, req *Message, upstream Upstream) (*Result, error) {
	cfg := f.defaults()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ex := &exchange{cfg: cfg, res: &Result{}, ctx: ctx}
	defer ex.close()
	ex.openStream = func() error {
		s, err := client.Process(ctx)
		if err != nil {
			return err
		}
		ex.stream = s
		ex.in = newInbox(s)
		return nil
	}
	if err := ex.request(req); err != nil {
		return ex.res, err
	}
	if ex.res.Local != nil {
		return ex.res, nil
	}
	resp := upstream(ex.res.Upstream)
	if resp == nil {
		return ex.res, fmt.Errorf("%w: upstream returned no response", ErrHarness)
	}
	if err := ex.response(resp); err != nil {
		return ex.res, err
	}
	return ex.res, nil
}

type exchange struct {
	cfg        Filter
	ctx        context.Context
	res        *Result
	openStream func() error
	stream     extprocv3.ExternalProcessor_ProcessClient
	in         *inbox
	sentFirst  bool
	sentRespAt bool
	done       bool // processing_complete_: the server is out of the loop
}

// close ends the stream as Envoy does when the HTTP exchange is over and
// collects the server's final status.
func (ex *exchange) close() {
	if ex.stream == nil {
		return
	}
	_ = ex.stream.CloseSend()
	err := ex.in.wait(ex.cfg.DuplexTimeout)
	if err != nil && !errors.Is(err, io.EOF) && ex.res.StreamErr == nil {
		if st, ok := status.FromError(err); ok && st.Code() != 0 {
			ex.res.StreamErr = err
		}
	}
}

func (ex *exchange) send(pr *extprocv3.ProcessingRequest, kind string, request bool) error {
	if ex.stream == nil {
		if err := ex.openStream(); err != nil {
			return ex.streamFailed(err)
		}
	}
	if !ex.sentFirst {
		ex.sentFirst = true
		if !ex.cfg.NoProtocolConfig {
			pr.ProtocolConfig = &extprocv3.ProtocolConfiguration{
				RequestBodyMode:                         ex.cfg.Mode.GetRequestBodyMode(),
				ResponseBodyMode:                        ex.cfg.Mode.GetResponseBodyMode(),
				SendBodyWithoutWaitingForHeaderResponse: ex.cfg.SendBodyWithoutWaiting,
			}
		}
		if request && len(ex.cfg.Attributes) > 0 {
			fields := map[string]*structpb.Value{}
			for k, v := range ex.cfg.Attributes {
				fields[k] = structpb.NewStringValue(v)
			}
			pr.Attributes = map[string]*structpb.Struct{"envoy.filters.http.ext_proc": {Fields: fields}}
		}
	}
	pr.ObservabilityMode = ex.cfg.ObservabilityMode
	ex.res.Sent = append(ex.res.Sent, kind)
	if err := ex.stream.Send(pr); err != nil {
		if errors.Is(err, io.EOF) {
			// The server ended the stream; its status comes from Recv.
			return ex.streamFailed(ex.in.wait(time.Second))
		}
		return ex.streamFailed(err)
	}
	return nil
}

// streamFailed applies failure_mode_allow to a dead stream.
func (ex *exchange) streamFailed(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		// A clean close: Envoy carries on without the server.
		ex.done = true
		ex.res.ServerAbandoned = true
		return nil
	}
	ex.res.StreamErr = err
	if ex.cfg.FailureModeAllow {
		ex.done = true
		ex.res.ServerAbandoned = true
		return nil
	}
	code := status.Code(err)
	ex.local(500, "ext_proc_error_gRPC_error_"+strconv.Itoa(int(code)))
	return nil
}

func (ex *exchange) local(code int, details string) {
	ex.done = true
	ex.res.Local = &LocalReply{Status: code, Details: details}
}

type answerKind int

const (
	ansRequestHeaders answerKind = iota
	ansRequestBody
	ansRequestTrailers
	ansResponseHeaders
	ansResponseBody
	ansResponseTrailers
)

func kindOf(r *extprocv3.ProcessingResponse) (answerKind, bool) {
	switch r.GetResponse().(type) {
	case *extprocv3.ProcessingResponse_RequestHeaders:
		return ansRequestHeaders, true
	case *extprocv3.ProcessingResponse_RequestBody:
		return ansRequestBody, true
	case *extprocv3.ProcessingResponse_RequestTrailers:
		return ansRequestTrailers, true
	case *extprocv3.ProcessingResponse_ResponseHeaders:
		return ansResponseHeaders, true
	case *extprocv3.ProcessingResponse_ResponseBody:
		return ansResponseBody, true
	case *extprocv3.ProcessingResponse_ResponseTrailers:
		return ansResponseTrailers, true
	}
	return 0, false
}

// await waits for the answer of the given kind and returns its
// CommonResponse, or nil when the exchange ended (local reply, server gone).
func (ex *exchange) await(want answerKind, timeout time.Duration, canOverrideMode bool) (*extprocv3.ProcessingResponse, error) {
	overridden := false
	for {
		r, err := ex.in.next(timeout)
		if errors.Is(err, errTimeout) {
			if ex.cfg.FailureModeAllow {
				ex.done = true
				ex.res.ServerAbandoned = true
				return nil, nil
			}
			ex.local(504, "ext_proc_error_per-message_timeout_exceeded")
			return nil, nil
		}
		if err != nil {
			return nil, ex.streamFailed(err)
		}
		ex.mergeMetadata(r.GetDynamicMetadata())
		if r.GetOverrideMessageTimeout() != nil {
			d := r.GetOverrideMessageTimeout().AsDuration()
			if !overridden && ex.cfg.MaxMessageTimeout > 0 && d >= time.Millisecond && d <= ex.cfg.MaxMessageTimeout {
				overridden = true
				timeout = d
			}
			continue
		}
		if ir := r.GetImmediateResponse(); ir != nil {
			ex.immediate(ir)
			return nil, nil
		}
		k, ok := kindOf(r)
		if !ok {
			if r.GetModeOverride() != nil && canOverrideMode {
				ex.applyOverride(r.GetModeOverride())
				continue
			}
			return nil, ex.spurious("answer with no response set")
		}
		if k != want {
			return nil, ex.spurious(fmt.Sprintf("answer kind %d while waiting for %d", k, want))
		}
		return r, nil
	}
}

func (ex *exchange) spurious(why string) error {
	ex.res.StreamErr = fmt.Errorf("spurious message: %s", why)
	if ex.cfg.FailureModeAllow {
		ex.done = true
		ex.res.ServerAbandoned = true
		return nil
	}
	ex.local(500, "ext_proc_error_spurious_message")
	return nil
}

func (ex *exchange) immediate(ir *extprocv3.ImmediateResponse) {
	code := int(ir.GetStatus().GetCode())
	if code < 200 {
		// Envoy's default for a missing or informational status.
		code = 200
	}
	lr := &LocalReply{Status: code, Body: ir.GetBody(), Details: ir.GetDetails(), FromServer: true}
	msg := &Message{}
	if err := applyHeaders(msg, ir.GetHeaders()); err != nil {
		ex.local(500, "ext_proc_error_invalid_mutation")
		return
	}
	lr.Headers = msg.Headers
	ex.done = true
	ex.res.Local = lr
}

func (ex *exchange) mergeMetadata(md *structpb.Struct) {
	if md == nil {
		return
	}
	if ex.res.Metadata == nil {
		ex.res.Metadata = &structpb.Struct{Fields: map[string]*structpb.Value{}}
	}
	for ns, v := range md.GetFields() {
		cur := ex.res.Metadata.Fields[ns].GetStructValue()
		if cur == nil {
			cur = &structpb.Struct{Fields: map[string]*structpb.Value{}}
			ex.res.Metadata.Fields[ns] = structpb.NewStructValue(cur)
		}
		for k, fv := range v.GetStructValue().GetFields() {
			cur.Fields[k] = fv
		}
	}
}

// applyOverride follows Envoy: header and trailer modes of DEFAULT keep the
// configured value, but body modes have no "unchanged" value, so both
// directions' body modes are taken as sent.
func (ex *exchange) applyOverride(m *procv3.ProcessingMode) {
	cur := ex.cfg.Mode
	if !ex.cfg.AllowModeOverride || ex.cfg.SendBodyWithoutWaiting ||
		cur.GetRequestBodyMode() == procv3.ProcessingMode_FULL_DUPLEX_STREAMED ||
		cur.GetResponseBodyMode() == procv3.ProcessingMode_FULL_DUPLEX_STREAMED {
		return
	}
	cur.RequestBodyMode = m.GetRequestBodyMode()
	cur.ResponseBodyMode = m.GetResponseBodyMode()
	if v := m.GetRequestTrailerMode(); v != procv3.ProcessingMode_DEFAULT {
		cur.RequestTrailerMode = v
	}
	if v := m.GetResponseHeaderMode(); v != procv3.ProcessingMode_DEFAULT {
		cur.ResponseHeaderMode = v
	}
	if v := m.GetResponseTrailerMode(); v != procv3.ProcessingMode_DEFAULT {
		cur.ResponseTrailerMode = v
	}
}

// Headers Envoy ignores in set_headers, and may not remove.
func ignoredSet(k string) bool {
	return strings.HasPrefix(k, "x-envoy-") || k == ":method" || k == ":authority" || k == ":scheme" || k == "host"
}

func applyHeaders(m *Message, hm *extprocv3.HeaderMutation) error {
	if hm == nil {
		return nil
	}
	for _, k := range hm.GetRemoveHeaders() {
		k = strings.ToLower(k)
		if strings.HasPrefix(k, ":") || k == "host" {
			continue
		}
		m.Headers = removeKey(m.Headers, k)
	}
	for _, o := range hm.GetSetHeaders() {
		h := o.GetHeader()
		k := strings.ToLower(h.GetKey())
		if h.GetValue() != "" && len(h.GetRawValue()) > 0 {
			return errors.New("only one of value or raw_value may be set")
		}
		if ignoredSet(k) {
			continue
		}
		// Envoy 1.27+ reads raw_value only; a value-only header arrives empty.
		v := string(h.GetRawValue())
		action := o.GetAppendAction()
		//lint:ignore SA1019 servers still send the deprecated append field, and Envoy still honours it
		if o.GetAppend() != nil {
			//lint:ignore SA1019 see above
			if o.GetAppend().GetValue() {
				action = corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
			} else {
				action = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
			}
		} else if action == corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD {
			// In ext_proc an unset append means overwrite, unlike elsewhere.
			action = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
		}
		exists := m.Get(k) != "" || hasKey(m.Headers, k)
		switch action {
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
			m.Headers = append(removeKey(m.Headers, k), [2]string{k, v})
		case corev3.HeaderValueOption_ADD_IF_ABSENT:
			if !exists {
				m.Headers = append(m.Headers, [2]string{k, v})
			}
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS:
			if exists {
				m.Headers = append(removeKey(m.Headers, k), [2]string{k, v})
			}
		default:
			m.Headers = append(m.Headers, [2]string{k, v})
		}
	}
	return nil
}

func hasKey(hs [][2]string, k string) bool {
	for _, h := range hs {
		if h[0] == k {
			return true
		}
	}
	return false
}

func removeKey(hs [][2]string, k string) [][2]string {
	out := hs[:0:0]
	for _, h := range hs {
		if h[0] != k {
			out = append(out, h)
		}
	}
	return out
}

func headerMap(hs [][2]string) *corev3.HeaderMap {
	m := &corev3.HeaderMap{}
	for _, h := range hs {
		m.Headers = append(m.Headers, &corev3.HeaderValue{Key: h[0], RawValue: []byte(h[1])})
	}
	return m
}
