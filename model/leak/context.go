package leak

import (
	"bytes"
	"slices"

	"github.com/bulwark-waf/bulwark/internal/decode"
)

// maxPending bounds the error and source detections of one scanned segment
// waiting for their context (4 bytes each, grown as needed). A segment is
// at most chunkCap bytes plus the lookbehind, and a detection takes bytes
// of its own (a frame's ".java:", a line's start), so no real segment fills
// it and every detection is placed whatever the chunking; were it ever
// full (several detections at most positions), the last slot is reused.
const maxPending = chunkCap

// textCtx follows a body's visible text as it streams: words outside tags,
// <script> and <style>, whether a position is inside code markup (<pre>,
// <code>, <samp>, <kbd>, <textarea>, <blockquote>, a ``` fence in a text
// body), links, where the error evidence falls in that text, and whether
// source evidence (.env and config lines) is shown as code on a page.
//
// It is what tells a page quoting an error from an error page: a Q&A thread,
// a bug report or a blog has words of its own before and after the trace
// and puts the trace in code markup, while an error response is mostly the
// trace, with a heading or a sentence of template around it.
type textCtx struct {
	inTag     bool
	skip      []byte // inside <script> or <style>: the closing tag that ends it
	code      int    // open code elements
	fence     bool   // inside a ``` block (text bodies)
	lineStart bool   // text bodies: the next byte starts a line
	inWord    bool
	words     int
	blocks    float64
	links     float64

	pend      []pending // detections of the segment
	next      int       // pend[next:] are not placed yet
	errHits   float64
	errInCode float64
	wBefore   int
	wLast     int
	srcHits   float64
	srcInCode float64
}

// pending is an error or source detection waiting for its context: its
// buffer offset, shifted left once, with the low bit set for source.
type pending uint32

func (p pending) off() int  { return int(p >> 1) }
func (p pending) src() bool { return p&1 == 1 }

func newPending(off int, src bool) pending {
	p := pending(off) << 1
	if src {
		p |= 1
	}
	return p
}

// markup reports whether the body is read as tags and text.
func markup(k decode.Kind) bool { return k == decode.HTML || k == decode.XML }

// evidenceHit records an error (or, with src, a source) detection at
// buffer offset i for placement by the next walk.
func (t *textCtx) evidenceHit(i int, src bool) {
	if len(t.pend)-t.next < maxPending {
		t.pend = append(t.pend, newPending(i, src))
		return
	}
	t.pend[len(t.pend)-1] = newPending(i, src)
}

// place gives every pending hit before buffer offset q the current word
// count and code state.
func (t *textCtx) place(q int) {
	for t.next < len(t.pend) && t.pend[t.next].off() < q {
		if t.pend[t.next].src() {
			t.srcHits++
			if t.code > 0 || t.fence {
				t.srcInCode++
			}
			t.next++
			continue
		}
		if t.errHits == 0 {
			t.wBefore = t.words
		}
		t.errHits++
		if t.code > 0 || t.fence {
			t.errInCode++
		}
		t.wLast = t.words
		t.next++
	}
}

// text counts the words of visible text b[a:c], placing pending hits at
// their word positions.
func (t *textCtx) text(b []byte, a, c int) {
	for t.next < len(t.pend) && t.pend[t.next].off() < c {
		q := max(t.pend[t.next].off(), a)
		t.countWords(b[a:q])
		a = q
		t.place(q + 1)
	}
	t.countWords(b[a:c])
}

func (t *textCtx) countWords(run []byte) {
	in := t.inWord
	n := 0
	for _, c := range run {
		w := wordByte[c]
		if w && !in {
			n++
		}
		in = w
	}
	t.inWord = in
	t.words += n
}

// wordBit is wordByte as 0/1, for the branch-free count.
var wordBit = func() (t [256]uint8) {
	for c := range t {
		if wordByte[c] {
			t[c] = 1
		}
	}
	return t
}()

// wordByte: the bytes of a word (letters, digits, and UTF-8 bytes of
// non-ASCII letters).
var wordByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = isAlnum(byte(c)) || c >= 0x80
	}
	return t
}()

// walk advances the context over b[from:end]; b holds the lookahead
// after end, so a tag name at the boundary is read whole.
func (t *textCtx) walk(b []byte, from, end int, k decode.Kind) {
	if len(t.pend) == 0 {
		t.walkFast(b, from, end, k)
		return
	}
	slices.SortStableFunc(t.pend[t.next:], func(a, b pending) int { return a.off() - b.off() })
	if markup(k) {
		t.walkMarkup(b, from, end)
	} else {
		t.walkText(b, from, end)
	}
	t.place(end)
	// A detection can sit just past end (an indented line's start); it
	// is placed by the next walk, in the same buffer shifted by keep.
}

// shift moves the unplaced hits' offsets when the buffer drops its first
// keep bytes.
func (t *textCtx) shift(keep int) {
	n := copy(t.pend, t.pend[t.next:])
	t.pend, t.next = t.pend[:n], 0
	for i, p := range t.pend {
		t.pend[i] = newPending(p.off()-keep, p.src())
	}
}

// walkFast is walk for a segment without detections to place.
func (t *textCtx) walkFast(b []byte, from, end int, k decode.Kind) {
	if markup(k) {
		t.walkMarkup(b, from, end)
	} else {
		t.walkText(b, from, end)
	}
}

func (t *textCtx) walkText(b []byte, from, end int) {
	p := from
	for p < end {
		if t.lineStart {
			if bytes.HasPrefix(b[p:], []byte("```")) || bytes.HasPrefix(b[p:], []byte("~~~")) {
				t.fence = !t.fence
				if t.fence {
					t.blocks++
				}
			}
		}
		nl := bytes.IndexByte(b[p:end], '\n')
		if nl < 0 {
			t.text(b, p, end)
			t.lineStart = false
			return
		}
		t.text(b, p, p+nl+1)
		t.lineStart = true
		p += nl + 1
	}
}

func (t *textCtx) walkMarkup(b []byte, from, end int) {
	p := from
	for p < end {
		if t.skip != nil {
			k := bytes.Index(b[p:min(len(b), end+len(t.skip))], t.skip)
			if k < 0 || p+k >= end {
				t.place(end)
				return
			}
			p += k
			t.skip = nil
		}
		if t.inTag {
			k := bytes.IndexByte(b[p:end], '>')
			if k < 0 {
				t.place(end)
				return
			}
			p += k + 1
			t.place(p)
			t.inTag = false
			t.inWord = false
			continue
		}
		// Text up to the next '<' (or the next detection to place): one
		// pass that finds the tag and counts the words, since text runs
		// between tags are mostly short.
		lim := end
		if t.next < len(t.pend) && t.pend[t.next].off() < lim {
			lim = max(t.pend[t.next].off(), p)
		}
		q := lim
		if k := bytes.IndexByte(b[p:lim], '<'); k >= 0 {
			q = p + k
		}
		var in uint8
		if t.inWord {
			in = 1
		}
		n := 0
		for _, c := range b[p:q] {
			w := wordBit[c]
			n += int(w &^ in)
			in = w
		}
		t.inWord = in == 1
		t.words += n
		// a detection at the '<' itself is placed after the tag
		if q == lim && q < end && b[q] != '<' {
			t.place(lim + 1)
			p = q
			continue
		}
		if q >= end {
			return
		}
		t.tag(b[q+1 : min(len(b), q+16)])
		t.inTag = true
		p = q + 1
	}
}

// tag reads the element name after a '<'. Most tags are none of the
// ones that matter, so the first letter decides before any comparison.
func (t *textCtx) tag(n []byte) {
	closing := len(n) > 0 && n[0] == '/'
	if closing {
		n = n[1:]
	}
	if len(n) == 0 {
		return
	}
	var w string
	code := true
	switch n[0] | 0x20 {
	case 'p':
		w = "pre"
	case 'c':
		w = "code"
	case 'k':
		w = "kbd"
	case 'b':
		w = "blockquote"
	case 'x':
		w = "xmp"
	case 't':
		w = "textarea"
	case 's':
		switch {
		case tagName(n, "samp"):
			w = "samp"
		case tagName(n, "script"):
			w, code = "script", false
		default:
			w, code = "style", false
		}
	case 'a':
		w, code = "a", false
	default:
		return
	}
	if !tagName(n, w) {
		return
	}
	switch {
	case code && closing:
		t.code = max(0, t.code-1)
	case code:
		t.code++
		t.blocks++
	case closing:
	case w == "a":
		t.links++
	case w == "script":
		t.skip = closeScript
	case w == "style":
		t.skip = closeStyle
	}
}

var closeScript, closeStyle = []byte("</script"), []byte("</style")

// tagName: n starts with the element name w (any case), whole.
func tagName(n []byte, w string) bool {
	if len(n) < len(w) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if n[i]|0x20 != w[i] {
			return false
		}
	}
	return len(n) == len(w) || !isAlnum(n[len(w)])
}

// features writes the context features into fv.
func (t *textCtx) features(fv *[NumFeatures]float64, status int) {
	if status >= 500 && status <= 599 {
		fv[FStatus5xx] = 1
	}
	if status >= 200 && status <= 399 {
		fv[FStatusOK] = 1
	}
	fv[FWords] = float64(t.words)
	fv[FCodeBlocks] = t.blocks
	fv[FLinks] = t.links
	if t.errHits > 0 {
		fv[FErrWordsBefore] = float64(t.wBefore)
		fv[FErrWordsAfter] = float64(t.words - t.wLast)
		fv[FErrSpanFrac] = float64(t.wLast-t.wBefore) / float64(max(t.words, 1))
		fv[FErrInCode] = t.errInCode / t.errHits
	}
	if t.srcHits > 0 {
		fv[FSrcInCode] = t.srcInCode / t.srcHits
	}
}
