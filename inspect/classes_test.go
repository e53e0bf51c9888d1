package inspect

import (
	"reflect"
	"testing"

	"github.com/bulwark-waf/bulwark/waf"
)

func TestUnmodelled(t *testing.T) {
	t.Parallel()
	m := func(id int, tags ...string) waf.Match {
		return waf.Match{ID: id, Severity: "CRITICAL", Phase: 2, Logged: true, Tags: append(tags, "paranoia-level/1")}
	}
	tests := []struct {
		name  string
		match waf.Match
		out   bool
	}{
		{"sqli is the model's", m(942100, "attack-sqli"), false},
		{"generic injection is the model's", m(934100, "attack-injection-generic"), false},
		{"method enforcement is policy, though tagged attack-generic", m(911100, "attack-generic"), true},
		{"scanner", m(913100, "attack-reputation-scanner"), true},
		{"protocol enforcement", m(920420, "attack-protocol"), true},
		{"ssrf beside a modelled tag", m(934110, "attack-injection-generic", "attack-ssrf"), true},
		{"a rule of your own", m(100010), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := unmodelled(waf.Verdict{Matches: []waf.Match{tc.match}}, 1)
			want := []int(nil)
			if tc.out {
				want = []int{tc.match.ID}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("unmodelled = %v, want %v", got, want)
			}
		})
	}
}
