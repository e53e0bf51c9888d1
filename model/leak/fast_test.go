package leak

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// The scan's fast paths against the plain code they replace, on short
// random strings over the bytes that matter to them (so every overlap and
// boundary case comes up) and on the benchmark bodies.
func fastPathInputs(t *testing.T, alphabet string) [][]byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 12))
	var in [][]byte
	for n := 0; n < 50000; n++ {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		in = append(in, b)
	}
	bodies, err := benchBodies()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bodies {
		for off := 0; off < len(b); off += 40000 {
			in = append(in, b[off:min(len(b), off+65536)], b[off:min(len(b), off+9)])
		}
	}
	return in
}

func TestCountThe(t *testing.T) {
	t.Parallel()
	for _, b := range fastPathInputs(t, " the.x") {
		if got, want := countThe(b), bytes.Count(b, []byte(" the ")); got != want {
			t.Fatalf("countThe(%q) = %d, want %d", b, got, want)
		}
	}
}

func TestStrStop(t *testing.T) {
	t.Parallel()
	for _, b := range fastPathInputs(t, "a\"\\\x00\xff\x22\x5c\x80") {
		for i := 0; i <= len(b) && i < 48; i++ {
			want := len(b)
			if k := bytes.IndexAny(b[i:], "\"\\"); k >= 0 {
				want = i + k
			}
			if got := strStop(b, i); got != want {
				t.Fatalf("strStop(%q, %d) = %d, want %d", b, i, got, want)
			}
		}
	}
}
