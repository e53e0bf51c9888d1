package rx

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	_ "unsafe" // go:linkname

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// Coraza's @pm factories, linked by name for the same reason as
// corazaNewRX: registering "pm" replaces them, and they are the exact
// fallback of Bulwark's @pm and the whole of it under EngineGo.
//
//go:linkname corazaNewPM github.com/corazawaf/coraza/v3/internal/operators.newPM
func corazaNewPM(options plugintypes.OperatorOptions) (plugintypes.Operator, error)

//go:linkname corazaNewPMFromFile github.com/corazawaf/coraza/v3/internal/operators.newPMFromFile
func corazaNewPMFromFile(options plugintypes.OperatorOptions) (plugintypes.Operator, error)

func init() {
	plugins.RegisterOperator("pm", newPMOperator(corazaNewPM, pmWords))
	plugins.RegisterOperator("pmFromFile", newPMOperator(corazaNewPMFromFile, pmFileWords))
	plugins.RegisterOperator("pmf", newPMOperator(corazaNewPMFromFile, pmFileWords))
}

// maxPMTable bounds one phrase automaton's transition table (entries of 4
// bytes). CRS's largest list that rules read on requests (lfi-os-files,
// 977 phrases) needs about 0.9 M; lists past the bound keep Coraza's
// operator alone.
const maxPMTable = 1 << 21

// pmOperator is Coraza's @pm (or @pmFromFile) behind a gate that answers
// "does any phrase occur at all" with a byte-class DFA. Coraza's matcher is
// an Aho-Corasick NFA that, when the rule captures, lists the matches
// (leftmost-longest, up to ten); a value with no phrase in it has no match
// under any match semantics, so the gate's "no" is Coraza's false, and
// every "yes" is answered by Coraza's operator itself, captures included.
// Most values of most requests contain none of the phrases, so the NFA runs
// only for the few that do.
type pmOperator struct {
	upstream plugintypes.Operator
	gate     *phraseDFA
}

// newPMOperator wraps a Coraza factory; words reads the phrases exactly as
// that factory does.
func newPMOperator(up func(plugintypes.OperatorOptions) (plugintypes.Operator, error), words func(plugintypes.OperatorOptions) ([]string, error)) plugintypes.OperatorFactory {
	return func(options plugintypes.OperatorOptions) (plugintypes.Operator, error) {
		op, err := up(options)
		if err != nil || engineOf(options.Root) != EngineRE2 {
			return op, err
		}
		dict, err := words(options)
		if err != nil {
			// Coraza compiled it; whatever we could not read stays Coraza's.
			return op, nil
		}
		build := func() (any, error) { return newPhraseDFA(dict, true), nil }
		var v any
		if options.Memoizer != nil {
			// Keyed by the phrases themselves, not the file name: a data
			// file edited between two compiles never gets the old gate.
			v, _ = options.Memoizer.Do(phrasesKey(dict), build)
		} else {
			v, _ = build()
		}
		gate, _ := v.(*phraseDFA)
		if gate == nil {
			return op, nil
		}
		return &pmOperator{upstream: op, gate: gate}, nil
	}
}

func (o *pmOperator) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if !o.gate.anyIn(value) {
		return false
	}
	return o.upstream.Evaluate(tx, value)
}

// String names the operator in debug output.
func (o *pmOperator) String() string { return fmt.Sprintf("pm(gate, %d states)", o.gate.states) }

// phrasesKey is the memoizer key of a phrase list's automaton.
func phrasesKey(dict []string) string {
	h := sha256.New()
	for _, p := range dict {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "bulwark-pm:" + hex.EncodeToString(h.Sum(nil))
}

// pmWords is Coraza's newPM's dictionary: the arguments lower-cased and
// split on single spaces.
func pmWords(options plugintypes.OperatorOptions) ([]string, error) {
	return strings.Split(strings.ToLower(options.Arguments), " "), nil
}

// pmFileWords is Coraza's newPMFromFile's dictionary: the file's trimmed,
// lower-cased lines, without blank lines and # comments, looked up in the
// rule file's directories as Coraza looks them up.
func pmFileWords(options plugintypes.OperatorOptions) ([]string, error) {
	data, err := pmFile(options.Arguments, options.Path, options.Root)
	if err != nil {
		return nil, err
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		lines = append(lines, strings.ToLower(l))
	}
	if err := sc.Err(); err != nil {
		// Coraza stops at a line past the scanner's bound and keeps the
		// lines before it; the gate would not know which those are.
		return nil, err
	}
	return lines, nil
}

// pmFile finds a data file as Coraza's loadFromFile does: an absolute path
// in root, otherwise the first of dirs that has it.
func pmFile(name string, dirs []string, root fs.FS) ([]byte, error) {
	if root == nil {
		return nil, fs.ErrNotExist
	}
	if path.IsAbs(name) {
		return fs.ReadFile(root, name)
	}
	err := fs.ErrNotExist
	for _, d := range dirs {
		var b []byte
		b, err = fs.ReadFile(root, path.Join(d, name))
		if err == nil {
			return b, nil
		}
		if !os.IsNotExist(err) {
			return nil, err
		}
	}
	return nil, err
}

// phraseDFA is an Aho-Corasick automaton over the phrases with every
// transition precomputed, on byte classes: each byte that occurs in a
// phrase has its own class, and every other byte is class 0, which leads
// back to the root. Folded (Coraza's @pm, folded prefilters), ASCII
// upper-case letters share their lower-case letter's class, in the phrases
// and in the input alike.
type phraseDFA struct {
	class   [256]uint8
	classes int
	states  int
	// next[s*classes+c] encodes the state t after class c in state s as
	// t*classes<<1 (the offset of t's row, so the scan needs no multiply)
	// with the low bit set when a phrase ends at t or at a suffix of it.
	next []uint32
}

// newPhraseDFA builds the automaton, ASCII case-insensitive when fold is
// set, or returns nil when there is none to build: an empty phrase (it
// matches everywhere), no phrases, or a table past maxPMTable.
func newPhraseDFA(dict []string, fold bool) *phraseDFA {
	if len(dict) == 0 {
		return nil
	}
	d := &phraseDFA{}
	for _, p := range dict {
		if p == "" {
			return nil
		}
		for i := 0; i < len(p); i++ {
			b := p[i]
			if fold && 'A' <= b && b <= 'Z' {
				// Lower-cased phrases have none, but keep the
				// folding exact if one ever does.
				b += 'a' - 'A'
			}
			if d.class[b] == 0 {
				d.classes++
				if d.classes > 255 {
					return nil
				}
				d.class[b] = uint8(d.classes)
			}
		}
	}
	if fold {
		for b := 'A'; b <= 'Z'; b++ {
			d.class[b] = d.class[b+'a'-'A']
		}
	}
	d.classes++ // class 0
	// The trie, with transitions stored densely from the start.
	nc := d.classes
	trie := []int32{}
	var match []bool
	newState := func() int {
		for range nc {
			trie = append(trie, -1)
		}
		match = append(match, false)
		return len(match) - 1
	}
	newState()
	for _, p := range dict {
		s := 0
		for i := 0; i < len(p); i++ {
			c := int(d.class[p[i]])
			if trie[s*nc+c] < 0 {
				if (len(match)+1)*nc > maxPMTable {
					return nil
				}
				n := newState()
				trie[s*nc+c] = int32(n)
			}
			s = int(trie[s*nc+c])
		}
		match[s] = true
	}
	d.states = len(match)
	// Breadth first: each state's missing transitions are its failure
	// state's, which is shallower and so already complete.
	delta := make([]int32, d.states*nc)
	fail := make([]int, d.states)
	queue := make([]int, 0, d.states)
	for c := range nc {
		if t := trie[c]; t > 0 {
			delta[c] = t
			queue = append(queue, int(t))
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := fail[s]
		if match[f] {
			match[s] = true
		}
		for c := range nc {
			if t := trie[s*nc+c]; t >= 0 {
				fail[t] = int(delta[f*nc+c])
				delta[s*nc+c] = t
				queue = append(queue, int(t))
			} else {
				delta[s*nc+c] = delta[f*nc+c]
			}
		}
	}
	d.next = make([]uint32, len(delta))
	for i, t := range delta {
		e := uint32(int(t)*nc) << 1
		if match[t] {
			e |= 1
		}
		d.next[i] = e
	}
	return d
}

// anyIn reports whether a phrase occurs in s (ASCII case-insensitively
// when folded).
func (d *phraseDFA) anyIn(s string) bool {
	next, class := d.next, &d.class
	off := uint32(0)
	for i := 0; i < len(s); i++ {
		e := next[off+uint32(class[s[i]])]
		if e&1 != 0 {
			return true
		}
		off = e >> 1
	}
	return false
}
