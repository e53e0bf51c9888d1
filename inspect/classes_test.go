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
		{"remote file inclusion", m(931100, "attack-rfi"), true},
		{"prototype pollution, though tagged injection", m(934130, "attack-rce", "attack-injection-generic"), true},
		{"PHP object injection, though tagged PHP injection", m(933170, "attack-injection-php"), true},
		{"a PHP script upload, though tagged PHP injection", m(933110, "attack-injection-php"), true},
		{"node.js injection is the model's", m(934100, "attack-rce", "attack-injection-generic"), false},
		{"local file inclusion is the model's", m(930120, "attack-lfi"), false},
		{"942290 without a record of what it matched stays the model's", m(942290, "attack-sqli"), false},
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

func TestNoSQLOperatorNames(t *testing.T) {
	t.Parallel()
	names := func(n ...string) []waf.MatchedVar {
		var out []waf.MatchedVar
		for _, v := range n {
			out = append(out, waf.MatchedVar{Collection: "ARGS_NAMES", Key: v, Value: v})
		}
		return out
	}
	tests := []struct {
		name string
		vars []waf.MatchedVar
		want bool
	}{
		{"form operator", names("username[$gt]", "password[$gt]"), true},
		{"JSON operator", names("json.username.$ne"), true},
		{"nested JSON operator", names("json.user.$elemMatch.role"), true},
		{"query regex", names("token[$regex]"), true},
		{"ASP.NET WebForms names", names("ctl00$MainContent$Login1$RememberMe"), false},
		{"an operator-looking word that is not one", names("price[$initial]"), false},
		{"one name of two is not an operator", names("user[$ne]", "ctl00$TextBox1"), false},
		{"a cookie value (Mixpanel)", []waf.MatchedVar{{Collection: "REQUEST_COOKIES", Key: "mp_x_mixpanel", Value: `{"$initial_referrer":"$direct"}`}}, false},
		{"nothing matched", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := nosqlOperatorNames(tc.vars); got != tc.want {
				t.Errorf("nosqlOperatorNames = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestClassLoaderName(t *testing.T) {
	t.Parallel()
	spring := "class.module.classLoader.resources.context.parent.pipeline.first.pattern"
	tests := []struct {
		name string
		vars []waf.MatchedVar
		want bool
	}{
		{"a name and the raw body holding it (Spring4Shell)", []waf.MatchedVar{
			{Collection: "ARGS_NAMES", Key: spring, Value: spring},
			{Collection: "REQUEST_BODY", Value: "a=1&" + spring + "=%25%7Bc2%7Di"}}, true},
		{"a name alone", []waf.MatchedVar{{Collection: "ARGS_NAMES", Key: spring, Value: spring}}, true},
		{"Struts' older class.classLoader", []waf.MatchedVar{{Collection: "ARGS_NAMES", Key: "class.classLoader.jarPath", Value: "class.classLoader.jarPath"}}, true},
		{"a Struts 1 form token name", []waf.MatchedVar{
			{Collection: "ARGS_NAMES", Key: "org.apache.struts.taglib.html.TOKEN", Value: "org.apache.struts.taglib.html.TOKEN"},
			{Collection: "REQUEST_BODY", Value: "org.apache.struts.taglib.html.TOKEN=5b1f"}}, false},
		{"a value too", []waf.MatchedVar{
			{Collection: "ARGS_NAMES", Key: spring, Value: spring},
			{Collection: "ARGS", Key: "x", Value: "java.lang.Runtime"}}, false},
		{"the raw body alone", []waf.MatchedVar{{Collection: "REQUEST_BODY", Value: "x=java.lang.Runtime"}}, false},
		{"a cookie value", []waf.MatchedVar{{Collection: "REQUEST_COOKIES", Key: "c", Value: "java.lang.Runtime"}}, false},
		{"nothing matched", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := classLoaderName(tc.vars); got != tc.want {
				t.Errorf("classLoaderName = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHiddenSegment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		want bool
	}{
		{"/.aws/credentials", true},
		{"/.git/config", true},
		{"/app/.env.production", true},
		{"/home/deploy/.ssh/id_rsa", true},
		{"/example-org/webapp.git/info/refs", false},
		{"/backups/db/pg_dump_billing.sql.gz", false},
		{"/api/users.profile.set", false},
		{"/content/ryanair.chat-config.json", false},
		{"/.well-known/config.json", false},
		{"/static/../config.php", false},
		{"/", false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			if got := hiddenSegment([]waf.MatchedVar{{Collection: "REQUEST_FILENAME", Value: tc.path}}); got != tc.want {
				t.Errorf("hiddenSegment(%q) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}
