package waf

import (
	"testing"
)

func TestCookieNames(t *testing.T) {
	t.Parallel()
	var c CookieNames
	tests := []struct{ in, want string }{
		{"a=1; b=2", "a=1; b=2"},
		{"a=3; c=4", " a__dup2=3; c=4"[1:]},
		{"b=5;b=6; flag", "b__dup2=5;b__dup3=6; flag"},
		{"flag", "flag__dup2"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := c.Header(tt.in); got != tt.want {
			t.Errorf("Header(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
