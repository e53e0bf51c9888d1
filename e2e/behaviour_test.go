package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
	"github.com/bulwark-waf/bulwark/internal/rx"
	"github.com/bulwark-waf/bulwark/internal/servertest"
	"github.com/bulwark-waf/bulwark/waf"
)

func mode(body procv3.ProcessingMode_BodySendMode) *procv3.ProcessingMode {
	m := &procv3.ProcessingMode{RequestBodyMode: body, ResponseBodyMode: procv3.ProcessingMode_BUFFERED}
	if body == procv3.ProcessingMode_FULL_DUPLEX_STREAMED {
		m.RequestTrailerMode = procv3.ProcessingMode_SEND
	}
	return m
}

// slow is the message_timeout for tests with bodies of tens of KB: CRS costs
// roughly 12 µs per KB of argument, more under the race detector, and
// operators raise Envoy's 200 ms default the same way (see docs/EXTPROC.md).
const slow = 10 * time.Second

var allModes = []procv3.ProcessingMode_BodySendMode{
	procv3.ProcessingMode_NONE,
	procv3.ProcessingMode_STREAMED,
	procv3.ProcessingMode_BUFFERED,
	procv3.ProcessingMode_BUFFERED_PARTIAL,
	procv3.ProcessingMode_FULL_DUPLEX_STREAMED,
}

const multipartBody = "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n" +
	"--XyZ\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\n1' UNION SELECT username, password FROM users--\r\n--XyZ--\r\n"

func TestAttacksAndCleanTrafficInEveryMode(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil)}, filter.Options{}))
	cases := []struct {
		name string
		req  *envoysim.Message
		// inBody: the attack is in the body, which NONE never shows us.
		blocked, inBody bool
	}{
		{"clean get", get("/products?category=shoes&sort=price"), false, false},
		{"clean post form", post("/login", "application/x-www-form-urlencoded", "user=alice&password=correct+horse&remember=on"), false, true},
		{"clean post json", post("/api/orders", "application/json", `{"item":"tea","qty":2,"note":"leave it at the door, it's fine"}`), false, true},
		{"sqli query", get("/products?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--"), true, false},
		{"xss query", get("/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E"), true, false},
		{"sqli form", post("/login", "application/x-www-form-urlencoded", "user=admin%27+OR+%271%27%3D%271&password=x"), true, true},
		{"xss form", post("/comment", "application/x-www-form-urlencoded", "text=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E"), true, true},
		{"sqli json", post("/api/search", "application/json", `{"q":"1' UNION SELECT password FROM users--"}`), true, true},
		{"xss json", post("/api/profile", "application/json", `{"bio":"<script>alert(document.domain)</script>"}`), true, true},
		{"sqli multipart", post("/upload", "multipart/form-data; boundary=XyZ", multipartBody), true, true},
		{"xss multipart", post("/upload", "multipart/form-data; boundary=XyZ", strings.Replace(multipartBody, "1' UNION SELECT username, password FROM users--", "<svg/onload=alert(1)>", 1)), true, true},
	}
	for _, m := range allModes {
		for _, tc := range cases {
			t.Run(m.String()+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				f := &envoysim.Filter{Mode: mode(m)}
				res := do(t, f, client, tc.req, nil)
				want := tc.blocked && (!tc.inBody || m != procv3.ProcessingMode_NONE)
				if res.Blocked() != want {
					t.Fatalf("blocked = %v, want %v (local=%+v, metadata=%v, err=%v)", res.Blocked(), want, res.Local, res.Metadata, res.StreamErr)
				}
				if res.StreamErr != nil {
					t.Fatalf("stream error: %v", res.StreamErr)
				}
				if want {
					if res.Local.Status != 403 {
						t.Fatalf("block status %d, want 403", res.Local.Status)
					}
					if m == procv3.ProcessingMode_BUFFERED || m == procv3.ProcessingMode_FULL_DUPLEX_STREAMED || m == procv3.ProcessingMode_BUFFERED_PARTIAL {
						if res.BodyBeforeVerdict != 0 || (res.Upstream != nil && len(res.Upstream.Body) > 0) {
							t.Fatalf("%d body bytes reached the upstream before the verdict", res.BodyBeforeVerdict)
						}
					}
					return
				}
				if res.Upstream == nil || !bytes.Equal(res.Upstream.Body, tc.req.Body) {
					t.Fatalf("upstream did not get the request body intact: %+v", res.Upstream)
				}
				if res.Downstream == nil || res.Downstream.Status != 200 {
					t.Fatalf("client did not get the upstream response: %+v", res.Downstream)
				}
				if got := metaField(res, "action"); got != "allow" && !(m == procv3.ProcessingMode_NONE && tc.blocked) {
					t.Fatalf("metadata action = %v, want allow (%v)", got, res.Metadata)
				}
			})
		}
	}
}

// Splitting a body at every possible place must never change the verdict.
func TestChunkBoundariesDoNotChangeVerdict(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil)}, filter.Options{}))
	bodies := []struct {
		ctype, body string
		blocked     bool
	}{
		{"application/x-www-form-urlencoded", "q=1%27+UNION+SELECT+password+FROM+users--&page=2", true},
		{"application/json", `{"comment":"<script>alert(1)</script>","id":7}`, true},
		{"application/x-www-form-urlencoded", "q=red+shoes+size+42&page=2&note=it%27s+for+my+son", false},
	}
	for _, m := range []procv3.ProcessingMode_BodySendMode{procv3.ProcessingMode_STREAMED, procv3.ProcessingMode_FULL_DUPLEX_STREAMED} {
		for _, b := range bodies {
			for split := 1; split < len(b.body); split += 3 {
				req := post("/submit", b.ctype, b.body)
				req.Chunks = [][]byte{[]byte(b.body[:split]), []byte(b.body[split:])}
				res := do(t, &envoysim.Filter{Mode: mode(m)}, client, req, nil)
				if res.Blocked() != b.blocked {
					t.Fatalf("%s split at %d of %q: blocked=%v want %v", m, split, b.body, res.Blocked(), b.blocked)
				}
			}
			// One byte per chunk.
			req := post("/submit", b.ctype, b.body)
			for i := range len(b.body) {
				req.Chunks = append(req.Chunks, []byte{b.body[i]})
			}
			if res := do(t, &envoysim.Filter{Mode: mode(m)}, client, req, nil); res.Blocked() != b.blocked {
				t.Fatalf("%s one-byte chunks of %q: blocked=%v want %v", m, b.body, res.Blocked(), b.blocked)
			}
		}
	}
}

func TestStreamedReleasesChunksBeforeVerdict(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil)}, filter.Options{}))
	body := "data=" + strings.Repeat("x", 20000) + "&q=1%27+UNION+SELECT+password+FROM+users--"
	req := post("/submit", "application/x-www-form-urlencoded", body)
	res := do(t, &envoysim.Filter{Mode: mode(procv3.ProcessingMode_STREAMED), ChunkSize: 8 << 10, MessageTimeout: slow, DuplexTimeout: slow}, client, req, nil)
	if !res.Blocked() {
		t.Fatal("attack at the end of a streamed body passed")
	}
	// Documented: in STREAMED every chunk but the last is released before
	// the verdict; the upstream never sees the end of the request.
	if res.BodyBeforeVerdict == 0 || res.UpstreamComplete {
		t.Fatalf("BodyBeforeVerdict=%d complete=%v", res.BodyBeforeVerdict, res.UpstreamComplete)
	}
	res = do(t, &envoysim.Filter{Mode: mode(procv3.ProcessingMode_FULL_DUPLEX_STREAMED), ChunkSize: 8 << 10, MessageTimeout: slow, DuplexTimeout: slow}, client, req, nil)
	if !res.Blocked() || res.BodyBeforeVerdict != 0 || res.Upstream != nil {
		t.Fatalf("FULL_DUPLEX released bytes before the verdict: %+v", res)
	}
	clean := post("/submit", "application/x-www-form-urlencoded", "data="+strings.Repeat("x", 40000))
	res = do(t, &envoysim.Filter{Mode: mode(procv3.ProcessingMode_FULL_DUPLEX_STREAMED), ChunkSize: 8 << 10, MessageTimeout: slow, DuplexTimeout: slow}, client, clean, nil)
	if res.Blocked() || res.Upstream == nil || !bytes.Equal(res.Upstream.Body, clean.Body) {
		t.Fatalf("FULL_DUPLEX did not forward a clean 40 KB body intact: %+v", res.Local)
	}
}

func TestTrailersEndTheBody(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil)}, filter.Options{}))
	req := post("/submit", "application/x-www-form-urlencoded", "q=1%27+UNION+SELECT+password+FROM+users--")
	req.Trailers = [][2]string{{"x-checksum", "abc"}}
	for _, m := range []procv3.ProcessingMode_BodySendMode{procv3.ProcessingMode_STREAMED, procv3.ProcessingMode_BUFFERED, procv3.ProcessingMode_FULL_DUPLEX_STREAMED} {
		md := mode(m)
		md.RequestTrailerMode = procv3.ProcessingMode_SEND
		if res := do(t, &envoysim.Filter{Mode: md}, client, req, nil); !res.Blocked() {
			t.Fatalf("%s with trailers: attack passed (%+v)", m, res)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	reject, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, func(c *waf.Config) { c.RequestBodyLimit = 16 << 10 })}, filter.Options{}))
	partial, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, func(c *waf.Config) {
		c.RequestBodyLimit = 16 << 10
		c.RequestBodyLimitAction = waf.LimitProcessPartial
	})}, filter.Options{}))
	big := post("/upload", "application/x-www-form-urlencoded", "data="+strings.Repeat("x", 24<<10))
	attackLate := post("/f", "application/x-www-form-urlencoded", "data="+strings.Repeat("x", 24<<10)+"&q=%3Cscript%3Ealert(1)%3C/script%3E")
	attackEarly := post("/f", "application/x-www-form-urlencoded", "q=%3Cscript%3Ealert(1)%3C/script%3E&data="+strings.Repeat("x", 24<<10))
	for _, m := range []procv3.ProcessingMode_BodySendMode{procv3.ProcessingMode_STREAMED, procv3.ProcessingMode_FULL_DUPLEX_STREAMED, procv3.ProcessingMode_BUFFERED_PARTIAL} {
		f := &envoysim.Filter{Mode: mode(m), BufferLimit: 16 << 10, ChunkSize: 4 << 10, MessageTimeout: slow, DuplexTimeout: slow}
		if m != procv3.ProcessingMode_BUFFERED_PARTIAL {
			f.BufferLimit = 0
		}
		res := do(t, f, reject, big, nil)
		if res.Local == nil || res.Local.Status != 413 || !res.Local.FromServer {
			t.Fatalf("%s reject: over-limit body got %+v, want 413 from Bulwark", m, res.Local)
		}
		if m == procv3.ProcessingMode_FULL_DUPLEX_STREAMED && res.Upstream != nil {
			t.Fatalf("%s reject: upstream got bytes of a rejected body", m)
		}
		if res := do(t, f, partial, big, nil); res.Blocked() {
			t.Fatalf("%s process_partial: clean big body blocked: %+v", m, res.Local)
		}
		if res := do(t, f, partial, attackEarly, nil); !res.Blocked() {
			t.Fatalf("%s process_partial: attack inside the limit passed", m)
		}
		// Documented: process_partial does not see past the limit.
		if res := do(t, f, partial, attackLate, nil); res.Blocked() {
			t.Fatalf("%s process_partial: an attack past the limit was seen; the docs say it is not", m)
		}
	}
	// BUFFERED: Envoy itself answers 413 past its buffer limit.
	res := do(t, &envoysim.Filter{Mode: mode(procv3.ProcessingMode_BUFFERED), BufferLimit: 16 << 10}, reject, big, nil)
	if res.Local == nil || res.Local.Status != 413 || res.Local.FromServer {
		t.Fatalf("BUFFERED over Envoy's limit: %+v", res.Local)
	}
}

func TestBlockPage(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil)}, filter.Options{BlockStatus: 418}))
	attack := "/?q=%3Cscript%3Ealert(1)%3C/script%3E"
	for _, tc := range []struct{ accept, ctype string }{
		{"application/json", "application/json"},
		{"text/html,application/xhtml+xml,*/*;q=0.8", "text/html; charset=utf-8"},
		{"", "application/json"},
	} {
		req := get(attack)
		req.Headers = [][2]string{{"x-request-id", "rid-42"}, {"accept", tc.accept}}
		res := do(t, &envoysim.Filter{}, client, req, nil)
		if !res.Blocked() || res.Local.Status != 418 {
			t.Fatalf("accept %q: %+v", tc.accept, res.Local)
		}
		var ctype string
		for _, h := range res.Local.Headers {
			if h[0] == "content-type" {
				ctype = h[1]
			}
		}
		body := string(res.Local.Body)
		if ctype != tc.ctype || !strings.Contains(body, "rid-42") || strings.Contains(body, "941") || strings.Contains(body, "949110") {
			t.Fatalf("accept %q: content-type %q body %q", tc.accept, ctype, body)
		}
		if strings.HasPrefix(tc.ctype, "application/json") {
			var v map[string]any
			if err := json.Unmarshal(res.Local.Body, &v); err != nil || v["request_id"] != "rid-42" {
				t.Fatalf("JSON block page %q: %v", body, err)
			}
		}
	}
}

func TestMetadataAndUpstreamHeaders(t *testing.T) {
	t.Parallel()
	det := servertest.Engine(t, func(c *waf.Config) { c.Engine = waf.EngineDetectionOnly })
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: det}, filter.Options{UpstreamHeaders: true}))
	req := get("/?q=%3Cscript%3Ealert(1)%3C/script%3E")
	req.Headers = append(req.Headers, [2]string{"x-bulwark-verdict", "allow"}, [2]string{"x-bulwark-anomaly", "0"})
	res := do(t, &envoysim.Filter{}, client, req, nil)
	if res.Blocked() {
		t.Fatal("DetectionOnly blocked")
	}
	score, _ := metaField(res, "anomaly_score").(float64)
	rules, _ := metaField(res, "matched_rules").(string)
	if score < 5 || !strings.Contains(rules, "941") || metaField(res, "action") != "would_block" {
		t.Fatalf("metadata = %v", res.Metadata)
	}
	if got := res.Upstream.Get("x-bulwark-verdict"); got != "flag" {
		t.Fatalf("x-bulwark-verdict = %q, want flag (client-sent value must be replaced)", got)
	}
	n := 0
	for _, h := range res.Upstream.Headers {
		if h[0] == "x-bulwark-verdict" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d x-bulwark-verdict headers reach the upstream, want 1", n)
	}
	// STREAMED: headers leave before the body verdict, but forged ones are
	// still stripped.
	p := post("/", "application/x-www-form-urlencoded", "a=1")
	p.Headers = append(p.Headers, [2]string{"x-bulwark-verdict", "allow"})
	res = do(t, &envoysim.Filter{Mode: mode(procv3.ProcessingMode_STREAMED)}, client, p, nil)
	if got := res.Upstream.Get("x-bulwark-verdict"); got != "" {
		t.Fatalf("forged x-bulwark-verdict %q reached the upstream", got)
	}
}

func TestModeOverrideSkipsUnneededBodies(t *testing.T) {
	t.Parallel()
	eng := servertest.Engine(t, func(c *waf.Config) {
		c.Directives = `SecRule REQUEST_URI "@beginsWith /static/" "id:10001,phase:1,pass,nolog,ctl:requestBodyAccess=Off"`
	})
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: eng}, filter.Options{ModeOverride: true}))
	f := &envoysim.Filter{Mode: mode(procv3.ProcessingMode_BUFFERED), AllowModeOverride: true}
	req := post("/static/upload", "application/json", `{"bytes":"AAEC"}`)
	png := func(*envoysim.Message) *envoysim.Message {
		return &envoysim.Message{Status: 200, Headers: [][2]string{{"content-type", "image/png"}}, Body: []byte("\x89PNG....")}
	}
	res := do(t, f, client, req, png)
	for _, s := range res.Sent {
		if s == "request_body" || s == "response_body" {
			t.Fatalf("sent %v; the override should have skipped both bodies", res.Sent)
		}
	}
	if !bytes.Equal(res.Upstream.Body, req.Body) || res.Downstream == nil || string(res.Downstream.Body) != "\x89PNG...." {
		t.Fatalf("bodies not forwarded: %+v %+v", res.Upstream, res.Downstream)
	}
	// A JSON response is inspected, so its body is still sent.
	res = do(t, f, client, get("/api"), nil)
	if !contains(res.Sent, "response_body") {
		t.Fatalf("JSON response body skipped: %v", res.Sent)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func TestResponseInspection(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil)}, filter.Options{}))
	leak := func(*envoysim.Message) *envoysim.Message {
		return &envoysim.Message{Status: 200, Headers: [][2]string{{"content-type", "text/html"}},
			Body: []byte("<html><body>Warning: mysql_fetch_array() expects parameter 1 to be resource, boolean given in /var/www/html/item.php on line 12<br>You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version</body></html>")}
	}
	for _, m := range []procv3.ProcessingMode_BodySendMode{procv3.ProcessingMode_BUFFERED, procv3.ProcessingMode_STREAMED, procv3.ProcessingMode_FULL_DUPLEX_STREAMED} {
		md := &procv3.ProcessingMode{ResponseBodyMode: m}
		if m == procv3.ProcessingMode_FULL_DUPLEX_STREAMED {
			md.ResponseTrailerMode = procv3.ProcessingMode_SEND
		}
		res := do(t, &envoysim.Filter{Mode: md}, client, get("/item?id=3"), leak)
		if !res.Blocked() {
			t.Fatalf("%s: SQL error leak in the response passed (metadata %v)", m, res.Metadata)
		}
		if m != procv3.ProcessingMode_STREAMED && res.Downstream != nil {
			t.Fatalf("%s: client got the leaky body", m)
		}
	}
}

func TestObservabilityModeNeverAnswers(t *testing.T) {
	t.Parallel()
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil)}, filter.Options{}))
	f := &envoysim.Filter{ObservabilityMode: true, Mode: mode(procv3.ProcessingMode_STREAMED)}
	res := do(t, f, client, post("/x", "application/x-www-form-urlencoded", "q=%3Cscript%3Ealert(1)%3C/script%3E"), nil)
	if res.Blocked() || res.UnexpectedAnswers != 0 || res.StreamErr != nil {
		t.Fatalf("observability: %+v", res)
	}
}

func TestImmediateResponseWithoutStatusIsHarness200(t *testing.T) {
	t.Parallel()
	// Guards the harness itself: Envoy turns a missing status into 200, and
	// Bulwark must therefore always set one (checked in TestBlockPage).
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, nil)}, filter.Options{}))
	res := do(t, &envoysim.Filter{}, client, get("/?q=%3Cscript%3Ealert(1)%3C/script%3E"), nil)
	if res.Local.Status == 200 {
		t.Fatal("block page went out as 200")
	}
}

// A large body takes CRS longer than Envoy's message_timeout; Bulwark asks
// for more time first, and Envoy (max_message_timeout set) grants it.
func TestLargeBodyExtendsMessageTimeout(t *testing.T) {
	t.Parallel()
	// About 110 KB: with Coraza's own @rx (Go regexp) CRS needs well over a
	// second, far past the 400 ms message_timeout, while the headers phase
	// fits easily. The default RE2 @rx inspects it within the timeout, so
	// this test pins the slow engine to have a body that really is slow.
	body := "data=" + strings.Repeat("lorem ipsum dolor ", 6000) + "&q=1"
	f := &envoysim.Filter{Mode: mode(procv3.ProcessingMode_BUFFERED), MessageTimeout: 400 * time.Millisecond, MaxMessageTimeout: slow}
	goRx := func(c *waf.Config) { c.RxEngine = rx.EngineGo }
	slowOK, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, goRx)}, filter.Options{SlowBodyBytes: 32 << 10, SlowBodyTimeout: slow}))
	res := do(t, f, slowOK, post("/f", "application/x-www-form-urlencoded", body), nil)
	if res.Local != nil {
		t.Fatalf("large clean body: %+v", res.Local)
	}
	plain, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: servertest.Engine(t, goRx)}, filter.Options{}))
	res = do(t, f, plain, post("/f", "application/x-www-form-urlencoded", body), nil)
	if res.Local == nil || res.Local.Status != 504 {
		t.Fatalf("without the override the harness should time out like Envoy: %+v", res.Local)
	}
}

func TestDeferredPhaseOneInBufferedMode(t *testing.T) {
	t.Parallel()
	eng := servertest.Engine(t, func(c *waf.Config) {
		c.Directives = `SecRule REQUEST_HEADERS:x-probe "@streq yes" "id:10002,phase:1,deny,status:403,log"`
	})
	client, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: eng}, filter.Options{ModeOverride: true, DeferBuffered: true}))
	probe := func() *envoysim.Message {
		m := post("/api/items", "application/json", `{"name":"shoes"}`)
		m.Headers = append(m.Headers, [2]string{"x-probe", "yes"})
		return m
	}
	buffered := &envoysim.Filter{Mode: mode(procv3.ProcessingMode_BUFFERED), AllowModeOverride: true}

	// Deferred: the phase-1 block comes on the body answer, and the
	// upstream never sees the request.
	res := do(t, buffered, client, probe(), nil)
	if !res.Blocked() || res.Upstream != nil {
		t.Fatalf("deferred phase-1 rule: blocked %v, upstream %+v", res.Blocked(), res.Upstream)
	}
	if !slices.Contains(res.Sent, "request_body") {
		t.Fatalf("sent %v: the block should have come on the body answer", res.Sent)
	}

	// A clean request passes with its body, judged once the body came.
	clean := post("/api/items", "application/json", `{"name":"shoes"}`)
	res = do(t, buffered, client, clean, nil)
	if res.Blocked() || res.Upstream == nil || !bytes.Equal(res.Upstream.Body, clean.Body) {
		t.Fatalf("clean deferred request: local %+v, upstream %+v", res.Local, res.Upstream)
	}
	if metaField(res, "action") != "allow" {
		t.Fatalf("no request verdict in the metadata: %v", res.Metadata)
	}

	// Without protocol_config (Envoy before 1.34) Bulwark cannot know that
	// Envoy holds the request, so phase 1 runs at the headers.
	old := &envoysim.Filter{Mode: mode(procv3.ProcessingMode_BUFFERED), AllowModeOverride: true, NoProtocolConfig: true}
	res = do(t, old, client, probe(), nil)
	if !res.Blocked() || slices.Contains(res.Sent, "request_body") {
		t.Fatalf("sent %v, blocked %v: without protocol_config the block should come on the headers", res.Sent, res.Blocked())
	}

	// STREAMED sends the headers upstream before the body: never deferred.
	streamed := &envoysim.Filter{Mode: mode(procv3.ProcessingMode_STREAMED)}
	res = do(t, streamed, client, probe(), nil)
	if !res.Blocked() || res.Upstream != nil {
		t.Fatalf("streamed: blocked %v, upstream %+v", res.Blocked(), res.Upstream)
	}
}

// Past max_waiting_transactions a stream waiting for its body parks its
// exchange, and phase 1 runs again when the body comes: the verdict, the
// anomaly score and the matched rules are those of an exchange that kept
// its transaction, in the buffered and the streamed modes.
func TestParkedExchangesJudgeLikeLiveOnes(t *testing.T) {
	t.Parallel()
	eng := servertest.Engine(t, func(c *waf.Config) {
		// A phase-1 rule that scores without blocking: its points must
		// survive the second phase 1, not count twice.
		c.Directives = `SecRule REQUEST_HEADERS:x-probe "@streq yes" "id:10003,phase:1,pass,log,setvar:tx.inbound_anomaly_score_pl1=+3"`
	})
	reg := prometheus.NewRegistry()
	parking, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: eng}, filter.Options{Metrics: filter.NewMetrics(reg), MaxWaitingTransactions: 1}))
	live, _ := servertest.Serve(t, servertest.Options(t, inspect.Options{Engine: eng}, filter.Options{}))

	// One stream waits for its body and holds the only live slot.
	release := servertest.HoldWaiting(t, parking, reg)

	probe := func(m *envoysim.Message) *envoysim.Message {
		m.Headers = append(m.Headers, [2]string{"x-probe", "yes"})
		return m
	}
	requests := []struct {
		name string
		msg  func() *envoysim.Message
	}{
		{"clean form", func() *envoysim.Message {
			return post("/signup", "application/x-www-form-urlencoded", "name=Ana&city=Lyon")
		}},
		{"clean JSON with a phase-1 score", func() *envoysim.Message {
			return probe(post("/api/items", "application/json", `{"name":"shoes","size":42}`))
		}},
		{"sqli in the body", func() *envoysim.Message {
			return post("/login", "application/x-www-form-urlencoded", "user=admin'+OR+'1'%3D'1'--&pw=x")
		}},
		{"xss in JSON with a phase-1 score", func() *envoysim.Message {
			return probe(post("/api/comments", "application/json", `{"text":"<script>alert(document.cookie)</script>"}`))
		}},
	}
	fields := []string{"action", "anomaly_score", "matched_rules", "score"}
	parked := 0
	for _, body := range []procv3.ProcessingMode_BodySendMode{procv3.ProcessingMode_BUFFERED, procv3.ProcessingMode_STREAMED} {
		f := &envoysim.Filter{Mode: mode(body)}
		for _, r := range requests {
			want := do(t, f, live, r.msg(), nil)
			got := do(t, f, parking, r.msg(), nil)
			parked++
			if got.Blocked() != want.Blocked() {
				t.Errorf("%s, %s: parked blocked %v, live %v", body, r.name, got.Blocked(), want.Blocked())
			}
			for _, k := range fields {
				if g, w := metaField(got, k), metaField(want, k); fmt.Sprint(g) != fmt.Sprint(w) {
					t.Errorf("%s, %s: %s parked %v, live %v", body, r.name, k, g, w)
				}
			}
		}
	}
	if n := metricValue(reg, "bulwark_parked_exchanges_total"); n != float64(parked) {
		t.Fatalf("%v exchanges parked, want %d: the test did not exercise parking", n, parked)
	}

	// A stream that ends while parked still runs phases 1 and 5, and
	// frees its slot's count.
	cut, err := parking.Process(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	hold := requestHeadersMsg(false)
	hold.ProtocolConfig = &extprocv3.ProtocolConfiguration{RequestBodyMode: procv3.ProcessingMode_BUFFERED, ResponseBodyMode: procv3.ProcessingMode_BUFFERED}
	if err := cut.Send(hold); err != nil {
		t.Fatal(err)
	}
	if _, err := cut.Recv(); err != nil {
		t.Fatal(err)
	}
	if err := cut.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := cut.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("cut parked stream ended with %v", err)
	}
	if n := metricValue(reg, "bulwark_parked_exchanges_total"); n != float64(parked+1) {
		t.Fatalf("%v parked, want %d", n, parked+1)
	}
	release()
	servertest.WaitGauge(t, reg, "bulwark_waiting_transactions", 0)
}
