package k8s

import (
	"path/filepath"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// The grpc-tls component turns on mutual TLS: the three TLS settings point
// at files of the mounted Secret that the Certificate writes, the
// certificate names the Service, and the pod still passes the restricted
// profile.
func TestGRPCTLSComponent(t *testing.T) {
	t.Parallel()
	fsys := filesys.MakeFsInMemory()
	copyTree(t, fsys, "base")
	copyTree(t, fsys, "components")
	kust := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../../base\ncomponents:\n- ../../components/grpc-tls\n"
	if err := fsys.WriteFile("/repo/k8s/overlays/mtls/kustomization.yaml", []byte(kust)); err != nil {
		t.Fatal(err)
	}
	objs := buildFS(t, fsys, "/repo/k8s/overlays/mtls")
	d := mustFind[*appsv1.Deployment](t, objs, bulwarkNamespace, bulwarkName)
	for _, p := range podSecurityProblems(d.Spec.Template.Spec) {
		t.Error(p)
	}
	cert := mustFind[*certificate](t, objs, bulwarkNamespace, "bulwark-grpc")
	if !slices.Contains(cert.Spec.DNSNames, bulwarkName) || cert.Spec.IssuerRef.Name == "" {
		t.Errorf("certificate %+v: want the Service name and an issuer", cert.Spec)
	}
	c := d.Spec.Template.Spec.Containers[0]
	env := envOf(c)
	for _, key := range []string{"BULWARK_GRPC_TLS_CERT_FILE", "BULWARK_GRPC_TLS_KEY_FILE", "BULWARK_GRPC_TLS_CLIENT_CA_FILE"} {
		file := env[key]
		mounted := false
		for _, m := range c.VolumeMounts {
			if filepath.Dir(file) != m.MountPath {
				continue
			}
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.Name == m.Name && v.Secret != nil && v.Secret.SecretName == cert.Spec.SecretName {
					mounted = true
				}
			}
		}
		if !mounted {
			t.Errorf("%s=%q is not in the mounted Secret %s", key, file, cert.Spec.SecretName)
		}
	}
}
