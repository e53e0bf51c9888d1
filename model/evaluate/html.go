package evaluate

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"time"
)

//go:embed report.html.tmpl
var reportTemplate string

var reportHTML = template.Must(template.New("report").Parse(reportTemplate))

// HTMLOptions describe the run for the report's header.
type HTMLOptions struct {
	// Title names the data set (the --data file).
	Title string
	// ModelDesc describes the model (schema, trainer, training date).
	ModelDesc string
	// ThresholdSource says where the model threshold came from.
	ThresholdSource string
	// CRSName is the CRS configuration compared with, e.g. "CRS PL1".
	CRSName string
	// CRSThreshold is the inbound anomaly threshold the engine blocks at.
	CRSThreshold int
	// Now stamps the report; zero means time.Now.
	Now time.Time
}

// reportData is what the page's script reads. Counts per score are enough
// to recompute every rate at every threshold in the browser.
type reportData struct {
	Threshold       int           `json:"threshold"`
	ThresholdSource string        `json:"threshold_source"`
	CRS             bool          `json:"crs"`
	CRSName         string        `json:"crs_name"`
	CRSThreshold    int           `json:"crs_threshold"`
	CRSCap          int           `json:"crs_cap"`
	ModelAUC        float64       `json:"model_auc"`
	CRSAUC          float64       `json:"crs_auc"`
	Dist            Distributions `json:"dist"`
}

// WriteHTML writes report.html: one self-contained page (inline CSS and
// script, no network) with the model and CRS score histograms, both ROC
// curves, per-category and per-source tables, and a threshold slider for
// each that recomputes TPR and FPR everywhere.
func WriteHTML(w io.Writer, rows []Row, rep *Report, opt HTMLOptions) error {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.CRSThreshold <= 0 {
		opt.CRSThreshold = 5
	}
	if opt.ThresholdSource == "" {
		opt.ThresholdSource = "given"
	}
	data := reportData{
		Threshold: rep.Threshold, ThresholdSource: opt.ThresholdSource,
		CRS: rep.CRS, CRSName: opt.CRSName, CRSThreshold: min(opt.CRSThreshold, CRSScoreCap), CRSCap: CRSScoreCap,
		ModelAUC: rep.ModelAUC, CRSAUC: rep.CRSAUC,
		Dist: Distribute(rows),
	}
	// encoding/json escapes <, > and &, so the JSON cannot close the script
	// element it sits in.
	js, err := json.Marshal(data)
	if err != nil {
		return err
	}
	crsName := opt.CRSName
	if !rep.CRS {
		crsName = "CRS not run"
	}
	return reportHTML.Execute(w, struct {
		Title, ModelDesc, CRSName, Generated string
		Rows, Attacks, Benign, Unlabelled    int
		Data                                 template.JS
	}{
		Title: opt.Title, ModelDesc: opt.ModelDesc, CRSName: crsName,
		Generated: opt.Now.UTC().Format(time.RFC3339),
		Rows:      rep.Rows, Attacks: rep.Attacks, Benign: rep.Benign, Unlabelled: rep.Unlabelled,
		Data: template.JS(js),
	})
}

// Describe is the one-line model description the report header shows.
func Describe(schema, trainer, created string) string {
	return fmt.Sprintf("model %s (%s, trained %s)", schema, trainer, created)
}
