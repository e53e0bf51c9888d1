package bench

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/bulwark-waf/bulwark/cmd/extproc/app"
	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
	"github.com/bulwark-waf/bulwark/internal/rx"
	"github.com/bulwark-waf/bulwark/waf"
)

// The replay: real captured requests from data/traffic/benign (browser page
// loads, beacons, an access log), replaySource of each source in file
// order, and public attack payloads from data/traffic/payloads placed in
// the query string of one request in attackEvery. The set is the same on
// every run: file order and a fixed seed.
const (
	replaySource = 150
	attackEvery  = 6
	replaySeed   = 12
)

// replayRequest is one request of the replay, in the form both paths take.
type replayRequest struct {
	method, path, authority string
	// client is the source address: the records come from many clients,
	// and Bulwark's client memory must not treat the replay as one.
	client  string
	filter  *envoysim.Filter
	headers [][2]string
	body    []byte
	attack  bool
}

type trafficRecord struct {
	Method  string            `json:"method"`
	URI     string            `json:"uri"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func repoFile(parts ...string) string {
	return filepath.Join(append([]string{".."}, parts...)...)
}

func readGzipLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			out = append(out, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// loadReplay builds the replay set; it fails rather than run on less.
func loadReplay(tb testing.TB) []replayRequest {
	tb.Helper()
	reqs, err := buildReplay()
	if err != nil {
		tb.Fatal(err)
	}
	return reqs
}

func buildReplay() ([]replayRequest, error) {
	sources, err := filepath.Glob(repoFile("data", "traffic", "benign", "*.jsonl.gz"))
	if err != nil || len(sources) == 0 {
		return nil, fmt.Errorf("no real traffic under data/traffic/benign: %v", err)
	}
	sort.Strings(sources)
	var payloads []string
	for _, class := range []string{"sqli", "xss", "rce", "traversal"} {
		lines, err := readGzipLines(repoFile("data", "traffic", "payloads", "PayloadsAllTheThings", class+".txt.gz"))
		if err != nil {
			return nil, err
		}
		payloads = append(payloads, lines...)
	}
	rng := rand.New(rand.NewPCG(replaySeed, 0))
	var out []replayRequest
	for _, src := range sources {
		lines, err := readGzipLines(src)
		if err != nil {
			return nil, err
		}
		if len(lines) < replaySource {
			return nil, fmt.Errorf("%s: %d records, want %d", src, len(lines), replaySource)
		}
		for _, l := range lines[:replaySource] {
			var r trafficRecord
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				return nil, fmt.Errorf("%s: %w", src, err)
			}
			out = append(out, toReplay(r))
		}
	}
	for i := range out {
		out[i].client = fmt.Sprintf("198.51.%d.%d", 100+i/250, 1+i%250)
		out[i].filter = &envoysim.Filter{
			Mode:           roundTrip.Mode,
			MessageTimeout: roundTrip.MessageTimeout,
			Attributes:     map[string]string{"source.address": out[i].client + ":51234", "destination.address": "10.0.0.2:8080", "request.protocol": "HTTP/1.1"},
		}
		if i%attackEvery != attackEvery-1 {
			continue
		}
		p := payloads[rng.IntN(len(payloads))]
		sep := "?"
		if strings.Contains(out[i].path, "?") {
			sep = "&"
		}
		out[i].path += sep + "q=" + url.QueryEscape(p)
		out[i].attack = true
	}
	return out, nil
}

func toReplay(r trafficRecord) replayRequest {
	q := replayRequest{method: r.Method, path: r.URI, body: []byte(r.Body)}
	names := make([]string, 0, len(r.Headers))
	for k := range r.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		lk := strings.ToLower(k)
		switch lk {
		case "host", ":authority":
			q.authority = r.Headers[k]
			continue
		case "content-length", "transfer-encoding", "connection":
			// Envoy recomputes these; the body decides.
			continue
		}
		q.headers = append(q.headers, [2]string{lk, r.Headers[k]})
	}
	if q.authority == "" {
		q.authority = "example.com"
	}
	if len(q.body) > 0 {
		q.headers = append(q.headers, [2]string{"content-length", strconv.Itoa(len(q.body))})
	}
	return q
}

// bareEngine is upstream Coraza + CRS PL1: Bulwark's CRS settings with
// Coraza's own @rx (waf.rx_engine: go), no Bulwark operator, no model.
func bareEngine(tb testing.TB) *waf.Engine {
	tb.Helper()
	cfg := waf.DefaultConfig()
	cfg.RxEngine = rx.EngineGo
	e, err := waf.New(cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// bareReplay runs r through phases 1 to 3 and logging in-process.
func bareReplay(ctx context.Context, e *waf.Engine, r *replayRequest) bool {
	tx := e.NewTransaction(ctx, "")
	defer func() { _ = tx.Close() }()
	tx.ProcessConnection(r.client, 51234, "10.0.0.2", 8080)
	tx.ProcessURI(r.path, r.method, "HTTP/1.1")
	tx.AddRequestHeader("host", r.authority)
	for _, h := range r.headers {
		tx.AddRequestHeader(h[0], h[1])
	}
	blocked := tx.ProcessRequestHeaders() != nil
	if !blocked {
		if len(r.body) > 0 {
			_, _, _ = tx.WriteRequestBody(r.body)
		}
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

// shipped starts Bulwark as the binary runs it, with every default (the
// model included, in the default ml.mode), on loopback ports, and returns a client
// connected over a real socket.
func shipped(tb testing.TB, extra ...string) extprocv3.ExternalProcessorClient {
	tb.Helper()
	src := config.Source{
		Args: append(slices.Clone(shippedArgs), extra...),
		Env:  func(string) (string, bool) { return "", false },
	}
	a, err := app.New(src, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = conn.Close()
		cancel()
		if err := <-done; err != nil {
			tb.Error(err)
		}
	})
	return extprocv3.NewExternalProcessorClient(conn)
}

// shippedArgs are the flags shipped and shippedChild start Bulwark with:
// every default, loopback ports, no audit log, no file watching.
var shippedArgs = []string{"--grpc-addr=127.0.0.1:0", "--admin-addr=127.0.0.1:0", "--audit-log=off", "--reload-watch=false"}

// shippedChild is the child of BenchmarkReplay's server-alone arm: Bulwark
// as shipped() starts it, alone in its process. It prints its gRPC address,
// then answers each line on stdin with the process's user+system CPU time
// in nanoseconds, and exits when stdin closes.
func shippedChild() {
	src := config.Source{Args: shippedArgs, Env: func(string) (string, bool) { return "", false }}
	a, err := app.New(src, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	fmt.Println(a.GRPCAddr())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		fmt.Println(cpuTime().Nanoseconds())
	}
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// serverProcess is a running shippedChild.
type serverProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Scanner
	client extprocv3.ExternalProcessorClient
}

// startShippedChild starts Bulwark alone in a child process and connects a
// client to it.
func startShippedChild(tb testing.TB) *serverProcess {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "BULWARK_BENCH_SHIPPED=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, stdin: stdin, stdout: bufio.NewScanner(out)}
	tb.Cleanup(func() {
		_ = p.stdin.Close()
		if err := p.cmd.Wait(); err != nil {
			tb.Error("server child:", err)
		}
	})
	if !p.stdout.Scan() {
		tb.Fatalf("server child printed no address: %v", p.stdout.Err())
	}
	conn, err := grpc.NewClient(strings.TrimSpace(p.stdout.Text()), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	p.client = extprocv3.NewExternalProcessorClient(conn)
	return p
}

// cpu is the child's user+system CPU time so far.
func (p *serverProcess) cpu(tb testing.TB) time.Duration {
	tb.Helper()
	if _, err := io.WriteString(p.stdin, "cpu\n"); err != nil {
		tb.Fatal(err)
	}
	if !p.stdout.Scan() {
		tb.Fatalf("server child: %v", p.stdout.Err())
	}
	n, err := strconv.ParseInt(strings.TrimSpace(p.stdout.Text()), 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return time.Duration(n)
}

func (r *replayRequest) message() *envoysim.Message {
	return &envoysim.Message{Method: r.method, Path: r.path, Authority: r.authority, Headers: r.headers, Body: r.body}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func percentile(d []time.Duration, p float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p * float64(len(s)-1))
	return float64(s[i]) / float64(time.Microsecond)
}

// BenchmarkReplay sends the replay one request at a time through bare
// Coraza (in-process), through the same in-process CRS with Bulwark's RE2
// @rx (the operator's share, without ext_proc and the model), and through
// Bulwark's ext_proc server with the shipped defaults, rotating the order
// on every request so all three see the same machine. One op is the whole
// replay on all three.
func BenchmarkReplay(b *testing.B) {
	reqs := loadReplay(b)
	e := bareEngine(b)
	re2Engine, err := waf.New(waf.DefaultConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	c := shipped(b)
	ctx := context.Background()
	blockedBare, blockedBulwark, attacks := 0, 0, 0
	for i := range reqs {
		if bareReplay(ctx, e, &reqs[i]) {
			blockedBare++
		}
		res, err := reqs[i].filter.Do(ctx, c, reqs[i].message(), upstream)
		if err != nil {
			b.Fatalf("request %d: %v", i, err)
		}
		if res.Local != nil {
			blockedBulwark++
		}
		if reqs[i].attack {
			attacks++
		}
	}
	b.Logf("%d requests (%d with an attack payload): bare Coraza blocks %d, Bulwark blocks %d", len(reqs), attacks, blockedBare, blockedBulwark)
	type arm struct {
		name string
		run  func(r *replayRequest)
		lat  []time.Duration
		cpu  time.Duration
	}
	arms := []*arm{
		{name: "bare", run: func(r *replayRequest) { bareReplay(ctx, e, r) }},
		{name: "re2", run: func(r *replayRequest) { bareReplay(ctx, re2Engine, r) }},
		{name: "bulwark", run: func(r *replayRequest) {
			if _, err := r.filter.Do(ctx, c, r.message(), upstream); err != nil {
				b.Fatal(err)
			}
		}},
	}
	for b.Loop() {
		for i := range reqs {
			for k := range arms {
				a := arms[(i+k)%len(arms)]
				c0, t0 := cpuTime(), time.Now()
				a.run(&reqs[i])
				a.lat = append(a.lat, time.Since(t0))
				a.cpu += cpuTime() - c0
			}
		}
	}
	for _, a := range arms {
		b.ReportMetric(percentile(a.lat, 0.50), a.name+"-p50-µs")
		b.ReportMetric(percentile(a.lat, 0.99), a.name+"-p99-µs")
		b.ReportMetric(float64(a.cpu)/float64(len(a.lat))/1e3, a.name+"-cpu-µs/req")
	}
	b.ReportMetric(float64(len(reqs)), "requests")
}

// BenchmarkReplayFloor is the replay through Bulwark's ext_proc server with
// nothing to inspect (no CRS, no model: waf.disable_crs, ml.enabled false),
// alternating request by request with bare Coraza like BenchmarkReplay: the
// cost of the ext_proc exchange itself (three gRPC round trips, the filter,
// an empty Coraza transaction), against which no rule engine work is left.
func BenchmarkReplayFloor(b *testing.B) {
	reqs := loadReplay(b)
	e := bareEngine(b)
	c := shipped(b, "--waf-disable-crs=true", "--ml-enabled=false")
	ctx := context.Background()
	var bareLat, floorLat []time.Duration
	var bareCPU, floorCPU time.Duration
	for b.Loop() {
		for i := range reqs {
			runBare := func() {
				c0, t0 := cpuTime(), time.Now()
				bareReplay(ctx, e, &reqs[i])
				bareLat = append(bareLat, time.Since(t0))
				bareCPU += cpuTime() - c0
			}
			runFloor := func() {
				c0, t0 := cpuTime(), time.Now()
				if _, err := reqs[i].filter.Do(ctx, c, reqs[i].message(), upstream); err != nil {
					b.Fatal(err)
				}
				floorLat = append(floorLat, time.Since(t0))
				floorCPU += cpuTime() - c0
			}
			if i%2 == 0 {
				runBare()
				runFloor()
			} else {
				runFloor()
				runBare()
			}
		}
	}
	b.ReportMetric(percentile(bareLat, 0.50), "bare-p50-µs")
	b.ReportMetric(percentile(floorLat, 0.50), "floor-p50-µs")
	b.ReportMetric(percentile(floorLat, 0.99), "floor-p99-µs")
	b.ReportMetric(float64(bareCPU)/float64(len(bareLat))/1e3, "bare-cpu-µs/req")
	b.ReportMetric(float64(floorCPU)/float64(len(floorLat))/1e3, "floor-cpu-µs/req")
}

// BenchmarkReplayServerCPU sends the replay one request at a time to
// Bulwark alone in a child process (the shipped defaults, as shipped()
// starts it) and reports the child's CPU per request: the server's own
// cost, without envoysim's client side, which BenchmarkReplay's whole-
// process figure includes. It does not alternate with bare Coraza: a
// second process's background work (its GC, idle threads) would run into
// the next request of the other path.
func BenchmarkReplayServerCPU(b *testing.B) {
	reqs := loadReplay(b)
	proc := startShippedChild(b)
	ctx := context.Background()
	for i := range reqs {
		if _, err := reqs[i].filter.Do(ctx, proc.client, reqs[i].message(), upstream); err != nil {
			b.Fatalf("request %d: %v", i, err)
		}
	}
	var lat []time.Duration
	c0 := proc.cpu(b)
	for b.Loop() {
		for i := range reqs {
			t0 := time.Now()
			if _, err := reqs[i].filter.Do(ctx, proc.client, reqs[i].message(), upstream); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
	}
	b.ReportMetric(float64(proc.cpu(b)-c0)/float64(len(lat))/1e3, "server-cpu-µs/req")
	b.ReportMetric(percentile(lat, 0.50), "p50-µs")
	b.ReportMetric(percentile(lat, 0.99), "p99-µs")
}

// BenchmarkReplayParallel/bare and /bulwark run the replay on every core;
// one op is one request, so requests per second = 1e9 / ns/op.
func BenchmarkReplayParallel(b *testing.B) {
	reqs := loadReplay(b)
	b.Run("bare", func(b *testing.B) {
		e := bareEngine(b)
		b.RunParallel(func(pb *testing.PB) {
			ctx, i := context.Background(), rand.IntN(len(reqs))
			for pb.Next() {
				bareReplay(ctx, e, &reqs[i%len(reqs)])
				i++
			}
		})
	})
	b.Run("bulwark", func(b *testing.B) {
		c := shipped(b)
		b.RunParallel(func(pb *testing.PB) {
			ctx, i := context.Background(), rand.IntN(len(reqs))
			for pb.Next() {
				if _, err := reqs[i%len(reqs)].filter.Do(ctx, c, reqs[i%len(reqs)].message(), upstream); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

// compileChild is the child of BenchmarkRulesCompile: it compiles CRS with
// one @rx engine (cold: nothing memoized in the process yet), replays the
// traffic once so the engines' caches are in use, compiles again (a reload:
// Coraza's memoizer already holds the patterns), and prints the times and
// the process's resident memory.
func compileChild(engine string) {
	cfg := waf.DefaultConfig()
	cfg.RxEngine = rx.Engine(engine)
	t0 := time.Now()
	e, err := waf.New(cfg, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cold := time.Since(t0)
	reqs, err := buildReplay()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx := context.Background()
	for i := range reqs {
		bareReplay(ctx, e, &reqs[i])
	}
	t1 := time.Now()
	if _, err := waf.New(cfg, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	reload := time.Since(t1)
	rss, hwm := procStatus("VmRSS:"), procStatus("VmHWM:")
	fmt.Println(cold.Nanoseconds(), reload.Nanoseconds(), rss, hwm)
}

// procStatus reads a kB field of /proc/self/status, in bytes.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

// BenchmarkRulesCompile/go and /re2 report, per @rx engine, the cold CRS
// compile at start-up, a reload in a warm process, and resident memory
// after compiling and replaying the traffic, each in a fresh child process.
func BenchmarkRulesCompile(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for _, engine := range []rx.Engine{rx.EngineGo, rx.EngineRE2} {
		b.Run(string(engine), func(b *testing.B) {
			var cold, reload, rss, hwm float64
			n := 0
			for b.Loop() {
				cmd := exec.Command(exe, "-test.run=^$")
				cmd.Env = append(os.Environ(), "BULWARK_BENCH_COMPILE="+string(engine))
				cmd.Stderr = os.Stderr
				out, err := cmd.Output()
				if err != nil {
					b.Fatal(err)
				}
				var c, r, m, h int64
				if _, err := fmt.Sscan(string(out), &c, &r, &m, &h); err != nil {
					b.Fatalf("child output %q: %v", out, err)
				}
				cold += float64(c)
				reload += float64(r)
				rss += float64(m)
				hwm += float64(h)
				n++
			}
			b.ReportMetric(cold/float64(n)/1e6, "cold-compile-ms")
			b.ReportMetric(reload/float64(n)/1e6, "reload-ms")
			b.ReportMetric(rss/float64(n)/(1<<20), "rss-MiB")
			b.ReportMetric(hwm/float64(n)/(1<<20), "peak-rss-MiB")
		})
	}
}

// BenchmarkForm1KBPaired is the 1 KB form through both paths, alternating
// request by request like BenchmarkReplay, so a busy machine slows both
// alike; it reports the medians. BenchmarkBareCoraza and
// BenchmarkExtProcRoundTrip measure the same two paths one after the other.
func BenchmarkForm1KBPaired(b *testing.B) {
	e := bareEngine(b)
	c := shipped(b)
	ctx := context.Background()
	if bare(ctx, e) {
		b.Fatal("the benchmark request is blocked; it must be clean")
	}
	var bareLat, bulLat []time.Duration
	var bareCPU, bulCPU time.Duration
	i := 0
	for b.Loop() {
		runBare := func() {
			c0, t0 := cpuTime(), time.Now()
			bare(ctx, e)
			bareLat = append(bareLat, time.Since(t0))
			bareCPU += cpuTime() - c0
		}
		runBulwark := func() {
			c0, t0 := cpuTime(), time.Now()
			if _, err := roundTrip.Do(ctx, c, request, upstream); err != nil {
				b.Fatal(err)
			}
			bulLat = append(bulLat, time.Since(t0))
			bulCPU += cpuTime() - c0
		}
		if i%2 == 0 {
			runBare()
			runBulwark()
		} else {
			runBulwark()
			runBare()
		}
		i++
	}
	b.ReportMetric(percentile(bareLat, 0.50), "bare-p50-µs")
	b.ReportMetric(percentile(bulLat, 0.50), "bulwark-p50-µs")
	b.ReportMetric(float64(bareCPU)/float64(len(bareLat))/1e3, "bare-cpu-µs/req")
	b.ReportMetric(float64(bulCPU)/float64(len(bulLat))/1e3, "bulwark-cpu-µs/req")
}
