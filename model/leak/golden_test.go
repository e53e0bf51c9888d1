package leak

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The scanner golden file pins, for every response body the package's
// tests, testdata and benchmarks read, a hash of the feature vector and of
// the whole Result (scores, locations, spans) at several chunkings. The
// embedded model is trained on these features, so a speed-up of the scan
// must leave every one of them bit for bit as it was; a deliberate change
// of a detector regenerates the file with -update-golden (and then needs a
// retraining).
var (
	updateGolden = flag.Bool("update-golden", false, "rewrite testdata/scanner.golden from the current scanner")
	// goldenExtra hashes more corpora (JSON Lines with content_type,
	// status and body, like build/leak/corpus/*.jsonl) into goldenOut, to
	// compare a change on the generated corpus without committing it.
	goldenExtra = flag.String("golden-extra", "", "comma-separated JSON Lines corpora to hash into -golden-out")
	goldenOut   = flag.String("golden-out", "", "where -golden-extra writes its hashes")
)

const goldenFile = "testdata/scanner.golden"

// goldenChunks are the write sizes each body is scanned with: whole,
// ext_proc's usual 16 KiB, and sizes that put chunk boundaries at odd
// places against the 64 KiB scan step and the windows.
var goldenChunks = []int{0, 16 << 10, 4093, 997}

type goldenBody struct {
	name   string
	ct     string
	status int
	body   []byte
}

// goldenHash scans body at every goldenChunks size and hashes the
// features (as float64 bits), the kind and the Result's JSON.
func goldenHash(m *Model, g goldenBody) string {
	h := sha256.New()
	var w [8]byte
	for _, chunk := range goldenChunks {
		s := m.NewScannerOptions(context.Background(), g.ct, Options{Status: g.status})
		if chunk == 0 {
			_, _ = s.Write(g.body)
		} else {
			writeChunked(s, g.body, chunk)
		}
		_ = s.Close()
		for _, v := range s.Features() {
			binary.LittleEndian.PutUint64(w[:], math.Float64bits(v))
			h.Write(w[:])
		}
		fmt.Fprintf(h, "kind=%d\n", s.Kind())
		r, err := json.Marshal(s.Result())
		if err != nil {
			panic(err)
		}
		h.Write(r)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// readJSONL calls fn for every record of a (possibly gzipped) JSON Lines
// file of responses.
func readJSONL(t testing.TB, path string, fn func(i int, ct string, status int, body []byte)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<20)
	for i := 0; sc.Scan(); i++ {
		var rec struct {
			ContentType string          `json:"content_type"`
			Status      json.RawMessage `json:"status"`
			Body        string          `json:"body"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		// openapi-examples.jsonl writes the status as a string
		st, _ := strconv.Atoi(strings.Trim(string(rec.Status), `"`))
		fn(i, rec.ContentType, st, []byte(rec.Body))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// fuzzSeed reads a `go test fuzz v1` file of FuzzScanner (ct, body, chunk).
func fuzzSeed(t testing.TB, path string) (string, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var vals []string
	for _, ln := range strings.Split(string(raw), "\n")[1:] {
		open := strings.IndexByte(ln, '(')
		if open < 0 || !strings.HasSuffix(ln, ")") || strings.HasPrefix(ln, "uint") {
			continue
		}
		v, err := strconv.Unquote(ln[open+1 : len(ln)-1])
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		vals = append(vals, v)
	}
	if len(vals) != 2 {
		t.Fatalf("%s: %d string values", path, len(vals))
	}
	return vals[0], []byte(vals[1])
}

// goldenBodies is every body the package's tests and benchmarks read.
func goldenBodies(t testing.TB) []goldenBody {
	t.Helper()
	var out []goldenBody
	add := func(name, ct string, status int, body []byte) {
		out = append(out, goldenBody{name: name, ct: ct, status: status, body: body})
	}
	for _, tc := range append(leakCases(t), cleanCases(t)...) {
		add("case/"+tc.name, tc.ct, 0, []byte(tc.body))
	}
	files, err := filepath.Glob(filepath.Join("testdata", "bodies", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("testdata/bodies: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ct := map[string]string{".html": "text/html", ".txt": "text/plain"}[filepath.Ext(f)]
		add("bodies/"+filepath.Base(f), ct, 0, b)
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "probe", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var probes []struct {
		File        string `json:"file"`
		ContentType string `json:"content_type"`
		Statuses    []int  `json:"statuses"`
	}
	if err := json.Unmarshal(raw, &probes); err != nil {
		t.Fatal(err)
	}
	for _, p := range probes {
		b, err := os.ReadFile(filepath.Join("testdata", "probe", p.File))
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range p.Statuses {
			add(fmt.Sprintf("probe/%s@%d", p.File, st), p.ContentType, st, b)
		}
	}
	readJSONL(t, filepath.Join("testdata", "parity.jsonl"), func(i int, ct string, st int, b []byte) {
		add(fmt.Sprintf("parity/%d", i), ct, st, b)
	})
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzScanner", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range seeds {
		ct, b := fuzzSeed(t, f)
		add("fuzz/"+filepath.Base(f), ct, 0, b)
	}
	for _, src := range []string{"docs", "docs-more", "openapi-examples"} {
		readJSONL(t, filepath.Join("..", "..", "data", "responses", src+".jsonl.gz"), func(i int, ct string, st int, b []byte) {
			add(fmt.Sprintf("responses/%s/%d", src, i), ct, st, b)
		})
	}
	bench, err := benchBodies()
	if err != nil {
		t.Fatal(err)
	}
	add("bench/html", "text/html", 0, bench["html"])
	add("bench/html-32k", "text/html", 0, bench["html"][:32<<10])
	add("bench/json", "application/json", 0, bench["json"])
	return out
}

// TestScannerGolden: the features and results of every body are the ones
// in testdata/scanner.golden.
func TestScannerGolden(t *testing.T) {
	t.Parallel()
	m := testModel(t)
	if *goldenExtra != "" {
		hashExtra(t, m)
		return
	}
	bodies := goldenBodies(t)
	if len(bodies) < 3000 {
		t.Fatalf("only %d golden bodies", len(bodies))
	}
	got := make(map[string]string, len(bodies))
	var names []string
	for _, g := range bodies {
		if _, dup := got[g.name]; dup {
			t.Fatalf("duplicate golden name %s", g.name)
		}
		got[g.name] = goldenHash(m, g)
		names = append(names, g.name)
	}
	if *updateGolden {
		sort.Strings(names)
		var b bytes.Buffer
		b.WriteString("# name\tsha256[:12] of features+kind+Result at chunkings whole,16384,4093,997 (go test -run TestScannerGolden -update-golden)\n")
		for _, n := range names {
			fmt.Fprintf(&b, "%s\t%s\n", n, got[n])
		}
		if err := os.WriteFile(goldenFile, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d hashes to %s", len(names), goldenFile)
		return
	}
	raw, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v (create it with -update-golden)", err)
	}
	want := map[string]string{}
	for _, ln := range strings.Split(string(raw), "\n") {
		if ln == "" || ln[0] == '#' {
			continue
		}
		name, h, ok := strings.Cut(ln, "\t")
		if !ok {
			t.Fatalf("bad golden line %q", ln)
		}
		want[name] = h
	}
	bad := 0
	for _, n := range names {
		w, ok := want[n]
		switch {
		case !ok:
			t.Errorf("%s: not in %s", n, goldenFile)
		case w != got[n]:
			t.Errorf("%s: features or result changed (%s, golden %s)", n, got[n], w)
		default:
			continue
		}
		if bad++; bad >= 20 {
			t.Fatal("too many differences")
		}
	}
	if len(want) != len(got) {
		t.Errorf("golden has %d bodies, the tests read %d", len(want), len(got))
	}
}

// hashExtra writes one hash per record of the -golden-extra corpora.
func hashExtra(t *testing.T, m *Model) {
	if *goldenOut == "" {
		t.Fatal("-golden-extra needs -golden-out")
	}
	var b bytes.Buffer
	n := 0
	for _, path := range strings.Split(*goldenExtra, ",") {
		readJSONL(t, path, func(i int, ct string, st int, body []byte) {
			fmt.Fprintf(&b, "%s/%d\t%s\n", filepath.Base(path), i, goldenHash(m, goldenBody{ct: ct, status: st, body: body}))
			n++
		})
	}
	if err := os.WriteFile(*goldenOut, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("hashed %d records into %s", n, *goldenOut)
}
