package waf

import (
	"context"
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

// A payload behind a repeated cookie name must be seen on every run, not on
// whichever run Coraza's map order happens to favour.
func TestDuplicateCookieNamesAreInspectedDeterministically(t *testing.T) {
	t.Parallel()
	e, err := New(DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &Request{Method: "GET", URI: "/", Headers: [][2]string{{"host", "a.example"}, {"user-agent", "Mozilla/5.0"}, {"accept", "*/*"},
		{"cookie", "a=1; last_search=%3Cimg%20src%3D%22https%3A//cdn.example.com/p/12.png%22%20alt%3D%22photo%22%3E; b=2; last_search=Per%20mention"}}}
	for i := 0; i < 30; i++ {
		v, err := e.Inspect(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if v.InboundScore != 5 {
			t.Fatalf("run %d: anomaly score %d, want 5 every time (rules %v)", i, v.InboundScore, v.LoggedIDs(0))
		}
	}
}
