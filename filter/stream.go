package filter

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/model"
)

type bodyMode = procmodev3.ProcessingMode_BodySendMode

const (
	modeNone       = procmodev3.ProcessingMode_NONE
	modeStreamed   = procmodev3.ProcessingMode_STREAMED
	modeBuffered   = procmodev3.ProcessingMode_BUFFERED
	modePartial    = procmodev3.ProcessingMode_BUFFERED_PARTIAL
	modeFullDuplex = procmodev3.ProcessingMode_FULL_DUPLEX_STREAMED
)

// maxStreamedAnswer keeps each released FULL_DUPLEX chunk at the size Envoy
// recommends.
const maxStreamedAnswer = 64 << 10

// phase is where one direction stands.
type phase int

const (
	phaseStart   phase = iota // its headers have not come
	phaseBody                 // headers seen, the body is being inspected
	phaseJudged               // the body phase ran (or no body will be inspected); later bytes pass
	phaseRefused              // an ImmediateResponse went out for this direction
)

// half is the protocol state of one direction of the exchange.
type half struct {
	dir          inspect.Direction
	mode         bodyMode
	phase        phase
	eos          bool // the last body byte (or a bodyless header) was seen
	bodyMessages int
	bodyBytes    int
	trailersSeen bool
	// FULL_DUPLEX_STREAMED: answers and bytes held until the verdict.
	holding     bool
	heldHeaders *mutation
	heldBody    [][]byte
	// extended: an override_message_timeout went out (Envoy honours one
	// per direction).
	extended bool
	// length is the Content-Length the headers announced, -1 when none.
	length int
}

// complete reports whether the whole body has been seen: end_of_stream, or
// Content-Length bytes. With trailers Envoy's last chunk says
// end_of_stream=false, and with request_trailer_mode SKIP no trailers
// message follows, so without the length the body would never be judged
// before its last byte went upstream.
func (h *half) complete() bool {
	return h.eos || (h.length >= 0 && h.bodyBytes >= h.length)
}

func (h *half) headersSeen() bool { return h.phase != phaseStart }
func (h *half) judged() bool      { return h.phase >= phaseJudged }
func (h *half) buffered() bool    { return h.mode == modeBuffered || h.mode == modePartial }

// headersAnswer is the answer to this direction's headers message.
func (h *half) headersAnswer(m *mutation) *extprocv3.ProcessingResponse {
	if h.dir == inspect.Inbound {
		return requestHeadersAnswer(m)
	}
	return responseHeadersAnswer(m)
}

// bodyAnswer continues a body chunk of this direction.
func (h *half) bodyAnswer(m *mutation) *extprocv3.ProcessingResponse {
	if h.dir == inspect.Inbound {
		return requestBodyAnswer(m)
	}
	return responseBodyAnswer(m)
}

// passBody answers a chunk that needs no inspection.
func (h *half) passBody(b *extprocv3.HttpBody) *extprocv3.ProcessingResponse {
	if h.mode == modeFullDuplex {
		return streamedBodyAnswer(h.dir == inspect.Inbound, b.GetBody(), b.GetEndOfStream())
	}
	return h.bodyAnswer(nil)
}

// stream is one ext_proc stream, i.e. one HTTP request and its response:
// the protocol state of both halves, and the exchange the core inspects.
type stream struct {
	ctx   context.Context
	opts  *Options
	start time.Time

	x   Exchange // nil until the request headers came, or until the body while deferred
	req *model.Request
	// deferred is the request whose exchange has not begun: Envoy holds the
	// request in a buffered body mode, so nothing reaches the upstream
	// before Bulwark answers the body, and the Coraza transaction (about
	// 40 KB with CRS's phase-1 state) need not live while the body
	// arrives. beginDeferred starts it.
	deferred *inspect.Head
	// parked: the exchange released its transaction while the stream waits
	// for the request body (Options.MaxWaitingTransactions);
	// beginDeferred resumes it.
	parked bool

	accept string
	first  bool
	noWait bool // send_body_without_waiting_for_header_response
	// sawProtocolConfig: Envoy said its body modes (1.34 and later);
	// otherwise the modes are the configured assumption.
	sawProtocolConfig bool
	observability     bool
	in, out           half

	// sendEarly sends an answer ahead of the current message's real one
	// (override_message_timeout).
	sendEarly func(*extprocv3.ProcessingResponse) error
	// refused: an ImmediateResponse went out; Envoy ignores the rest.
	refused bool
	// failedOpen: inspection failed under fail-open; everything passes.
	failedOpen bool
	// failAction is error_open or error_closed when the stream failed
	// before or outside an exchange.
	failAction inspect.Action
	finished   bool
}

func newStream(ctx context.Context, opts *Options) *stream {
	return &stream{
		ctx: ctx, opts: opts, start: time.Now(), first: true,
		in:  half{dir: inspect.Inbound, mode: opts.RequestBodyMode, length: -1},
		out: half{dir: inspect.Outbound, mode: opts.ResponseBodyMode, length: -1},
	}
}

func (st *stream) handle(req *extprocv3.ProcessingRequest) ([]*extprocv3.ProcessingResponse, error) {
	if req.GetObservabilityMode() {
		st.observability = true
	}
	if st.first {
		st.first = false
		if pc := req.GetProtocolConfig(); pc != nil {
			st.sawProtocolConfig = true
			st.in.mode = pc.GetRequestBodyMode()
			st.out.mode = pc.GetResponseBodyMode()
			st.noWait = pc.GetSendBodyWithoutWaitingForHeaderResponse()
		}
	}
	if st.refused {
		// Envoy may have sent these before it saw our immediate response;
		// it ignores answers from now on.
		return nil, nil
	}
	if st.failedOpen {
		return st.passthrough(req), nil
	}
	switch r := req.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		return st.onRequestHeaders(req, r.RequestHeaders)
	case *extprocv3.ProcessingRequest_RequestBody:
		return st.onBody(&st.in, r.RequestBody)
	case *extprocv3.ProcessingRequest_RequestTrailers:
		return st.onTrailers(&st.in)
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		return st.onResponseHeaders(r.ResponseHeaders)
	case *extprocv3.ProcessingRequest_ResponseBody:
		return st.onBody(&st.out, r.ResponseBody)
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		return st.onTrailers(&st.out)
	}
	return nil, protocolErr(codes.InvalidArgument, "ProcessingRequest carries none of request_headers, request_body, request_trailers, response_headers, response_body, response_trailers")
}

func (st *stream) onRequestHeaders(req *extprocv3.ProcessingRequest, h *extprocv3.HttpHeaders) ([]*extprocv3.ProcessingResponse, error) {
	switch {
	case st.in.headersSeen():
		return nil, protocolErr(codes.FailedPrecondition, "request_headers received twice on one stream")
	case st.out.headersSeen():
		return nil, protocolErr(codes.FailedPrecondition, "request_headers received after response_headers")
	}
	st.in.phase = phaseBody
	hs := headerList(h.GetHeaders())
	r := &model.Request{}
	r.Method, _ = lookup(hs, ":method")
	r.URI, _ = lookup(hs, ":path")
	if r.Method == "" {
		return nil, protocolErr(codes.InvalidArgument, "request_headers without :method")
	}
	if r.URI == "" {
		if r.Method != "CONNECT" {
			return nil, protocolErr(codes.InvalidArgument, "request_headers without :path")
		}
		r.URI, _ = lookup(hs, ":authority")
	}
	r.ID, _ = lookup(hs, "x-request-id")
	st.accept, _ = lookup(hs, "accept")
	st.in.length = contentLength(hs)

	attrs := attributes(req, h)
	peer, peerPort := splitAddr(attrString(attrs, "source.address"))
	r.ServerIP, r.ServerPort = splitAddr(attrString(attrs, "destination.address"))
	xff, _ := lookup(hs, "x-forwarded-for")
	r.ClientIP, r.ClientPort = clientIP(peer, xff, st.opts.TrustedHops), peerPort
	r.Proto = attrString(attrs, "request.protocol")

	strip := &mutation{}
	hasHost := false
	for _, kv := range hs {
		if strings.HasPrefix(kv[0], ":") {
			continue
		}
		if kv[0] == "host" {
			hasHost = true
		}
		if strings.HasPrefix(kv[0], st.opts.HeaderPrefix) && !slices.Contains(strip.remove, kv[0]) {
			// Upstreams trust these headers to come from Bulwark.
			strip.remove = append(strip.remove, kv[0])
		}
		r.Headers = append(r.Headers, kv)
	}
	auth, hasAuth := lookup(hs, ":authority")
	if hasAuth && !hasHost {
		r.Headers = append(r.Headers, [2]string{"host", auth})
	}
	path, _, _ := strings.Cut(r.URI, "?")
	key := inspect.Key{RouteName: attrString(attrs, "xds.route_name"), Host: auth, Path: path}
	if md := req.GetMetadataContext().GetFilterMetadata()[st.opts.MetadataNamespace]; md != nil {
		key.Policy = md.GetFields()["policy"].GetStringValue()
	}
	st.req = r
	d := &st.in
	if h.GetEndOfStream() {
		d.eos = true
	}
	if st.opts.DeferBuffered && !d.eos && st.sawProtocolConfig && d.buffered() {
		// Envoy said it buffers the body and keeps the request until the
		// body is answered: phase 1 runs then, on the same headers, and a
		// phase-1 block comes on the body answer instead.
		st.deferred = &inspect.Head{Request: r, Route: key}
		return []*extprocv3.ProcessingResponse{requestHeadersAnswer(strip)}, nil
	}
	st.x = st.opts.Core.Begin(st.ctx, inspect.Head{Request: r, Route: key})
	if it := st.x.RequestHeaders(); it != nil {
		return st.block(&st.in, it), nil
	}

	if d.eos || d.mode == modeNone || !st.x.RequestBodyAccessible() {
		// No body will be inspected: decide now, on the headers answer.
		if out, err := st.judge(d); out != nil || err != nil {
			return out, err
		}
		st.verdictHeaders(strip)
		ans := requestHeadersAnswer(strip)
		ans.DynamicMetadata = st.metadata()
		if !d.eos && st.canOverride(d.mode) {
			ans.ModeOverride = skipBody(inspect.Inbound, st.out.mode)
		}
		return []*extprocv3.ProcessingResponse{ans}, nil
	}
	if d.mode == modeFullDuplex {
		d.holding = true
		d.heldHeaders = strip
		return nil, nil
	}
	ans := requestHeadersAnswer(strip)
	if st.canOverride(d.mode) && (d.mode == modeStreamed || !st.sawProtocolConfig) {
		// Pin what the body inspection relies on, where Envoy honours
		// overrides: the body mode Bulwark assumed when Envoy (before 1.34)
		// did not say, and request trailers, so that a chunked body whose
		// trailers would be skipped still ends in a message Bulwark sees.
		ans.ModeOverride = &procmodev3.ProcessingMode{RequestBodyMode: d.mode, ResponseBodyMode: st.out.mode,
			RequestTrailerMode: procmodev3.ProcessingMode_SEND}
	}
	return []*extprocv3.ProcessingResponse{ans}, nil
}

func (st *stream) onResponseHeaders(h *extprocv3.HttpHeaders) ([]*extprocv3.ProcessingResponse, error) {
	if st.out.headersSeen() {
		return nil, protocolErr(codes.FailedPrecondition, "response_headers received twice on one stream")
	}
	if !st.in.headersSeen() {
		// A local reply from an earlier filter: there is no request to
		// inspect, and the reply is Envoy's own.
		st.out.phase = phaseJudged
		return []*extprocv3.ProcessingResponse{responseHeadersAnswer(nil)}, nil
	}
	st.out.phase = phaseBody
	hs := headerList(h.GetHeaders())
	s, _ := lookup(hs, ":status")
	code, err := strconv.Atoi(s)
	if err != nil || code < 100 || code > 999 {
		return nil, protocolErr(codes.InvalidArgument, "response_headers with a missing or invalid :status")
	}
	if out := st.beginDeferred(); out != nil {
		return out, nil
	}
	if !st.in.judged() {
		// The upstream answered before the request body ended: decide on
		// what was seen. Held FULL_DUPLEX bytes cannot exist here, because
		// the upstream never got the request headers. The request verdict
		// rides on the response answer's metadata.
		if out, err := st.judge(&st.in); out != nil || err != nil {
			return out, err
		}
	}
	plain := hs[:0:0]
	for _, kv := range hs {
		if !strings.HasPrefix(kv[0], ":") {
			plain = append(plain, kv)
		}
	}
	if it := st.x.ResponseHeaders(code, st.req.Proto, plain); it != nil {
		return st.block(&st.out, it), nil
	}
	d := &st.out
	d.length = contentLength(hs)
	if h.GetEndOfStream() {
		d.eos = true
	}
	if d.eos || d.mode == modeNone || !st.x.ResponseBodyAccessible() {
		if out, err := st.judge(d); out != nil || err != nil {
			return out, err
		}
		ans := responseHeadersAnswer(nil)
		ans.DynamicMetadata = st.metadata()
		if !d.eos && st.canOverride(d.mode) {
			ans.ModeOverride = skipBody(inspect.Outbound, st.in.mode)
		}
		return []*extprocv3.ProcessingResponse{ans}, nil
	}
	if d.mode == modeFullDuplex {
		d.holding = true
		return nil, nil
	}
	ans := responseHeadersAnswer(nil)
	ans.DynamicMetadata = st.metadata()
	return []*extprocv3.ProcessingResponse{ans}, nil
}

// onBody handles a body chunk of direction d.
func (st *stream) onBody(d *half, b *extprocv3.HttpBody) ([]*extprocv3.ProcessingResponse, error) {
	name := d.dir.String()
	switch {
	case !d.headersSeen():
		return nil, protocolErr(codes.FailedPrecondition, "%s_body before %s_headers", name, name)
	case d.trailersSeen:
		return nil, protocolErr(codes.FailedPrecondition, "%s_body after %s_trailers", name, name)
	case d.eos:
		return nil, protocolErr(codes.FailedPrecondition, "%s_body after end_of_stream", name)
	case d.dir == inspect.Outbound && !st.in.headersSeen():
		// Local reply: nothing to inspect.
		return []*extprocv3.ProcessingResponse{d.passBody(b)}, nil
	}
	d.bodyMessages++
	d.eos = b.GetEndOfStream()
	chunk := b.GetBody()
	d.bodyBytes += len(chunk)
	if d.buffered() && d.bodyMessages > 1 {
		return nil, protocolErr(codes.FailedPrecondition, "second %s_body message in %s mode", name, d.mode)
	}
	if d.judged() {
		// The verdict is in (no body needed, or a partial body was judged):
		// the rest passes.
		return []*extprocv3.ProcessingResponse{d.passBody(b)}, nil
	}
	if out := st.beginDeferred(); out != nil {
		return out, nil
	}
	var it *inspect.Interruption
	var err error
	if d.dir == inspect.Inbound {
		if st.x.RequestBodyAccessible() {
			it, err = st.x.WriteRequestBody(chunk)
		}
	} else {
		it, err = st.x.WriteResponseBody(chunk)
	}
	if err != nil {
		return nil, wrapInternal("writing body", err)
	}
	if it != nil {
		return st.block(d, it), nil
	}
	if d.holding {
		d.heldBody = append(d.heldBody, chunk)
	}
	complete := d.complete() || d.buffered()
	limit := st.x.Limits()
	overLimit := d.bodyBytes > limit.Body(d.dir).Bytes
	if d.mode == modePartial && !d.complete() {
		// Envoy hit its buffer limit; the rest bypasses ext_proc. A whole
		// body followed by trailers (gRPC-web) says end_of_stream=false
		// too, but its Content-Length tells it apart.
		overLimit = true
	}
	if overLimit && limit.Body(d.dir).Reject && !limit.DetectionOnly {
		return st.tooLarge(d), nil
	}
	if !complete && !overLimit {
		if d.holding {
			return nil, nil
		}
		return []*extprocv3.ProcessingResponse{d.bodyAnswer(nil)}, nil
	}
	st.extendTimeout(d)
	if out, err := st.judge(d); out != nil || err != nil {
		return out, err
	}
	if body, m, ok := st.masked(); ok && d.dir == inspect.Outbound {
		if d.holding {
			d.heldBody = [][]byte{body}
			d.heldHeaders = m
			return st.release(d, d.eos), nil
		}
		ans := d.bodyAnswer(m)
		ans.GetResponseBody().Response.BodyMutation = &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_Body{Body: body}}
		ans.DynamicMetadata = st.metadata()
		return []*extprocv3.ProcessingResponse{ans}, nil
	}
	if d.holding {
		return st.release(d, d.eos), nil
	}
	var m *mutation
	if d.dir == inspect.Inbound && d.buffered() {
		// Headers are still held by Envoy in the buffered modes.
		m = &mutation{}
		st.verdictHeaders(m)
	}
	ans := d.bodyAnswer(m)
	ans.DynamicMetadata = st.metadata()
	return []*extprocv3.ProcessingResponse{ans}, nil
}

func (st *stream) onTrailers(d *half) ([]*extprocv3.ProcessingResponse, error) {
	name := d.dir.String()
	switch {
	case !d.headersSeen():
		return nil, protocolErr(codes.FailedPrecondition, "%s_trailers before %s_headers", name, name)
	case d.trailersSeen:
		return nil, protocolErr(codes.FailedPrecondition, "%s_trailers received twice", name)
	}
	d.trailersSeen = true
	if out := st.beginDeferred(); out != nil {
		return out, nil
	}
	if !d.judged() && (d.dir == inspect.Inbound || st.in.headersSeen()) {
		// Trailers end the body even when the last chunk said
		// end_of_stream=false.
		if out, err := st.judge(d); out != nil || err != nil {
			return out, err
		}
		var out []*extprocv3.ProcessingResponse
		if d.holding {
			out = st.release(d, false)
		}
		ans := trailersAnswer(d.dir)
		ans.DynamicMetadata = st.metadata()
		return append(out, ans), nil
	}
	return []*extprocv3.ProcessingResponse{trailersAnswer(d.dir)}, nil
}

// awaitingBody reports whether the stream passed phase 1 and waits for a
// request body of which nothing reached the exchange yet, with its
// transaction alive: what park can release.
func (st *stream) awaitingBody() bool {
	return st.x != nil && !st.parked && !st.finished && !st.refused && !st.failedOpen &&
		st.in.phase == phaseBody && st.in.bodyMessages == 0 && !st.in.trailersSeen &&
		!st.in.holding && !st.out.headersSeen()
}

// park releases the exchange's transaction until the next message.
func (st *stream) park() {
	st.x.Park()
	st.parked = true
	st.opts.Metrics.parked.Inc()
}

// beginDeferred starts the exchange of a deferred request, or resumes a
// parked one, and runs phase 1 on its headers. It returns the block answer
// when phase 1 refuses the request, nil otherwise (nothing deferred or
// parked included).
func (st *stream) beginDeferred() []*extprocv3.ProcessingResponse {
	if st.parked {
		st.parked = false
		if it := st.x.Resume(); it != nil {
			return st.block(&st.in, it)
		}
		return nil
	}
	if st.deferred == nil {
		return nil
	}
	h := *st.deferred
	st.deferred = nil
	st.x = st.opts.Core.Begin(st.ctx, h)
	if it := st.x.RequestHeaders(); it != nil {
		return st.block(&st.in, it)
	}
	return nil
}

// judge runs the body phase of d on what has been written and returns the
// block answer when the direction is refused, or nil to continue.
func (st *stream) judge(d *half) ([]*extprocv3.ProcessingResponse, error) {
	d.phase = phaseJudged
	var o inspect.Outcome
	var err error
	if d.dir == inspect.Inbound {
		o, err = st.x.FinishRequest()
	} else {
		o, err = st.x.FinishResponse(st.replaceable(d))
	}
	if err != nil {
		return nil, wrapInternal(d.dir.String()+" body phase", err)
	}
	if o.Interruption != nil {
		return st.block(d, o.Interruption), nil
	}
	st.opts.Metrics.decisions.WithLabelValues(d.dir.String(), string(o.Action)).Inc()
	return nil, nil
}

// replaceable says what the processing mode still allows with d when its
// body is judged: an immediate response replaces it while Envoy holds the
// headers (the buffered modes, FULL_DUPLEX_STREAMED while holding, or no
// body message yet), and its body can be rewritten in one buffered message
// or from the held chunks.
func (st *stream) replaceable(d *half) inspect.Replace {
	switch {
	case d.holding:
		return inspect.Replace{Block: true, Body: true}
	case d.bodyMessages == 0:
		return inspect.Replace{Block: true}
	case d.mode == modeBuffered || (d.mode == modePartial && d.complete()):
		return inspect.Replace{Block: true, Body: true}
	}
	return inspect.Replace{}
}

// masked is the answer mutation for a masked response: the redacted body,
// served uncompressed with its new length.
func (st *stream) masked() ([]byte, *mutation, bool) {
	r := st.x.Report()
	if r.Response.Action != inspect.ActionMask || r.Masked == nil {
		return nil, nil, false
	}
	m := &mutation{remove: []string{"content-encoding"}, set: [][2]string{{"content-length", strconv.Itoa(len(r.Masked))}}}
	return r.Masked, m, true
}

// tooLarge refuses a body past the configured limit that Coraza itself did
// not interrupt (FULL_DUPLEX holding, BUFFERED_PARTIAL truncation).
func (st *stream) tooLarge(d *half) []*extprocv3.ProcessingResponse {
	status := 413
	if d.dir == inspect.Outbound {
		// The client did nothing wrong; the upstream sent too much.
		status = 502
	}
	return st.block(d, st.x.Refuse(d.dir, inspect.ReasonBodyTooLarge, status))
}

// block sends the block page for a refusal of d.
func (st *stream) block(d *half, it *inspect.Interruption) []*extprocv3.ProcessingResponse {
	d.phase = phaseRefused
	st.refused = true
	status := st.opts.BlockStatus
	switch {
	case it.Reason == inspect.ReasonRule && it.Status >= 200 && it.Status <= 599 && it.Status != 403:
		// A rule that names its own status (deny,status:424) gets it;
		// Coraza's default 403 becomes block.status.
		status = it.Status
	case (it.Reason == inspect.ReasonBodyTooLarge || it.Reason == inspect.ReasonLimit || it.Reason == inspect.ReasonLeak || it.Reason == inspect.ReasonBudget) && it.Status != 0:
		status = it.Status
	case it.Reason == inspect.ReasonBodyTooLarge:
		status = 413
	}
	st.opts.Metrics.decisions.WithLabelValues(d.dir.String(), string(inspect.ActionBlock)).Inc()
	st.opts.Metrics.blocked(it.RuleID)
	ans := blockPage{status: status, requestID: bounded(st.x.ID(), maxMetadataString), reason: string(it.Reason), empty: st.opts.EmptyBlockBody}.answer(st.accept)
	ans.DynamicMetadata = st.metadata()
	return []*extprocv3.ProcessingResponse{ans}
}

// extendTimeout asks Envoy for more time before inspecting a large body:
// CRS costs about 12 µs per KB, which a 200 ms message_timeout does not
// cover for bodies of tens of KB. Envoy applies no timeout in FULL_DUPLEX
// or observability mode, and honours one override per direction.
func (st *stream) extendTimeout(d *half) {
	if st.opts.SlowBodyBytes <= 0 || st.opts.SlowBodyTimeout <= 0 || d.bodyBytes < st.opts.SlowBodyBytes ||
		d.mode == modeFullDuplex || st.observability || d.extended || st.sendEarly == nil {
		return
	}
	d.extended = true
	_ = st.sendEarly(&extprocv3.ProcessingResponse{OverrideMessageTimeout: durationpb.New(st.opts.SlowBodyTimeout)})
}

// canOverride says whether a mode_override will be honoured: Envoy ignores
// it for FULL_DUPLEX_STREAMED and when bodies are sent without waiting.
func (st *stream) canOverride(m bodyMode) bool {
	return st.opts.ModeOverride && !st.noWait && m != modeNone && m != modeFullDuplex
}

// release sends the held FULL_DUPLEX answers of d: headers first, then the
// held bytes in order, as Envoy requires.
func (st *stream) release(d *half, eos bool) []*extprocv3.ProcessingResponse {
	var out []*extprocv3.ProcessingResponse
	m := d.heldHeaders
	if d.dir == inspect.Inbound {
		if m == nil {
			m = &mutation{}
		}
		st.verdictHeaders(m)
	}
	ans := d.headersAnswer(m)
	ans.DynamicMetadata = st.metadata()
	out = append(out, ans)
	var pending []byte
	flush := func(last bool) {
		out = append(out, streamedBodyAnswer(d.dir == inspect.Inbound, pending, last))
		pending = nil
	}
	for _, c := range d.heldBody {
		for len(c) > 0 {
			n := min(len(c), maxStreamedAnswer-len(pending))
			pending = append(pending, c[:n]...)
			c = c[n:]
			if len(pending) == maxStreamedAnswer {
				flush(false)
			}
		}
	}
	if len(pending) > 0 || d.bodyMessages > 0 {
		flush(eos)
	}
	d.holding = false
	d.heldBody = nil
	d.heldHeaders = nil
	return out
}

// passthrough answers a message without inspecting it, after Bulwark failed
// open on this stream. Held FULL_DUPLEX bytes are released first.
func (st *stream) passthrough(req *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
	var out []*extprocv3.ProcessingResponse
	for _, d := range []*half{&st.in, &st.out} {
		if d.holding {
			out = append(out, st.release(d, false)...)
		}
	}
	switch r := req.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		st.in.phase = phaseJudged
		out = append(out, requestHeadersAnswer(nil))
	case *extprocv3.ProcessingRequest_RequestBody:
		out = append(out, st.in.passBody(r.RequestBody))
	case *extprocv3.ProcessingRequest_RequestTrailers:
		out = append(out, trailersAnswer(inspect.Inbound))
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		st.out.phase = phaseJudged
		out = append(out, responseHeadersAnswer(nil))
	case *extprocv3.ProcessingRequest_ResponseBody:
		out = append(out, st.out.passBody(r.ResponseBody))
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		out = append(out, trailersAnswer(inspect.Outbound))
	}
	return out
}

// contentLength is the announced body length, -1 when absent or invalid.
func contentLength(hs [][2]string) int {
	v, ok := lookup(hs, "content-length")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return -1
	}
	return n
}
