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

// A literal is matched by its first eight bytes in one word compare, and
// bytewise where fewer than eight bytes are left: one that ends the body,
// whole or cut short by a byte, at every length around eight.
func TestLiteralAtBodyEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lit string
		f   int
	}{{"PG::", FSQLPostgres}, {"SQLSTATE", FSQLGeneric}, {"Exception", FExceptionWord}, {"Parent Directory", FDirListing}} {
		for _, pad := range []string{"", "x", "x y ", "some text before it: "} {
			for _, cut := range []int{0, 1} {
				body := pad + tc.lit[:len(tc.lit)-cut]
				want := float64(1 - cut)
				if got := BodyFeatures("text/plain", []byte(body))[tc.f]; got != want {
					t.Errorf("%q: %s = %v, want %v", body, FeatureNames[tc.f], got, want)
				}
			}
		}
	}
}
