package envoysim

import (
	"fmt"
	"strconv"

	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// half describes one direction for the shared body logic.
type half struct {
	request      bool
	msg          *Message
	fwd          *Message // what goes on past Envoy
	headerMode   procv3.ProcessingMode_HeaderSendMode
	trailerMode  procv3.ProcessingMode_HeaderSendMode
	bodyMode     func() procv3.ProcessingMode_BodySendMode
	bodyReleased int // bytes released before the last answer
	overLimit    int // Envoy's own status when a buffered body is too big
}

func (ex *exchange) request(req *Message) error {
	mode := ex.cfg.Mode
	fwd := &Message{Method: req.Method, Path: req.Path, Authority: req.Authority, Scheme: req.Scheme,
		Headers: append([][2]string(nil), req.Headers...), Trailers: req.Trailers}
	ex.res.Upstream = nil
	h := &half{request: true, msg: req, fwd: fwd, headerMode: mode.GetRequestHeaderMode(),
		trailerMode: mode.GetRequestTrailerMode(), bodyMode: func() procv3.ProcessingMode_BodySendMode { return ex.cfg.Mode.GetRequestBodyMode() },
		overLimit: 413}
	if err := ex.run(h); err != nil {
		return err
	}
	if ex.res.Local == nil {
		ex.res.Upstream = fwd
		ex.res.UpstreamComplete = true
	} else if h.bodyReleased > 0 {
		ex.res.Upstream = fwd
	}
	ex.res.BodyBeforeVerdict = h.bodyReleased
	return nil
}

func (ex *exchange) response(resp *Message) error {
	mode := ex.cfg.Mode
	fwd := &Message{Status: resp.Status, Headers: append([][2]string(nil), resp.Headers...), Trailers: resp.Trailers}
	h := &half{request: false, msg: resp, fwd: fwd, headerMode: mode.GetResponseHeaderMode(),
		trailerMode: mode.GetResponseTrailerMode(), bodyMode: func() procv3.ProcessingMode_BodySendMode { return ex.cfg.Mode.GetResponseBodyMode() },
		overLimit: 500}
	ex.sentRespAt = false
	if err := ex.run(h); err != nil {
		return err
	}
	if ex.res.Local == nil {
		ex.res.Downstream = fwd
	}
	return nil
}

func (h *half) kinds() (headers, body, trailers answerKind, names [3]string) {
	if h.request {
		return ansRequestHeaders, ansRequestBody, ansRequestTrailers, [3]string{"request_headers", "request_body", "request_trailers"}
	}
	return ansResponseHeaders, ansResponseBody, ansResponseTrailers, [3]string{"response_headers", "response_body", "response_trailers"}
}

func (h *half) pseudo() [][2]string {
	if h.request {
		ps := [][2]string{{":method", h.msg.Method}, {":path", h.msg.Path}}
		if h.msg.Authority != "" {
			ps = append(ps, [2]string{":authority", h.msg.Authority})
		}
		scheme := h.msg.Scheme
		if scheme == "" {
			scheme = "http"
		}
		return append(ps, [2]string{":scheme", scheme})
	}
	return [][2]string{{":status", strconv.Itoa(h.msg.Status)}}
}

func (h *half) headersMsg(eos bool) *extprocv3.ProcessingRequest {
	hh := &extprocv3.HttpHeaders{Headers: headerMap(append(h.pseudo(), h.msg.Headers...)), EndOfStream: eos}
	if h.request {
		return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: hh}}
	}
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: hh}}
}

func (h *half) bodyMsg(b []byte, eos bool) *extprocv3.ProcessingRequest {
	hb := &extprocv3.HttpBody{Body: b, EndOfStream: eos}
	if h.request {
		return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: hb}}
	}
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: hb}}
}

func (h *half) trailersMsg() *extprocv3.ProcessingRequest {
	ht := &extprocv3.HttpTrailers{Trailers: headerMap(h.msg.Trailers)}
	if h.request {
		return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestTrailers{RequestTrailers: ht}}
	}
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseTrailers{ResponseTrailers: ht}}
}

// common extracts the CommonResponse of any non-immediate answer.
func common(r *extprocv3.ProcessingResponse) *extprocv3.CommonResponse {
	switch x := r.GetResponse().(type) {
	case *extprocv3.ProcessingResponse_RequestHeaders:
		return x.RequestHeaders.GetResponse()
	case *extprocv3.ProcessingResponse_ResponseHeaders:
		return x.ResponseHeaders.GetResponse()
	case *extprocv3.ProcessingResponse_RequestBody:
		return x.RequestBody.GetResponse()
	case *extprocv3.ProcessingResponse_ResponseBody:
		return x.ResponseBody.GetResponse()
	}
	return nil
}

// run drives one direction: headers, body per the mode, trailers.
func (ex *exchange) run(h *half) error {
	kh, kb, kt, names := h.kinds()
	chunks := h.msg.chunks(ex.cfg.ChunkSize)
	body := h.msg.body()
	hasBody := len(body) > 0
	hasTrailers := len(h.msg.Trailers) > 0
	h.fwd.Body = nil
	observe := ex.cfg.ObservabilityMode

	sendHeaders := !ex.done && h.headerMode != procv3.ProcessingMode_SKIP
	if sendHeaders {
		if err := ex.send(h.headersMsg(!hasBody && !hasTrailers), names[0], h.request); err != nil {
			return err
		}
	}
	if ex.done {
		h.fwd.Body = body
		return nil
	}
	mode := h.bodyMode()
	if observe {
		return ex.observe(h, chunks, hasTrailers, names)
	}
	if mode == procv3.ProcessingMode_FULL_DUPLEX_STREAMED && !ex.done {
		return ex.duplex(h, chunks, hasTrailers, sendHeaders)
	}
	noWait := ex.cfg.SendBodyWithoutWaiting && mode == procv3.ProcessingMode_STREAMED
	if sendHeaders && !noWait {
		r, err := ex.await(kh, ex.cfg.MessageTimeout, h.request)
		if err != nil || r == nil {
			// Without the server (fail-open) the body flows unseen.
			h.fwd.Body = body
			return err
		}
		if err := ex.applyCommon(h, common(r), true); err != nil || ex.done {
			h.fwd.Body = body
			return err
		}
		if r.GetModeOverride() != nil {
			ex.applyOverride(r.GetModeOverride())
		}
		mode = h.bodyMode()
	}
	sendTrailers := func() bool { return !ex.done && hasTrailers && h.trailerMode == procv3.ProcessingMode_SEND }
	switch {
	case ex.done || !hasBody || mode == procv3.ProcessingMode_NONE:
		h.fwd.Body = body
		if sendHeaders && noWait {
			if r, err := ex.await(kh, ex.cfg.MessageTimeout, false); err != nil || r == nil {
				return err
			} else if err := ex.applyCommon(h, common(r), false); err != nil {
				return err
			}
		}
	case mode == procv3.ProcessingMode_BUFFERED || mode == procv3.ProcessingMode_BUFFERED_PARTIAL:
		send, rest := body, []byte(nil)
		if len(body) > ex.cfg.BufferLimit {
			if mode == procv3.ProcessingMode_BUFFERED {
				ex.local(h.overLimit, "request_payload_too_large")
				ex.res.Local.FromServer = false
				return nil
			}
			send, rest = body[:ex.cfg.BufferLimit], body[ex.cfg.BufferLimit:]
		}
		eos := !hasTrailers && rest == nil
		if err := ex.send(h.bodyMsg(send, eos), names[1], h.request); err != nil {
			return err
		}
		h.fwd.Body = send
		if !ex.done {
			r, err := ex.await(kb, ex.cfg.MessageTimeout, false)
			if err != nil || r == nil {
				return err
			}
			if err := ex.applyCommon(h, common(r), true); err != nil {
				return err
			}
		}
		h.fwd.Body = append(h.fwd.Body, rest...)
	default: // STREAMED
		for i, c := range chunks {
			eos := i == len(chunks)-1 && !hasTrailers
			if err := ex.send(h.bodyMsg(c, eos), names[1], h.request); err != nil {
				return err
			}
			if ex.done {
				break
			}
		}
		if noWait {
			r, err := ex.await(kh, ex.cfg.MessageTimeout, false)
			if err != nil || r == nil {
				return err
			}
			if err := ex.applyCommon(h, common(r), true); err != nil {
				return err
			}
		}
		for i, c := range chunks {
			if ex.done {
				h.fwd.Body = append(h.fwd.Body, c...)
				continue
			}
			r, err := ex.await(kb, ex.cfg.MessageTimeout, false)
			if err != nil {
				return err
			}
			if r == nil {
				if ex.res.Local == nil {
					h.fwd.Body = append(h.fwd.Body, c...)
				}
				continue
			}
			cr := common(r)
			if i < len(chunks)-1 || sendTrailers() {
				h.bodyReleased += len(c)
			}
			out := c
			if bm := cr.GetBodyMutation(); bm != nil {
				switch {
				case bm.GetClearBody():
					out = nil
				case bm.GetBody() != nil:
					out = bm.GetBody()
				}
			}
			if cr.GetStatus() == extprocv3.CommonResponse_CONTINUE_AND_REPLACE {
				ex.done = true
			}
			h.fwd.Body = append(h.fwd.Body, out...)
		}
	}
	if sendTrailers() {
		if err := ex.send(h.trailersMsg(), names[2], h.request); err != nil {
			return err
		}
		if !ex.done {
			if _, err := ex.await(kt, ex.cfg.MessageTimeout, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyCommon applies an answer's header and body mutation. headersOpen says
// whether headers have not left Envoy yet, so a mutation can still apply.
func (ex *exchange) applyCommon(h *half, cr *extprocv3.CommonResponse, headersOpen bool) error {
	if cr == nil {
		return nil
	}
	if headersOpen {
		if err := applyHeaders(h.fwd, cr.GetHeaderMutation()); err != nil {
			ex.local(500, "ext_proc_error_invalid_mutation")
			return nil
		}
	}
	if bm := cr.GetBodyMutation(); bm != nil && headersOpen && h.fwd.Body != nil {
		switch {
		case bm.GetClearBody():
			h.fwd.Body = []byte{}
		case bm.GetBody() != nil:
			h.fwd.Body = bm.GetBody()
		}
	}
	if cr.GetStatus() == extprocv3.CommonResponse_CONTINUE_AND_REPLACE {
		// No more messages for this direction.
		ex.done = true
	}
	return nil
}

// duplex runs FULL_DUPLEX_STREAMED: everything is sent as it arrives and
// the server answers M:N, headers answer first, bytes in streamed_response.
func (ex *exchange) duplex(h *half, chunks [][]byte, hasTrailers, sentHeaders bool) error {
	kh, kb, kt, names := h.kinds()
	for i, c := range chunks {
		if err := ex.send(h.bodyMsg(c, i == len(chunks)-1 && !hasTrailers), names[1], h.request); err != nil || ex.done {
			return err
		}
	}
	trailers := hasTrailers && h.trailerMode == procv3.ProcessingMode_SEND
	if trailers {
		if err := ex.send(h.trailersMsg(), names[2], h.request); err != nil || ex.done {
			return err
		}
	}
	if sentHeaders {
		r, err := ex.await(kh, ex.cfg.DuplexTimeout, false)
		if err != nil || r == nil {
			return err
		}
		if err := ex.applyCommon(h, common(r), true); err != nil || ex.done {
			return err
		}
	}
	if len(chunks) > 0 {
		for {
			r, err := ex.await(kb, ex.cfg.DuplexTimeout, false)
			if err != nil || r == nil {
				return err
			}
			sr := common(r).GetBodyMutation().GetStreamedResponse()
			if sr == nil {
				return ex.spurious("FULL_DUPLEX_STREAMED body answer without streamed_response")
			}
			h.fwd.Body = append(h.fwd.Body, sr.GetBody()...)
			if sr.GetEndOfStream() || (trailers && len(h.fwd.Body) >= len(h.msg.body())) {
				break
			}
		}
	}
	if trailers {
		if _, err := ex.await(kt, ex.cfg.DuplexTimeout, false); err != nil {
			return err
		}
	}
	if h.fwd.Body == nil && len(chunks) > 0 {
		return fmt.Errorf("%w: no body released", ErrHarness)
	}
	return nil
}

// observe is observability mode: Envoy sends and never waits; only
// STREAMED bodies are sent.
func (ex *exchange) observe(h *half, chunks [][]byte, hasTrailers bool, names [3]string) error {
	if h.bodyMode() == procv3.ProcessingMode_STREAMED {
		for i, c := range chunks {
			if err := ex.send(h.bodyMsg(c, i == len(chunks)-1 && !hasTrailers), names[1], h.request); err != nil {
				return err
			}
		}
	}
	if hasTrailers && h.trailerMode == procv3.ProcessingMode_SEND {
		if err := ex.send(h.trailersMsg(), names[2], h.request); err != nil {
			return err
		}
	}
	h.fwd.Body = h.msg.body()
	ex.res.UnexpectedAnswers += ex.in.pending()
	return nil
}
