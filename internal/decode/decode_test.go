package decode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func compress(t testing.TB, enc Encoding, p []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	var err error
	switch enc {
	case Gzip:
		w = gzip.NewWriter(&b)
	case Deflate:
		w = zlib.NewWriter(&b)
	case Brotli:
		w = brotli.NewWriter(&b)
	case Zstd:
		w, err = zstd.NewWriter(&b, zstd.WithEncoderConcurrency(1))
	case Identity:
		return append([]byte(nil), p...)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func rawDeflate(t testing.TB, p []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, 6)
	_, _ = w.Write(p)
	_ = w.Close()
	return b.Bytes()
}

// decodeChunks feeds body in chunks of the given size and returns the
// decoded output and the first error.
func decodeChunks(ce string, lim Limits, body []byte, chunk int) ([]byte, error) {
	var out bytes.Buffer
	d, err := New(ce, lim, &out)
	if err != nil {
		return nil, err
	}
	for len(body) > 0 {
		n := min(chunk, len(body))
		if _, err := d.Write(body[:n]); err != nil {
			_ = d.Close()
			return out.Bytes(), err
		}
		body = body[n:]
	}
	err = d.Close()
	return out.Bytes(), err
}

func sampleText(n int) []byte {
	r := rand.New(rand.NewPCG(1, 1))
	words := strings.Fields("the quick brown fox jumps over lazy dog order customer email invoice total status shipped")
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		b.WriteByte(" \n"[r.IntN(2)])
	}
	return b.Bytes()[:n]
}

func TestDecodeEncodings(t *testing.T) {
	t.Parallel()
	plain := sampleText(200 << 10)
	gz := compress(t, Gzip, plain)
	cases := []struct {
		name string
		ce   string
		body []byte
	}{
		{"identity", "", plain},
		{"identity-explicit", "identity", plain},
		{"gzip", "gzip", gz},
		{"x-gzip", "X-Gzip", gz},
		{"deflate-zlib", "deflate", compress(t, Deflate, plain)},
		{"deflate-raw", "deflate", rawDeflate(t, plain)},
		{"br", "br", compress(t, Brotli, plain)},
		{"zstd", "zstd", compress(t, Zstd, plain)},
		{"gzip-then-br", "gzip, br", compress(t, Brotli, gz)},
		{"zstd-then-gzip", "zstd,gzip", compress(t, Gzip, compress(t, Zstd, plain))},
		{"gzip-multimember", "gzip", append(compress(t, Gzip, plain[:1000]), compress(t, Gzip, plain[1000:])...)},
	}
	for _, tc := range cases {
		for _, chunk := range []int{1, 7, 4096, 1 << 20} {
			if chunk == 1 && len(tc.body) > 100<<10 {
				// one byte at a time is slow for big bodies; 7 covers it
				continue
			}
			t.Run(fmt.Sprintf("%s/%d", tc.name, chunk), func(t *testing.T) {
				t.Parallel()
				got, err := decodeChunks(tc.ce, Limits{}, tc.body, chunk)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, plain) {
					t.Fatalf("decoded %d bytes, want %d identical", len(got), len(plain))
				}
			})
		}
	}
}

func TestDecodeSmallBodyOneByteChunks(t *testing.T) {
	t.Parallel()
	plain := []byte(`{"user":"a@example.com","token":"x"}`)
	for _, enc := range []Encoding{Gzip, Deflate, Brotli, Zstd} {
		got, err := decodeChunks(enc.String(), Limits{}, compress(t, enc, plain), 1)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%s: got %q, %v", enc, got, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	plain := sampleText(64 << 10)
	gz := compress(t, Gzip, plain)
	corrupt := append([]byte(nil), gz...)
	for i := 100; i < 140; i++ {
		corrupt[i] ^= 0x5a
	}
	zeros := make([]byte, 64<<20)
	cases := []struct {
		name string
		ce   string
		lim  Limits
		body []byte
		want error
	}{
		{"unknown", "compress", Limits{}, gz, ErrUnknownEncoding},
		{"unknown-in-stack", "gzip, sdch", Limits{}, gz, ErrUnknownEncoding},
		{"too-many-layers", "gzip, gzip, gzip, gzip", Limits{}, gz, ErrBomb},
		{"truncated-gzip", "gzip", Limits{}, gz[:len(gz)/2], ErrTruncated},
		{"truncated-gzip-header", "gzip", Limits{}, gz[:5], ErrTruncated},
		{"truncated-br", "br", Limits{}, compress(t, Brotli, plain)[:200], ErrTruncated},
		{"truncated-zstd", "zstd", Limits{}, compress(t, Zstd, plain)[:200], ErrTruncated},
		{"truncated-deflate", "deflate", Limits{}, compress(t, Deflate, plain)[:200], ErrTruncated},
		{"corrupt-gzip", "gzip", Limits{}, corrupt, ErrCorrupt},
		{"not-gzip", "gzip", Limits{}, plain, ErrCorrupt},
		{"not-zstd", "zstd", Limits{}, plain, ErrCorrupt},
		{"not-br", "br", Limits{}, plain, ErrCorrupt},
		{"trailing-garbage-zstd", "zstd", Limits{}, append(compress(t, Zstd, plain[:100]), "junk"...), ErrCorrupt},
		{"trailing-garbage-gzip", "gzip", Limits{}, append(compress(t, Gzip, plain[:100]), "junk-after-the-end"...), ErrCorrupt},
		{"gzip-bomb-ratio", "gzip", Limits{}, compress(t, Gzip, zeros), ErrBomb},
		{"br-bomb-ratio", "br", Limits{}, compress(t, Brotli, zeros), ErrBomb},
		{"zstd-bomb-ratio", "zstd", Limits{}, compress(t, Zstd, zeros), ErrBomb},
		{"stacked-bomb", "gzip, gzip", Limits{}, compress(t, Gzip, compress(t, Gzip, zeros)), ErrBomb},
		{"max-output", "gzip", Limits{MaxOutput: 10 << 10}, gz, ErrBomb},
		{"max-output-identity", "", Limits{MaxOutput: 10 << 10}, plain, ErrBomb},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeChunks(tc.ce, tc.lim, tc.body, 8192)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestBombStopsEarly(t *testing.T) {
	t.Parallel()
	bomb := compress(t, Gzip, make([]byte, 256<<20))
	var n countWriter
	d, err := New("gzip", Limits{}, &n)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Write(bomb)
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != "max_ratio" {
		t.Fatalf("err = %v, want a max_ratio LimitError", err)
	}
	if n > 2*DefaultRatioGrace {
		t.Fatalf("wrote %d decoded bytes of a bomb before refusing it", n)
	}
	if err := d.Close(); !errors.Is(err, ErrBomb) {
		t.Fatalf("Close after refusal: %v", err)
	}
	if _, err := d.Write([]byte("x")); !errors.Is(err, ErrBomb) {
		t.Fatalf("Write after refusal: %v", err)
	}
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

func TestSinkErrorStops(t *testing.T) {
	t.Parallel()
	boom := errors.New("sink full")
	d, _ := New("gzip", Limits{}, failWriter{boom})
	_, err := d.Write(compress(t, Gzip, sampleText(1000)))
	if err == nil {
		err = d.Close()
	}
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	_ = d.Close()
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

func TestAbandonedDecoderReleases(t *testing.T) {
	t.Parallel()
	// A stream that is reset halfway: Close releases the coroutine (goleak
	// in TestMain fails the package otherwise) and reports truncation.
	for _, enc := range []Encoding{Gzip, Deflate, Brotli, Zstd} {
		body := compress(t, enc, sampleText(100<<10))
		d, _ := NewEncodings([]Encoding{enc}, Limits{}, io.Discard)
		if _, err := d.Write(body[:len(body)/3]); err != nil {
			t.Fatal(err)
		}
		if err := d.Close(); !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: Close = %v, want truncated", enc, err)
		}
		if err := d.Close(); !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: second Close = %v", enc, err)
		}
	}
}

func TestEmptyBody(t *testing.T) {
	t.Parallel()
	d, _ := New("gzip", Limits{}, io.Discard)
	if err := d.Close(); err != nil {
		t.Fatalf("empty gzip body (HEAD, 304): %v", err)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	l := DefaultLimits()
	if l.MaxOutput != DefaultMaxOutput || l.MaxRatio != DefaultMaxRatio || l.RatioGrace != DefaultRatioGrace ||
		l.MaxLayers != DefaultMaxLayers || l.ZstdMaxWindow != DefaultZstdMaxWindow {
		t.Fatalf("%+v", l)
	}
}

func FuzzDecoder(f *testing.F) {
	plain := []byte(`{"id":1,"email":"a@example.com","items":[1,2,3]}`)
	for _, enc := range []Encoding{Gzip, Deflate, Brotli, Zstd} {
		f.Add(enc.String(), compress(f, enc, plain), uint8(5))
	}
	f.Add("gzip, br", compress(f, Brotli, compress(f, Gzip, plain)), uint8(3))
	f.Add("deflate", rawDeflate(f, plain), uint8(1))
	f.Add("gzip", []byte("\x1f\x8b\x08\x00garbage"), uint8(2))
	f.Fuzz(func(t *testing.T, ce string, body []byte, chunk uint8) {
		c := int(chunk%64) + 1
		var out countWriter
		d, err := New(ce, Limits{MaxOutput: 4 << 20, RatioGrace: 64 << 10}, &out)
		if err != nil {
			if !errors.Is(err, ErrUnknownEncoding) && !errors.Is(err, ErrBomb) {
				t.Fatalf("New: untyped error %v", err)
			}
			return
		}
		for len(body) > 0 {
			n := min(c, len(body))
			if _, err = d.Write(body[:n]); err != nil {
				break
			}
			body = body[n:]
		}
		cerr := d.Close()
		if err == nil {
			err = cerr
		}
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrBomb) {
			t.Fatalf("untyped error %v", err)
		}
		if out > 4<<20 {
			t.Fatalf("wrote %d bytes past the output limit", out)
		}
	})
}
