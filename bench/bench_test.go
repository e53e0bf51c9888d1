package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/corazawaf/coraza/v3/types"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/bulwark-waf/bulwark/cmd/extproc/app"
	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/waf"
)

// The child process of BenchmarkIdleStreamMemory runs only the server, so
// its memory is the server's alone; BenchmarkReplay's runs the shipped
// server alone, so its CPU is the server's alone.
func TestMain(m *testing.M) {
	if os.Getenv("BULWARK_BENCH_CHILD") == "1" {
		serveChild()
		return
	}
	if engine := os.Getenv("BULWARK_BENCH_COMPILE"); engine != "" {
		compileChild(engine)
		return
	}
	if os.Getenv("BULWARK_BENCH_SHIPPED") == "1" {
		shippedChild()
		return
	}
	os.Exit(m.Run())
}

// form1KB is a typical 1 KB urlencoded login/checkout form.
var form1KB = func() string {
	fields := []string{"email=jane.doe%40example.com", "password=correct+horse+battery+staple", "remember=on",
		"address=221B+Baker+Street", "city=London", "zip=NW1+6XE", "country=GB", "phone=%2B44+20+7946+0958",
		"note=Please+leave+the+parcel+with+the+neighbour+if+nobody%27s+home.", "csrf=8f14e45fceea167a5a36dedd4bea2543"}
	s := strings.Join(fields, "&")
	for len(s) < 1024 {
		s += "&comment=" + strings.Repeat("lorem+ipsum+dolor+sit+amet+", 2)
	}
	return s[:1024]
}()

var reqHeaders = [][2]string{
	{"user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
	{"accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
	{"accept-language", "en-GB,en;q=0.5"},
	{"accept-encoding", "gzip, deflate, br"},
	{"content-type", "application/x-www-form-urlencoded"},
	{"content-length", "1024"},
	{"cookie", "session=5f0c2a1e9b7d4c3a8e6f; theme=dark"},
	{"referer", "https://shop.example/checkout"},
	{"x-request-id", "b7e1c3a0-0d7e-4a4e-9f55-2f7c9a1d3e11"},
	{"x-forwarded-for", "203.0.113.7"},
}

var respHeaders = [][2]string{{"content-type", "text/html; charset=utf-8"}, {"content-length", "5120"}, {"cache-control", "private"}}

func engine(b testing.TB) *waf.Engine {
	b.Helper()
	e, err := waf.New(waf.DefaultConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// bare is what Bulwark does per request, minus ext_proc: phases 1 to 3 and
// logging on an in-process Coraza transaction.
func bare(ctx context.Context, e *waf.Engine) bool {
	tx := e.NewTransaction(ctx, "")
	defer func() { _ = tx.Close() }()
	tx.ProcessConnection("203.0.113.7", 51234, "10.0.0.2", 8080)
	tx.ProcessURI("/checkout/submit", "POST", "HTTP/1.1")
	tx.AddRequestHeader("host", "shop.example")
	for _, h := range reqHeaders {
		tx.AddRequestHeader(h[0], h[1])
	}
	blocked := tx.ProcessRequestHeaders() != nil
	if !blocked {
		_, _, _ = tx.WriteRequestBody([]byte(form1KB))
		it, _ := tx.ProcessRequestBody()
		blocked = it != nil
	}
	if !blocked {
		for _, h := range respHeaders {
			tx.AddResponseHeader(h[0], h[1])
		}
		blocked = tx.ProcessResponseHeaders(200, "HTTP/1.1") != nil
	}
	tx.ProcessLogging()
	return blocked
}

var roundTrip = &envoysim.Filter{
	Mode:           &procv3.ProcessingMode{RequestBodyMode: procv3.ProcessingMode_BUFFERED, ResponseBodyMode: procv3.ProcessingMode_NONE},
	MessageTimeout: 5 * time.Second,
	Attributes:     map[string]string{"source.address": "203.0.113.7:51234", "destination.address": "10.0.0.2:8080", "request.protocol": "HTTP/1.1"},
}

var request = &envoysim.Message{Method: "POST", Path: "/checkout/submit", Authority: "shop.example", Headers: reqHeaders, Body: []byte(form1KB)}

func upstream(*envoysim.Message) *envoysim.Message {
	return &envoysim.Message{Status: 200, Headers: respHeaders}
}

// BenchmarkBareCoraza is the baseline: the same request and response
// headers through upstream Coraza (its own @rx) and CRS PL1 in-process.
func BenchmarkBareCoraza(b *testing.B) {
	e := bareEngine(b)
	ctx := context.Background()
	if bare(ctx, e) {
		b.Fatal("the benchmark request is blocked; it must be clean")
	}
	b.ReportAllocs()
	for b.Loop() {
		bare(ctx, e)
	}
}

// BenchmarkExtProcRoundTrip is one full exchange over loopback gRPC with
// Bulwark's shipped defaults (RE2 @rx, the model in the default ml.mode): request
// headers, a 1 KB urlencoded body (BUFFERED) and response headers, client
// and server both in this process.
func BenchmarkExtProcRoundTrip(b *testing.B) {
	c := shipped(b)
	ctx := context.Background()
	res, err := roundTrip.Do(ctx, c, request, upstream)
	if err != nil || res.Local != nil {
		b.Fatalf("round trip not clean: %v %+v", err, res.Local)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := roundTrip.Do(ctx, c, request, upstream); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareCorazaParallel and BenchmarkExtProcParallel use every core;
// requests per second = 1e9 / ns/op.
func BenchmarkBareCorazaParallel(b *testing.B) {
	e := bareEngine(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			bare(ctx, e)
		}
	})
}

func BenchmarkExtProcParallel(b *testing.B) {
	c := shipped(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := roundTrip.Do(ctx, c, request, upstream); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// idleStreams is how many streams BenchmarkIdleStreamMemory opens per
// measurement.
const idleStreams = 2000

// BenchmarkIdleStreamMemory opens streams against a server in a child
// process and reports the server's heap and stack growth per stream: for a
// stream just opened, and for one whose request headers were inspected and
// which now waits for its body (the Coraza transaction is alive).
func BenchmarkIdleStreamMemory(b *testing.B) {
	const streams = idleStreams
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "BULWARK_BENCH_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var grpcAddr, memURL string
	if _, err := fmt.Fscan(out, &grpcAddr, &memURL); err != nil {
		b.Fatal(err)
	}
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	client := extprocv3.NewExternalProcessorClient(conn)
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		base := childMem(b, memURL)
		// Envoy opens a stream and sends nothing until the request's
		// headers are through earlier filters.
		for range streams {
			if _, err := client.Process(ctx); err != nil {
				b.Fatal(err)
			}
		}
		waitStreams(b, memURL, streams)
		opened := childMem(b, memURL)
		b.ReportMetric(float64(opened-base)/streams, "B/open-stream")
		cancel()
		waitStreams(b, memURL, 0)

		// waiting opens groups of streams that each wait for their body
		// and returns the server's growth per stream for each group.
		waiting := func(mode procv3.ProcessingMode_BodySendMode, groups int) (bytes, stacks []float64) {
			ctx, cancel := context.WithCancel(context.Background())
			defer func() { cancel(); waitStreams(b, memURL, 0) }()
			st := childStats(b, memURL)
			for range groups {
				for range streams {
					s, err := client.Process(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if err := s.Send(headersOnly(mode)); err != nil {
						b.Fatal(err)
					}
					if _, err := s.Recv(); err != nil {
						b.Fatal(err)
					}
				}
				w := childStats(b, memURL)
				bytes = append(bytes, float64(w.Bytes-st.Bytes)/streams)
				stacks = append(stacks, float64(w.Stacks-st.Stacks)/streams)
				st = w
			}
			return bytes, stacks
		}
		// STREAMED: the headers go upstream on their answer, so phase 1
		// has run and the Coraza transaction lives while the body comes,
		// for the first max_waiting_transactions streams (the child sets
		// it to streams); the next ones park their exchange.
		bytes, stacks := waiting(procv3.ProcessingMode_STREAMED, 2)
		b.ReportMetric(bytes[0], "B/waiting-stream")
		b.ReportMetric(stacks[0], "stack-B/waiting-stream")
		b.ReportMetric(bytes[1], "B/waiting-parked")
		// BUFFERED with defer_buffered_headers (the child sets it): Envoy
		// holds the request, and the transaction begins with the body.
		bytes, _ = waiting(procv3.ProcessingMode_BUFFERED, 1)
		b.ReportMetric(bytes[0], "B/waiting-buffered-deferred")
	}
}

func headersOnly(mode procv3.ProcessingMode_BodySendMode) *extprocv3.ProcessingRequest {
	m := &corev3.HeaderMap{}
	for _, kv := range append([][2]string{{":method", "POST"}, {":path", "/checkout/submit"}, {":authority", "shop.example"}}, reqHeaders...) {
		m.Headers = append(m.Headers, &corev3.HeaderValue{Key: kv[0], RawValue: []byte(kv[1])})
	}
	return &extprocv3.ProcessingRequest{
		Request:        &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{Headers: m}},
		ProtocolConfig: &extprocv3.ProtocolConfiguration{RequestBodyMode: mode},
	}
}

type memReport struct {
	Bytes   int64 `json:"bytes"`
	Stacks  int64 `json:"stacks"`
	Streams int   `json:"streams"`
}

func childStats(b *testing.B, url string) memReport {
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var r memReport
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		b.Fatal(err)
	}
	return r
}

func childMem(b *testing.B, url string) int64 { return childStats(b, url).Bytes }

func waitStreams(b *testing.B, url string, n int) {
	for i := 0; i < 500; i++ {
		if childStats(b, url).Streams == n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Fatalf("server never reached %d open streams", n)
}

// serveChild runs the ext_proc server and a /mem endpoint that reports live
// heap plus goroutine stacks after a full GC, and the open stream count.
func serveChild() {
	e, err := waf.New(waf.DefaultConfig(), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	core, err := inspect.New(inspect.Options{Engine: e})
	if err != nil {
		os.Exit(1)
	}
	discard := slog.New(slog.DiscardHandler)
	cfg := config.Default()
	// Only BUFFERED streams defer; the STREAMED ones keep their transaction,
	// up to the bound, past which they park.
	cfg.DeferBufferedHeaders = true
	cfg.MaxWaitingTransactions = idleStreams
	srv, err := filter.NewServer(app.FilterOptions(&app.Runtime{Config: cfg, Core: core}, discard, discard, filter.NewMetrics(nil)))
	if err != nil {
		os.Exit(1)
	}
	counted := &countingServer{ExternalProcessorServer: srv, open: make(chan int, 1)}
	counted.open <- 0
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Exit(1)
	}
	gs := grpc.NewServer()
	extprocv3.RegisterExternalProcessorServer(gs, counted)
	go func() { _ = gs.Serve(lis) }()
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Exit(1)
	}
	fmt.Println(lis.Addr().String(), "http://"+hl.Addr().String()+"/mem")
	_ = http.Serve(hl, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		n := <-counted.open
		counted.open <- n
		_ = json.NewEncoder(w).Encode(memReport{Bytes: int64(ms.HeapAlloc + ms.StackInuse), Stacks: int64(ms.StackInuse), Streams: n})
	}))
}

// countingServer counts streams inside Process, so the benchmark knows when
// the server has really seen them all.
type countingServer struct {
	extprocv3.ExternalProcessorServer
	open chan int
}

func (c *countingServer) Process(s extprocv3.ExternalProcessor_ProcessServer) error {
	c.open <- <-c.open + 1
	defer func() { c.open <- <-c.open - 1 }()
	return c.ExternalProcessorServer.Process(s)
}

// BenchmarkDecisionSequential and BenchmarkDecisionParallel measure the
// request-body verdict with the model run before CRS's phase 2 (what Bulwark
// does, so rules can read TX:ML_SCORE*) against the model run in a goroutine
// alongside phase 2 and joined before the verdict.
func BenchmarkDecisionSequential(b *testing.B) {
	e, m := engine(b), scoringModel(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		tx := phase1(ctx, e)
		_ = m.Score(ctx, modelRequest)
		_, _ = tx.ProcessRequestBody()
		tx.ProcessLogging()
		_ = tx.Close()
	}
}

func BenchmarkDecisionParallel(b *testing.B) {
	e, m := engine(b), scoringModel(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		tx := phase1(ctx, e)
		done := make(chan model.Scores, 1)
		go func() { done <- m.Score(ctx, modelRequest) }()
		_, _ = tx.ProcessRequestBody()
		<-done
		tx.ProcessLogging()
		_ = tx.Close()
	}
}

var modelRequest = &model.Request{Method: "POST", URI: "/checkout/submit", Headers: reqHeaders, Body: []byte(form1KB), ClientIP: "203.0.113.7"}

func scoringModel(b testing.TB) *model.Model {
	m, err := model.Default()
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// phase1 runs the request up to a written body, ready for phase 2.
func phase1(ctx context.Context, e *waf.Engine) types.Transaction {
	tx := e.NewTransaction(ctx, "")
	tx.ProcessConnection("203.0.113.7", 51234, "10.0.0.2", 8080)
	tx.ProcessURI("/checkout/submit", "POST", "HTTP/1.1")
	tx.AddRequestHeader("host", "shop.example")
	for _, h := range reqHeaders {
		tx.AddRequestHeader(h[0], h[1])
	}
	tx.ProcessRequestHeaders()
	_, _, _ = tx.WriteRequestBody([]byte(form1KB))
	return tx
}

// BenchmarkExtProcRoundTripCollect is BenchmarkExtProcRoundTrip (the
// shipped server) with the learning store on (learn.collect, default
// redaction) at a sample rate of 0 and of 1%: the 0 run pays every check
// but writes nothing, so the ratio of the sub-benchmarks to
// BenchmarkExtProcRoundTrip is the cost of collection (docs/LEARNING.md).
func BenchmarkExtProcRoundTripCollect(b *testing.B) {
	for _, rate := range []string{"0", "0.01"} {
		b.Run("rate="+rate, func(b *testing.B) {
			c := shipped(b, "--learn-collect=true", "--learn-dir="+b.TempDir(), "--learn-sample-rate="+rate)
			ctx := context.Background()
			res, err := roundTrip.Do(ctx, c, request, upstream)
			if err != nil || res.Local != nil {
				b.Fatalf("round trip not clean: %v %+v", err, res.Local)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := roundTrip.Do(ctx, c, request, upstream); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCollectPaired is the 1 KB form through two shipped servers, one
// collecting traffic for site learning at a 1% sample rate and one not,
// alternating request by request so that both see the same machine: the
// collector's cost without the load drift that separates two benchmarks
// run one after the other.
func BenchmarkCollectPaired(b *testing.B) {
	off := shipped(b)
	on := shipped(b, "--learn-collect=true", "--learn-dir="+b.TempDir(), "--learn-sample-rate=0.01")
	ctx := context.Background()
	var offLat, onLat []time.Duration
	run := func(c extprocv3.ExternalProcessorClient, lat *[]time.Duration) {
		t0 := time.Now()
		res, err := roundTrip.Do(ctx, c, request, upstream)
		if err != nil || res.Local != nil {
			b.Fatalf("round trip not clean: %v %+v", err, res.Local)
		}
		*lat = append(*lat, time.Since(t0))
	}
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			run(off, &offLat)
			run(on, &onLat)
		} else {
			run(on, &onLat)
			run(off, &offLat)
		}
		i++
	}
	b.ReportMetric(percentile(offLat, 0.50), "off-p50-µs")
	b.ReportMetric(percentile(onLat, 0.50), "collect-p50-µs")
}
