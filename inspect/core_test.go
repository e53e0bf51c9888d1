package inspect_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/waf"
)

func crsCore(t *testing.T) *inspect.Core {
	t.Helper()
	e, err := waf.New(waf.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := inspect.New(inspect.Options{Engine: e})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A payload behind a repeated cookie name must be seen on every run, not on
// whichever run Coraza's map order happens to favour.
func TestDuplicateCookieNamesAreInspectedDeterministically(t *testing.T) {
	t.Parallel()
	c := crsCore(t)
	r := &model.Request{Method: "GET", URI: "/", Headers: [][2]string{{"host", "a.example"}, {"user-agent", "Mozilla/5.0"}, {"accept", "*/*"},
		{"cookie", "a=1; last_search=%3Cimg%20src%3D%22https%3A//cdn.example.com/p/12.png%22%20alt%3D%22photo%22%3E; b=2; last_search=Per%20mention"}}}
	for i := range 30 {
		rep, err := c.Inspect(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Request.Anomaly != 5 {
			t.Fatalf("run %d: anomaly score %d, want 5 every time (rules %v)", i, rep.Request.Anomaly, rep.RequestCRS.LoggedIDs(0))
		}
	}
}

// The core's in-process path decides like CRS: attacks are refused by
// CRS's threshold rule or a custom rule, clean requests pass.
func TestInspect(t *testing.T) {
	t.Parallel()
	c := waf.DefaultConfig()
	c.RulesFiles = []string{"../waf/testdata/good.conf"}
	e, err := waf.New(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	core, err := inspect.New(inspect.Options{Engine: e})
	if err != nil {
		t.Fatal(err)
	}
	form := [][2]string{{"host", "shop.example:8443"}, {"content-type", "application/x-www-form-urlencoded"}, {"user-agent", "Mozilla/5.0"}, {"accept", "*/*"}}
	tests := []struct {
		name     string
		req      model.Request
		blocked  bool
		wantRule int
		minScore int
	}{
		{"clean get", model.Request{Method: "GET", URI: "/search?q=red+shoes", Headers: form}, false, 0, 0},
		{"sqli query", model.Request{Method: "GET", URI: "/search?q=1'+OR+'1'='1", Headers: form}, true, 949110, 5},
		{"xss form", model.Request{Method: "POST", URI: "/comment", Headers: form, Body: []byte("text=<script>alert(1)</script>")}, true, 949110, 5},
		{"custom rule", model.Request{Method: "GET", URI: "/forbidden/x", Headers: form}, true, 100010, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep, err := core.Inspect(context.Background(), &tt.req)
			if err != nil {
				t.Fatal(err)
			}
			it := rep.Request.Interruption
			if (it != nil) != tt.blocked || (tt.blocked && it.RuleID != tt.wantRule) || rep.Request.Anomaly < tt.minScore {
				t.Fatalf("report = %+v, want blocked=%v by %d with score >= %d", rep.Request, tt.blocked, tt.wantRule, tt.minScore)
			}
			if want := map[bool]inspect.Action{true: inspect.ActionBlock, false: inspect.ActionAllow}[tt.blocked]; rep.Request.Action != want {
				t.Fatalf("action %q, want %q", rep.Request.Action, want)
			}
			if len(rep.Final.Matches) < len(rep.RequestCRS.Matches) {
				t.Fatal("the final verdict lost matches")
			}
		})
	}
}

func TestStripPort(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"a.example:8443": "a.example", "a.example": "a.example", "[::1]:80": "::1", "::1": "::1", "10.0.0.1:80": "10.0.0.1", "2001:db8::1": "2001:db8::1"} {
		if got := inspect.StripPort(in); got != want {
			t.Errorf("StripPort(%q) = %q, want %q", in, got, want)
		}
	}
}

// A request that spends its @rx work budget was not fully inspected: it is
// refused under the reject body-limit action, and the default budget leaves
// ordinary large bodies alone.
func TestRxWorkBudget(t *testing.T) {
	t.Parallel()
	var attack, ordinary strings.Builder
	for i := 0; attack.Len() < 100<<10; i++ {
		fmt.Fprintf(&attack, "f%d=%s&", i, strings.Repeat("%3Csvg%20onload%3Dalert(1)%3E", 20))
	}
	for i := 0; ordinary.Len() < 100<<10; i++ {
		fmt.Fprintf(&ordinary, "comment%d=%s&", i, strings.Repeat("This+is+a+perfectly+ordinary+comment+about+shoes+", 10))
	}
	req := func(body string) *model.Request {
		return &model.Request{Method: "POST", URI: "/comment", Body: []byte(body), Headers: [][2]string{{"host", "a.example"},
			{"content-type", "application/x-www-form-urlencoded"}, {"user-agent", "Mozilla/5.0"}, {"accept", "*/*"}}}
	}
	core := func(budget int64) *inspect.Core {
		c := waf.DefaultConfig()
		c.RxBudgetBytes = budget
		e, err := waf.New(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		co, err := inspect.New(inspect.Options{Engine: e})
		if err != nil {
			t.Fatal(err)
		}
		return co
	}
	small, def := core(64<<10), core(waf.DefaultConfig().RxBudgetBytes)
	// An attack is refused either way: by CRS when its rules ran before the
	// budget was spent, by the budget otherwise.
	rep, err := small.Inspect(context.Background(), req(attack.String()))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Request.Action != inspect.ActionBlock {
		t.Fatalf("attack under a 64 KiB budget: %+v", rep.Request)
	}
	rep, err = small.Inspect(context.Background(), req(ordinary.String()))
	if err != nil {
		t.Fatal(err)
	}
	if it := rep.Request.Interruption; it == nil || it.Reason != inspect.ReasonBudget || it.Status != 413 {
		t.Fatalf("100 KB under a 64 KiB budget: interruption %+v, want 413 %s", it, inspect.ReasonBudget)
	}
	rep, err = def.Inspect(context.Background(), req(ordinary.String()))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Request.Action == inspect.ActionBlock {
		t.Fatalf("100 KB of ordinary form fields under the default budget: %+v (%s)", rep.Request, rep.Explanation())
	}
}

// A 130 KB body {"<64 KB key>":[0,0,…]} once allocated gigabytes: every
// leaf built its full path. Through the whole core (model included) it now
// costs at most ten times its size, and it is refused (past the argument
// limit, Coraza's values would not be inspected).
func TestLongJSONKeyIsCheap(t *testing.T) {
	e, err := waf.New(waf.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Default()
	if err != nil {
		t.Fatal(err)
	}
	c, err := inspect.New(inspect.Options{Engine: e, Model: m, Policies: &inspect.Set{Default: inspect.Policy{Mode: inspect.ModeOr, MLThreshold: 20, ORPoints: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	// The body (32K leaves) is refused at the argument limit before
	// any leaf costs anything. Under the limit (900 leaves) Coraza's own
	// JSON body processor allocates about ten times the body by itself, so
	// the bound there is 25×.
	for _, tt := range []struct{ leaves, factor int }{{32 << 10, 10}, {900, 25}} {
		leaves := tt.leaves
		body := `{"` + strings.Repeat("k", 64<<10) + `":[` + strings.Repeat("0,", leaves) + `0]}`
		r := &model.Request{Method: "POST", URI: "/api", Body: []byte(body), Headers: [][2]string{{"host", "a.example"},
			{"content-type", "application/json"}, {"user-agent", "Mozilla/5.0"}, {"accept", "*/*"}}}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		rep, err := c.Inspect(context.Background(), r)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if got := after.TotalAlloc - before.TotalAlloc; !raceEnabled && got > uint64(tt.factor*len(body)) {
			t.Errorf("%d leaves: a %d-byte body allocated %d bytes", leaves, len(body), got)
		}
		if rep.Request.Action != inspect.ActionBlock {
			t.Errorf("%d leaves: %s (%s)", leaves, rep.Request.Action, rep.Explanation())
		}
	}
}
