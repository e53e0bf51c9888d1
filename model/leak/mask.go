package leak

import "sort"

// MaskByte replaces every masked byte.
const MaskByte = '*'

// Mask returns a copy of body with the bytes of every span replaced by
// MaskByte. The length is unchanged, so offsets of other spans and JSON
// string boundaries stay valid (the spans cover values, never quotes).
// Spans outside body are clipped; classes picks which classes' spans are
// masked (all when empty).
func Mask(body []byte, spans []Span, classes ...string) []byte {
	out := append([]byte(nil), body...)
	want := map[string]bool{}
	for _, c := range classes {
		want[c] = true
	}
	sp := append([]Span(nil), spans...)
	sort.Slice(sp, func(a, b int) bool { return sp[a].Start < sp[b].Start })
	for _, s := range sp {
		if len(want) > 0 && !want[s.Class] {
			continue
		}
		start, end := max(s.Start, 0), min(s.End, int64(len(out)))
		for i := start; i < end; i++ {
			out[i] = MaskByte
		}
	}
	return out
}
