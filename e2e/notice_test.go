package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoticeCoversVendoredMaterial: every licence file shipped beside
// vendored material is named in NOTICE, and the project licence is the
// full Apache-2.0 text the image label claims.
func TestNoticeCoversVendoredMaterial(t *testing.T) {
	t.Parallel()
	notice, err := os.ReadFile("../NOTICE")
	if err != nil {
		t.Fatal(err)
	}
	licence, err := os.ReadFile("../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(licence), "Apache License") || !strings.Contains(string(licence), "END OF TERMS AND CONDITIONS") {
		t.Error("LICENSE is not the full Apache License 2.0 text")
	}
	files, err := filepath.Glob("../data/traffic/LICENSES/*")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../e2e/ftw/testdata/crs/LICENSE")
	if len(files) < 2 {
		t.Fatalf("no vendored licence files found: %v", files)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if f == "../e2e/ftw/testdata/crs/LICENSE" {
			name = "e2e/ftw/testdata/crs/LICENSE"
		}
		if !strings.Contains(string(notice), name) {
			t.Errorf("NOTICE does not name %s", name)
		}
	}
}
