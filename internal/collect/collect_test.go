package collect

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testStore(t *testing.T, maxBytes, fileBytes int64) *Store {
	t.Helper()
	s, err := Open(Config{Dir: t.TempDir(), Rate: 1, MaxBytes: maxBytes, FileBytes: fileBytes,
		RedactHeaders: []string{"authorization"}, RedactFields: []string{"pass", "token"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Secrets are hashed with a key, so equal values stay equal and nothing
// readable is kept; other values are untouched.
func TestRedact(t *testing.T) {
	t.Parallel()
	s := testStore(t, 1<<20, 1<<16)
	defer s.Close(context.Background())
	tests := []struct {
		name, uri, ctype, body string
		hide, keep             []string
		redacted               string
	}{
		{"query", "/login?user=ada&token=s3cr3t", "", "", []string{"s3cr3t"}, []string{"user=ada"}, "query:token"},
		{"form", "/login", "application/x-www-form-urlencoded", "user=ada&password=hunter2", []string{"hunter2"}, []string{"user=ada"}, "form:password"},
		{"json", "/api", "application/json", `{"user":{"name":"ada","passphrase":"correct horse"},"items":[1,2]}`, []string{"correct horse"}, []string{`"name":"ada"`, `"items":[1,2]`}, "json:user.passphrase"},
	}
	for _, tt := range tests {
		hs := [][2]string{{"host", "a.example"}, {"authorization", "Bearer abc.def"}, {"cookie", "sid=xyz; theme=dark"}}
		if tt.ctype != "" {
			hs = append(hs, [2]string{"content-type", tt.ctype})
		}
		uri, headers, body, redacted := s.Redact(tt.uri, hs, []byte(tt.body))
		all := uri + " " + body + " " + headers["authorization"] + " " + headers["cookie"]
		for _, secret := range append(tt.hide, "abc.def", "xyz", "dark") {
			if strings.Contains(all, secret) {
				t.Errorf("%s: %q kept in %s", tt.name, secret, all)
			}
		}
		for _, k := range tt.keep {
			if !strings.Contains(uri+body, k) {
				t.Errorf("%s: %q lost from %s %s", tt.name, k, uri, body)
			}
		}
		if !strings.Contains(strings.Join(redacted, " "), tt.redacted) || !strings.Contains(strings.Join(redacted, " "), "header:authorization") {
			t.Errorf("%s: redacted %v", tt.name, redacted)
		}
		if headers["host"] != "a.example" {
			t.Errorf("%s: host %q", tt.name, headers["host"])
		}
	}
	if a, b := s.Hash("x"), s.Hash("x"); a != b || a == s.Hash("y") {
		t.Fatal("hashes must keep equal values equal and others apart")
	}
}

// The store rotates files and never keeps more than MaxBytes; a full queue
// drops instead of blocking.
func TestStoreIsBounded(t *testing.T) {
	t.Parallel()
	s := testStore(t, 64<<10, 8<<10)
	for i := range 2000 {
		s.Offer(Record{ID: "r" + strings.Repeat("x", i%50), Time: time.Unix(0, 0), Method: "GET", URI: "/" + strings.Repeat("a", 100), Headers: map[string]string{"host": "a"}})
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(s.cfg.Dir, "samples-*.jsonl"))
	var total int64
	lines := 0
	for _, n := range names {
		st, _ := os.Stat(n)
		total += st.Size()
		f, _ := os.Open(n)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var r Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			lines++
		}
		f.Close()
	}
	if total > 64<<10 || len(names) < 2 || lines == 0 {
		t.Fatalf("%d files, %d bytes, %d records; want rotation within 64 KiB", len(names), total, lines)
	}
}
