package learn

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/bulwark-waf/bulwark/internal/collect"
	"github.com/bulwark-waf/bulwark/model"
)

// Profile is what the site's traffic looks like as a whole: how many
// requests carry each field, and in how many of them each rule (and the
// model) flags it. A flag that fires on most of the requests carrying a
// field, over enough requests, is the site's normal for that field (a
// consent string like us_privacy=1--- that libinjection calls SQL, a
// JSON-in-a-parameter beacon): it does not make an attack candidate. An
// attack is rare on the fields it targets; a flood of one attack on a field
// nobody else sends would pass for normal, which is why the discounts are
// printed for the operator and why the trainer's gates stay in place.
type Profile struct {
	// MinRequests and Share: a (rule, field) is common when it fired in at
	// least MinRequests requests and in at least Share of the requests
	// carrying the field.
	MinRequests int
	Share       float64

	requests int
	fields   map[fieldKey]int
	hits     map[hitKey]int
	model    map[hitKey]int
}

type fieldKey struct{ part, name string }

type hitKey struct {
	rule  int    // 0 for the model
	class string // the model's class
	fieldKey
}

// Defaults for Profile.
const (
	DefaultCommonMin   = 10
	DefaultCommonShare = 0.5
)

// NewProfile returns an empty profile with the given thresholds (zero
// values take the defaults).
func NewProfile(minRequests int, share float64) *Profile {
	if minRequests <= 0 {
		minRequests = DefaultCommonMin
	}
	if share <= 0 {
		share = DefaultCommonShare
	}
	return &Profile{MinRequests: minRequests, Share: share, fields: map[fieldKey]int{}, hits: map[hitKey]int{}, model: map[hitKey]int{}}
}

// Add counts one labelled request (from Labeler.Label).
func (p *Profile) Add(l *Labelled) {
	p.requests++
	req := (&model.Record{Method: l.Method, URI: l.URI, Headers: l.Headers, Body: l.Body}).Request()
	fields, _ := model.SplitFields(req)
	seen := map[fieldKey]bool{}
	for _, f := range fields {
		k := fieldKey{f.Part, topName(f.Name)}
		if !seen[k] {
			seen[k] = true
			p.fields[k]++
		}
	}
	done := map[hitKey]bool{}
	for _, h := range l.Evidence.Rules {
		if h.Part == "" {
			continue
		}
		k := hitKey{rule: h.ID, fieldKey: fieldKey{h.Part, topName(h.Field)}}
		if !done[k] {
			done[k] = true
			p.hits[k]++
		}
	}
	if m := l.Evidence.Model; m != nil {
		for _, loc := range m.Locations {
			k := hitKey{class: loc.Class, fieldKey: fieldKey{loc.Part, topName(loc.Field)}}
			if !done[k] {
				done[k] = true
				p.model[k]++
			}
		}
	}
}

func (p *Profile) common(n int, fk fieldKey) bool {
	if n < p.MinRequests {
		return false
	}
	carriers := p.fields[fk]
	if carriers < n {
		// A variable the splitter does not produce (a header CRS sees
		// under another name): the hit count is all there is.
		carriers = n
	}
	return float64(n) >= p.Share*float64(carriers)
}

func (p *Profile) commonHit(h Hit) bool {
	if p == nil || h.Part == "" {
		return false
	}
	fk := fieldKey{h.Part, topName(h.Field)}
	return p.common(p.hits[hitKey{rule: h.ID, fieldKey: fk}], fk)
}

func (p *Profile) commonModel(loc model.Location) bool {
	if p == nil {
		return false
	}
	fk := fieldKey{loc.Part, topName(loc.Field)}
	return p.common(p.model[hitKey{class: loc.Class, fieldKey: fk}], fk)
}

// Common lists the flags the profile treats as the site's normal, most
// frequent first, for the operator to review.
func (p *Profile) Common() []CommonFlag {
	var out []CommonFlag
	for k, n := range p.hits {
		if _, attack := RuleClass(k.rule); attack && p.common(n, k.fieldKey) {
			out = append(out, CommonFlag{Rule: k.rule, Part: k.part, Field: k.name, Requests: n, Carriers: max(n, p.fields[k.fieldKey])})
		}
	}
	for k, n := range p.model {
		if p.common(n, k.fieldKey) {
			out = append(out, CommonFlag{Class: k.class, Part: k.part, Field: k.name, Requests: n, Carriers: max(n, p.fields[k.fieldKey])})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Requests != out[j].Requests {
			return out[i].Requests > out[j].Requests
		}
		return out[i].String() < out[j].String()
	})
	return out
}

// CommonFlag is one (rule or model class, field) pair the profile calls normal.
type CommonFlag struct {
	Rule               int
	Class              string
	Part, Field        string
	Requests, Carriers int
}

func (c CommonFlag) String() string {
	who := fmt.Sprintf("rule %d", c.Rule)
	if c.Rule == 0 {
		who = "model (" + c.Class + ")"
	}
	return fmt.Sprintf("%s on %s:%s in %d of %d requests", who, c.Part, c.Field, c.Requests, c.Carriers)
}

// WriteCommon prints the common flags, at most limit of them.
func (p *Profile) WriteCommon(w io.Writer, limit int) {
	cs := p.Common()
	if len(cs) == 0 {
		return
	}
	fmt.Fprintf(w, "flags treated as the site's normal (review them; a feedback entry with label attack overrides):\n")
	for i, c := range cs {
		if i == limit {
			fmt.Fprintf(w, "  ... and %d more\n", len(cs)-limit)
			break
		}
		fmt.Fprintf(w, "  %s\n", c)
	}
}

// Relabel decides l again with the site's profile (the second pass of
// `extproc learn label`).
func (l *Labeler) Relabel(lab *Labelled, prof *Profile) {
	req := (&model.Record{Method: lab.Method, URI: lab.URI, Headers: lab.Headers, Body: lab.Body}).Request()
	fields, _ := model.SplitFields(req)
	ev := lab.Evidence
	l.decide(lab, &ev, fields, prof)
	lab.Evidence = ev
}

// LabelAll labels records in two passes: each on its own evidence, then
// again with the profile of all of them. It keeps the records in memory:
// the collector's store is bounded (learn.max_bytes).
func (l *Labeler) LabelAll(ctx context.Context, recs []*collect.Record, prof *Profile, workers int) ([]Labelled, error) {
	out := make([]Labelled, len(recs))
	errs := make([]error, len(recs))
	if workers <= 0 {
		workers = 1
	}
	next := make(chan int)
	done := make(chan struct{})
	for range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range next {
				out[i], errs[i] = l.Label(ctx, recs[i])
			}
		}()
	}
	for i := range recs {
		next <- i
	}
	close(next)
	for range workers {
		<-done
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if prof != nil {
		for i := range out {
			prof.Add(&out[i])
		}
		for i := range out {
			l.Relabel(&out[i], prof)
		}
	}
	return out, nil
}
