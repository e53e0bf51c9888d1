package waf

import (
	"context"
	"reflect"
	"testing"
)

// TestVerdictReaderMatchesReadVerdict reads a transaction after every phase
// with one VerdictReader and checks each read against a fresh ReadVerdict,
// and that reading on does not change a verdict already returned.
func TestVerdictReaderMatchesReadVerdict(t *testing.T) {
	t.Parallel()
	e, err := New(DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tx := e.NewTransaction(context.Background(), "verdict-reader")
	defer func() { _ = tx.Close() }()
	var r VerdictReader
	var got []Verdict
	var snapshots [][]Match
	read := func() {
		v := r.Read(tx)
		if want := ReadVerdict(tx); !reflect.DeepEqual(v, want) {
			t.Fatalf("after read %d: VerdictReader gave %d matches, ReadVerdict %d", len(got), len(v.Matches), len(want.Matches))
		}
		// And against Coraza's list itself, not only our other reader.
		mrs := tx.MatchedRules()
		if len(v.Matches) != len(mrs) {
			t.Fatalf("after read %d: %d matches, Coraza has %d", len(got), len(v.Matches), len(mrs))
		}
		for i, mr := range mrs {
			if m := v.Matches[i]; m.ID != mr.Rule().ID() || m.Data != mr.Data() || m.Message != mr.Message() {
				t.Fatalf("after read %d: match %d is rule %d, Coraza's is %d", len(got), i, m.ID, mr.Rule().ID())
			}
		}
		got = append(got, v)
		snapshots = append(snapshots, append([]Match(nil), v.Matches...))
	}
	tx.ProcessConnection("203.0.113.9", 40000, "10.0.0.2", 8080)
	tx.ProcessURI("/search?q=1'+UNION+SELECT+password+FROM+users--&cmd=;cat+/etc/passwd", "GET", "HTTP/1.1")
	tx.AddRequestHeader("host", "shop.example")
	tx.AddRequestHeader("user-agent", "sqlmap/1.7")
	tx.ProcessRequestHeaders()
	read()
	if _, err := tx.ProcessRequestBody(); err != nil {
		t.Fatal(err)
	}
	read()
	read() // nothing new
	tx.AddResponseHeader("content-type", "text/html")
	tx.ProcessResponseHeaders(500, "HTTP/1.1")
	read()
	tx.ProcessLogging()
	read()
	last := got[len(got)-1]
	if len(last.Matches) <= len(got[0].Matches) || len(got[0].Matches) == 0 {
		t.Fatalf("matches per read %d .. %d: the request should match in phase 1 and later", len(got[0].Matches), len(last.Matches))
	}
	for i, v := range got {
		if !reflect.DeepEqual(v.Matches, snapshots[i]) {
			t.Errorf("verdict %d changed after later reads", i)
		}
		if i > 0 && !reflect.DeepEqual(v.Matches[:len(got[i-1].Matches)], got[i-1].Matches) {
			t.Errorf("verdict %d does not extend verdict %d", i, i-1)
		}
	}
	// A reader moved to another transaction starts over.
	other := e.NewTransaction(context.Background(), "other")
	defer func() { _ = other.Close() }()
	other.ProcessURI("/", "GET", "HTTP/1.1")
	other.ProcessRequestHeaders()
	if v, want := r.Read(other), ReadVerdict(other); !reflect.DeepEqual(v, want) || len(v.Matches) != len(other.MatchedRules()) {
		t.Fatalf("on another transaction: %d matches, want %d", len(v.Matches), len(other.MatchedRules()))
	}
}
