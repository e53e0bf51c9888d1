package evaluate

import "slices"

// CRSScoreCap is the highest CRS inbound anomaly score tracked one by one;
// higher scores are counted at the cap. Critical rules add 5 points each,
// so 50 is ten critical matches, far past any blocking threshold.
const CRSScoreCap = 50

// Distribution counts one slice's rows by score, which is all any threshold
// question needs: TPR or FPR at every model threshold and every CRS anomaly
// threshold, the histogram, and the ROC curve.
type Distribution struct {
	Name   string `json:"name"`
	Attack bool   `json:"attack"`
	// Model[s] counts rows with overall score s (1..99; index 0 unused).
	Model []int `json:"model"`
	// CRS[k] counts rows whose CRS inbound anomaly score is k (0..CRSScoreCap,
	// the last entry holding everything at or above the cap), over rows
	// CRS ran on.
	CRS []int `json:"crs"`
	// CRSBlocked counts rows CRS blocked with the engine's own settings.
	CRSBlocked int `json:"crs_blocked"`
}

func newDistribution(name string, attack bool) *Distribution {
	return &Distribution{Name: name, Attack: attack, Model: make([]int, 100), CRS: make([]int, CRSScoreCap+1)}
}

func (d *Distribution) add(r *Row) {
	d.Model[min(max(r.Scores.Overall, 1), 99)]++
	if r.CRSRan {
		d.CRS[min(max(r.CRSScore, 0), CRSScoreCap)]++
		if r.CRSBlocked {
			d.CRSBlocked++
		}
	}
}

// N is the number of rows in the slice.
func (d *Distribution) N() int { return sum(d.Model) }

// CRSN is the number of rows CRS ran on.
func (d *Distribution) CRSN() int { return sum(d.CRS) }

// ModelRate is the share of rows the model flags at threshold t (score <= t).
func (d *Distribution) ModelRate(t int) float64 {
	n := d.N()
	if n == 0 {
		return 0
	}
	return float64(sum(d.Model[:min(max(t, 0), 99)+1])) / float64(n)
}

// CRSRate is the share of rows whose CRS anomaly score reaches k.
func (d *Distribution) CRSRate(k int) float64 {
	n := d.CRSN()
	if n == 0 {
		return 0
	}
	return float64(sum(d.CRS[min(max(k, 0), CRSScoreCap):])) / float64(n)
}

func sum(v []int) int {
	n := 0
	for _, x := range v {
		n += x
	}
	return n
}

// Distributions holds every slice the report shows.
type Distributions struct {
	Attacks    *Distribution   `json:"attacks"`
	Benign     *Distribution   `json:"benign"`
	Unlabelled *Distribution   `json:"unlabelled"`
	Categories []*Distribution `json:"categories"`
	Sources    []*Distribution `json:"sources"`
}

// Distribute counts the rows overall, per category and per source.
func Distribute(rows []Row) Distributions {
	ds := Distributions{
		Attacks:    newDistribution("attacks", true),
		Benign:     newDistribution("benign", false),
		Unlabelled: newDistribution("unlabelled", false),
	}
	type key struct {
		label, name string
	}
	cats := map[key]*Distribution{}
	srcs := map[key]*Distribution{}
	slice := func(m map[key]*Distribution, r *Row, name string) {
		k := key{r.Label, name}
		d := m[k]
		if d == nil {
			d = newDistribution(name, r.Label == "attack")
			m[k] = d
		}
		d.add(r)
	}
	for i := range rows {
		r := &rows[i]
		if !r.Labelled() {
			ds.Unlabelled.add(r)
			continue
		}
		if r.Label == "attack" {
			ds.Attacks.add(r)
		} else {
			ds.Benign.add(r)
		}
		cat := r.Category
		if cat == "" {
			cat = r.Label
		}
		slice(cats, r, cat)
		if r.Source != "" {
			slice(srcs, r, r.Source)
		}
	}
	order := func(m map[key]*Distribution) []*Distribution {
		out := make([]*Distribution, 0, len(m))
		for _, d := range m {
			out = append(out, d)
		}
		slices.SortFunc(out, func(a, b *Distribution) int {
			if a.Attack != b.Attack {
				if a.Attack {
					return -1
				}
				return 1
			}
			if a.Name < b.Name {
				return -1
			}
			if a.Name > b.Name {
				return 1
			}
			return 0
		})
		return out
	}
	ds.Categories = order(cats)
	ds.Sources = order(srcs)
	return ds
}

// rocPt is one operating point.
type rocPt struct{ fpr, tpr float64 }

// modelROC is the model's ROC curve, one point per threshold from 0 (flag
// nothing) to 99 (flag everything).
func modelROC(atk, ben *Distribution) []rocPt {
	pts := make([]rocPt, 0, 100)
	for t := 0; t <= 99; t++ {
		pts = append(pts, rocPt{ben.ModelRate(t), atk.ModelRate(t)})
	}
	return pts
}

// crsROC is CRS's ROC curve over its inbound anomaly threshold, from above
// the cap (flag nothing) down to 0 (flag everything).
func crsROC(atk, ben *Distribution) []rocPt {
	pts := []rocPt{{0, 0}}
	for k := CRSScoreCap; k >= 0; k-- {
		pts = append(pts, rocPt{ben.CRSRate(k), atk.CRSRate(k)})
	}
	return pts
}
