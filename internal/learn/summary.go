package learn

import (
	"fmt"
	"io"
	"sort"
	"time"
)

// Summary counts what was labelled and why.
type Summary struct {
	Records  int
	ByLabel  map[Label]int
	ByReason map[Reason]int
	ByClass  map[string]int
	Rerun    int
	// First and Last bound the data window (record times).
	First, Last time.Time
}

// Add counts one labelled record.
func (s *Summary) Add(l Labelled) {
	if s.ByLabel == nil {
		s.ByLabel, s.ByReason, s.ByClass = map[Label]int{}, map[Reason]int{}, map[string]int{}
	}
	s.Records++
	s.ByLabel[l.Label]++
	s.ByReason[l.Reason]++
	if l.Label == LabelAttack {
		s.ByClass[l.Category]++
	}
	if l.Evidence.Rerun {
		s.Rerun++
	}
	if !l.Time.IsZero() {
		if s.First.IsZero() || l.Time.Before(s.First) {
			s.First = l.Time
		}
		if l.Time.After(s.Last) {
			s.Last = l.Time
		}
	}
}

// WriteText prints the counts, largest first.
func (s *Summary) WriteText(w io.Writer) {
	fmt.Fprintf(w, "labelled %d records: %d benign, %d attack, %d suspect (kept out of training); %d re-run through CRS at paranoia 4\n",
		s.Records, s.ByLabel[LabelBenign], s.ByLabel[LabelAttack], s.ByLabel[LabelSuspect], s.Rerun)
	if !s.First.IsZero() {
		fmt.Fprintf(w, "data window: %s to %s\n", s.First.UTC().Format(time.RFC3339), s.Last.UTC().Format(time.RFC3339))
	}
	reasons := make([]Reason, 0, len(s.ByReason))
	for r := range s.ByReason {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if s.ByReason[reasons[i]] != s.ByReason[reasons[j]] {
			return s.ByReason[reasons[i]] > s.ByReason[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	for _, r := range reasons {
		fmt.Fprintf(w, "  %7d  %s\n", s.ByReason[r], r)
	}
	if len(s.ByClass) > 0 {
		classes := make([]string, 0, len(s.ByClass))
		for c := range s.ByClass {
			classes = append(classes, c)
		}
		sort.Strings(classes)
		fmt.Fprint(w, "attacks by class:")
		for _, c := range classes {
			fmt.Fprintf(w, " %s %d", c, s.ByClass[c])
		}
		fmt.Fprintln(w)
	}
}
