package e2e

import (
	"context"
	"strconv"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"go.uber.org/goleak"

	"github.com/bulwark-waf/bulwark/internal/envoysim"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// echo is an upstream that answers 200 with a small JSON body.
func echo(req *envoysim.Message) *envoysim.Message {
	return &envoysim.Message{Status: 200, Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(`{"ok":true}`)}
}

func do(t testing.TB, f *envoysim.Filter, c extprocv3.ExternalProcessorClient, req *envoysim.Message, up envoysim.Upstream) *envoysim.Result {
	t.Helper()
	if up == nil {
		up = echo
	}
	if f.MessageTimeout == 0 {
		// Envoy's 200 ms default is a deployment setting; a test that is
		// not about timeouts must not turn into one (a 504, which reads as
		// "not blocked") when the machine is busy. Timeout tests set it.
		g := *f
		g.MessageTimeout = slow
		f = &g
	}
	res, err := f.Do(context.Background(), c, req, up)
	if err != nil {
		t.Fatalf("envoysim: %v", err)
	}
	return res
}

func baseHeaders(extra ...[2]string) [][2]string {
	h := [][2]string{{"user-agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"}, {"accept", "application/json"}, {"x-request-id", "req-1"}}
	return append(h, extra...)
}

func get(path string) *envoysim.Message {
	return &envoysim.Message{Method: "GET", Path: path, Authority: "shop.example", Headers: baseHeaders()}
}

func post(path, ctype string, body string) *envoysim.Message {
	return &envoysim.Message{Method: "POST", Path: path, Authority: "shop.example",
		Headers: baseHeaders([2]string{"content-type", ctype}, [2]string{"content-length", strconv.Itoa(len(body))}), Body: []byte(body)}
}

func metaField(res *envoysim.Result, key string) any {
	ns := res.Metadata.GetFields()["bulwark"].GetStructValue()
	if ns == nil {
		return nil
	}
	v, ok := ns.Fields[key]
	if !ok {
		return nil
	}
	return v.AsInterface()
}
