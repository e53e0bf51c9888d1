package filter

import (
	"encoding/json"
	"fmt"
	"html"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/bulwark-waf/bulwark/inspect"
)

// mutation collects header changes for one answer. Values go out in
// raw_value only: Envoy reads nothing else since 1.27 and rejects a header
// that sets both.
type mutation struct {
	set    [][2]string
	remove []string
}

func (m *mutation) empty() bool { return m == nil || (len(m.set) == 0 && len(m.remove) == 0) }

func (m *mutation) proto() *extprocv3.HeaderMutation {
	if m.empty() {
		return nil
	}
	hm := &extprocv3.HeaderMutation{RemoveHeaders: m.remove}
	for _, kv := range m.set {
		hm.SetHeaders = append(hm.SetHeaders, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: kv[0], RawValue: []byte(kv[1])},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
	return hm
}

func common(m *mutation) *extprocv3.CommonResponse {
	return &extprocv3.CommonResponse{HeaderMutation: m.proto()}
}

func requestHeadersAnswer(m *mutation) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{
		RequestHeaders: &extprocv3.HeadersResponse{Response: common(m)}}}
}

func responseHeadersAnswer(m *mutation) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{
		ResponseHeaders: &extprocv3.HeadersResponse{Response: common(m)}}}
}

func requestBodyAnswer(m *mutation) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{
		RequestBody: &extprocv3.BodyResponse{Response: common(m)}}}
}

func responseBodyAnswer(m *mutation) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseBody{
		ResponseBody: &extprocv3.BodyResponse{Response: common(m)}}}
}

// streamedBodyAnswer releases held bytes in FULL_DUPLEX_STREAMED mode, where
// a body answer must carry the bytes to forward.
func streamedBodyAnswer(request bool, body []byte, eos bool) *extprocv3.ProcessingResponse {
	br := &extprocv3.BodyResponse{Response: &extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{
		Mutation: &extprocv3.BodyMutation_StreamedResponse{StreamedResponse: &extprocv3.StreamedBodyResponse{Body: body, EndOfStream: eos}},
	}}}
	if request {
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: br}}
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: br}}
}

func trailersAnswer(d inspect.Direction) *extprocv3.ProcessingResponse {
	if d == inspect.Inbound {
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{}}}
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseTrailers{ResponseTrailers: &extprocv3.TrailersResponse{}}}
}

// skipBody asks Envoy (when it allows mode overrides) to send no more body
// for one direction. Body modes in an override have no "unchanged" value,
// so the other direction's mode is restated or Envoy would turn it off too.
func skipBody(d inspect.Direction, other bodyMode) *procmodev3.ProcessingMode {
	if d == inspect.Inbound {
		return &procmodev3.ProcessingMode{RequestBodyMode: procmodev3.ProcessingMode_NONE, ResponseBodyMode: other}
	}
	return &procmodev3.ProcessingMode{RequestBodyMode: other, ResponseBodyMode: procmodev3.ProcessingMode_NONE}
}

// blockPage is the body of an ImmediateResponse. It carries the request id so
// users can quote it to support, and deliberately no rule ids or messages.
type blockPage struct {
	status    int
	requestID string
	reason    string // short token for %RESPONSE_CODE_DETAILS%
	// empty sends no body (block.body: empty).
	empty bool
}

func (b blockPage) answer(accept string) *extprocv3.ProcessingResponse {
	var body []byte
	var ctype string
	title := "Request blocked"
	if b.status == 413 {
		title = "Request body too large"
	} else if b.status >= 500 {
		title = "Request could not be inspected"
	}
	if wantsHTML(accept) {
		ctype = "text/html; charset=utf-8"
		body = fmt.Appendf(nil, "<!doctype html>\n<html><head><title>%d %s</title></head><body><h1>%s</h1><p>Request ID: <code>%s</code></p></body></html>\n",
			b.status, title, title, html.EscapeString(b.requestID))
	} else {
		ctype = "application/json"
		body, _ = json.Marshal(struct {
			Status    int    `json:"status"`
			Error     string `json:"error"`
			RequestID string `json:"request_id"`
		}{b.status, strings.ToLower(title), b.requestID})
		body = append(body, '\n')
	}
	m := &mutation{set: [][2]string{{"content-type", ctype}, {"cache-control", "no-store"}}}
	if b.empty {
		body = nil
		m.set = m.set[1:]
	}
	if b.requestID != "" {
		m.set = append(m.set, [2]string{"x-request-id", b.requestID})
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ImmediateResponse{ImmediateResponse: &extprocv3.ImmediateResponse{
		// Always set: Envoy turns a missing status into 200.
		Status:  &typev3.HttpStatus{Code: typev3.StatusCode(b.status)},
		Headers: m.proto(),
		Body:    body,
		Details: b.reason,
	}}}
}

// wantsHTML is true when the client prefers HTML to JSON, as browsers do.
func wantsHTML(accept string) bool {
	a := strings.ToLower(accept)
	h := strings.Index(a, "text/html")
	if h < 0 {
		return false
	}
	j := strings.Index(a, "json")
	return j < 0 || h < j
}

// metadataStruct builds the dynamic-metadata namespace. Values are limited
// to strings, numbers and bools, which is all Envoy's access log needs.
func metadataStruct(ns string, fields map[string]any) *structpb.Struct {
	inner := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(fields))}
	for k, v := range fields {
		switch x := v.(type) {
		case string:
			inner.Fields[k] = structpb.NewStringValue(x)
		case int:
			inner.Fields[k] = structpb.NewNumberValue(float64(x))
		case bool:
			inner.Fields[k] = structpb.NewBoolValue(x)
		}
	}
	return &structpb.Struct{Fields: map[string]*structpb.Value{ns: structpb.NewStructValue(inner)}}
}
