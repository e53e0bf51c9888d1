package evaluate

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/model/leak"
)

// ResponseReport is the summary of a response eval. For leaky slices a
// rate is a TPR, for benign slices an FPR. The model flags a class when
// its class score is at or below Threshold (overall: any class); CRS
// flags a response whose outbound anomaly score reaches the outbound
// threshold, and has no classes, so its number on a class row is the
// share of that class's responses it flagged at all.
type ResponseReport struct {
	Threshold  int  `json:"threshold"`
	Rows       int  `json:"rows"`
	Leaky      int  `json:"leaky"`
	Benign     int  `json:"benign"`
	Unlabelled int  `json:"unlabelled"`
	Errors     int  `json:"errors"`
	CRS        bool `json:"crs"`
	// Classes has one row per leak class (TPR on the responses labelled
	// with it), AllLeaky the overall TPR.
	Classes  []Group `json:"classes"`
	AllLeaky Group   `json:"all_leaky"`
	// BenignAll, BenignReal and BenignGenerated are FPRs; Sources and
	// Families break both sides down.
	BenignAll       Group   `json:"benign_all"`
	BenignReal      Group   `json:"benign_real"`
	BenignGenerated Group   `json:"benign_generated"`
	Sources         []Group `json:"sources,omitempty"`
	Families        []Group `json:"families,omitempty"`
	ModelAUC        float64 `json:"model_auc"`
	CRSAUC          float64 `json:"crs_auc"`
	// CRSRules counts the CRS rules behind its benign false positives.
	CRSRules map[int]int `json:"crs_false_positive_rules,omitempty"`
}

// SummarizeResponses computes the report at the given model threshold.
func SummarizeResponses(rows []ResponseRow, threshold int) ResponseReport {
	rep := ResponseReport{Threshold: threshold, Rows: len(rows), CRSRules: map[int]int{}}
	classes := map[string]*Group{}
	for _, c := range leak.Classes {
		classes[c] = &Group{Name: c, Attack: true}
	}
	rep.AllLeaky = Group{Name: "all leaky", Attack: true}
	rep.BenignAll = Group{Name: "all benign"}
	rep.BenignReal = Group{Name: "real"}
	rep.BenignGenerated = Group{Name: "generated"}
	srcs := map[string]*Group{}
	fams := map[string]*Group{}
	add := func(g *Group, model bool, r *ResponseRow) {
		g.Model.N++
		if model {
			g.Model.Flagged++
		}
		if r.CRSRan {
			g.CRS.N++
			if r.CRSFlagged {
				g.CRS.Flagged++
			}
		}
	}
	slice := func(m map[string]*Group, name string, r *ResponseRow, flagged bool) {
		if name == "" {
			return
		}
		key := r.Label + "\x00" + name
		g := m[key]
		if g == nil {
			g = &Group{Name: name, Attack: r.Label == "leak"}
			m[key] = g
		}
		add(g, flagged, r)
	}
	var leakyScores, benignScores, leakyCRS, benignCRS []float64
	for i := range rows {
		r := &rows[i]
		if r.CRSRan {
			rep.CRS = true
		}
		if r.Err != "" {
			rep.Errors++
			continue
		}
		flagged := r.Leak.Overall <= threshold
		switch r.Label {
		case "leak":
			rep.Leaky++
			add(&rep.AllLeaky, flagged, r)
			for _, c := range r.Leaks {
				if g := classes[c]; g != nil {
					add(g, classScore(r, c) <= threshold, r)
				}
			}
			leakyScores = append(leakyScores, float64(100-r.Leak.Overall))
			leakyCRS = append(leakyCRS, float64(r.CRSScore))
		case "benign":
			rep.Benign++
			add(&rep.BenignAll, flagged, r)
			if r.Real {
				add(&rep.BenignReal, flagged, r)
			} else {
				add(&rep.BenignGenerated, flagged, r)
			}
			if r.CRSFlagged {
				for _, id := range r.CRSRules {
					rep.CRSRules[id]++
				}
			}
			benignScores = append(benignScores, float64(100-r.Leak.Overall))
			benignCRS = append(benignCRS, float64(r.CRSScore))
		default:
			rep.Unlabelled++
			continue
		}
		slice(srcs, r.Source, r, flagged)
		slice(fams, r.Family, r, flagged)
	}
	for _, c := range leak.Classes {
		if g := classes[c]; g.Model.N > 0 {
			rep.Classes = append(rep.Classes, *g)
		}
	}
	rep.Sources = sortedGroups(srcs)
	rep.Families = sortedGroups(fams)
	rep.ModelAUC = AUC(leakyScores, benignScores)
	if rep.CRS {
		rep.CRSAUC = AUC(leakyCRS, benignCRS)
	}
	if len(rep.CRSRules) == 0 {
		rep.CRSRules = nil
	}
	return rep
}

// classScore is the row's score for class c; a class the model did not
// report (the body was skipped or not inspected) is clean.
func classScore(r *ResponseRow, c string) int {
	if v, ok := r.Leak.Class[c]; ok {
		return v
	}
	return 99
}

func rate(r Rate) string {
	if r.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f%% (%d/%d)", 100*r.Value(), r.Flagged, r.N)
}

// WriteText prints the report for people: per leak class, the model and
// CRS outbound side by side on the same rows.
func (rep *ResponseReport) WriteText(w io.Writer, crsName string) {
	fmt.Fprintf(w, "responses: %d (leaky %d, benign %d, unlabelled %d)\n", rep.Rows, rep.Leaky, rep.Benign, rep.Unlabelled)
	if rep.Errors > 0 {
		fmt.Fprintf(w, "errors: %d responses could not be inspected (see --predictions)\n", rep.Errors)
	}
	if rep.Leaky+rep.Benign == 0 {
		fmt.Fprintln(w, "no labelled responses: scores only (see the histogram and --predictions)")
		return
	}
	if !rep.CRS {
		crsName = "CRS outbound (not run)"
	}
	fmt.Fprintf(w, "leakage model flags a class at score <= %d; %s flags an outbound anomaly score at its threshold\n\n", rep.Threshold, crsName)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "slice\tn\tleakage model\t%s\t\n", crsName)
	line := func(g Group, kind string) {
		if g.Model.N == 0 {
			return
		}
		fmt.Fprintf(tw, "%s %s\t%d\t%s\t%s\t\n", g.Name, kind, g.Model.N, rate(g.Model), rate(g.CRS))
	}
	for _, g := range rep.Classes {
		line(g, "TPR")
	}
	line(rep.AllLeaky, "TPR")
	fmt.Fprintf(tw, "\t\t\t\t\n")
	line(rep.BenignAll, "FPR")
	line(rep.BenignReal, "FPR")
	line(rep.BenignGenerated, "FPR")
	for _, section := range [][]Group{rep.Sources, rep.Families} {
		if len(section) <= 1 {
			continue
		}
		fmt.Fprintf(tw, "\t\t\t\t\n")
		for _, g := range section {
			line(g, g.rateName())
		}
	}
	tw.Flush()
	auc := func(v float64) string {
		if v == 0 {
			return "-"
		}
		return fmt.Sprintf("%.4f", v)
	}
	fmt.Fprintf(w, "\nROC AUC (overall score): leakage model %s, CRS outbound anomaly score %s\n", auc(rep.ModelAUC), auc(rep.CRSAUC))
	if len(rep.CRSRules) > 0 {
		ids := make([]int, 0, len(rep.CRSRules))
		for id := range rep.CRSRules {
			ids = append(ids, id)
		}
		sort.Ints(ids)
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = fmt.Sprintf("%d (%d)", id, rep.CRSRules[id])
		}
		fmt.Fprintf(w, "CRS rules behind its benign false positives: %s\n", strings.Join(parts, " "))
	}
}

// responseTerms are the plots' words for responses.
var responseTerms = plotTerms{items: "responses", positive: "leak", crs: "CRS outbound anomaly score"}

// plotRows maps response rows onto the request eval's rows, so the same
// histogram and ROC code draws both: a leak is the positive label, the
// overall leakage score the model score, the outbound anomaly score CRS's.
func plotRows(rows []ResponseRow) []Row {
	out := make([]Row, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		if r.Err != "" {
			continue
		}
		pr := Row{ID: r.ID, Source: r.Source, Family: r.Family, CRSRan: r.CRSRan, CRSScore: r.CRSScore, CRSBlocked: r.CRSFlagged}
		switch r.Label {
		case "leak":
			pr.Label = "attack"
			if len(r.Leaks) > 0 {
				pr.Category = r.Leaks[0]
			}
		case "benign":
			pr.Label = "benign"
		}
		pr.Scores = model.Scores{Overall: r.Leak.Overall, Class: r.Leak.Class}
		out = append(out, pr)
	}
	return out
}

// WriteResponseHistogram draws the overall leakage score by label, as
// WriteHistogram does for requests.
func WriteResponseHistogram(w io.Writer, rows []ResponseRow, threshold int) error {
	return writeHistogram(w, plotRows(rows), threshold, responseTerms)
}

// WriteResponseROC draws the leakage model's ROC curve beside CRS
// outbound's (over its anomaly score), as WriteROC does for requests.
func WriteResponseROC(w io.Writer, rows []ResponseRow, rep *ResponseReport) error {
	pr := plotRows(rows)
	r := Report{Threshold: rep.Threshold, CRS: rep.CRS, ModelAUC: rep.ModelAUC, CRSAUC: rep.CRSAUC}
	return writeROC(w, pr, &r, responseTerms)
}

// WriteResponsePredictions writes one CSV row per response: every class
// score, the action, the first location, CRS's outbound score and verdict.
func WriteResponsePredictions(w io.Writer, rows []ResponseRow) error {
	cw := csv.NewWriter(w)
	head := []string{"id", "label", "category", "source", "family", "real", "overall"}
	head = append(head, leak.Classes...)
	head = append(head, "action", "first_location", "crs_outbound_score", "crs_flagged", "note", "inspect_error")
	if err := cw.Write(head); err != nil {
		return err
	}
	for i := range rows {
		r := &rows[i]
		rec := []string{r.ID, r.Label, strings.Join(r.Leaks, "+"), r.Source, r.Family, strconv.FormatBool(r.Real), strconv.Itoa(r.Leak.Overall)}
		for _, c := range leak.Classes {
			rec = append(rec, strconv.Itoa(classScore(r, c)))
		}
		loc := ""
		if len(r.Leak.Locations) > 0 {
			l := r.Leak.Locations[0]
			loc = l.Class + " " + l.Where + " " + l.Feature
		}
		crsScore, crsFlag := "", ""
		if r.CRSRan {
			crsScore, crsFlag = strconv.Itoa(r.CRSScore), strconv.FormatBool(r.CRSFlagged)
		}
		rec = append(rec, r.Action, loc, crsScore, crsFlag, r.Note, r.Err)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
