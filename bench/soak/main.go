// Command soak drives Bulwark's ext_proc server, built from the shipped
// defaults (model included), with many concurrent streams of mixed clean
// and attack traffic, then with cancelled streams and idle connections,
// and reports heap, goroutines and RSS over time. It fails when any
// verdict is wrong or when memory or goroutines grow more than 10% after
// warm-up. `make soak` runs it for ten minutes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/bulwark-waf/bulwark/cmd/extproc/app"
	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
)

type sample struct {
	at         time.Duration
	heap       uint64
	goroutines int
	rss        uint64
	done       int64
}

func main() {
	duration := flag.Duration("duration", 10*time.Minute, "how long the mixed traffic runs")
	streams := flag.Int("streams", 1000, "concurrent streams")
	every := flag.Duration("sample", 15*time.Second, "sampling interval")
	warmup := flag.Duration("warmup", 0, "samples before this are warm-up (default: a fifth of -duration)")
	out := flag.String("out", "", "also write the Markdown report here")
	settings := config.AddFlags(flag.CommandLine, nil)
	flag.Parse()
	loaded, err := settings.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	if *warmup == 0 {
		*warmup = *duration / 5
	}
	if err := run(loaded.Config, *duration, *streams, *every, *warmup, *out); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type request struct {
	msg    *envoysim.Message
	attack bool
}

func traffic() []request {
	h := func(extra ...[2]string) [][2]string {
		return append([][2]string{{"user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}, {"accept", "text/html"}}, extra...)
	}
	form := [2]string{"content-type", "application/x-www-form-urlencoded"}
	return []request{
		{&envoysim.Message{Method: "GET", Path: "/products?id=7&sort=price", Authority: "shop.example", Headers: h()}, false},
		{&envoysim.Message{Method: "GET", Path: "/search?q=red+shoes&page=2", Authority: "shop.example", Headers: h()}, false},
		{&envoysim.Message{Method: "POST", Path: "/account", Authority: "shop.example", Headers: h(form, [2]string{"content-length", "33"}),
			Body: []byte("name=Ada+Lovelace&city=London&x=1")}, false},
		{&envoysim.Message{Method: "GET", Path: "/items?id=1%27%20UNION%20SELECT%20password%20FROM%20users--", Authority: "shop.example", Headers: h()}, true},
		{&envoysim.Message{Method: "POST", Path: "/comment", Authority: "shop.example", Headers: h(form, [2]string{"content-length", "44"}),
			Body: []byte("text=%3Cscript%3Ealert(document.cookie)%3C/s")}, true},
		{&envoysim.Message{Method: "GET", Path: "/download?file=..%2F..%2F..%2Fetc%2Fpasswd", Authority: "shop.example", Headers: h()}, true},
	}
}

func run(cfg config.Config, duration time.Duration, streams int, every, warmup time.Duration, out string) error {
	rt, err := app.Build(cfg, app.Deps{})
	if err != nil {
		return err
	}
	discard := slog.New(slog.DiscardHandler)
	srv, err := filter.NewServer(app.FilterOptions(rt, discard, discard, filter.NewMetrics(nil)))
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	gs := grpc.NewServer(grpc.MaxConcurrentStreams(uint32(cfg.GRPCMaxConcurrentStreams)))
	extprocv3.RegisterExternalProcessorServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := extprocv3.NewExternalProcessorClient(conn)
	reqs := traffic()
	f := &envoysim.Filter{Mode: &procv3.ProcessingMode{RequestBodyMode: procv3.ProcessingMode_BUFFERED}, MessageTimeout: 30 * time.Second,
		Attributes: map[string]string{"source.address": "203.0.113.9:4000"}}
	upstream := func(*envoysim.Message) *envoysim.Message {
		return &envoysim.Message{Status: 200, Headers: [][2]string{{"content-type", "text/plain"}}, Body: []byte("ok")}
	}
	var done, wrong atomic.Int64
	var firstWrong atomic.Value
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup
	for w := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for ctx.Err() == nil {
				r := reqs[rng.IntN(len(reqs))]
				res, err := f.Do(ctx, client, r.msg, upstream)
				if ctx.Err() != nil {
					return
				}
				if err != nil || res.StreamErr != nil || res.Blocked() != r.attack {
					if wrong.Add(1) == 1 {
						firstWrong.Store(fmt.Sprintf("%s %s: err %v stream %v blocked %v", r.msg.Method, r.msg.Path, err, res.StreamErr, res.Blocked()))
					}
				}
				done.Add(1)
			}
		}()
	}
	start := time.Now()
	var samples []sample
	take := func() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		samples = append(samples, sample{at: time.Since(start).Round(time.Second), heap: ms.HeapInuse, goroutines: runtime.NumGoroutine(), rss: rss(), done: done.Load()})
		s := samples[len(samples)-1]
		fmt.Fprintf(os.Stderr, "%6s heap %6.1f MiB  goroutines %6d  rss %6.1f MiB  requests %d  wrong %d\n", s.at, mib(s.heap), s.goroutines, mib(s.rss), s.done, wrong.Load())
	}
	tick := time.NewTicker(every)
	for ctx.Err() == nil {
		select {
		case <-tick.C:
			take()
		case <-ctx.Done():
		}
	}
	tick.Stop()
	wg.Wait()
	mixed := len(samples)
	take()

	// Cancelled streams and idle connections: neither may leave anything behind.
	for range streams {
		sctx, scancel := context.WithCancel(context.Background())
		s, err := client.Process(sctx)
		if err == nil {
			_ = s.Send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{}}})
		}
		scancel()
	}
	var idle []*grpc.ClientConn
	for range 100 {
		c, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err == nil {
			c.Connect()
			idle = append(idle, c)
		}
	}
	time.Sleep(5 * time.Second)
	for _, c := range idle {
		_ = c.Close()
	}
	time.Sleep(5 * time.Second)
	take()

	report := render(samples, mixed, warmup, streams, duration, done.Load(), wrong.Load())
	fmt.Print(report)
	if out != "" {
		if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
			return err
		}
	}
	if n := wrong.Load(); n > 0 {
		return fmt.Errorf("%d wrong verdicts; first: %v", n, firstWrong.Load())
	}
	return flat(samples[:mixed], warmup)
}

// flat compares the mean of each figure over the last third of the
// post-warm-up mixed-traffic samples with its mean over the first third: a
// leak shows as growth, while the noise of requests in flight averages out.
func flat(samples []sample, warmup time.Duration) error {
	var steady []sample
	for _, s := range samples {
		if s.at >= warmup {
			steady = append(steady, s)
		}
	}
	if len(steady) < 3 {
		return fmt.Errorf("only %d samples after the %v warm-up; run longer or sample more often", len(steady), warmup)
	}
	third := len(steady) / 3
	mean := func(ss []sample, f func(sample) float64) float64 {
		t := 0.0
		for _, s := range ss {
			t += f(s)
		}
		return t / float64(len(ss))
	}
	for _, c := range []struct {
		name string
		f    func(sample) float64
	}{
		{"heap", func(s sample) float64 { return float64(s.heap) }},
		{"goroutines", func(s sample) float64 { return float64(s.goroutines) }},
		{"rss", func(s sample) float64 { return float64(s.rss) }},
	} {
		first, last := mean(steady[:third], c.f), mean(steady[len(steady)-third:], c.f)
		if last > first*1.10 {
			return fmt.Errorf("%s grew from a mean of %.0f to %.0f (more than 10%%) after warm-up", c.name, first, last)
		}
		fmt.Fprintf(os.Stderr, "%s: first third %.0f, last third %.0f (%.1f%%)\n", c.name, first, last, 100*(last/first-1))
	}
	return nil
}

func render(samples []sample, mixed int, warmup time.Duration, streams int, duration time.Duration, done, wrong int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Soak\n\n`go run ./bench/soak -duration %v -streams %d` (make soak), %d cores, %s/%s, %s.\n\n", duration, streams, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(&b, "%d requests through the real server, %d wrong verdicts; warm-up %v. Growth is judged on the mean of the last third of the samples after warm-up against the first third.\n\n", done, wrong, warmup)
	b.WriteString("| time | phase | heap in use (MiB) | goroutines | RSS (MiB) | requests done |\n|---|---|---:|---:|---:|---:|\n")
	for i, s := range samples {
		phase := "mixed traffic"
		switch {
		case i == mixed:
			phase = "traffic stopped"
		case i > mixed:
			phase = "after cancelled streams and idle connections"
		}
		fmt.Fprintf(&b, "| %s | %s | %.1f | %d | %.1f | %d |\n", s.at, phase, mib(s.heap), s.goroutines, mib(s.rss), s.done)
	}
	return b.String()
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// rss reads the resident set size from /proc; 0 where it is not available.
func rss() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			fields := strings.Fields(line)
			if len(fields) >= 2 {
				kb, _ := strconv.ParseUint(fields[1], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
