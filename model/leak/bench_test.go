package leak

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bulwark-waf/bulwark/internal/decode"
	"github.com/bulwark-waf/bulwark/model/leak/internal/crsout"
	"github.com/bulwark-waf/bulwark/waf"
)

// benchBodies are real responses from the vendored corpus (data/responses):
// the documentation pages concatenated as one HTML body, and the API
// examples as one JSON array, each cut to size.
var benchBodies = sync.OnceValues(func() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, src := range []struct{ name, file string }{{"html", "docs.jsonl.gz"}, {"json", "openapi-examples.jsonl.gz"}} {
		f, err := os.Open(filepath.Join("..", "..", "data", "responses", src.file))
		if err != nil {
			return nil, err
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if src.name == "json" {
			b.WriteByte('[')
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 8<<20)
		for sc.Scan() && b.Len() < 1<<20 {
			var r struct{ Body string }
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				return nil, err
			}
			if src.name == "json" && b.Len() > 1 {
				b.WriteByte(',')
			}
			b.WriteString(r.Body)
		}
		if src.name == "json" {
			b.WriteByte(']')
		}
		f.Close()
		out[src.name] = b.Bytes()
	}
	return out, nil
})

const benchChunk = 16 << 10

func scanChunks(m *Model, ct string, body []byte) Scores {
	s := m.NewScanner(context.Background(), ct)
	writeChunked(s, body, benchChunk)
	_ = s.Close()
	return s.Result()
}

// BenchmarkLeakModel is the model path (prefilter, detectors, trees) on
// real text bodies, in 16 KiB chunks as ext_proc streams them; one core.
func BenchmarkLeakModel(b *testing.B) {
	bodies, err := benchBodies()
	if err != nil {
		b.Fatal(err)
	}
	m := testModel(b)
	// html-32k: the first 32 KiB of the HTML body, the size of a typical
	// page, which the visible-text context reads whole (ctxWindow).
	bodies["html-32k"] = bodies["html"][:32<<10]
	for _, kind := range []string{"html", "json", "html-32k"} {
		body := bodies[kind]
		ct := map[string]string{"html": "text/html", "json": "application/json", "html-32k": "text/html"}[kind]
		b.Run(kind, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				scanChunks(m, ct, body)
			}
			reportCPU(b, start, int64(len(body)))
		})
	}
}

// BenchmarkCRSOutbound runs CRS's RESPONSE-95x rules on the same bodies
// through Coraza in the same run, the baseline. CRS inspects at most
// waf.DefaultConfig's ResponseBodyLimit (512 KiB), so the bodies are cut
// to that and the throughput counts the bytes it actually read.
func BenchmarkCRSOutbound(b *testing.B) {
	bodies, err := benchBodies()
	if err != nil {
		b.Fatal(err)
	}
	eng, err := waf.New(waf.DefaultConfig(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	m := testModel(b)
	for _, kind := range []string{"html", "json"} {
		body := bodies[kind][:waf.DefaultConfig().ResponseBodyLimit]
		ct := map[string]string{"html": "text/html", "json": "application/json"}[kind]
		b.Run(kind+"/crs", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			start := cpuTime()
			for b.Loop() {
				if _, err := crsout.Inspect(context.Background(), eng, ct, "", 200, body); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start, int64(len(body)))
		})
		b.Run(kind+"/leak-model", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			start := cpuTime()
			for b.Loop() {
				scanChunks(m, ct, body)
			}
			reportCPU(b, start, int64(len(body)))
		})
	}
}

// gzipStream is a 1 GB gzip response generated on the fly: a few
// distinct compressed members of varied text, cycled (concatenated gzip
// members are one valid gzip stream), handed out in 16 KiB chunks.
type gzipStream struct {
	members [][]byte
	plain   int64
	left    int64
	k, off  int
}

func newGzipStream(b *testing.B, total int64, bodies map[string][]byte) *gzipStream {
	g := &gzipStream{left: total}
	for _, kind := range []string{"html", "json"} {
		src := bodies[kind]
		for part := 0; part < 4; part++ {
			plain := src[part*len(src)/4 : (part+1)*len(src)/4]
			var z bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed)
			_, _ = zw.Write(plain)
			_ = zw.Close()
			g.members = append(g.members, z.Bytes())
			g.plain += int64(len(plain))
		}
	}
	return g
}

// next returns the next compressed chunk; it ends once at least the
// requested decoded size has been handed out, at a member boundary.
func (g *gzipStream) next() []byte {
	if g.left <= 0 && g.off == 0 {
		return nil
	}
	m := g.members[g.k]
	n := min(benchChunk, len(m)-g.off)
	c := m[g.off : g.off+n]
	g.off += n
	if g.off == len(m) {
		g.off = 0
		g.k = (g.k + 1) % len(g.members)
		g.left -= g.plain / int64(len(g.members))
	}
	return c
}

// BenchmarkGzipStream1GB streams a 1 GB gzip response through the decoder
// and the scanner and reports the peak heap: it stays flat, since nothing
// is buffered beyond the windows.
func BenchmarkGzipStream1GB(b *testing.B) {
	bodies, err := benchBodies()
	if err != nil {
		b.Fatal(err)
	}
	m := testModel(b)
	const total = 1 << 30 / 1024 * 1000 // 1e9 bytes, under the 1 GiB MaxOutput
	for b.Loop() {
		g := newGzipStream(b, total, bodies)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		var peak uint64
		s := m.NewScanner(context.Background(), "text/html")
		d, err := decode.New("gzip", decode.Limits{}, s)
		if err != nil {
			b.Fatal(err)
		}
		chunks := 0
		for c := g.next(); c != nil; c = g.next() {
			if _, err := d.Write(c); err != nil {
				b.Fatal(err)
			}
			if chunks++; chunks%256 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
		if err := d.Close(); err != nil {
			b.Fatal(err)
		}
		_ = s.Close()
		r := s.Result()
		if r.Bytes < total {
			b.Fatalf("decoded %d bytes", r.Bytes)
		}
		b.SetBytes(r.Bytes)
		b.ReportMetric(float64(peak-min(peak, base))/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(r.Bytes)/1e9, "GB-decoded")
	}
}

// BenchmarkBombRefused: a gzip bomb (zeros, 1030:1) is refused by the
// ratio limit after the grace output, having decoded about 1 MiB.
func BenchmarkBombRefused(b *testing.B) {
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	_, _ = zw.Write(make([]byte, 256<<20))
	_ = zw.Close()
	bomb := z.Bytes()
	m := testModel(b)
	b.ResetTimer()
	for b.Loop() {
		s := m.NewScanner(context.Background(), "text/plain")
		d, _ := decode.New("gzip", decode.Limits{}, s)
		var err error
		for p := bomb; len(p) > 0 && err == nil; {
			n := min(len(p), benchChunk)
			_, err = d.Write(p[:n])
			p = p[n:]
		}
		if err == nil {
			err = d.Close()
		}
		_ = d.Close()
		if !errors.Is(err, decode.ErrBomb) {
			b.Fatalf("bomb not refused: %v", err)
		}
		b.ReportMetric(float64(d.Output())/(1<<20), "MiB-decoded-before-refusal")
		b.ReportMetric(float64(len(bomb))/(1<<10), "KiB-compressed")
		b.ReportMetric(256, "MiB-would-decode")
	}
}

// cpuTime is this process's user+system CPU time: on a shared machine the
// wall-clock ns/op includes time spent waiting for a core, so the
// benchmarks also report bytes per CPU-second (= per core).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration, bytes int64) {
	if d := cpuTime() - start; d > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/d.Seconds()/1e6, "MB/cpu-s")
	}
}
