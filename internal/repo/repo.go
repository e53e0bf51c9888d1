package repo

import (
	"os"
	"path/filepath"
	"testing"
)

// Root is the directory above the test's package holding the shipped
// module: a go.mod beside the Dockerfile. (k8s/ and e2e/kind/ have go.mod
// files of their own, so go.mod alone is not enough.)
func Root(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for ; ; dir = filepath.Dir(dir) {
		_, mod := os.Stat(filepath.Join(dir, "go.mod"))
		_, img := os.Stat(filepath.Join(dir, "Dockerfile"))
		if mod == nil && img == nil {
			return dir
		}
		if dir == filepath.Dir(dir) {
			t.Fatal("repository root (go.mod beside the Dockerfile) not found above the test directory")
		}
	}
}
