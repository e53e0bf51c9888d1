package filter

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/corazawaf/coraza/v3/types"
	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/verdict"
	"github.com/bulwark-waf/bulwark/waf"
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

// direction is the state of one half of the exchange.
type direction struct {
	mode         bodyMode
	headersSeen  bool
	eos          bool // the last body byte (or a bodyless header) was seen
	bodyMessages int
	bodyBytes    int
	trailersSeen bool
	// done: the body phase (2 or 4) has run; later body bytes pass.
	done bool
	// FULL_DUPLEX_STREAMED: answers and bytes held until the verdict.
	holding     bool
	heldHeaders *mutation
	heldBody    [][]byte
	// extended: an override_message_timeout went out (Envoy honours one
	// per direction).
	extended bool
}

// stream is one ext_proc stream, i.e. one HTTP request and its response.
type stream struct {
	ctx    context.Context
	opts   *Options
	engine *waf.Engine
	tx     types.Transaction
	start  time.Time

	id, accept, method, uri, client string
	proto                           string
	req, resp                       direction
	first                           bool
	noWait                          bool // send_body_without_waiting_for_header_response
	observability                   bool

	// sendEarly sends an answer ahead of the current message's real one
	// (override_message_timeout).
	sendEarly  func(*extprocv3.ProcessingResponse) error
	blocked    bool // an ImmediateResponse went out; ignore the rest
	failedOpen bool
	action     string // allow, flag, block, would_block, error_open, error_closed
	respAction string
	verdict    waf.Verdict
	respVerd   waf.Verdict

	policy        verdict.Policy
	ml            *model.Scores
	decision      *verdict.Decision
	clientKey     string
	recentAttacks int
	reqHeaders    [][2]string // without pseudo-headers, host included
	blockRule     int
	finished      bool
}

func newStream(ctx context.Context, opts *Options) *stream {
	return &stream{
		ctx: ctx, opts: opts, engine: opts.Engine, start: time.Now(), first: true,
		req:  direction{mode: opts.RequestBodyMode},
		resp: direction{mode: opts.ResponseBodyMode},
	}
}

func (st *stream) handle(req *extprocv3.ProcessingRequest) ([]*extprocv3.ProcessingResponse, error) {
	if req.GetObservabilityMode() {
		st.observability = true
	}
	if st.first {
		st.first = false
		if pc := req.GetProtocolConfig(); pc != nil {
			st.req.mode = pc.GetRequestBodyMode()
			st.resp.mode = pc.GetResponseBodyMode()
			st.noWait = pc.GetSendBodyWithoutWaitingForHeaderResponse()
		}
	}
	if st.blocked {
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
		return st.onBody(true, r.RequestBody)
	case *extprocv3.ProcessingRequest_RequestTrailers:
		return st.onTrailers(true)
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		return st.onResponseHeaders(r.ResponseHeaders)
	case *extprocv3.ProcessingRequest_ResponseBody:
		return st.onBody(false, r.ResponseBody)
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		return st.onTrailers(false)
	}
	return nil, protocolErr(codes.InvalidArgument, "ProcessingRequest carries none of request_headers, request_body, request_trailers, response_headers, response_body, response_trailers")
}

func (st *stream) onRequestHeaders(req *extprocv3.ProcessingRequest, h *extprocv3.HttpHeaders) ([]*extprocv3.ProcessingResponse, error) {
	switch {
	case st.req.headersSeen:
		return nil, protocolErr(codes.FailedPrecondition, "request_headers received twice on one stream")
	case st.resp.headersSeen:
		return nil, protocolErr(codes.FailedPrecondition, "request_headers received after response_headers")
	}
	st.req.headersSeen = true
	hs := headerList(h.GetHeaders())
	st.method, _ = lookup(hs, ":method")
	st.uri, _ = lookup(hs, ":path")
	if st.method == "" {
		return nil, protocolErr(codes.InvalidArgument, "request_headers without :method")
	}
	if st.uri == "" {
		if st.method != "CONNECT" {
			return nil, protocolErr(codes.InvalidArgument, "request_headers without :path")
		}
		st.uri, _ = lookup(hs, ":authority")
	}
	st.id, _ = lookup(hs, "x-request-id")
	st.accept, _ = lookup(hs, "accept")

	attrs := attributes(req, h)
	peer, peerPort := splitAddr(attrString(attrs, "source.address"))
	srvIP, srvPort := splitAddr(attrString(attrs, "destination.address"))
	xff, _ := lookup(hs, "x-forwarded-for")
	st.client = clientIP(peer, xff, st.opts.TrustedHops)
	st.proto = attrString(attrs, "request.protocol")
	if st.proto == "" {
		st.proto = "HTTP/1.1"
	}

	strip := &mutation{}
	hasHost := false
	for _, kv := range hs {
		if strings.HasPrefix(kv[0], ":") {
			continue
		}
		if kv[0] == "host" {
			hasHost = true
		}
		if strings.HasPrefix(kv[0], st.opts.HeaderPrefix) && !contains(strip.remove, kv[0]) {
			// Upstreams trust these headers to come from Bulwark.
			strip.remove = append(strip.remove, kv[0])
		}
		st.reqHeaders = append(st.reqHeaders, kv)
	}
	auth, hasAuth := lookup(hs, ":authority")
	if hasAuth && !hasHost {
		st.reqHeaders = append(st.reqHeaders, [2]string{"host", auth})
	}
	st.selectPolicy(req, attrs, auth)
	st.tx = st.engine.NewTransaction(st.ctx, st.id)
	if st.id == "" {
		st.id = st.tx.ID()
	}
	tx := st.tx
	st.prepareDecision()
	tx.ProcessConnection(st.client, peerPort, srvIP, srvPort)
	tx.ProcessURI(st.uri, st.method, st.proto)
	var cookies waf.CookieNames
	for _, kv := range st.reqHeaders {
		v := kv[1]
		if kv[0] == "cookie" {
			v = cookies.Header(v)
		}
		tx.AddRequestHeader(kv[0], v)
	}
	if hasAuth {
		tx.SetServerName(stripPort(auth))
	}
	if it := tx.ProcessRequestHeaders(); it != nil {
		return st.block(it, true), nil
	}

	d := &st.req
	if h.GetEndOfStream() {
		d.eos = true
	}
	if d.eos || d.mode == modeNone || !tx.IsRequestBodyAccessible() {
		// No body will be inspected: decide now, on the headers answer.
		if out, err := st.evaluate(true); out != nil || err != nil {
			return out, err
		}
		st.verdictHeaders(strip)
		ans := requestHeadersAnswer(strip)
		ans.DynamicMetadata = st.metadata()
		if !d.eos && st.canOverride(d.mode) {
			ans.ModeOverride = skipBody(true, st.resp.mode)
		}
		return []*extprocv3.ProcessingResponse{ans}, nil
	}
	if d.mode == modeFullDuplex {
		d.holding = true
		d.heldHeaders = strip
		return nil, nil
	}
	return []*extprocv3.ProcessingResponse{requestHeadersAnswer(strip)}, nil
}

func (st *stream) onResponseHeaders(h *extprocv3.HttpHeaders) ([]*extprocv3.ProcessingResponse, error) {
	if st.resp.headersSeen {
		return nil, protocolErr(codes.FailedPrecondition, "response_headers received twice on one stream")
	}
	st.resp.headersSeen = true
	if !st.req.headersSeen {
		// A local reply from an earlier filter: there is no request to
		// inspect, and the reply is Envoy's own.
		st.resp.done = true
		return []*extprocv3.ProcessingResponse{responseHeadersAnswer(nil)}, nil
	}
	hs := headerList(h.GetHeaders())
	code, err := strconv.Atoi(first(lookup(hs, ":status")))
	if err != nil || code < 100 || code > 999 {
		return nil, protocolErr(codes.InvalidArgument, "response_headers with a missing or invalid :status")
	}
	if !st.req.done {
		// The upstream answered before the request body ended: decide on
		// what was seen. Held FULL_DUPLEX bytes cannot exist here, because
		// the upstream never got the request headers. The request verdict
		// rides on the response answer's metadata.
		if out, err := st.evaluate(true); out != nil || err != nil {
			return out, err
		}
	}
	tx := st.tx
	for _, kv := range hs {
		if !strings.HasPrefix(kv[0], ":") {
			tx.AddResponseHeader(kv[0], kv[1])
		}
	}
	if it := tx.ProcessResponseHeaders(code, st.proto); it != nil {
		return st.block(it, false), nil
	}
	d := &st.resp
	if h.GetEndOfStream() {
		d.eos = true
	}
	if d.eos || d.mode == modeNone || !tx.IsResponseBodyAccessible() || !tx.IsResponseBodyProcessable() {
		if out, err := st.evaluate(false); out != nil || err != nil {
			return out, err
		}
		ans := responseHeadersAnswer(nil)
		ans.DynamicMetadata = st.metadata()
		if !d.eos && st.canOverride(d.mode) {
			ans.ModeOverride = skipBody(false, st.req.mode)
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

// onBody handles a body chunk for either direction.
func (st *stream) onBody(request bool, b *extprocv3.HttpBody) ([]*extprocv3.ProcessingResponse, error) {
	d, name := st.dir(request)
	switch {
	case !d.headersSeen:
		return nil, protocolErr(codes.FailedPrecondition, "%s_body before %s_headers", name, name)
	case d.trailersSeen:
		return nil, protocolErr(codes.FailedPrecondition, "%s_body after %s_trailers", name, name)
	case d.eos:
		return nil, protocolErr(codes.FailedPrecondition, "%s_body after end_of_stream", name)
	case !request && !st.req.headersSeen:
		// Local reply: nothing to inspect.
		return []*extprocv3.ProcessingResponse{st.passBody(request, d, b)}, nil
	}
	d.bodyMessages++
	d.eos = b.GetEndOfStream()
	chunk := b.GetBody()
	d.bodyBytes += len(chunk)
	buffered := d.mode == modeBuffered || d.mode == modePartial
	if buffered && d.bodyMessages > 1 {
		return nil, protocolErr(codes.FailedPrecondition, "second %s_body message in %s mode", name, d.mode)
	}
	if d.done {
		// The verdict is in (no body needed, or a partial body was judged):
		// the rest passes.
		return []*extprocv3.ProcessingResponse{st.passBody(request, d, b)}, nil
	}
	if it, err := st.write(request, chunk); err != nil {
		return nil, err
	} else if it != nil {
		return st.block(it, request), nil
	}
	if d.holding {
		d.heldBody = append(d.heldBody, chunk)
	}
	complete := d.eos || buffered
	overLimit := d.bodyBytes > st.limit(request)
	if d.mode == modePartial && !d.eos {
		// Envoy hit its buffer limit; the rest bypasses ext_proc.
		overLimit = true
	}
	if overLimit && st.limitAction(request) == waf.LimitReject {
		return st.tooLarge(request), nil
	}
	if !complete && !overLimit {
		if d.holding {
			return nil, nil
		}
		return []*extprocv3.ProcessingResponse{st.bodyContinue(request, nil)}, nil
	}
	st.extendTimeout(d)
	if out, err := st.evaluate(request); out != nil || err != nil {
		return out, err
	}
	if d.holding {
		return st.release(request, d.eos), nil
	}
	var m *mutation
	if request && buffered {
		// Headers are still held by Envoy in the buffered modes.
		m = &mutation{}
		st.verdictHeaders(m)
	}
	ans := st.bodyContinue(request, m)
	ans.DynamicMetadata = st.metadata()
	return []*extprocv3.ProcessingResponse{ans}, nil
}

func (st *stream) onTrailers(request bool) ([]*extprocv3.ProcessingResponse, error) {
	d, name := st.dir(request)
	switch {
	case !d.headersSeen:
		return nil, protocolErr(codes.FailedPrecondition, "%s_trailers before %s_headers", name, name)
	case d.trailersSeen:
		return nil, protocolErr(codes.FailedPrecondition, "%s_trailers received twice", name)
	}
	d.trailersSeen = true
	var out []*extprocv3.ProcessingResponse
	if !d.done && (request || st.req.headersSeen) {
		// Trailers end the body even when the last chunk said
		// end_of_stream=false.
		if out, err := st.evaluate(request); out != nil || err != nil {
			return out, err
		}
		if d.holding {
			out = st.release(request, false)
		}
		ans := trailersAnswer(request)
		ans.DynamicMetadata = st.metadata()
		return append(out, ans), nil
	}
	return []*extprocv3.ProcessingResponse{trailersAnswer(request)}, nil
}

// extendTimeout asks Envoy for more time before inspecting a large body:
// CRS costs about 12 µs per KB, which a 200 ms message_timeout does not
// cover for bodies of tens of KB. Envoy applies no timeout in FULL_DUPLEX
// or observability mode, and honours one override per direction.
func (st *stream) extendTimeout(d *direction) {
	if st.opts.SlowBodyBytes <= 0 || st.opts.SlowBodyTimeout <= 0 || d.bodyBytes < st.opts.SlowBodyBytes ||
		d.mode == modeFullDuplex || st.observability || d.extended || st.sendEarly == nil {
		return
	}
	d.extended = true
	_ = st.sendEarly(&extprocv3.ProcessingResponse{OverrideMessageTimeout: durationpb.New(st.opts.SlowBodyTimeout)})
}

func (st *stream) dir(request bool) (*direction, string) {
	if request {
		return &st.req, "request"
	}
	return &st.resp, "response"
}

func (st *stream) write(request bool, chunk []byte) (*types.Interruption, error) {
	if len(chunk) == 0 {
		return nil, nil
	}
	var it *types.Interruption
	var err error
	if request {
		it, _, err = st.tx.WriteRequestBody(chunk)
	} else {
		it, _, err = st.tx.WriteResponseBody(chunk)
	}
	if err != nil {
		return nil, wrapInternal("writing body to coraza", err)
	}
	return it, nil
}

func (st *stream) limit(request bool) int {
	if request {
		return st.engine.Config().RequestBodyLimit
	}
	return st.engine.Config().ResponseBodyLimit
}

func (st *stream) limitAction(request bool) string {
	if request {
		return st.engine.Config().RequestBodyLimitAction
	}
	return st.engine.Config().ResponseBodyLimitAction
}

// canOverride says whether a mode_override will be honoured: Envoy ignores
// it for FULL_DUPLEX_STREAMED and when bodies are sent without waiting.
func (st *stream) canOverride(m bodyMode) bool {
	return st.opts.ModeOverride && !st.noWait && m != modeNone && m != modeFullDuplex
}

func (st *stream) bodyContinue(request bool, m *mutation) *extprocv3.ProcessingResponse {
	if request {
		return requestBodyAnswer(m)
	}
	return responseBodyAnswer(m)
}

// passBody answers a chunk that needs no inspection.
func (st *stream) passBody(request bool, d *direction, b *extprocv3.HttpBody) *extprocv3.ProcessingResponse {
	if d.mode == modeFullDuplex {
		return streamedBodyAnswer(request, b.GetBody(), b.GetEndOfStream())
	}
	return st.bodyContinue(request, nil)
}

// release sends the held FULL_DUPLEX answers: headers first, then the held
// bytes in order, as Envoy requires.
func (st *stream) release(request bool, eos bool) []*extprocv3.ProcessingResponse {
	d, _ := st.dir(request)
	var out []*extprocv3.ProcessingResponse
	if request {
		m := d.heldHeaders
		if m == nil {
			m = &mutation{}
		}
		st.verdictHeaders(m)
		ans := requestHeadersAnswer(m)
		ans.DynamicMetadata = st.metadata()
		out = append(out, ans)
	} else {
		ans := responseHeadersAnswer(nil)
		ans.DynamicMetadata = st.metadata()
		out = append(out, ans)
	}
	var pending []byte
	flush := func(last bool) {
		out = append(out, streamedBodyAnswer(request, pending, last))
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

func first(s string, _ bool) string { return s }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func stripPort(hostport string) string {
	if strings.HasPrefix(hostport, "[") {
		if i := strings.Index(hostport, "]"); i > 0 {
			return hostport[1:i]
		}
	}
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[:i], ":") {
		return hostport[:i]
	}
	return hostport
}
