package rx

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fuzzGroupEnv restricts FuzzRx to the patterns of one CRS rule file, e.g.
// BULWARK_RX_GROUP=REQUEST-942, so that a fuzzing run concentrates on one
// group (make fuzz-rx runs each group in turn). Unset, every pattern runs.
const fuzzGroupEnv = "BULWARK_RX_GROUP"

// maxFuzzInput bounds one fuzz input: the fuzzer's own inputs can reach
// megabytes, and Go's regexp under coverage instrumentation then stalls the
// run. CRS patterns are anchored on short literals; a difference between
// the engines shows on short input.
const maxFuzzInput = 512

func fuzzPairs(t testing.TB) []pair {
	all := crsPairs(t)
	g := os.Getenv(fuzzGroupEnv)
	if g == "" {
		return all
	}
	var out []pair
	for _, p := range all {
		if p.group == g {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s=%s: no CRS @rx pattern in that group", fuzzGroupEnv, g)
	}
	return out
}

// FuzzRx runs one CRS @rx pattern (chosen by sel among all patterns, or
// among one group's) through Bulwark's RE2 operator and Coraza's, on the
// fuzzer's input and on two variants of it (upper-cased, and with a lone
// UTF-8 lead byte spliced in), and fails on any difference in match or
// captures. The seeds in testdata/fuzz/FuzzRx are public payloads and real
// request parts with invalid and tricky UTF-8 variants; the normal test run
// replays them, and TestSeedsOnEveryPattern runs each seed through every
// pattern.
func FuzzRx(f *testing.F) {
	for i, s := range []string{"", "a", "\xff", "SELECT * FROM users", "<script>alert(1)</script>", ";cat /etc/passwd"} {
		f.Add(uint16(i), []byte(s))
	}
	pairs := fuzzPairs(f)
	f.Fuzz(func(t *testing.T, sel uint16, in []byte) {
		if len(in) > maxFuzzInput {
			in = in[:maxFuzzInput]
		}
		p := pairs[int(sel)%len(pairs)]
		for _, x := range variants(string(in)) {
			if d := p.differ(x); d != "" {
				t.Fatalf("%s pattern %q on %q: %s", p.group, p.args, x, d)
			}
		}
	})
}

func variants(v string) []string {
	out := []string{v, strings.ToUpper(v)}
	if len(v) > 0 {
		mid := len(v) / 2
		out = append(out, v[:mid]+"\xc3"+v[mid:])
	}
	return out
}

// TestSeedsOnEveryPattern runs every seed of FuzzRx through every CRS @rx
// pattern, not just the one its selector picks.
func TestSeedsOnEveryPattern(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzRx", "*"))
	if err != nil || len(files) < 100 {
		t.Fatalf("fuzz seeds: %d files, %v", len(files), err)
	}
	pairs := crsPairs(t)
	for _, f := range files {
		in, err := readSeed(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pairs {
			for _, x := range variants(in) {
				if d := p.differ(x); d != "" {
					t.Errorf("%s: %s pattern %q on %q: %s", filepath.Base(f), p.group, p.args, x, d)
				}
			}
		}
	}
}

// readSeed reads the []byte value of a go test fuzz v1 corpus file.
func readSeed(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "[]byte("); ok {
			return strconv.Unquote(strings.TrimSuffix(rest, ")"))
		}
	}
	return "", fmt.Errorf("%s: no []byte value", path)
}
