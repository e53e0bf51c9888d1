package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"path/filepath"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/bulwark-waf/bulwark/cmd/extproc/app"
	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
)

// pki is a throwaway CA with one server and one client certificate.
type pki struct {
	caPEM                    []byte
	pool                     *x509.CertPool
	ca                       *x509.Certificate
	caKey                    *ecdsa.PrivateKey
	serverCert, serverKey    []byte
	client, otherCAClient    tls.Certificate
	serverSerial, nextSerial int64
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{nextSerial: 1}
	p.ca, p.caKey, p.caPEM = p.selfSigned(t, "bulwark test CA")
	p.pool = x509.NewCertPool()
	p.pool.AppendCertsFromPEM(p.caPEM)
	p.serverCert, p.serverKey = p.issue(t, p.ca, p.caKey, "bulwark", x509.ExtKeyUsageServerAuth)
	p.serverSerial = p.nextSerial - 1
	c, k := p.issue(t, p.ca, p.caKey, "envoy", x509.ExtKeyUsageClientAuth)
	var err error
	if p.client, err = tls.X509KeyPair(c, k); err != nil {
		t.Fatal(err)
	}
	other, otherKey, _ := p.selfSigned(t, "some other CA")
	c, k = p.issue(t, other, otherKey, "intruder", x509.ExtKeyUsageClientAuth)
	if p.otherCAClient, err = tls.X509KeyPair(c, k); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *pki) selfSigned(t *testing.T, cn string) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(p.nextSerial), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	p.nextSerial++
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func (p *pki) issue(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(p.nextSerial), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}, DNSNames: []string{cn}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	p.nextSerial++
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// With grpc.tls_* set, only a client with a certificate from the
// configured CA can call the processor, and a renewed server certificate
// is served without a restart.
func TestMutualTLSListener(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	dir := t.TempDir()
	for name, b := range map[string][]byte{"tls.crt": p.serverCert, "tls.key": p.serverKey, "ca.crt": p.caPEM} {
		writeFile(t, filepath.Join(dir, name), string(b))
	}
	args := []string{"--grpc-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--audit-log", "off", "--reload-debounce", "50ms", "--ml-enabled=false",
		"--grpc-tls-cert-file", filepath.Join(dir, "tls.crt"), "--grpc-tls-key-file", filepath.Join(dir, "tls.key"),
		"--grpc-tls-client-ca-file", filepath.Join(dir, "ca.crt")}
	a, err := app.New(config.Source{Args: args, Env: func(string) (string, bool) { return "", false }}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitReady(t, a)

	call := func(creds credentials.TransportCredentials) (*envoysim.Result, error) {
		conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(creds))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return (&envoysim.Filter{MessageTimeout: 5 * time.Second}).Do(context.Background(), extprocv3.NewExternalProcessorClient(conn),
			get("/products?id=1%27%20UNION%20SELECT%20password%20FROM%20users--"), echo)
	}
	res, err := call(credentials.NewTLS(&tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.client}, ServerName: "bulwark"}))
	if err != nil || res.StreamErr != nil || !res.Blocked() {
		t.Fatalf("Envoy with a client certificate: err %v, stream %v, blocked %v", err, res.StreamErr, res != nil && res.Blocked())
	}
	for name, creds := range map[string]credentials.TransportCredentials{
		"plaintext":      insecure.NewCredentials(),
		"no client cert": credentials.NewTLS(&tls.Config{RootCAs: p.pool, ServerName: "bulwark"}),
		"other CA":       credentials.NewTLS(&tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.otherCAClient}, ServerName: "bulwark"}),
	} {
		res, err := call(creds)
		if err == nil && res.StreamErr == nil && !res.ServerAbandoned {
			t.Errorf("%s: the processor answered (%+v)", name, res.Local)
		}
	}

	// Renew the server certificate: new handshakes get it.
	cert, key := p.issue(t, p.ca, p.caKey, "bulwark", x509.ExtKeyUsageServerAuth)
	writeFile(t, filepath.Join(dir, "tls.key"), string(key))
	writeFile(t, filepath.Join(dir, "tls.crt"), string(cert))
	newSerial := p.nextSerial - 1
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := tls.Dial("tcp", a.GRPCAddr(), &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.client}, ServerName: "bulwark", NextProtos: []string{"h2"}})
		if err == nil {
			serial := c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
			_ = c.Close()
			if serial == newSerial {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the renewed certificate (serial %d) was never served; last error %v", newSerial, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
