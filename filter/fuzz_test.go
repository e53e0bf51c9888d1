package filter_test

import (
	"testing"

	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/servertest"
)

// fuzzMessages turns fuzz bytes into a message sequence: each control byte
// picks the message kind, end_of_stream and how many of the following bytes
// become its payload (a body, a path, a header value), so the fuzzer
// explores both the ordering and the bytes the parsers see.
func fuzzMessages(data []byte) []*extprocv3.ProcessingRequest {
	modes := []procv3.ProcessingMode_BodySendMode{procv3.ProcessingMode_NONE, procv3.ProcessingMode_STREAMED, procv3.ProcessingMode_BUFFERED,
		procv3.ProcessingMode_BUFFERED_PARTIAL, procv3.ProcessingMode_FULL_DUPLEX_STREAMED}
	var out []*extprocv3.ProcessingRequest
	for len(data) > 0 && len(out) < 12 {
		c := data[0]
		n := min(int(c>>4)*8, len(data)-1)
		payload := string(data[1 : 1+n])
		data = data[1+n:]
		eos := c&8 != 0
		var m *extprocv3.ProcessingRequest
		switch c & 7 {
		case 0:
			m = reqHeaders(eos, ":method", "POST", ":path", "/f?"+payload, ":authority", "shop.example", "content-type", "application/x-www-form-urlencoded",
				"cookie", payload, "x-request-id", payload)
		case 1:
			m = reqHeaders(eos, ":method", "POST", ":path", "/api", ":authority", "shop.example", "content-type", "application/json", "x-fuzz", payload)
		case 2, 3:
			m = reqBody(payload, eos)
		case 4:
			m = &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestTrailers{RequestTrailers: &extprocv3.HttpTrailers{}}}
		case 5:
			m = respHeaders(eos, ":status", "200", "content-type", "text/html", "x-fuzz", payload)
		case 6:
			m = &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{Body: []byte(payload), EndOfStream: eos}}}
		default:
			m = &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseTrailers{ResponseTrailers: &extprocv3.HttpTrailers{}}}
		}
		if len(out) == 0 && n > 0 {
			m.ProtocolConfig = &extprocv3.ProtocolConfiguration{RequestBodyMode: modes[int(data0(payload))%len(modes)], ResponseBodyMode: modes[int(c)%len(modes)]}
		}
		out = append(out, m)
	}
	return out
}

func data0(s string) byte {
	if s == "" {
		return 0
	}
	return s[0]
}

// FuzzStream feeds the real server random message sequences with random
// bytes in headers and bodies. Every stream must end in answers or a
// protocol status: never a panic, an internal error or a hang. The seed
// corpus in testdata/fuzz/FuzzStream runs with every `go test`;
// `make fuzz` explores for minutes.
func FuzzStream(f *testing.F) {
	f.Add([]byte{0x30, 'a', '=', '1', '&', 'b', '=', '2', '&', 'c', 0x1a, 'q', '=', '%', '3', 'C', 's', 'c', 'r'})
	f.Add([]byte{0x18, '%', 'f', 'f', '=', '1', '\'', ' ', 'O', 'R', 0x2b, 0xff, 0xfe, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0x0d})
	f.Add([]byte{0x11, '{', '"', 'a', '"', ':', '[', '[', '[', 0x22, '[', '[', '[', '[', '[', '[', '[', '[', '[', '[', '[', '[', '[', '[', '[', '[', 0x05, 0x0e})
	reg := prometheus.NewRegistry()
	c, _ := servertest.Serve(f, servertest.Options(f, inspect.Options{}, filter.Options{Metrics: filter.NewMetrics(reg)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		msgs := fuzzMessages(data)
		if len(msgs) == 0 {
			return
		}
		sendSequence(t, c, msgs)
		if n := counterValue(t, reg, "bulwark_stream_errors_total", "internal"); n > 0 {
			t.Fatalf("%v internal errors (a panic or a Coraza failure)", n)
		}
	})
}

func counterValue(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == label {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
