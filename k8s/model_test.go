package k8s

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// copyTree copies a directory of the repository into an in-memory
// filesystem at the same relative path.
func copyTree(t *testing.T, fsys filesys.FileSystem, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return fsys.WriteFile(filepath.Join("/repo/k8s", p), b)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCustomModelComponent builds the overlay k8s/README.md tells users to
// write ("Serving your own model") around the real committed model, and
// checks model.path names the file in the mounted ConfigMap, the settings
// still load, and the pod still passes the restricted profile.
func TestCustomModelComponent(t *testing.T) {
	t.Parallel()
	fsys := filesys.MakeFsInMemory()
	copyTree(t, fsys, "base")
	copyTree(t, fsys, "components")
	model, err := os.ReadFile("../model/bulwark.model.gz")
	if err != nil {
		t.Fatal(err)
	}
	if err := fsys.WriteFile("/repo/k8s/overlays/my-model/bulwark.model.gz", model); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	kust := fencedAfter(t, string(readme), "# overlays/my-model/kustomization.yaml")
	if err := fsys.WriteFile("/repo/k8s/overlays/my-model/kustomization.yaml", []byte(kust)); err != nil {
		t.Fatal(err)
	}
	objs := buildFS(t, fsys, "/repo/k8s/overlays/my-model")

	d := mustFind[*appsv1.Deployment](t, objs, bulwarkNamespace, bulwarkName)
	for _, p := range podSecurityProblems(d.Spec.Template.Spec) {
		t.Error(p)
	}
	checkBulwarkWiring(t, objs, bulwarkNamespace, bulwarkName)
	c := d.Spec.Template.Spec.Containers[0]
	file := envOf(c)["BULWARK_MODEL_PATH"]
	var cm *corev1.ConfigMap
	for _, m := range c.VolumeMounts {
		if filepath.Dir(file) != m.MountPath {
			continue
		}
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil {
				cm = mustFind[*corev1.ConfigMap](t, objs, bulwarkNamespace, v.ConfigMap.Name)
			}
		}
	}
	if cm == nil {
		t.Fatalf("BULWARK_MODEL_PATH=%q is in no mounted ConfigMap", file)
	}
	if !strings.HasPrefix(cm.Name, "bulwark-model-") {
		t.Errorf("model ConfigMap %q has no content hash: a new model would not roll the pods", cm.Name)
	}
	if got := cm.BinaryData[filepath.Base(file)]; string(got) != string(model) {
		t.Errorf("the ConfigMap's %s is %d bytes, want the %d-byte model", filepath.Base(file), len(got), len(model))
	}
}

// fencedAfter returns the body of the first fenced code block whose first
// line is marker.
func fencedAfter(t *testing.T, doc, marker string) string {
	t.Helper()
	i := strings.Index(doc, "```yaml\n"+marker+"\n")
	if i < 0 {
		t.Fatalf("README has no yaml block starting with %q", marker)
	}
	body := doc[i+len("```yaml\n"):]
	end := strings.Index(body, "```")
	if end < 0 {
		t.Fatal("unterminated code block")
	}
	return body[:end]
}
