package ftw

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// File is one go-ftw YAML file: the tests of one CRS rule.
type File struct {
	RuleID int    `yaml:"rule_id"`
	Tests  []Test `yaml:"tests"`
}

// Test is one go-ftw test: one or more stages replayed in order.
type Test struct {
	TestID int     `yaml:"test_id"`
	Desc   string  `yaml:"desc"`
	Stages []Stage `yaml:"stages"`
}

// Stage is one request and what the WAF log and response must show.
type Stage struct {
	Input  Input  `yaml:"input"`
	Output Output `yaml:"output"`
}

// Input is a go-ftw request. Pointers tell "absent" (go-ftw's default
// applies) from "explicitly empty" (sent as is, e.g. a request line without
// a version).
type Input struct {
	DestAddr            string  `yaml:"dest_addr"`
	Port                int     `yaml:"port"`
	Method              *string `yaml:"method"`
	URI                 *string `yaml:"uri"`
	Version             *string `yaml:"version"`
	Headers             Headers `yaml:"headers"`
	Data                *string `yaml:"data"`
	EncodedRequest      string  `yaml:"encoded_request"`
	AutocompleteHeaders *bool   `yaml:"autocomplete_headers"`
}

// Output is what go-ftw checks after a stage.
type Output struct {
	Status      int  `yaml:"status"`
	Log         Log  `yaml:"log"`
	ExpectError bool `yaml:"expect_error"`
}

// Log holds the assertions on the WAF's log for the stage's transaction.
type Log struct {
	ExpectIDs    []int  `yaml:"expect_ids"`
	NoExpectIDs  []int  `yaml:"no_expect_ids"`
	MatchRegex   string `yaml:"match_regex"`
	NoMatchRegex string `yaml:"no_match_regex"`
}

func (o Output) empty() bool {
	return o.Status == 0 && !o.ExpectError && len(o.Log.ExpectIDs) == 0 && len(o.Log.NoExpectIDs) == 0 &&
		o.Log.MatchRegex == "" && o.Log.NoMatchRegex == ""
}

// Headers keeps the YAML order of a header mapping, because the order is
// part of what goes on the wire and some rules look at it.
type Headers [][2]string

// UnmarshalYAML reads a mapping node pair by pair; a Go map would lose the
// order.
func (h *Headers) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: headers must be a mapping", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		*h = append(*h, [2]string{n.Content[i].Value, n.Content[i+1].Value})
	}
	return nil
}

// Case is one stage ready to run, with the expectations that apply after
// the overrides.
type Case struct {
	// Key is "<rule>-<test>", plus "/<stage>" when the test has several
	// stages; it is how exceptions and failures name a stage.
	Key    string
	RuleID int
	TestID int
	Stage  int // 1-based
	// Stages is how many stages the test has; they run in order on one
	// worker, as go-ftw runs them.
	Stages int
	Family string // the suite folder, e.g. REQUEST-942-APPLICATION-ATTACK-SQLI
	Input  Input
	Output Output
	// Ignored is the reason an override without expectations gives; such a
	// stage is run but not judged.
	Ignored string
}

// Override is one entry of the go-ftw overrides file.
type Override struct {
	RuleID  int    `yaml:"rule_id"`
	TestIDs []int  `yaml:"test_ids"`
	Reason  string `yaml:"reason"`
	Output  Output `yaml:"output"`
}

// LoadOverrides reads a go-ftw overrides file (test_overrides only).
func LoadOverrides(path string) ([]Override, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		TestOverrides []Override `yaml:"test_overrides"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc.TestOverrides, nil
}

// Load reads every go-ftw test file (*.yaml, *.yml) in the suites and
// applies the overrides. Files are taken in path order across all suites,
// so a supplement folder laid out like the upstream tests directory slots
// its families in where upstream would have them. A path present in two
// suites is an error: a silent shadowing would change what is measured.
// An override with an output replaces the stage's output, as go-ftw does;
// one without (a bare "wip" or "TODO") marks the stage ignored.
func Load(overrides []Override, suites ...fs.FS) ([]Case, error) {
	type file struct {
		fsys fs.FS
		path string
	}
	var paths []file
	seen := map[string]bool{}
	for _, fsys := range suites {
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				if seen[p] {
					return fmt.Errorf("%s: in more than one suite", p)
				}
				seen[p] = true
				paths = append(paths, file{fsys, p})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(paths) == 0 {
		return nil, errors.New("no go-ftw test files in the suites")
	}
	sort.Slice(paths, func(i, j int) bool { return paths[i].path < paths[j].path })
	type key struct{ rule, test int }
	ov := map[key]Override{}
	for _, o := range overrides {
		for _, t := range o.TestIDs {
			ov[key{o.RuleID, t}] = o
		}
	}
	var cases []Case
	var errs []error
	for _, pf := range paths {
		p := pf.path
		b, err := fs.ReadFile(pf.fsys, p)
		if err != nil {
			return nil, err
		}
		var f File
		if err := yaml.Unmarshal(b, &f); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		family := strings.Split(p, "/")[0]
		for _, t := range f.Tests {
			for i, s := range t.Stages {
				c := Case{
					Key:    strconv.Itoa(f.RuleID) + "-" + strconv.Itoa(t.TestID),
					RuleID: f.RuleID, TestID: t.TestID, Stage: i + 1, Stages: len(t.Stages),
					Family: family, Input: s.Input, Output: s.Output,
				}
				if len(t.Stages) > 1 {
					c.Key += "/" + strconv.Itoa(i+1)
				}
				if o, ok := ov[key{f.RuleID, t.TestID}]; ok {
					if o.Output.empty() {
						c.Ignored = "coraza-overrides: " + o.Reason
					} else {
						c.Output = o.Output
					}
				}
				cases = append(cases, c)
			}
		}
	}
	return cases, errors.Join(errs...)
}
