package filter

import (
	"testing"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, peer, xff string
		hops            int
		want            string
	}{
		{"peer without hops", "10.0.0.9", "1.2.3.4", 0, "10.0.0.9"},
		{"one trusted hop", "10.0.0.9", "198.51.100.4, 10.0.0.9", 1, "198.51.100.4"},
		{"spoofed entries left of the trusted one", "10.0.0.9", "6.6.6.6, 198.51.100.4, 10.0.0.9", 1, "198.51.100.4"},
		{"two hops", "10.0.0.9", "198.51.100.4, 10.1.1.1, 10.0.0.9", 2, "198.51.100.4"},
		{"header shorter than hops keeps the peer", "10.0.0.9", "10.0.0.9", 1, "10.0.0.9"},
		{"garbage entry keeps the peer", "10.0.0.9", "not-an-ip, 10.0.0.9", 1, "10.0.0.9"},
		{"ipv6", "::1", "2001:db8::7, ::1", 1, "2001:db8::7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := clientIP(tt.peer, tt.xff, tt.hops); got != tt.want {
				t.Fatalf("clientIP = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSplitAddr(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		host string
		port int
	}{{"1.2.3.4:80", "1.2.3.4", 80}, {"[2001:db8::1]:443", "2001:db8::1", 443}, {"1.2.3.4", "1.2.3.4", 0}, {"", "", 0}} {
		if h, p := splitAddr(tt.in); h != tt.host || p != tt.port {
			t.Errorf("splitAddr(%q) = %q, %d", tt.in, h, p)
		}
	}
}

func TestWantsHTML(t *testing.T) {
	t.Parallel()
	for accept, want := range map[string]bool{
		"text/html,application/xhtml+xml,*/*;q=0.8": true,
		"application/json":                          false,
		"application/json, text/html":               false,
		"":                                          false,
		"*/*":                                       false,
	} {
		if got := wantsHTML(accept); got != want {
			t.Errorf("wantsHTML(%q) = %v", accept, got)
		}
	}
}
