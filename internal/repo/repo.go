package repo

import (
	"os"
	"os/exec"
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

// LightGBMPython is the interpreter `make model-venv` installs (or
// BULWARK_PYTHON), checked to import lightgbm, for the parity tests that
// compare leaves with LightGBM. Under CI a missing interpreter or lightgbm
// fails the test rather than skipping it: the parity guarantee is what
// lets leaves serve a LightGBM-trained model.
func LightGBMPython(t testing.TB) string {
	t.Helper()
	fail := t.Skipf
	if os.Getenv("CI") == "true" {
		fail = t.Fatalf
	}
	py := os.Getenv("BULWARK_PYTHON")
	if py == "" {
		py = filepath.Join(Root(t), ".venv", "bin", "python")
	}
	if _, err := os.Stat(py); err != nil {
		fail("no python at %s (run `make model-venv` or set BULWARK_PYTHON): %v", py, err)
	}
	if out, err := exec.Command(py, "-c", "import lightgbm").CombinedOutput(); err != nil {
		fail("python at %s cannot import lightgbm: %v\n%s", py, err, out)
	}
	return py
}
