package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// Files names the PEM files: the server's certificate chain and key, and,
// for mutual TLS, the CA bundle client certificates must chain to.
type Files struct {
	Cert, Key string
	// ClientCA, when set, makes client certificates required and verified.
	ClientCA string
}

// Enabled reports whether TLS is configured at all.
func (f Files) Enabled() bool { return f.Cert != "" || f.Key != "" || f.ClientCA != "" }

// ErrFiles is wrapped by every error about the files.
var ErrFiles = errors.New("tls files")

// Server holds the current TLS configuration. It is safe for concurrent
// use; Reload swaps it whole.
type Server struct {
	files Files
	cur   atomic.Pointer[tls.Config]
}

// New loads the files; any error names the file.
func New(f Files) (*Server, error) {
	if f.Cert == "" || f.Key == "" {
		return nil, fmt.Errorf("%w: a certificate and a key are both required (client CA %q)", ErrFiles, f.ClientCA)
	}
	s := &Server{files: f}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Paths are the files to watch.
func (s *Server) Paths() []string {
	out := []string{s.files.Cert, s.files.Key}
	if s.files.ClientCA != "" {
		out = append(out, s.files.ClientCA)
	}
	return out
}

// Reload reads the files again. On error the previous configuration stays.
func (s *Server) Reload() error {
	c, err := load(s.files)
	if err != nil {
		return err
	}
	s.cur.Store(c)
	return nil
}

// Config is what the listener uses: every handshake asks for the current
// configuration, so reloads apply to new connections at once.
func (s *Server) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return s.cur.Load(), nil
		},
	}
}

func load(f Files) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %s, %s: %w", ErrFiles, f.Cert, f.Key, err)
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}}
	if f.ClientCA != "" {
		pem, err := os.ReadFile(f.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrFiles, f.ClientCA, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: %s: no PEM certificate found", ErrFiles, f.ClientCA)
		}
		c.ClientCAs = pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c, nil
}
