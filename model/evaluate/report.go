package evaluate

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/bulwark-waf/bulwark/model"
)

// Rate is a count of flagged rows out of n.
type Rate struct {
	N       int `json:"n"`
	Flagged int `json:"flagged"`
}

// Value is the flagged fraction, 0 when empty.
func (r Rate) Value() float64 {
	if r.N == 0 {
		return 0
	}
	return float64(r.Flagged) / float64(r.N)
}

// Group holds model and CRS rates for one slice of the data. For attack
// slices the rate is a TPR, for benign slices an FPR.
type Group struct {
	Name     string  `json:"name"`
	Attack   bool    `json:"attack"`
	Model    Rate    `json:"model"`
	CRS      Rate    `json:"crs"`
	ModelAUC float64 `json:"model_auc,omitempty"`
	CRSAUC   float64 `json:"crs_auc,omitempty"`
}

// rateName is what the group's rate is: TPR for attacks, FPR for benign.
func (g Group) rateName() string {
	if g.Attack {
		return "TPR"
	}
	return "FPR"
}

// SweepPoint is the model's TPR and FPR when flagging scores <= Threshold.
type SweepPoint struct {
	Threshold int     `json:"threshold"`
	TPR       float64 `json:"tpr"`
	FPR       float64 `json:"fpr"`
}

// Report is the summary `extproc eval` prints.
type Report struct {
	Threshold   int          `json:"threshold"`
	Rows        int          `json:"rows"`
	Attacks     int          `json:"attacks"`
	Benign      int          `json:"benign"`
	Unlabelled  int          `json:"unlabelled"`
	CRS         bool         `json:"crs"`
	CRSErrors   int          `json:"crs_errors"`
	Overall     Group        `json:"overall_attack"`
	BenignFPR   Group        `json:"overall_benign"`
	Obfuscated  *Group       `json:"obfuscated,omitempty"`
	Categories  []Group      `json:"categories"`
	Sources     []Group      `json:"sources,omitempty"`
	Families    []Group      `json:"families,omitempty"`
	Sweep       []SweepPoint `json:"sweep"`
	ModelAUC    float64      `json:"model_auc"`
	CRSAUC      float64      `json:"crs_auc"`
	ClassAUC    map[string]float64
	Unscored    []int `json:"unlabelled_histogram,omitempty"`
	ScoreBucket int   `json:"-"`
}

// SweepThresholds are the cut-offs reported besides the default.
var SweepThresholds = []int{1, 5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90, 98}

// Summarize computes the report; flagged means score <= threshold for the
// model and an interrupted transaction for CRS.
func Summarize(rows []Row, threshold int) Report {
	rep := Report{Threshold: threshold, Rows: len(rows), ClassAUC: map[string]float64{}}
	cats := map[string]*Group{}
	fams := map[string]*Group{}
	srcs := map[string]*Group{}
	var atkScores, benScores, atkCRS, benCRS []float64
	catScores := map[string][]float64{}
	catCRS := map[string][]float64{}
	classScores := map[string][2][]float64{}
	rep.Overall = Group{Name: "attacks", Attack: true}
	rep.BenignFPR = Group{Name: "benign"}
	obf := Group{Name: "obfuscated attacks", Attack: true}
	for i := range rows {
		r := &rows[i]
		if r.CRSRan {
			rep.CRS = true
		}
		if r.CRSErr != "" {
			rep.CRSErrors++
		}
		if !r.Labelled() {
			rep.Unlabelled++
			continue
		}
		attack := r.Label == "attack"
		mFlag := r.Scores.Overall <= threshold
		susp := float64(100 - r.Scores.Overall)
		add := func(g *Group) {
			g.Model.N++
			if mFlag {
				g.Model.Flagged++
			}
			if r.CRSRan {
				g.CRS.N++
				if r.CRSBlocked {
					g.CRS.Flagged++
				}
			}
		}
		cat := r.Category
		if cat == "" {
			cat = r.Label
		}
		g := cats[cat]
		if g == nil {
			g = &Group{Name: cat, Attack: attack}
			cats[cat] = g
		}
		add(g)
		if r.Source != "" {
			key := r.Label + "\x00" + r.Source
			g := srcs[key]
			if g == nil {
				g = &Group{Name: r.Source, Attack: attack}
				srcs[key] = g
			}
			add(g)
		}
		if r.Family != "" {
			f := fams[r.Family]
			if f == nil {
				f = &Group{Name: r.Family, Attack: attack}
				fams[r.Family] = f
			}
			add(f)
		}
		if attack {
			rep.Attacks++
			add(&rep.Overall)
			if r.Obfuscation != "" && r.Obfuscation != "none" {
				add(&obf)
			}
			atkScores = append(atkScores, susp)
			atkCRS = append(atkCRS, float64(r.CRSScore))
			catScores[cat] = append(catScores[cat], susp)
			catCRS[cat] = append(catCRS[cat], float64(r.CRSScore))
			if _, ok := r.Scores.Class[cat]; ok {
				cs := classScores[cat]
				cs[0] = append(cs[0], float64(100-r.Scores.Class[cat]))
				classScores[cat] = cs
			}
		} else {
			rep.Benign++
			add(&rep.BenignFPR)
			benScores = append(benScores, susp)
			benCRS = append(benCRS, float64(r.CRSScore))
			for _, c := range model.Classes {
				cs := classScores[c]
				cs[1] = append(cs[1], float64(100-r.Scores.Class[c]))
				classScores[c] = cs
			}
		}
	}
	if obf.Model.N > 0 {
		rep.Obfuscated = &obf
	}
	rep.ModelAUC = AUC(atkScores, benScores)
	if rep.CRS {
		rep.CRSAUC = AUC(atkCRS, benCRS)
	}
	for c, cs := range classScores {
		if len(cs[0]) > 0 && len(cs[1]) > 0 {
			rep.ClassAUC[c] = AUC(cs[0], cs[1])
		}
	}
	for name, g := range cats {
		if g.Attack {
			g.ModelAUC = AUC(catScores[name], benScores)
			if rep.CRS {
				g.CRSAUC = AUC(catCRS[name], benCRS)
			}
		}
		rep.Categories = append(rep.Categories, *g)
	}
	rep.Families = sortedGroups(fams)
	rep.Sources = sortedGroups(srcs)
	sortGroups(rep.Categories)
	if len(rep.Families) <= 1 {
		rep.Families = nil
	}
	ts := append([]int(nil), SweepThresholds...)
	if !slices.Contains(ts, threshold) {
		// The default must appear in the sweep whatever the model chose.
		ts = append(ts, threshold)
		slices.Sort(ts)
	}
	for _, t := range ts {
		rep.Sweep = append(rep.Sweep, sweepAt(atkScores, benScores, t))
	}
	return rep
}

func sweepAt(atk, ben []float64, t int) SweepPoint {
	cut := float64(100 - t)
	count := func(v []float64) float64 {
		if len(v) == 0 {
			return 0
		}
		n := 0
		for _, x := range v {
			if x >= cut {
				n++
			}
		}
		return float64(n) / float64(len(v))
	}
	return SweepPoint{Threshold: t, TPR: count(atk), FPR: count(ben)}
}

// sortedGroups is the groups of m in report order; nil when m is empty.
func sortedGroups(m map[string]*Group) []Group {
	var out []Group
	for _, g := range m {
		out = append(out, *g)
	}
	sortGroups(out)
	return out
}

func sortGroups(g []Group) {
	sort.Slice(g, func(i, j int) bool {
		if g[i].Attack != g[j].Attack {
			return g[i].Attack
		}
		return g[i].Name < g[j].Name
	})
}

func pct(r Rate) string {
	if r.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*r.Value())
}

// WriteText prints the report for people.
func (rep *Report) WriteText(w io.Writer, crsName string) {
	fmt.Fprintf(w, "rows: %d (attack %d, benign %d, unlabelled %d)\n", rep.Rows, rep.Attacks, rep.Benign, rep.Unlabelled)
	if rep.Attacks+rep.Benign == 0 {
		fmt.Fprintln(w, "no labelled rows: scores only (see the histogram and --predictions)")
		return
	}
	if !rep.CRS {
		crsName = "CRS (not run)"
	}
	if rep.CRSErrors > 0 {
		fmt.Fprintf(w, "CRS errors: %d rows\n", rep.CRSErrors)
	}
	fmt.Fprintf(w, "model flags score <= %d; %s flags a blocked request\n\n", rep.Threshold, crsName)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "slice\tn\tmodel\t%s\tmodel AUC\tCRS AUC\t\n", crsName)
	line := func(g Group, kind string) {
		auc := func(v float64) string {
			if v == 0 {
				return "-"
			}
			return fmt.Sprintf("%.4f", v)
		}
		fmt.Fprintf(tw, "%s %s\t%d\t%s\t%s\t%s\t%s\t\n", g.Name, kind, g.Model.N, pct(g.Model), pct(g.CRS), auc(g.ModelAUC), auc(g.CRSAUC))
	}
	ov := rep.Overall
	ov.ModelAUC, ov.CRSAUC = rep.ModelAUC, rep.CRSAUC
	line(ov, "TPR")
	line(rep.BenignFPR, "FPR")
	if rep.Obfuscated != nil {
		line(*rep.Obfuscated, "TPR")
	}
	fmt.Fprintf(tw, "\t\t\t\t\t\t\n")
	for _, g := range rep.Categories {
		line(g, g.rateName())
	}
	for _, section := range [][]Group{rep.Sources, rep.Families} {
		if len(section) == 0 {
			continue
		}
		fmt.Fprintf(tw, "\t\t\t\t\t\t\n")
		for _, g := range section {
			line(g, g.rateName())
		}
	}
	tw.Flush()
	if len(rep.ClassAUC) > 0 {
		var parts []string
		for _, c := range model.Classes {
			if v, ok := rep.ClassAUC[c]; ok {
				parts = append(parts, fmt.Sprintf("%s %.4f", c, v))
			}
		}
		fmt.Fprintf(w, "\nper-class ROC AUC (class score, class attacks vs benign): %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "\nthreshold sweep (model flags score <= t):\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "t\tTPR\tFPR\t\n")
	for _, p := range rep.Sweep {
		mark := ""
		if p.Threshold == rep.Threshold {
			mark = " (default)"
		}
		fmt.Fprintf(tw, "%d\t%.2f%%\t%.3f%%\t%s\n", p.Threshold, 100*p.TPR, 100*p.FPR, mark)
	}
	tw.Flush()
}
