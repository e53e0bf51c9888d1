package decode

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// Encoding is one HTTP content coding.
type Encoding uint8

// The content codings a Decoder understands.
const (
	Identity Encoding = iota
	Gzip
	Deflate
	Brotli
	Zstd
)

func (e Encoding) String() string {
	switch e {
	case Identity:
		return "identity"
	case Gzip:
		return "gzip"
	case Deflate:
		return "deflate"
	case Brotli:
		return "br"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("Encoding(%d)", uint8(e))
}

// Errors a Decoder returns; test with errors.Is.
var (
	// ErrUnknownEncoding: the Content-Encoding names a coding this package
	// does not decode (the body cannot be inspected, so it must not pass).
	ErrUnknownEncoding = errors.New("unknown content-encoding")
	// ErrBomb: a decompression limit was reached (see LimitError).
	ErrBomb = errors.New("decompression limit exceeded")
	// ErrCorrupt: the compressed data is invalid, or data follows its end.
	ErrCorrupt = errors.New("corrupt compressed body")
	// ErrTruncated: the body ended before the compressed stream did.
	ErrTruncated = errors.New("truncated compressed body")
	// ErrClosed: Write after Close.
	ErrClosed = errors.New("decoder closed")
)

// LimitError says which limit refused a body.
type LimitError struct {
	Limit  string // "max_output", "max_ratio" or "max_layers"
	Output int64  // decoded bytes so far
	Input  int64  // compressed bytes so far
	Max    float64
}

func (e *LimitError) Error() string {
	switch e.Limit {
	case "max_ratio":
		return fmt.Sprintf("%v: %d decoded bytes from %d compressed is a ratio over %g", ErrBomb, e.Output, e.Input, e.Max)
	case "max_layers":
		return fmt.Sprintf("%v: more than %g stacked content codings", ErrBomb, e.Max)
	}
	return fmt.Sprintf("%v: decoded body over %g bytes", ErrBomb, e.Max)
}

// Is makes errors.Is(err, ErrBomb) true.
func (e *LimitError) Is(target error) bool { return target == ErrBomb }

// Limits bound what one body may cost. The zero value of a field means its
// default.
type Limits struct {
	// MaxOutput is the most decoded bytes one body may produce. Default
	// 1 GiB: memory does not grow with it (the body streams), so it only
	// bounds CPU; lower it to refuse large bodies sooner.
	MaxOutput int64 `yaml:"max_output"`
	// MaxRatio is the most decoded bytes per compressed byte. Default 200:
	// real HTML and JSON compress 3–20×, very repetitive logs about 100×,
	// while a gzip or brotli bomb reaches 1000× and more.
	MaxRatio float64 `yaml:"max_ratio"`
	// RatioGrace is the decoded size under which the ratio is not checked,
	// so that a tiny, very compressible body is not refused. Default 1 MiB.
	RatioGrace int64 `yaml:"ratio_grace"`
	// MaxLayers is the most stacked codings ("gzip, br" is 2). Default 3.
	MaxLayers int `yaml:"max_layers"`
	// ZstdMaxWindow is the largest zstd window accepted. Default 8 MiB, the
	// limit RFC 9659 sets for zstd as an HTTP content coding.
	ZstdMaxWindow uint64 `yaml:"zstd_max_window"`
}

// Defaults of Limits.
const (
	DefaultMaxOutput     = 1 << 30
	DefaultMaxRatio      = 200
	DefaultRatioGrace    = 1 << 20
	DefaultMaxLayers     = 3
	DefaultZstdMaxWindow = 8 << 20
)

// DefaultLimits returns Limits with every default filled in.
func DefaultLimits() Limits { return Limits{}.withDefaults() }

func (l Limits) withDefaults() Limits {
	if l.MaxOutput <= 0 {
		l.MaxOutput = DefaultMaxOutput
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	if l.RatioGrace <= 0 {
		l.RatioGrace = DefaultRatioGrace
	}
	if l.MaxLayers <= 0 {
		l.MaxLayers = DefaultMaxLayers
	}
	if l.ZstdMaxWindow == 0 {
		l.ZstdMaxWindow = DefaultZstdMaxWindow
	}
	return l
}

// ParseEncodings reads a Content-Encoding header value into the codings in
// the order they were applied ("gzip, br": gzip first, then br). identity
// entries are dropped; x-gzip is gzip.
func ParseEncodings(header string) ([]Encoding, error) {
	var out []Encoding
	for part := range strings.SplitSeq(header, ",") {
		name := strings.ToLower(strings.TrimSpace(part))
		switch name {
		case "", "identity":
			continue
		case "gzip", "x-gzip":
			out = append(out, Gzip)
		case "deflate":
			out = append(out, Deflate)
		case "br":
			out = append(out, Brotli)
		case "zstd":
			out = append(out, Zstd)
		default:
			return nil, fmt.Errorf("%w: %q", ErrUnknownEncoding, name)
		}
	}
	return out, nil
}

const outBuf = 32 << 10

// Decoder decodes one body. It is not safe for concurrent use; Close must
// be called once the body ends (or is abandoned) to release the coroutine.
type Decoder struct {
	dst  io.Writer
	lim  Limits
	encs []Encoding

	in     []byte // input not yet taken by the decompressor
	closed bool   // Close called: the source reports EOF
	done   bool   // the compressed stream ended cleanly
	err    error
	nIn    int64
	nOut   int64
	buf    []byte
	next   func() (struct{}, bool)
	stop   func()
	zstd   *zstd.Decoder
	active bool // the coroutine is running
}

// New returns a decoder for a body with the given Content-Encoding header
// value whose decoded bytes are written to dst.
func New(contentEncoding string, lim Limits, dst io.Writer) (*Decoder, error) {
	encs, err := ParseEncodings(contentEncoding)
	if err != nil {
		return nil, err
	}
	return NewEncodings(encs, lim, dst)
}

// NewEncodings is New with the codings already parsed.
func NewEncodings(encs []Encoding, lim Limits, dst io.Writer) (*Decoder, error) {
	lim = lim.withDefaults()
	if len(encs) > lim.MaxLayers {
		return nil, &LimitError{Limit: "max_layers", Max: float64(lim.MaxLayers)}
	}
	return &Decoder{dst: dst, lim: lim, encs: encs}, nil
}

// Encodings returns the codings the decoder undoes, in applied order.
func (d *Decoder) Encodings() []Encoding { return d.encs }

// Output is the number of decoded bytes written so far.
func (d *Decoder) Output() int64 { return d.nOut }

// Input is the number of compressed bytes consumed so far.
func (d *Decoder) Input() int64 { return d.nIn }

// Write feeds the next chunk of the body. It returns once every byte of p
// has been taken by the decompressor (or an error stopped it); the decoded
// bytes have then been written to dst. p is not retained.
func (d *Decoder) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.closed {
		return 0, ErrClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	if len(d.encs) == 0 {
		d.nIn += int64(len(p))
		if err := d.emit(p); err != nil {
			d.err = err
			return 0, err
		}
		return len(p), nil
	}
	if d.done {
		d.err = fmt.Errorf("%w: %d bytes after the end of the %s stream", ErrCorrupt, len(p), d.encs[0])
		return 0, d.err
	}
	d.in = p
	d.resume()
	d.in = nil
	if d.err != nil {
		return 0, d.err
	}
	return len(p), nil
}

// Close ends the body: a compressed stream that has not ended is
// truncated. It releases the decoder's resources and may be called again.
func (d *Decoder) Close() error {
	if d.closed {
		return d.err
	}
	d.closed = true
	if len(d.encs) > 0 && d.err == nil && d.nIn > 0 && !d.done {
		d.resume()
		if d.err == nil && !d.done {
			d.err = fmt.Errorf("%w: %s stream did not end", ErrTruncated, d.encs[len(d.encs)-1])
		}
	}
	d.release()
	return d.err
}

func (d *Decoder) resume() {
	if d.next == nil {
		d.next, d.stop = iter.Pull(d.run)
		d.active = true
	}
	if !d.active {
		return
	}
	if _, ok := d.next(); !ok {
		d.active = false
	}
}

func (d *Decoder) release() {
	if d.stop != nil {
		d.stop()
		d.stop = nil
		d.active = false
	}
	if d.zstd != nil {
		d.zstd.Close()
		d.zstd = nil
	}
	d.buf = nil
}

// emit checks the limits and passes decoded bytes on.
func (d *Decoder) emit(p []byte) error {
	d.nOut += int64(len(p))
	if d.nOut > d.lim.MaxOutput {
		return &LimitError{Limit: "max_output", Output: d.nOut, Input: d.nIn, Max: float64(d.lim.MaxOutput)}
	}
	if len(d.encs) > 0 && d.nOut > d.lim.RatioGrace && float64(d.nOut) > d.lim.MaxRatio*float64(max(d.nIn, 1)) {
		return &LimitError{Limit: "max_ratio", Output: d.nOut, Input: d.nIn, Max: d.lim.MaxRatio}
	}
	if _, err := d.dst.Write(p); err != nil {
		return fmt.Errorf("decoded body sink: %w", err)
	}
	return nil
}

// errStopped is returned by the source when the coroutine is stopped
// before the stream ended; nobody sees it.
var errStopped = errors.New("decoder stopped")

// source hands the pending chunk to the decompressors and suspends the
// coroutine when it is used up.
type source struct {
	d     *Decoder
	yield func(struct{}) bool
}

func (s *source) Read(p []byte) (int, error) {
	for len(s.d.in) == 0 {
		if s.d.closed {
			return 0, io.EOF
		}
		if !s.yield(struct{}{}) {
			return 0, errStopped
		}
	}
	n := copy(p, s.d.in)
	s.d.in = s.d.in[n:]
	// Counted as consumed, not as written, so that the ratio of a bomb
	// delivered in one big chunk is measured against what produced the
	// output so far.
	s.d.nIn += int64(n)
	return n, nil
}

// fullReader gathers at least min bytes per Read (or reaches the end):
// brotli's reader mis-reports "excessive input" when the end of a stream
// reaches it a few bytes at a time.
type fullReader struct {
	r   io.Reader
	min int
	eof error
}

func (f *fullReader) Read(p []byte) (int, error) {
	if f.eof != nil {
		return 0, f.eof
	}
	n, err := io.ReadAtLeast(f.r, p, min(f.min, len(p)))
	if errors.Is(err, io.ErrUnexpectedEOF) || (err == io.EOF && n > 0) {
		f.eof = io.EOF
		return n, nil
	}
	return n, err
}

// run is the coroutine: the decompressor chain reads from source until the
// stream ends or fails.
func (d *Decoder) run(yield func(struct{}) bool) {
	defer func() {
		if r := recover(); r != nil {
			// A decompressor bug must not take the server down: the body
			// is treated as corrupt, and so refused.
			d.err = fmt.Errorf("%w: decompressor failed: %v", ErrCorrupt, r)
		}
	}()
	var r io.Reader = &source{d: d, yield: yield}
	var err error
	for i := len(d.encs) - 1; i >= 0; i-- {
		if r, err = d.wrap(d.encs[i], r); err != nil {
			d.err = d.classify(d.encs[i], err)
			return
		}
	}
	d.buf = make([]byte, outBuf)
	for {
		n, err := r.Read(d.buf)
		if n > 0 {
			if e := d.emit(d.buf[:n]); e != nil {
				d.err = e
				return
			}
		}
		if err == io.EOF {
			d.done = true
			if len(d.in) > 0 {
				d.err = fmt.Errorf("%w: %d bytes after the end of the %s stream", ErrCorrupt, len(d.in), d.encs[0])
			}
			return
		}
		if err != nil {
			d.err = d.classify(d.encs[0], err)
			return
		}
	}
}

func (d *Decoder) classify(e Encoding, err error) error {
	switch {
	case errors.Is(err, errStopped):
		return ErrClosed
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%w: %s: %v", ErrTruncated, e, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrCorrupt, e, err)
}

func (d *Decoder) wrap(e Encoding, r io.Reader) (io.Reader, error) {
	switch e {
	case Gzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		return zr, nil
	case Deflate:
		// RFC 9110 deflate is zlib-wrapped, but servers also send raw
		// deflate, and browsers accept both: so does the inspector.
		br := bufio.NewReaderSize(r, 4096)
		h, err := br.Peek(2)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
			return zlib.NewReader(br)
		}
		return flate.NewReader(br), nil
	case Brotli:
		return brotli.NewReader(&fullReader{r: r, min: 512}), nil
	case Zstd:
		zd, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(d.lim.ZstdMaxWindow))
		if err != nil {
			return nil, err
		}
		d.zstd = zd
		return zd, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnknownEncoding, e)
}
