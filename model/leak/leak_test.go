package leak

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bulwark-waf/bulwark/internal/decode"
	"github.com/bulwark-waf/bulwark/model"
	"github.com/klauspost/compress/gzip"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	defaultOnce  sync.Once
	defaultModel *Model
	defaultErr   error
)

func testModel(t testing.TB) *Model {
	t.Helper()
	defaultOnce.Do(func() { defaultModel, defaultErr = Default() })
	if defaultErr != nil {
		t.Fatalf("embedded model: %v", defaultErr)
	}
	return defaultModel
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "bodies", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func users(n int, withCards bool) string {
	var b strings.Builder
	b.WriteString(`{"users":[`)
	r := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"User %d","email":"user%d.%s@gmail.com","phone":"+1 415 555 %04d"`, i, i, i, []string{"smith", "jones", "lee"}[i%3], r.IntN(10000))
		if withCards {
			fmt.Fprintf(&b, `,"card_number":"%s"`, luhnCard(r))
		}
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	return b.String()
}

func luhnCard(r *rand.Rand) string {
	d := []byte("45320")
	for len(d) < 15 {
		d = append(d, byte('0'+r.IntN(10)))
	}
	for c := byte('0'); c <= '9'; c++ {
		if luhn(append(append([]byte(nil), d...), c)) {
			return string(append(d, c))
		}
	}
	panic("unreachable")
}

type bodyCase struct {
	name, ct, body string
	class          string // "" = clean
}

func leakCases(t testing.TB) []bodyCase {
	return []bodyCase{
		{"aws-keys-json", "application/json", `{"region":"us-east-1","aws_access_key_id":"AKIAZ3MSJV2KQWERTYUI","aws_secret_access_key":"q9Fz1uB0+7kLmN3oPqRsTuVwXyZaBcDeFgHiJkL2"}`, "secret"},
		{"private-key-no-content-type", "", readTestdata(t, "private_key.pem"), "secret"},
		{"stripe-and-db-url", "application/json", `{"stripe":{"secret_key":"sk_live_51HqLyjWDarjtT1zdp7dcXyZaBcDeFgHiJkLmNoPq"},"database_url":"postgres://orders:Zx9!vQ2mK7pL@db-prod.internal:5432/orders"}`, "secret"},
		{"env-file", "application/octet-stream", "APP_ENV=production\nDB_HOST=10.0.3.7\nDB_PASSWORD=Tr0ub4dor&3xyz\nAWS_SECRET_ACCESS_KEY=q9Fz1uB0+7kLmN3oPqRsTuVwXyZaBcDeFgHiJkL2\n", "source"},
		{"bulk-emails", "application/json", users(300, false), "pii"},
		{"cards-dump", "application/json", users(40, true), "pii"},
		{"django-debug", "text/html; charset=utf-8", readTestdata(t, "django_debug.html"), "error"},
		{"spring-problem-json", "application/problem+json", `{"type":"about:blank","title":"Internal Server Error","status":500,"trace":"java.lang.NullPointerException: null\n\tat com.acme.orders.OrderService.total(OrderService.java:88)\n\tat com.acme.orders.OrderController.get(OrderController.java:41)\n\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)\n\tat org.apache.catalina.core.ApplicationFilterChain.internalDoFilter(ApplicationFilterChain.java:206)"}`, "error"},
		{"go-panic", "text/plain", "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6d1f2a]\n\ngoroutine 57 [running]:\nmain.(*Server).handle(0xc0001a2000)\n\t/src/server.go:142 +0x2a\nnet/http.HandlerFunc.ServeHTTP(...)\n\t/usr/local/go/src/net/http/server.go:2136\n", "error"},
		{"mysql-error", "text/html", "<html><body><b>Warning</b>: mysqli_query(): You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '''' at line 1 in <b>/var/www/html/item.php</b> on line <b>23</b></body></html>", "error"},
		{"git-config", "", "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n[remote \"origin\"]\n\turl = git@github.com:acme/billing.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n", "source"},
		{"directory-listing", "text/html", readTestdata(t, "dirlist.html"), "source"},
		{"short-nginx-listing", "text/html", "<html><head><title>Index of /backup/</title></head><body><h1>Index of /backup/</h1><hr><pre><a href=\"../\">../</a>\n<a href=\"db.sql.gz\">db.sql.gz</a>  01-May-2024 02:00  1.2G\n</pre><hr></body></html>", "source"},
		{"raw-php-file", "text/plain", "<?php\n$db = new mysqli('localhost', 'root', 'Qm7x2Lp9vR4k', 'shop');\n", "source"},
		{"bearer-token-log", "text/plain", strings.Repeat("2024-05-01T10:00:00Z INFO GET /api/orders Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI4NzYzNDUiLCJleHAiOjE3MDAwMDM2MDB9.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtZm9yLXRlc3QxMjM0\n", 5), "secret"},
		{"maven-settings-password", "application/xml", "<settings><servers><server><id>nexus</id><username>deployer</username><password>Xk29sLqW7!vB2</password></server></servers></settings>", "secret"},
		{"laravel-query-exception", "text/html", readTestdata(t, "laravel_query_exception.html"), "error"},
		{"express-default-error", "text/html", readTestdata(t, "express_500.html"), "error"},
		{"tomcat-error-page", "text/html", "<!doctype html><html><head><title>HTTP Status 500 – Internal Server Error</title></head><body><h1>HTTP Status 500 – Internal Server Error</h1><p><b>Type</b> Exception Report</p><p><b>Description</b> The server encountered an unexpected condition that prevented it from fulfilling the request.</p><pre>java.lang.NullPointerException\n\tat com.acme.web.OrderController.show(OrderController.java:44)\n\tat org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:166)\n\tat java.base/java.lang.Thread.run(Thread.java:1583)</pre><p><b>Note</b> The full stack trace of the root cause is available in the server logs.</p></body></html>", "error"},
	}
}

func cleanCases(t testing.TB) []bodyCase {
	return []bodyCase{
		{"profile-one-email", "application/json", `{"id":42,"name":"Ada Lovelace","email":"ada.lovelace@gmail.com","phone":"+44 20 7946 0958","plan":"pro","card":"**** **** **** 4242"}`, ""},
		{"docs-example-keys", "text/html", readTestdata(t, "docs_example_keys.html"), ""},
		{"payment-docs-test-cards", "text/html", readTestdata(t, "test_cards.html"), ""},
		{"oauth-token", "application/json", `{"access_token":"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI4NzYzNDUiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtZm9yLXRlc3Q","token_type":"Bearer","expires_in":3600,"refresh_token":"8xLOxBtZp8"}`, ""},
		{"security-blog-trace", "text/html", readTestdata(t, "blog_trace.html"), ""},
		{"plain-article", "text/html", "<html><head><title>Release notes</title></head><body><h1>Version 2.4</h1><p>This release improves the scheduler. Thanks to all contributors.</p></body></html>", ""},
		{"order-history", "application/json", `{"orders":[{"id":"000123456","total":41.5,"tracking":"1Z999AA10123456784","payment":"visa ending in 4242"},{"id":"000123457","total":9.99,"tracking":"9400111899223817543210","payment":"mastercard ending in 0005"}]}`, ""},
		{"docs-example-connection-strings", "text/html", "<html><body><p>Create an engine:</p><pre>create_engine(&quot;postgresql://scott:tiger@localhost/test&quot;)\namqp://guest:guest@localhost:5672//\nhttp://user:pass@10.10.1.10:3128/</pre><p>Then <code>password=s3cr3t</code> in the DSN.</p></body></html>", ""},
		{"oauth-rfc-example", "text/html", "<html><body><pre>POST /token HTTP/1.1\nAuthorization: Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW\n\ngrant_type=password&amp;username=johndoe&amp;password=A3ddj3w</pre></body></html>", ""},
		{"firebase-config", "text/html", `<html><head><script>const firebaseConfig = {apiKey: "AIzaSyB3kQ9xL2mN4pR7sT1vW5yZ8aC0dE6fGhJ", authDomain: "shop-4f2a1.firebaseapp.com", projectId: "shop-4f2a1"};</script></head><body><div id="app"></div></body></html>`, ""},
		{"tutorial-repeated-emails", "text/html", "<html><body>" + strings.Repeat("<pre>spongebob spongebob@sqlalchemy.org\nsandy sandy@sqlalchemy.org\npat pat999@aol.com</pre><p>The query returns the same rows again.</p>", 12) + "</body></html>", ""},
		// pages quoting an error, short ones included: a question, a bug
		// report, a tutorial's output, a plain-text report
		{"qa-short-python-trace", "text/html", readTestdata(t, "quoted_so_short_py.html"), ""},
		{"qa-short-java-trace", "text/html", readTestdata(t, "quoted_so_short_java.html"), ""},
		{"qa-sqlstate", "text/html", readTestdata(t, "quoted_so_sqlstate.html"), ""},
		{"issue-node-trace", "text/html", readTestdata(t, "quoted_gh_issue_node.html"), ""},
		{"docs-go-panic-output", "text/html", readTestdata(t, "quoted_docs_go_panic.html"), ""},
		{"text-issue-rails-trace", "text/plain", readTestdata(t, "quoted_ruby_issue.txt"), ""},
		{"not-found", "text/html", "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", ""},
	}
}

func TestLeaksFound(t *testing.T) {
	t.Parallel()
	m := testModel(t)
	th := m.DefaultThreshold()
	for _, tc := range leakCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := m.ScoreBody(tc.ct, []byte(tc.body))
			if s.Class[tc.class] > th {
				t.Errorf("%s scored %d (> threshold %d); all: %v", tc.class, s.Class[tc.class], th, s.Class)
			}
			if s.Overall > th || !s.Complete {
				t.Errorf("overall %d, complete %v", s.Overall, s.Complete)
			}
			found := false
			for _, l := range s.Locations {
				found = found || l.Class == tc.class
			}
			if !found {
				t.Errorf("no location for %s: %+v", tc.class, s.Locations)
			}
		})
	}
}

func TestCleanNotFlagged(t *testing.T) {
	t.Parallel()
	m := testModel(t)
	th := m.DefaultThreshold()
	for _, tc := range cleanCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := m.ScoreBody(tc.ct, []byte(tc.body))
			if s.Overall <= th {
				t.Errorf("clean body flagged: %v %+v", s.Class, s.Locations)
			}
		})
	}
}

// Every way of cutting a body into two chunks gives the same features as
// scanning it whole: the overlap window sees a secret split anywhere.
func TestSplitAcrossChunks(t *testing.T) {
	t.Parallel()
	m := testModel(t)
	for _, tc := range leakCases(t)[:6] {
		body := []byte(tc.body)
		want := BodyFeatures(tc.ct, body)
		for cut := 0; cut <= len(body); cut++ {
			s := m.NewScanner(context.Background(), tc.ct)
			_, _ = s.Write(body[:cut])
			_, _ = s.Write(body[cut:])
			_ = s.Close()
			if got := s.Features(); got != want {
				t.Fatalf("%s cut at %d: features differ\n got %v\nwant %v", tc.name, cut, got, want)
			}
		}
	}
}

func TestSecretSplitInLongStream(t *testing.T) {
	t.Parallel()
	m := testModel(t)
	pad := strings.Repeat("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\n", 5000)
	body := []byte("<html><body>" + pad + `<script>var cfg={key:"sk_live_51HqLyjWDarjtT1zdp7dcXyZaBcDeFgHiJkLmNoPq"};</script>` + pad + "</body></html>")
	at := bytes.Index(body, []byte("sk_live_")) + 10
	s := m.NewScanner(context.Background(), "text/html")
	writeChunked(s, body[:at], 16<<10)
	writeChunked(s, body[at:], 16<<10)
	_ = s.Close()
	r := s.Result()
	if r.Class["secret"] > m.DefaultThreshold() {
		t.Fatalf("split stripe key not found: %v", r.Class)
	}
	if len(r.Spans) != 1 || string(body[r.Spans[0].Start:r.Spans[0].End])[:8] != "sk_live_" {
		t.Fatalf("spans %+v", r.Spans)
	}
}

func TestGzipEncodedLeak(t *testing.T) {
	t.Parallel()
	m := testModel(t)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write([]byte(users(500, false)))
	_ = zw.Close()
	s := m.NewScanner(context.Background(), "application/json")
	d, err := decode.New("gzip", decode.Limits{}, s)
	if err != nil {
		t.Fatal(err)
	}
	gz := z.Bytes()
	for len(gz) > 0 {
		n := min(len(gz), 1000)
		if _, err := d.Write(gz[:n]); err != nil {
			t.Fatal(err)
		}
		gz = gz[n:]
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if r := s.Result(); r.Class["pii"] > m.DefaultThreshold() {
		t.Fatalf("gzip-encoded e-mail dump not flagged: %v", r.Class)
	}
}

func TestJSONPathLocation(t *testing.T) {
	t.Parallel()
	m := testModel(t)
	body := `{"meta":{"page":1},"data":{"items":[{"id":1},{"id":2,"config":{"aws_secret_access_key":"q9Fz1uB0+7kLmN3oPqRsTuVwXyZaBcDeFgHiJkL2","region":"eu-west-1","key":"AKIAZ3MSJV2KQWERTYUI"}}]}}`
	r := m.ScoreBody("application/json", []byte(body))
	var where string
	for _, l := range r.Locations {
		if l.Class == "secret" {
			where = l.Where
		}
	}
	if where != "$.data.items[1].config.aws_secret_access_key" {
		t.Fatalf("secret location %q (%+v), scores %v", where, r.Locations, r.Class)
	}
	r = m.ScoreBody("text/plain", []byte("x\nAKIAZ3MSJV2KQWERTYUI\n"))
	if len(r.Locations) == 0 || r.Locations[0].Where != "offset:2" {
		t.Fatalf("text location: %+v", r.Locations)
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	m := testModel(t)
	body := []byte(`{"users":[{"email":"jane.doe@gmail.com","card":"4532 0151 1283 0366"}],"key":"AKIAZ3MSJV2KQWERTYUI","db":"mysql://app:Zx9vQ2mK7pL@10.0.0.5/app"}`)
	r := m.ScoreBody("application/json", body)
	out := Mask(body, r.Spans)
	if len(out) != len(body) {
		t.Fatalf("masked length %d, want %d", len(out), len(body))
	}
	for _, secret := range []string{"jane.doe@gmail.com", "4532 0151 1283 0366", "AKIAZ3MSJV2KQWERTYUI", "Zx9vQ2mK7pL"} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("%q not masked: %s", secret, out)
		}
	}
	if !bytes.Contains(out, []byte(`"db":"mysql://app:`)) || !bytes.Contains(out, []byte("@10.0.0.5/app")) {
		t.Errorf("masking took more than the password: %s", out)
	}
	only := Mask(body, r.Spans, "secret")
	if !bytes.Contains(only, []byte("jane.doe@gmail.com")) || bytes.Contains(only, []byte("AKIAZ3MSJV2KQWERTYUI")) {
		t.Errorf("class filter: %s", only)
	}
	if got := Mask(body[:10], r.Spans); len(got) != 10 {
		t.Errorf("spans past the end are clipped")
	}
}

func TestValidators(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ok   bool
	}{
		{"4532015112830366", true}, {"4532015112830367", false}, {"1700000000000", false},
	}
	for _, c := range cases {
		d := []byte(c.name)
		if got := luhn(d) && cardIIN(d); got != c.ok {
			t.Errorf("card %s: %v", c.name, got)
		}
	}
	for _, s := range []string{"DE89370400440532013000", "GB82WEST12345698765432", "NL91ABNA0417164300"} {
		if !ibanValid([]byte(s)) {
			t.Errorf("IBAN %s should be valid", s)
		}
	}
	if ibanValid([]byte("DE89370400440532013001")) || ibanValid([]byte("XX89370400440532013000")) {
		t.Error("bad IBAN passed")
	}
	if !ssnValid([]byte("536"), []byte("22"), []byte("1234")) || ssnValid([]byte("666"), []byte("22"), []byte("1234")) || ssnValid([]byte("078"), []byte("05"), []byte("1120")) {
		t.Error("SSN rules")
	}
	if !dniValid([]byte("12345678"), 'Z') || dniValid([]byte("12345678"), 'A') {
		t.Error("DNI check letter")
	}
	if !ninoValid([]byte("AB123456C")) || ninoValid([]byte("QQ123456C")) {
		t.Error("NINO prefixes")
	}
}

func TestScoreScaleMatchesRequestModel(t *testing.T) {
	t.Parallel()
	for p := 0.0; p <= 1.0; p += 0.001 {
		if ScoreFromProb(p) != model.ScoreFromProb(p) {
			t.Fatalf("p=%v: leak %d, request %d", p, ScoreFromProb(p), model.ScoreFromProb(p))
		}
	}
}

func TestSkippedAndSniffed(t *testing.T) {
	t.Parallel()
	m := testModel(t)
	secret := []byte("AWS_SECRET_ACCESS_KEY=q9Fz1uB0+7kLmN3oPqRsTuVwXyZaBcDeFgHiJkL2\nDB_PASSWORD=Tr0ub4dor&3xyz\n")
	if r := m.ScoreBody("image/png", secret); !r.Skipped || r.Overall != 99 {
		t.Errorf("image/png is skipped: %+v", r)
	}
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), secret...)
	if r := m.ScoreBody("", png); !r.Skipped {
		t.Errorf("a body sniffed as PNG is skipped: %+v", r)
	}
	if r := m.ScoreBody("", secret); r.Skipped || r.Overall > m.DefaultThreshold() {
		t.Errorf("no content type is sniffed and inspected: %+v", r)
	}
	if r := m.ScoreBody("text/html", []byte("<p>hello</p>")); !r.Prefiltered || r.Overall != 99 {
		t.Errorf("no evidence: prefiltered clean: %+v", r)
	}
}

func TestContextStopsScan(t *testing.T) {
	t.Parallel()
	m := testModel(t)
	ctx, cancel := context.WithCancel(context.Background())
	s := m.NewScanner(ctx, "text/plain")
	cancel()
	_, _ = s.Write([]byte("AKIAZ3MSJV2KQWERTYUI"))
	_ = s.Close()
	if r := s.Result(); r.Complete {
		t.Fatal("a cancelled scan is not complete")
	}
}

func TestSpanLimit(t *testing.T) {
	t.Parallel()
	m := testModel(t)
	s := m.NewScannerOptions(context.Background(), "application/json", Options{MaxSpans: 10})
	_, _ = s.Write([]byte(users(50, false)))
	_ = s.Close()
	r := s.Result()
	if len(r.Spans) != 10 || !r.SpansTruncated {
		t.Fatalf("%d spans, truncated %v", len(r.Spans), r.SpansTruncated)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file")
	}
	if _, err := Load(write("junk", "not json")); err == nil {
		t.Error("junk")
	}
	if _, err := Load(write("fmt", `{"format":"other"}`)); err == nil {
		t.Error("format")
	}
	_, err := Load(write("schema", `{"format":"`+FileFormat+`","schema_version":"leak-features/0","feature_names":["a"]}`))
	if !errors.Is(err, ErrSchemaMismatch) {
		t.Errorf("schema: %v", err)
	}
	if _, err := Load(write("gz", "\x1f\x8b\x08\x00junk")); err == nil {
		t.Error("bad gzip")
	}
	m, err := Open("")
	if err != nil || m.DefaultThreshold() <= 0 || len(m.Info().FeatureNames) != NumFeatures {
		t.Errorf("Open(\"\") is the embedded model: %v", err)
	}
}

func FuzzScanner(f *testing.F) {
	m := testModel(f)
	for _, tc := range leakCases(f) {
		f.Add(tc.ct, []byte(tc.body), uint16(100))
	}
	f.Add("application/json", []byte(`{"a":["\"",{"b\\":1}]`), uint16(3))
	f.Add("", []byte("\xff\xfe\x00AKIA"), uint16(1))
	f.Fuzz(func(t *testing.T, ct string, body []byte, chunk uint16) {
		c := int(chunk)%5000 + 1
		s := m.NewScanner(context.Background(), ct)
		writeChunked(s, body, c)
		_ = s.Close()
		r := s.Result()
		if got, want := s.Features(), BodyFeatures(ct, body); got != want {
			t.Fatalf("chunked features differ from whole-body features")
		}
		for _, sp := range r.Spans {
			if sp.Start < 0 || sp.End > int64(len(body)) || sp.Start > sp.End {
				t.Fatalf("span %+v outside a %d-byte body", sp, len(body))
			}
		}
		if r.Overall < 1 || r.Overall > 99 {
			t.Fatalf("overall %d", r.Overall)
		}
		_ = Mask(body, r.Spans)
	})
}

// The visible-text context: words before and after the error evidence,
// code markup, links, and the status; the same at every chunking.
func TestTextContext(t *testing.T) {
	t.Parallel()
	page := "<html><head><title>KeyError in my app</title><style>p{color:red}</style>" +
		"<script>var s = \"<pre>\";</script></head><body><p>My app crashes on startup, any idea?</p>" +
		"<pre><code>Traceback (most recent call last):\n  File \"app.py\", line 3, in main\nKeyError: 'x'</code></pre>" +
		"<p>Thanks in advance, <a href=\"/u/1\">tom</a></p></body></html>"
	fv := ResponseFeatures(200, "text/html", []byte(page))
	want := map[int]float64{FStatusOK: 1, FStatus5xx: 0, FErrInCode: 1, FCodeBlocks: 2, FLinks: 1}
	for f, v := range want {
		if fv[f] != v {
			t.Errorf("%s = %v, want %v", FeatureNames[f], fv[f], v)
		}
	}
	// "KeyError in my app" + "My app crashes on startup, any idea?": the
	// title and the question, not the style or the script
	if fv[FErrWordsBefore] != 11 {
		t.Errorf("err_words_before = %v, want 11", fv[FErrWordsBefore])
	}
	if fv[FErrWordsAfter] < 4 || fv[FErrSpanFrac] <= 0 || fv[FErrSpanFrac] >= 1 {
		t.Errorf("err_words_after %v, err_span_frac %v", fv[FErrWordsAfter], fv[FErrSpanFrac])
	}
	if fv := ResponseFeatures(503, "text/html", []byte(page)); fv[FStatus5xx] != 1 || fv[FStatusOK] != 0 {
		t.Errorf("503: status features %v %v", fv[FStatus5xx], fv[FStatusOK])
	}
	text := "Bug report\n\nRunning it gives:\n\n```\npanic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:8 +0x1d\n```\nThanks\n"
	if fv := BodyFeatures("text/plain", []byte(text)); fv[FErrInCode] != 1 || fv[FCodeBlocks] != 1 || fv[FErrWordsBefore] != 5 {
		t.Errorf("fenced text: err_in_code %v, code_blocks %v, err_words_before %v", fv[FErrInCode], fv[FCodeBlocks], fv[FErrWordsBefore])
	}
	js := `{"title":"crash","body":"` + "Traceback (most recent call last):\\n  File \\\"a.py\\\", line 1" + `"}`
	api := `{"error":"sqlite3.OperationalError: near \"'\": syntax error"}`
	if fv := BodyFeatures("application/json", []byte(js)); fv[FErrJSONKey] != 0 || fv[FPythonTrace] == 0 {
		t.Errorf("issue body: err_json_key %v, python_trace %v", fv[FErrJSONKey], fv[FPythonTrace])
	}
	if fv := BodyFeatures("application/json", []byte(api)); fv[FErrJSONKey] != 1 {
		t.Errorf("API error field: err_json_key %v", fv[FErrJSONKey])
	}
	for _, body := range []string{page, text, js, api} {
		ct := "text/html"
		if body == text {
			ct = "text/plain"
		} else if body[0] == '{' {
			ct = "application/json"
		}
		whole := ResponseFeatures(500, ct, []byte(body))
		for cut := 0; cut <= len(body); cut++ {
			s := newScanner(context.Background(), nil, ct, Options{Status: 500})
			_, _ = s.Write([]byte(body[:cut]))
			_, _ = s.Write([]byte(body[cut:]))
			_ = s.Close()
			if got := s.Features(); got != whole {
				t.Fatalf("%s cut at %d: features differ from the whole body's", ct, cut)
			}
		}
	}
}

// A 5xx response that shows a trace is an error disclosure whatever its
// context; the same body with 200 is left to the trees.
func TestServerErrorStatus(t *testing.T) {
	t.Parallel()
	m := testModel(t)
	page := readTestdata(t, "quoted_so_short_py.html")
	if r := m.ScoreResponse(500, "text/html", []byte(page)); r.Class["error"] > certainScore {
		t.Errorf("500 with a trace: error %d", r.Class["error"])
	}
	if r := m.ScoreResponse(200, "text/html", []byte(page)); r.Class["error"] <= m.DefaultThreshold() {
		t.Errorf("200 Q&A page quoting a trace: error %d", r.Class["error"])
	}
	// a 500 without a trace (a generic apology page) is no leak
	if r := m.ScoreResponse(500, "text/html", []byte("<html><head><title>Oops</title></head><body><p>Something went wrong. Please try again later.</p></body></html>")); r.Overall <= m.DefaultThreshold() {
		t.Errorf("generic 500 page flagged: %v", r.Class)
	}
}

// Past ctxWindow the context stops being read; the features are still the
// same at every chunking, for a trace that straddles the window's end.
func TestTextContextWindow(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("<html><body>")
	for b.Len() < ctxWindow-300 {
		b.WriteString("<p>Some words of a long page, and a <a href=\"/x\">link</a>.</p>\n")
	}
	b.WriteString("<pre>java.lang.IllegalStateException: boom\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "\tat com.acme.Svc.call%d(Svc.java:%d)\n", i, 10+i)
	}
	b.WriteString("</pre><p>After the trace.</p></body></html>")
	body := []byte(b.String())
	whole := ResponseFeatures(200, "text/html", body)
	if whole[FJavaFrame] < 40 || whole[FErrWordsBefore] == 0 {
		t.Fatalf("frames %v, words before %v", whole[FJavaFrame], whole[FErrWordsBefore])
	}
	cuts := []int{1, 4097, 65 << 10, ctxWindow - 1, ctxWindow, ctxWindow + 1, len(body) - 1}
	for c := ctxWindow - 400; c < ctxWindow+400; c += 7 {
		cuts = append(cuts, c)
	}
	for _, cut := range cuts {
		if cut > len(body) {
			t.Fatalf("cut %d past the %d-byte body", cut, len(body))
		}
		s := newScanner(context.Background(), nil, "text/html", Options{Status: 200})
		writeChunked(s, body[:cut], 16<<10)
		writeChunked(s, body[cut:], 16<<10)
		_ = s.Close()
		if s.Features() != whole {
			t.Fatalf("cut at %d: features differ from the whole body's", cut)
		}
	}
}

// The hand-written probe responses (testdata/probe, see its README): a
// clean one must score above the threshold at each of its statuses, and a
// leak at or below it. A clean one at 50 or below is logged: there the
// server lets CRS outbound's flag stand. A probe's missed_at lists the
// statuses where it is a known miss, written down rather than hidden; the
// test fails when one of them is caught, so the list stays true.
func TestProbeResponses(t *testing.T) {
	t.Parallel()
	m := testModel(t)
	raw, err := os.ReadFile(filepath.Join("testdata", "probe", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var probes []struct {
		File        string `json:"file"`
		Leak        bool   `json:"leak"`
		ContentType string `json:"content_type"`
		Statuses    []int  `json:"statuses"`
		MissedAt    []int  `json:"missed_at"`
	}
	if err := json.Unmarshal(raw, &probes); err != nil {
		t.Fatal(err)
	}
	if len(probes) < 80 {
		t.Fatalf("%d probes", len(probes))
	}
	for _, p := range probes {
		body, err := os.ReadFile(filepath.Join("testdata", "probe", p.File))
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range p.Statuses {
			r := m.ScoreResponse(st, p.ContentType, body)
			if slices.Contains(p.MissedAt, st) {
				if right := p.Leak == (r.Overall <= m.DefaultThreshold()); right {
					t.Errorf("%s (status %d): listed as missed but scored right (%v): drop it from missed_at", p.File, st, r.Class)
				} else {
					t.Logf("%s (status %d): known miss, scored %v", p.File, st, r.Class)
				}
				continue
			}
			switch {
			case p.Leak && r.Overall > m.DefaultThreshold():
				t.Errorf("%s (status %d): leak scored %v", p.File, st, r.Class)
			case !p.Leak && r.Overall <= m.DefaultThreshold():
				t.Errorf("%s (status %d): clean response scored %v %+v", p.File, st, r.Class, r.Locations)
			case !p.Leak && r.Overall <= 50:
				t.Logf("%s (status %d): clean response at %d, where CRS outbound's flag would stand", p.File, st, r.Overall)
			}
		}
	}
}

// A segment full of detections (a long config dump, a deep trace) places
// every one of them, so one big write and small chunks give the same
// features.
func TestManyDetectionsPerSegment(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("<html><body><p>Config:</p><pre>")
	for i := 0; b.Len() < 150<<10; i++ {
		fmt.Fprintf(&b, "KEY_%d=v%d\n", i, i)
		if i%7 == 0 {
			fmt.Fprintf(&b, "</pre>\nOUT_%d=shown\n<p>and</p><pre>\tat com.acme.A.b(A.java:1)\n", i)
		}
	}
	b.WriteString("</pre></body></html>")
	body := []byte(b.String())
	whole := ResponseFeatures(0, "text/html", body)
	if whole[FEnvLine] < 5000 || whole[FSrcInCode] == 0 || whole[FErrInCode] == 0 {
		t.Fatalf("env lines %v, src_in_code %v, err_in_code %v", whole[FEnvLine], whole[FSrcInCode], whole[FErrInCode])
	}
	for _, chunk := range []int{1 << 10, 4093, 16 << 10} {
		s := newScanner(context.Background(), nil, "text/html", Options{})
		for p := body; len(p) > 0; {
			n := min(len(p), chunk)
			_, _ = s.Write(p[:n])
			p = p[n:]
		}
		_ = s.Close()
		if s.Features() != whole {
			t.Fatalf("%d-byte chunks: features differ from the whole body's", chunk)
		}
	}
}

// writeChunked writes b to s in chunks of at most chunk bytes, as ext_proc
// hands a streamed body over.
func writeChunked(s *Scanner, b []byte, chunk int) {
	for len(b) > 0 {
		n := min(len(b), chunk)
		_, _ = s.Write(b[:n])
		b = b[n:]
	}
}

// The detectors added for the third blind probe, and the cases a review
// of them found: what each body must count, and must not.
func TestNewDetectors(t *testing.T) {
	t.Parallel()
	pgp := "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\nComment: backup\n\n" + strings.Repeat("lQOYBGXn2kUBCADc0vJ8Yq7m3xH5tN2pL9wR4sF6gK1jD8aB3cE0uI7oP5yT2rQ", 3) + "\n-----END PGP PRIVATE KEY BLOCK-----\n"
	escaped, _ := json.Marshal(map[string]string{"key": pgp})
	tests := []struct {
		name, ct, body string
		feature        int
		want           bool
	}{
		{"go template error", "text/plain", "template: dashboard.gohtml:34:21: executing \"dashboard.gohtml\" at <.Account.Plan>: nil pointer evaluating *billing.Plan.Limits\n", FGoPanic, true},
		{"prose about executing a template", "text/html", `<p>The template: it is executing "now" at <b>noon</b>.</p>`, FGoPanic, false},
		{"pgp private key", "text/plain", pgp, FPrivateKeyBody, true},
		{"pgp private key in JSON, escaped line breaks", "application/json", string(escaped), FPrivateKeyBody, true},
		{"fcm server key", "text/javascript", `const k = "AAAAin6QvXo:APA91b` + strings.Repeat("WUDwsU1ZqDzOQGIjIlaJTugltLG2GZIpPd1tAHo", 4) + `";`, FOtherToken, true},
		{"s3 listing", "application/xml", `<?xml version="1.0"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Contents><Key>.env</Key></Contents></ListBucketResult>`, FDirListing, true},
		{"ni number in pairs", "text/html", "<td>SK 87 62 22 D</td>", FNationalID, true},
		{"uk mobile", "text/csv", "name,phone\nJo Bloggs,07700 900123\n", FPhone, true},
		{"french number in pairs", "text/csv", "nom,tel\nA B,06 47 21 93 58\n", FPhone, true},
		{"the tail of an international number is not counted twice", "text/plain", "+44 020 7946 0958", FPhone, true},
		{"zero-padded id is no phone", "text/csv", "id\n0000482913\n", FPhone, false},
		{"role address on a company domain is no person", "text/html", "<p>store0421@acme-shops.com</p>", FEmail, false},
		{"role-like local part on a mailbox provider is a person", "text/html", "<p>info1987@gmail.com</p>", FEmail, true},
		{"admin@ is a person's login as often as a role", "text/html", "<p>admin@acme-corp.com</p>", FEmail, true},
		{"an EAN-13 is no card", "application/json", `{"gtin":"4006381333931"}`, FCard, false},
		{"a password with Replace in it is a password", "text/plain", "DATABASE_URL=postgres://app:Tr0ub4dor-Replace-9x@db.internal:5432/app", FConnString, true},
		{"a template instruction is a placeholder", "text/plain", "DATABASE_URL=postgres://app:replace-with-output-of-openssl-rand@db.internal:5432/app", FConnString, false},
	}
	m := testModel(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := m.NewScanner(context.Background(), tc.ct)
			_, _ = s.Write([]byte(tc.body))
			_ = s.Close()
			fv := s.Features()
			if got := fv[tc.feature] > 0; got != tc.want {
				t.Errorf("feature %d = %v, want present %v", tc.feature, fv[tc.feature], tc.want)
			}
			if tc.name == "the tail of an international number is not counted twice" && fv[FPhone] != 1 {
				t.Errorf("%v phones, want 1", fv[FPhone])
			}
		})
	}
}
