package learn

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/bulwark-waf/bulwark/model"
)

// Feedback is one operator verdict. Either RequestID names one request, or
// RuleID with Field names a rule's matches on a field in every request.
//
//	{"request_id": "c0ffee", "label": "benign", "note": "checkout form"}
//	{"rule_id": 942100, "field": "query:q", "label": "benign", "note": "search box"}
//	{"request_id": "beef", "label": "attack", "class": "sqli", "field": "query:id"}
//
// Field is "part:name" (parts: path, query, body, header, cookie) or a bare
// name, which matches the name in any part.
type Feedback struct {
	RequestID string `json:"request_id,omitempty" yaml:"request_id"`
	RuleID    int    `json:"rule_id,omitempty" yaml:"rule_id"`
	Field     string `json:"field,omitempty" yaml:"field"`
	Label     Label  `json:"label" yaml:"label"`
	// Class is the attack class of a missed attack (sqli, xss, rce,
	// traversal); empty takes the model's most likely class.
	Class string `json:"class,omitempty" yaml:"class"`
	Note  string `json:"note,omitempty" yaml:"note"`
}

// FieldRef is a parsed Feedback.Field.
type FieldRef struct {
	Part string // "" matches any part
	Name string
}

func parseFieldRef(s string) (FieldRef, error) {
	if s == "" {
		return FieldRef{}, nil
	}
	if p, n, ok := strings.Cut(s, ":"); ok {
		switch p {
		case model.PartPath, model.PartQuery, model.PartBody, model.PartHeader, model.PartCookie:
			return FieldRef{Part: p, Name: n}, nil
		}
	}
	return FieldRef{Name: s}, nil
}

// Matches reports whether a field of the given part and name is the one
// referred to. Nested names (a JSON path "a.b", a URL's query "u?x") match
// their top-level name too.
func (f FieldRef) Matches(part, name string) bool {
	if f.Part != "" && f.Part != part {
		return false
	}
	if strings.EqualFold(f.Name, name) {
		return true
	}
	top := name
	if i := strings.IndexAny(top, ".?["); i > 0 {
		top = top[:i]
	}
	return strings.EqualFold(f.Name, top)
}

// Feedbacks is a validated feedback file, indexed.
type Feedbacks struct {
	byID   map[string]Feedback
	byRule map[int][]ruleFeedback
	n      int
}

type ruleFeedback struct {
	Feedback
	ref FieldRef
}

// ErrFeedback wraps every problem with a feedback file.
var ErrFeedback = errors.New("feedback")

// ReadFeedback reads a feedback file: YAML (a list of entries, .yaml or
// .yml) or JSON Lines (anything else). Every entry is validated; the first
// bad one is an error naming its position.
func ReadFeedback(path string) (*Feedbacks, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFeedback, err)
	}
	var list []Feedback
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&list); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %s: %w", ErrFeedback, path, err)
		}
	default:
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for line := 1; sc.Scan(); line++ {
			t := bytes.TrimSpace(sc.Bytes())
			if len(t) == 0 || t[0] == '#' {
				continue
			}
			var f Feedback
			dec := json.NewDecoder(bytes.NewReader(t))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&f); err != nil {
				return nil, fmt.Errorf("%w: %s line %d: %w", ErrFeedback, path, line, err)
			}
			list = append(list, f)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrFeedback, path, err)
		}
	}
	return NewFeedbacks(list)
}

// NewFeedbacks validates and indexes entries.
func NewFeedbacks(list []Feedback) (*Feedbacks, error) {
	fb := &Feedbacks{byID: map[string]Feedback{}, byRule: map[int][]ruleFeedback{}}
	for i, f := range list {
		bad := func(format string, a ...any) error {
			return fmt.Errorf("%w: entry %d: %s", ErrFeedback, i+1, fmt.Sprintf(format, a...))
		}
		if f.Label != LabelBenign && f.Label != LabelAttack {
			return nil, bad("label %q is not benign or attack", f.Label)
		}
		if f.Class != "" && !isClass(f.Class) {
			return nil, bad("class %q is not one of %s", f.Class, strings.Join(model.Classes[:], ", "))
		}
		ref, err := parseFieldRef(f.Field)
		if err != nil {
			return nil, bad("%v", err)
		}
		switch {
		case f.RequestID != "" && f.RuleID != 0:
			return nil, bad("give request_id or rule_id, not both")
		case f.RequestID != "":
			if _, dup := fb.byID[f.RequestID]; dup {
				return nil, bad("request %q has two entries", f.RequestID)
			}
			fb.byID[f.RequestID] = f
		case f.RuleID != 0:
			if f.Field == "" {
				return nil, bad("rule_id %d needs a field (a rule is only a false positive on some fields; to silence a rule everywhere, exclude it in the WAF config)", f.RuleID)
			}
			fb.byRule[f.RuleID] = append(fb.byRule[f.RuleID], ruleFeedback{Feedback: f, ref: ref})
		default:
			return nil, bad("needs request_id, or rule_id and field")
		}
		fb.n++
	}
	return fb, nil
}

// Len is the number of entries.
func (fb *Feedbacks) Len() int {
	if fb == nil {
		return 0
	}
	return fb.n
}

func isClass(c string) bool {
	for _, k := range model.Classes {
		if k == c {
			return true
		}
	}
	return false
}
