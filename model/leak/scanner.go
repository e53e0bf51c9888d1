package leak

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/fnv"
	"math"
	"math/bits"
	"strconv"

	"github.com/bulwark-waf/bulwark/internal/decode"
)

const (
	// lookahead is the overlap window: every position is scanned with at
	// least this many following bytes in view (or the body's end), so a
	// token up to this long that a chunk boundary splits is still whole.
	lookahead = 4096
	// lookbehind is how much already-scanned text stays in view before a
	// position (an e-mail's local part before its '@').
	lookbehind = 128
	// chunkCap bounds the bytes scanned per step; with the two windows it
	// is all the memory a Scanner's buffer ever takes.
	chunkCap = 64 << 10
	// ctxWindow is how much of a body the visible-text context (words,
	// code markup, links around the evidence) is read from: a page quoting
	// an error is told from an error page by its first 256 KiB, which
	// is the whole of nearly every page, and past it the scan runs at the
	// detectors' speed.
	ctxWindow = 256 << 10
	// maxDistinct bounds the set of distinct e-mail addresses kept.
	maxDistinct = 4096
)

// Options tune a Scanner; the zero value is the defaults.
type Options struct {
	// Types is the content-type skip list (decode.DefaultSkip if empty).
	Types decode.Types
	// Status is the response's HTTP status, 0 when unknown (a saved body).
	// It is a soft signal: a 5xx response showing a trace is an error
	// disclosure, and the trees weigh 2xx/3xx against the rest of the
	// evidence, since many real leaks are served with 200.
	Status int
	// MaxSpans is the most match spans kept for masking (default 4096).
	// Past it Scores.SpansTruncated is set: a mask action must then block
	// instead, since it could not redact everything.
	MaxSpans int
}

// Span is a matched secret or personal datum in the decoded body,
// [Start, End) in bytes from the start of the body.
type Span struct {
	Class   string `json:"class"`
	Feature string `json:"feature"`
	Start   int64  `json:"start"`
	End     int64  `json:"end"`
}

// Location says where in the body a class's evidence is: a JSON path
// ($.users[3].email) for JSON bodies, the byte offset otherwise.
type Location struct {
	Class   string `json:"class"`
	Where   string `json:"where"`
	Offset  int64  `json:"offset"`
	Feature string `json:"feature"`
	Score   int    `json:"score"`
}

// Scores are 1 (certainly a leak) to 99 (clean), on the request model's
// scale (model.ScoreFromProb).
type Scores struct {
	Overall int            `json:"overall"`
	Class   map[string]int `json:"class"`
	// Locations lists, for each class scoring 50 or less, where its first
	// evidence is.
	Locations []Location `json:"locations,omitempty"`
	// Spans are the matched secrets and personal data, for Mask.
	Spans          []Span `json:"spans,omitempty"`
	SpansTruncated bool   `json:"spans_truncated,omitempty"`
	// Complete is false while the body has not ended (Close not called)
	// or when the scan stopped early (context done).
	Complete bool `json:"complete"`
	// Skipped is true when the content type cannot carry text.
	Skipped bool `json:"skipped,omitempty"`
	// Prefiltered is true when no detector fired, so the trees were not
	// consulted.
	Prefiltered bool `json:"prefiltered,omitempty"`
	// Bytes is the number of decoded bytes seen.
	Bytes int64 `json:"bytes"`
}

// Scanner scores one streamed, decoded response body. Write the body in
// the chunks it arrives in, Close at its end, then read Result. It is not
// safe for concurrent use; memory is bounded by chunkCap + the windows
// and the MaxSpans spans, whatever the body's length.
type Scanner struct {
	m    *Model
	ctx  context.Context
	opts Options
	kind decode.Kind

	buf   []byte
	start int   // buf[start:] is not scanned yet
	base  int64 // offset of buf[0] in the body
	total int64

	cnt     [NumFeatures]float64
	shape   struct{ lines, tags, braces, quotes, prose float64 }
	emails  map[uint64]struct{}
	spans   []Span
	spanCut bool
	first   [numClasses]int64 // first evidence offset per class, -1 none
	firstF  [numClasses]int
	json    *jsonPath
	pathAt  [numClasses]string
	closed  bool
	stopped bool
	cur     *anchor // the anchor whose handler runs
	// sure marks classes a structural detection settles (a raw PHP file,
	// a server's directory listing): they floor to certainScore.
	sure [numClasses]bool
	// errTitle: the page titles itself as a server error.
	errTitle bool
	// debugSig: per framework of debugPages, which of its phrases occur.
	debugSig []uint8
	// bearers counts live "Bearer <token>" credentials.
	bearers int
	// text is the visible-text context of the error evidence.
	text textCtx
	// errKey: in a JSON body, the first error evidence is in an error
	// field ("error", "message", "stack"…).
	errKey bool
}

// newScanner is the scanner without a model: it computes features only.
func newScanner(ctx context.Context, m *Model, contentType string, opts Options) *Scanner {
	if opts.MaxSpans <= 0 {
		opts.MaxSpans = 4096
	}
	s := &Scanner{m: m, ctx: ctx, opts: opts}
	s.text.lineStart = true
	s.setKind(opts.Types.Classify(contentType))
	for c := range s.first {
		s.first[c] = -1
	}
	return s
}

// BodyFeatures returns the feature vector of a whole decoded body; the
// training tool calls it, so training and serving share one feature code.
func BodyFeatures(contentType string, body []byte) [NumFeatures]float64 {
	return ResponseFeatures(0, contentType, body)
}

// ResponseFeatures is BodyFeatures for a response whose HTTP status is
// known (0: unknown).
func ResponseFeatures(status int, contentType string, body []byte) [NumFeatures]float64 {
	s := newScanner(context.Background(), nil, contentType, Options{Status: status})
	_, _ = s.Write(body)
	_ = s.Close()
	return s.Features()
}

// NewScanner starts scanning a body with the given Content-Type header
// value (empty if the response has none).
func (m *Model) NewScanner(ctx context.Context, contentType string) *Scanner {
	return m.NewScannerOptions(ctx, contentType, Options{})
}

// NewScannerOptions is NewScanner with options.
func (m *Model) NewScannerOptions(ctx context.Context, contentType string, opts Options) *Scanner {
	if ctx == nil {
		ctx = context.Background()
	}
	return newScanner(ctx, m, contentType, opts)
}

// Kind is how the body is read (decode.Sniff until enough bytes arrived).
func (s *Scanner) Kind() decode.Kind { return s.kind }

// Write scans the next decoded chunk. It never fails; the error is for
// io.Writer (a Scanner is the sink of a decode.Decoder).
func (s *Scanner) Write(p []byte) (int, error) {
	n := len(p)
	if s.closed || s.stopped {
		return n, nil
	}
	s.total += int64(n)
	if s.kind == decode.Skip {
		return n, nil
	}
	if s.ctx.Err() != nil {
		s.stopped = true
		return n, nil
	}
	for len(p) > 0 {
		k := min(maxBuf-len(s.buf), len(p))
		s.grow(k)
		s.buf = append(s.buf, p[:k]...)
		p = p[k:]
		if s.kind == decode.Sniff {
			if len(s.buf) < decode.SniffLen {
				continue
			}
			s.setKind(decode.SniffKind(s.buf))
			if s.kind == decode.Skip {
				s.buf = nil
				return n, nil
			}
		}
		if len(s.buf)-s.start > lookahead {
			s.process(len(s.buf) - lookahead)
		}
	}
	return n, nil
}

// maxBuf is the most a Scanner's buffer holds: a scan step and the two
// windows.
const maxBuf = chunkCap + lookahead + lookbehind

// grow makes room for n more bytes in buf. The buffer starts at the first
// write and the two windows, which is what every later write of that size
// needs (the scan keeps only the windows between writes), and doubles up
// to maxBuf: a small body does not pay for the full buffer.
func (s *Scanner) grow(n int) {
	if len(s.buf)+n <= cap(s.buf) {
		return
	}
	c := min(maxBuf, max(2*cap(s.buf), n+lookahead+lookbehind))
	if c < len(s.buf)+n {
		c = len(s.buf) + n
	}
	nb := make([]byte, len(s.buf), c)
	copy(nb, s.buf)
	s.buf = nb
}

func (s *Scanner) setKind(k decode.Kind) {
	s.kind = k
	if k == decode.JSON {
		s.json = &jsonPath{}
	}
}

// Close marks the end of the body and scans what is left.
func (s *Scanner) Close() error {
	if s.closed {
		return nil
	}
	if s.kind == decode.Sniff {
		s.setKind(decode.SniffKind(s.buf))
	}
	if s.kind != decode.Skip && !s.stopped {
		s.process(len(s.buf))
	}
	s.closed = true
	s.buf = nil
	return nil
}

// process scans positions [s.start, end) of buf, then keeps only the
// lookbehind window before end.
func (s *Scanner) process(end int) {
	b := s.buf
	from := s.start
	bits := &pf.bits
	// win is every position to scan plus the byte after the last one.
	// The loop reads each byte once, as the second of its pair, and
	// carries it over as the first of the next (which also lets the
	// compiler drop the bounds checks): position j-1 has pair k.
	win := b[from:min(end+1, len(b))]
	var prev uint16
	if len(win) > 0 {
		prev = uint16(win[0])
	}
	for j := 1; j < len(win); j++ {
		c := win[j]
		k := prev<<8 | uint16(c)
		prev = uint16(c)
		if bits[k>>6]&(1<<(k&63)) == 0 {
			continue
		}
		i := from + j - 1
		if pf.always[k>>6]&(1<<(k&63)) == 0 {
			if j+1 < len(win) {
				t := triHash(byte(k>>8), c, win[j+1])
				if pf.tri[t>>6]&(1<<(t&63)) == 0 {
					continue
				}
			}
		} else if pf.notAfterWord[k>>6]&(1<<(k&63)) != 0 && i > 0 && alnumSet[b[i-1]] {
			// (prevByte is a space at the body's start)
			continue
		}
		as := pf.lookup(k)
		for q := range as {
			a := &as[q]
			if n := len(a.lit); n > 0 {
				if len(b)-i < n {
					continue
				}
				if len(b)-i >= 8 {
					if binary.LittleEndian.Uint64(b[i:])&a.headMask != a.head || n > 8 && string(b[i+8:i+n]) != a.lit[8:] {
						continue
					}
				} else if string(b[i:i+n]) != a.lit {
					continue
				}
			}
			s.cur = a
			a.h(s, b, i)
		}
	}
	s.lines(b, from, end)
	seg := b[from:end]
	s.shape.lines += float64(bytes.Count(seg, []byte{'\n'}))
	s.shape.tags += float64(bytes.Count(seg, []byte{'<'}))
	s.shape.braces += float64(bytes.Count(seg, []byte{'{'}))
	s.shape.quotes += float64(bytes.Count(seg, []byte{'"'}))
	s.shape.prose += float64(bytes.Count(seg, []byte(". ")) + countThe(seg))
	if s.json != nil {
		s.trackJSON(from, end)
		s.text.pend, s.text.next = s.text.pend[:0], 0
	} else {
		// The text context is read in the first ctxWindow bytes; past
		// it, detections take the context as it was there.
		stop := end
		if w := ctxWindow - s.base; w < int64(end) {
			stop = max(from, int(w))
		}
		if stop > from {
			s.text.walk(b, from, stop, s.kind)
		}
		s.text.place(end)
	}
	s.start = end
	keep := max(0, end-lookbehind)
	s.text.shift(keep)
	if keep > 0 {
		n := copy(s.buf, s.buf[keep:])
		s.buf = s.buf[:n]
		s.base += int64(keep)
		s.start -= keep
	}
}

// countThe is bytes.Count(seg, []byte(" the ")), found from the 'h':
// searching for the leading space, as bytes.Index does, stops at every
// word (and at every byte of JSON's indentation).
func countThe(seg []byte) int {
	n := 0
	next := 0 // where the next match may start: matches do not overlap
	for i := 2; i < len(seg)-2; {
		k := bytes.IndexByte(seg[i:len(seg)-2], 'h')
		if k < 0 {
			break
		}
		h := i + k
		if p := h - 2; p >= next && seg[p] == ' ' && seg[p+1] == 't' && seg[h+1] == 'e' && seg[h+2] == ' ' {
			n++
			next = p + 5
		}
		i = h + 1
	}
	return n
}

// hit records one detection of feature f at buf[start:end].
func (s *Scanner) hit(f, start, end int, span bool) {
	s.cnt[f]++
	c := featureClass[f]
	if evidence[f] && (c == ClassError && f != FExceptionWord || c == ClassSource) {
		s.text.evidenceHit(start, c == ClassSource)
	}
	off := s.base + int64(start)
	if evidence[f] && f != FSecretMasked && f != FOAuthContext && f != FExceptionWord && f != FErrorPage && (s.first[c] < 0 || off < s.first[c]) && !exampleFeature(f) {
		s.first[c] = off
		s.firstF[c] = f
		if s.json != nil {
			s.pathAt[c] = ""
		}
	}
	if span && end > start {
		if len(s.spans) >= s.opts.MaxSpans {
			s.spanCut = true
			return
		}
		s.spans = append(s.spans, Span{Class: Classes[c], Feature: FeatureNames[f], Start: off, End: s.base + int64(end)})
	}
}

func exampleFeature(f int) bool {
	switch f {
	case FAWSKeyIDExample, FJWTExample, FStripeTest, FEmailExample, FCardTest, FIBANExample, FPHPEscaped:
		return true
	}
	return false
}

// distinct records an e-mail address and reports whether it was new (or
// the set is full, past which every address counts).
func (s *Scanner) distinct(e []byte) bool {
	if s.emails == nil {
		s.emails = map[uint64]struct{}{}
	}
	if len(s.emails) >= maxDistinct {
		return true
	}
	h := fnv.New64a()
	_, _ = h.Write(bytes.ToLower(e))
	k := h.Sum64()
	if _, seen := s.emails[k]; seen {
		return false
	}
	s.emails[k] = struct{}{}
	return true
}

// lines runs the line-shaped detectors on every line that starts in
// [from, end).
func (s *Scanner) lines(b []byte, from, end int) {
	i := from
	if !(from == 0 && s.base == 0) && (from == 0 || b[from-1] != '\n') {
		nl := bytes.IndexByte(b[from:end], '\n')
		if nl < 0 {
			return
		}
		i = from + nl + 1
	}
	for i < end {
		nl := bytes.IndexByte(b[i:end], '\n')
		if nl < 0 {
			s.line(b, i, -1)
			return
		}
		s.line(b, i, i+nl)
		i += nl + 1
	}
}

var codeStarts = [][]byte{
	[]byte("import "), []byte("from "), []byte("package "), []byte("def "), []byte("class "), []byte("func "),
	[]byte("function "), []byte("return "), []byte("require("), []byte("require '"), []byte("module.exports"),
	[]byte("#include"), []byte("using "), []byte("namespace "), []byte("public "), []byte("private "),
	[]byte("protected "), []byte("static "), []byte("const "), []byte("var "), []byte("let "), []byte("if ("),
	[]byte("if "), []byte("elif "), []byte("else:"), []byte("} else"), []byte("for ("), []byte("foreach "),
	[]byte("while "), []byte("try:"), []byte("try {"), []byte("except "), []byte("catch ("), []byte("raise "),
	[]byte("throw "), []byte("echo "), []byte("@app."), []byte("@Override"), []byte("end\n"), []byte("async "),
	[]byte("export "), []byte("self."), []byte("$this->"), []byte("fn "), []byte("impl "), []byte("defer "),
}

// codeByFirst indexes codeStarts by first byte, so a line costs one
// lookup and at most a few comparisons.
var codeByFirst = func() (t [256][][]byte) {
	for _, p := range codeStarts {
		t[p[0]] = append(t[p[0]], p)
	}
	return t
}()

// lineStarts holds the bytes a line's detectors can start with: what
// line's cases test for ('#', '[', a letter), a directive's '<', and the
// first bytes of codeStarts.
var lineStarts = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c == '#' || c == '[' || c == '<' || isAlpha(byte(c)) || len(codeByFirst[c]) > 0
	}
	return t
}()

var secretWords = [][]byte{[]byte("PASS"), []byte("SECRET"), []byte("TOKEN"), []byte("KEY"), []byte("PWD"), []byte("CREDENTIAL")}

// line runs the line detectors on the line at b[i:]; nl is the offset of
// its newline, or -1 when it is not known (not before the segment's end).
func (s *Scanner) line(b []byte, i, nl int) {
	if s.base+int64(i) == 0 && bytes.HasPrefix(b, []byte("DIRC")) {
		s.hit(FGitMeta, 0, 4, false)
	}
	j := i
	// indentation: the leading spaces of eight bytes at once (the lowest
	// non-zero byte of x^spaces is the first that is not a space)
	for j+8 <= len(b) && j-i < 40 {
		n := 8
		if t := binary.LittleEndian.Uint64(b[j:]) ^ ' '*swarOnes; t != 0 {
			n = bits.TrailingZeros64(t) >> 3
		}
		j = min(j+n, i+40)
		if n < 8 {
			break
		}
	}
	for j < len(b) && (b[j] == ' ' || b[j] == '\t') && j-i < 40 {
		j++
	}
	if j >= len(b) {
		return
	}
	x := b[j:min(len(b), j+256)]
	c := x[0]
	if !lineStarts[c] {
		// a JSON line's '"', a table row's '|': no detector below
		return
	}
	switch {
	case c == '#' && j == i && bytes.HasPrefix(x, []byte("#!/")):
		s.hit(FShebang, j, j, false)
	case c == '[' && j == i:
		e := bytes.IndexByte(x, ']')
		if e > 1 && e < 64 && (e+1 == len(x) || x[e+1] == '\n' || x[e+1] == '\r') {
			s.hit(FIniSection, j, j, false)
		}
	case isUpper(c) && j == i:
		if bytes.HasPrefix(x, []byte("export ")) {
			break
		}
		k := 1
		for k < len(x) && (isUpper(x[k]) || isDigit(x[k]) || x[k] == '_') {
			k++
		}
		if k >= 2 && k < len(x) && x[k] == '=' && k+1 < len(x) && x[k+1] != '=' && x[k+1] != ' ' {
			s.hit(FEnvLine, j, j, false)
			key := x[:k]
			for _, w := range secretWords {
				if bytes.Contains(key, w) {
					e := k + 1
					for e < len(x) && x[e] != '\n' && x[e] != '\r' {
						e++
					}
					v := bytes.Trim(x[k+1:e], `"' `)
					if len(v) >= 4 && !placeholder(v) {
						s.hit(FEnvSecretKey, j+k+1, j+e, true)
					} else {
						// a template line (SECRET_KEY=change-me,
						// DB_PASSWORD=): documentation, not a leak
						s.hit(FSecretMasked, j+k+1, j+e, false)
					}
					break
				}
			}
		}
	case isLower(c) && j == i:
		// /etc/passwd: name:x:uid:gid:
		k := 1
		for k < len(x) && k < 33 && (isLower(x[k]) || isDigit(x[k]) || x[k] == '_' || x[k] == '-') {
			k++
		}
		if k+4 < len(x) && x[k] == ':' && (x[k+1] == 'x' || x[k+1] == '*' || x[k+1] == '!') && x[k+2] == ':' && isDigit(x[k+3]) {
			s.hit(FPasswdLine, j, j, false)
		}
	}
	xe := -1 // x's newline: the line's, if it falls in x
	if nl >= 0 {
		xe = min(nl-j, len(x))
	}
	if directive(x, xe) {
		s.hit(FDirectiveLine, j, j, false)
	}
	for _, p := range codeByFirst[c] {
		if bytes.HasPrefix(x, p) {
			s.cnt[FCodeLine]++
			break
		}
	}
}

// directive: a web-server or daemon configuration line — nginx style
// (lower_case_name value;) or Apache style (CamelCaseName value, or a
// <CamelCase ...> section).
func directive(x []byte, end int) bool {
	if len(x) < 4 || !(isAlpha(x[0]) || x[0] == '<' && isAlpha(x[1])) {
		return false
	}
	// The name and the space after it first: most lines fail there,
	// before their end is looked for. Name bytes are no line break or
	// trailing blank, so the name is the same in the trimmed line.
	o := 0
	if x[0] == '<' {
		o = 1
	}
	k := o
	caps := 0
	for k < len(x) && (isAlpha(x[k]) || x[k] == '_') {
		if isUpper(x[k]) {
			caps++
		}
		k++
	}
	if k-o < 3 || k >= len(x) || x[k] != ' ' {
		return false
	}
	if end < 0 {
		end = bytes.IndexByte(x, '\n')
		if end < 0 {
			end = len(x)
		}
	}
	e := end
	for e > 0 && (x[e-1] == ' ' || x[e-1] == '\t' || x[e-1] == '\r') {
		e--
	}
	// the trimmed line x[:e] is at least 4 bytes and goes on after the
	// space
	if e < 4 || k >= e {
		return false
	}
	if isLower(x[o]) && caps == 0 {
		return x[e-1] == ';' || x[e-1] == '{'
	}
	return isUpper(x[o]) && caps >= 2 && isLower(x[o+1])
}

// Result scores what has been scanned so far. After Close it covers the
// whole body (Complete).
// noEvidenceScore is the lowest score a secret or pii class gets when none
// of its detectors fired: well above the leak threshold, below clean.
const noEvidenceScore = 60

func (s *Scanner) Result() Scores {
	res := Scores{Overall: 99, Class: make(map[string]int, numClasses), Complete: s.closed && !s.stopped,
		Skipped: s.kind == decode.Skip, Bytes: s.total, SpansTruncated: s.spanCut}
	for _, c := range Classes {
		res.Class[c] = 99
	}
	fv := s.Features()
	any := false
	for f, v := range fv {
		if evidence[f] && v > 0 {
			any = true
			break
		}
	}
	// A framework's debug page is recognised by its own phrases, which are
	// no feature: it must not be let out here for lack of one.
	debug := false
	for _, sig := range s.debugSig {
		debug = debug || bits.OnesCount8(sig) >= 2
	}
	if !any && !debug {
		res.Prefiltered = true
		return res
	}
	scores := s.m.scoreVector(fv[:])
	// A secret or a personal datum is only a leak when a detector of its
	// own fired: the trees see the whole body's shape, and on small pages
	// with one e-mail address they would otherwise call it a secret.
	// Masked values, OAuth context and the published examples are counted
	// for the trees but are no detection of a leak.
	var has [numClasses]bool
	for f, v := range fv {
		if evidence[f] && v > 0 && f != FSecretMasked && f != FOAuthContext && !exampleFeature(f) {
			has[featureClass[f]] = true
		}
	}
	// Source files and .env content carry their secrets in assignments the
	// source detectors see, so source evidence counts for secrets too —
	// when it is a source leak (or a .env secret line fired): a
	// documentation page that mentions settings.ALLOWED_HOSTS is not.
	srcLeak := has[ClassSource] && (scores[ClassSource] <= locationCutoff || fv[FEnvSecretKey] > 0)
	if !has[ClassSecret] && !srcLeak {
		scores[ClassSecret] = max(scores[ClassSecret], noEvidenceScore)
	}
	if !has[ClassPII] {
		scores[ClassPII] = max(scores[ClassPII], noEvidenceScore)
	}
	// The word "Exception" alone ({"object": "Exception"}) is no error
	// disclosure: a trace, a framework's debug page or a database error is.
	if !has[ClassError] || fv[FExceptionWord] == errorEvidence(fv) {
		scores[ClassError] = max(scores[ClassError], noEvidenceScore)
	}
	for _, f := range certain {
		if fv[f] > 0 {
			c := featureClass[f]
			scores[c] = min(scores[c], certainScore)
		}
	}
	// A page that titles itself a server error and shows a trace (three
	// frames or more) or a database error discloses it, however much prose
	// its template wraps around it.
	if s.errTitle && (frames(fv) >= 3 || fv[FPHPError] >= 2 ||
		fv[FSQLMySQL]+fv[FSQLPostgres]+fv[FSQLMSSQL]+fv[FSQLOracle]+fv[FSQLSQLite]+fv[FSQLGeneric] > 0) {
		scores[ClassError] = min(scores[ClassError], certainScore)
	}
	// A server-error response (5xx) that shows a trace or a database
	// error discloses it: error pages are served with 500, and a page
	// quoting a trace is not.
	if fv[FStatus5xx] > 0 && (frames(fv) >= 2 || fv[FSQLMySQL]+fv[FSQLPostgres]+fv[FSQLMSSQL]+fv[FSQLOracle]+fv[FSQLSQLite]+
		fv[FPHPError]+fv[FPythonTrace]+fv[FGoPanic]+fv[FDjangoDebug]+fv[FRailsError]+fv[FSpringError]+fv[FExpressError] > 0) {
		scores[ClassError] = min(scores[ClassError], certainScore)
	}
	if debug {
		scores[ClassError] = min(scores[ClassError], certainScore)
	}
	for c, ok := range s.sure {
		if ok {
			scores[c] = min(scores[c], certainScore)
		}
	}
	for c, name := range Classes {
		res.Class[name] = scores[c]
		res.Overall = min(res.Overall, scores[c])
		if scores[c] <= locationCutoff && s.first[c] >= 0 {
			where := "offset:" + strconv.FormatInt(s.first[c], 10)
			if s.pathAt[c] != "" {
				where = s.pathAt[c]
			}
			res.Locations = append(res.Locations, Location{Class: name, Where: where, Offset: s.first[c],
				Feature: FeatureNames[s.firstF[c]], Score: scores[c]})
		}
	}
	res.Spans = append([]Span(nil), s.spans...)
	return res
}

// frames counts the stack frames of every language.
func frames(fv [NumFeatures]float64) float64 {
	return fv[FJavaFrame] + fv[FPythonFrame] + fv[FGoFrame] + fv[FNodeFrame] + fv[FDotNetFrame] + fv[FRubyFrame]
}

// errorEvidence sums the error class's detection counts.
func errorEvidence(fv [NumFeatures]float64) float64 {
	n := 0.0
	for f := FJavaFrame; f < FFramesPerKB; f++ {
		if evidence[f] {
			n += fv[f]
		}
	}
	return n
}

// certain lists the detections that are leaks whatever the rest of the
// body looks like: credential formats with a fixed prefix, length and
// alphabet that are only ever issued as live secrets (documentation uses
// AKIA…EXAMPLE, sk_test_ and placeholders, which are counted apart), and
// PEM private keys with a key body. The trees learn from co-occurrence,
// and one live key in a long page is rare in any corpus; these floors keep
// such a body from scoring clean. A full card number that passes Luhn and
// is not a published test number, and a valid US SSN, are in the same
// place: a legitimate page masks them (PCI DSS shows at most the last four
// digits), so one in a response is a leak. certainScore is the class score
// they floor to.
var certain = []int{FAWSKeyID, FPrivateKeyBody, FStripeLive, FGitHubToken, FSlackToken, FOtherToken, FCard, FSSN}

const certainScore = 5

// locationCutoff: classes scoring above it get no location, as in the
// request model.
const locationCutoff = 50

// Features returns the feature vector of what has been scanned so far.
func (s *Scanner) Features() [NumFeatures]float64 {
	fv := s.cnt
	kb := math.Max(float64(s.total)/1024, 1)
	lines := math.Max(s.shape.lines, 1)
	fv[FEmailDistinct] = float64(len(s.emails))
	fv[FEmailPerKB] = fv[FEmail] / kb
	fv[FPhonePerKB] = fv[FPhone] / kb
	fv[FPIIKeyPerKB] = fv[FPIIKey] / kb
	fv[FFramesPerKB] = frames(fv) / kb
	fv[FEnvLineFrac] = fv[FEnvLine] / lines
	fv[FCodeLineFrac] = fv[FCodeLine] / lines
	fv[FLogBytes] = math.Log1p(float64(s.total))
	fv[FLines] = s.shape.lines
	fv[FTagsPerKB] = s.shape.tags / kb
	fv[FBracesPerKB] = s.shape.braces / kb
	fv[FQuotesPerKB] = s.shape.quotes / kb
	fv[FProsePerKB] = s.shape.prose / kb
	s.text.features(&fv, s.opts.Status)
	if s.errKey {
		fv[FErrJSONKey] = 1
	}
	switch s.kind {
	case decode.JSON:
		fv[FKindJSON] = 1
	case decode.HTML:
		fv[FKindHTML] = 1
	case decode.XML:
		fv[FKindXML] = 1
	default:
		fv[FKindText] = 1
	}
	return fv
}

// trackJSON advances the JSON path tracker over buf[from:end] and
// resolves the paths of locations found in that range.
func (s *Scanner) trackJSON(from, end int) {
	want := -1
	for c := range s.first {
		if s.first[c] >= 0 && s.pathAt[c] == "" {
			o := int(s.first[c] - s.base)
			if o >= from && o < end && (want < 0 || o < want) {
				want = o
			}
		}
	}
	i := from
	for want >= 0 {
		s.json.feed(s.buf[i:want])
		p := s.json.path()
		for c := range s.first {
			if s.first[c] >= 0 && s.pathAt[c] == "" && int(s.first[c]-s.base) <= want {
				s.pathAt[c] = p
				if c == ClassError {
					s.errKey = errorKey(s.json.lastKey())
				}
			}
		}
		i = want
		want = -1
		for c := range s.first {
			if s.first[c] >= 0 && s.pathAt[c] == "" {
				o := int(s.first[c] - s.base)
				if o >= i && o < end && (want < 0 || o < want) {
					want = o
				}
			}
		}
	}
	s.json.feed(s.buf[i:end])
}
