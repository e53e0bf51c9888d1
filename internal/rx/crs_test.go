package rx

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// crsPattern is one distinct @rx argument of CRS, with the rule files
// (groups) that use it.
type crsPattern struct {
	group string
	args  string
}

// crsPatterns holds every @rx argument of the embedded CRS, collected once by
// TestMain.
var crsPatterns []crsPattern

// TestMain collects the CRS @rx patterns as Coraza's parser hands them to
// the operator factory: for each CRS rule file, it compiles that file with
// a recording factory in the registry, then puts Bulwark's factory back.
// Swapping the global registry is safe only here, before any test runs.
func TestMain(m *testing.M) {
	var err error
	crsPatterns, err = collectCRSPatterns()
	if err != nil {
		fmt.Fprintln(os.Stderr, "collecting CRS @rx patterns:", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

func collectCRSPatterns() ([]crsPattern, error) {
	files, err := fs.Glob(coreruleset.FS, "@owasp_crs/*.conf")
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var group string
	seen := map[crsPattern]bool{}
	var out []crsPattern
	plugins.RegisterOperator("rx", func(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
		mu.Lock()
		p := crsPattern{group: group, args: o.Arguments}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
		mu.Unlock()
		return corazaNewRX(o)
	})
	defer plugins.RegisterOperator("rx", newOperator)
	for _, f := range files {
		group = strings.TrimSuffix(path.Base(f), ".conf")
		if i := strings.Index(group, "-"); i >= 0 {
			// REQUEST-942-APPLICATION-ATTACK-SQLI -> REQUEST-942
			if j := strings.Index(group[i+1:], "-"); j >= 0 {
				group = group[:i+1+j]
			}
		}
		cfg := coraza.NewWAFConfig().WithRootFS(coreruleset.FS).WithDirectives(
			"Include @coraza.conf-recommended\nInclude @crs-setup.conf.example\nInclude " + f + "\n")
		if _, err := coraza.NewWAF(cfg); err != nil {
			// Exclusion files refer to rules of other files and cannot
			// compile alone; they must then hold no @rx of their own.
			b, rerr := fs.ReadFile(coreruleset.FS, f)
			if rerr != nil || strings.Contains(string(b), "@rx") {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].group < out[j].group })
	if len(out) < 100 {
		return nil, fmt.Errorf("only %d @rx patterns found in CRS", len(out))
	}
	return out, nil
}

// recTx is a TransactionState that records captures.
type recTx struct {
	plugintypes.TransactionState
	capturing bool
	caps      map[int]string
}

func newRecTx(capturing bool) *recTx { return &recTx{capturing: capturing, caps: map[int]string{}} }

func (r *recTx) Capturing() bool { return r.capturing }

func (r *recTx) CaptureField(i int, v string) { r.caps[i] = v }

// pair is one pattern under both engines.
type pair struct {
	crsPattern
	ours, upstream plugintypes.Operator
}

func newPair(p crsPattern) (pair, error) {
	up, err := corazaNewRX(plugintypes.OperatorOptions{Arguments: p.args})
	if err != nil {
		return pair{}, err
	}
	ours, err := newRE2Operator(plugintypes.OperatorOptions{Arguments: p.args})
	if err != nil {
		return pair{}, err
	}
	return pair{crsPattern: p, ours: ours, upstream: up}, nil
}

// differ evaluates value through both operators, capturing and not, and
// describes the first difference ("" if none).
func (p pair) differ(value string) string {
	for _, capturing := range []bool{false, true} {
		a, b := newRecTx(capturing), newRecTx(capturing)
		ma, mb := p.ours.Evaluate(a, value), p.upstream.Evaluate(b, value)
		if ma != mb {
			return fmt.Sprintf("capturing=%v: re2 matched=%v, coraza matched=%v", capturing, ma, mb)
		}
		if fmt.Sprint(a.caps) != fmt.Sprint(b.caps) {
			return fmt.Sprintf("capturing=%v: re2 captures %v, coraza captures %v", capturing, a.caps, b.caps)
		}
	}
	return ""
}

var pairsOnce = sync.OnceValues(func() ([]pair, error) {
	var out []pair
	for _, p := range crsPatterns {
		pr, err := newPair(p)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", p.group, p.args, err)
		}
		out = append(out, pr)
	}
	return out, nil
})

func crsPairs(t testing.TB) []pair {
	t.Helper()
	ps, err := pairsOnce()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}
