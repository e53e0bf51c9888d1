package model

import (
	"context"
	"runtime"
	"strings"
	"testing"
)

// A 130 KB body {"<64 KB key>":[0,0,…]} once built a full path string per
// leaf (2.2 GB). Names are bounded now: scoring it allocates at most ten
// times its size.
func TestLongKeyArrayAllocatesLittle(t *testing.T) {
	m, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	body := `{"` + strings.Repeat("k", 64<<10) + `":[` + strings.Repeat("0,", 32<<10) + `0]}`
	r := &Request{Method: "POST", URI: "/api", Body: []byte(body), Headers: [][2]string{{"host", "a.example"}, {"content-type", "application/json"}}}
	m.Score(context.Background(), r) // warm pools
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m.Score(context.Background(), r)
	runtime.ReadMemStats(&after)
	t.Logf("allocated %d bytes for %d", after.TotalAlloc-before.TotalAlloc, len(body))
	if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(10*len(body)); got > limit {
		t.Fatalf("scoring a %d-byte body allocated %d bytes, more than %d", len(body), got, limit)
	}
	for _, f := range Fields(r) {
		if len(f.Name) > maxFieldName+16 {
			t.Fatalf("a field name of %d bytes", len(f.Name))
		}
	}
}
