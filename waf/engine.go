package waf

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/experimental"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"

	"github.com/bulwark-waf/bulwark/internal/rx"
	_ "github.com/bulwark-waf/bulwark/internal/xmlbody" // Coraza's XML body processor refuses <param>…</param>
)

// CRSVersion is the Core Rule Set release embedded in the binary.
const CRSVersion = "4.25.0"

// ErrRules is wrapped by every error caused by a rule file or inline directive.
var ErrRules = errors.New("bad rules")

// RuleError says where a rule file failed to load.
type RuleError struct {
	File string // "" for inline directives
	Line int    // 0 when the line could not be pinned down
	Err  error
}

func (e *RuleError) Error() string {
	where := e.File
	if where == "" {
		where = "waf.directives"
	}
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", where, e.Line)
	}
	return fmt.Sprintf("%s: %v", where, e.Err)
}

func (e *RuleError) Unwrap() []error { return []error{ErrRules, e.Err} }

// Engine is one compiled WAF. It is immutable and safe for concurrent use;
// reloading builds a new Engine.
type Engine struct {
	cfg     Config
	waf     coraza.WAF
	files   []string
	budgets *rx.Budgets
}

// New validates cfg and compiles CRS plus the user's rules. A bad rule file
// gives a *RuleError naming the file and line.
func New(cfg Config, logger *slog.Logger) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	files, err := expandRuleFiles(cfg.RulesFiles, cfg.AllowEmptyGlobs)
	if err != nil {
		return nil, err
	}
	chunks := []ruleChunk{{text: cfg.baseDirectives()}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, &RuleError{File: f, Err: err}
		}
		chunks = append(chunks, ruleChunk{file: f, text: string(b)})
	}
	if strings.TrimSpace(cfg.Directives) != "" {
		chunks = append(chunks, ruleChunk{text: cfg.Directives, inline: true})
	}
	budgets := rx.NewBudgets(cfg.RxBudgetBytes)
	w, err := compile(chunks, cfg.RxEngine, budgets)
	if err != nil {
		return nil, locate(chunks, err)
	}
	if logger != nil {
		n := 0
		if wr, ok := w.(experimental.WAFWithRules); ok {
			n = wr.RulesCount()
		}
		logger.Info("waf compiled", "crs_version", CRSVersion, "rules", n, "rule_files", files, "engine", cfg.Engine, "paranoia_level", cfg.ParanoiaLevel)
	}
	return &Engine{cfg: cfg, waf: w, files: files, budgets: budgets}, nil
}

// Budgets are the per-transaction @rx work budgets of this WAF
// (waf.rx_budget_bytes; rx_engine re2 only).
func (e *Engine) Budgets() *rx.Budgets { return e.budgets }

// Config returns the settings the engine was built from.
func (e *Engine) Config() Config { return e.cfg }

// RuleFiles are the files the engine loaded, after glob expansion; the
// reloader watches them.
func (e *Engine) RuleFiles() []string { return e.files }

// NewTransaction starts a Coraza transaction. id is used as the transaction
// id so audit lines and Coraza's logs carry Envoy's x-request-id.
func (e *Engine) NewTransaction(ctx context.Context, id string) types.Transaction {
	if id == "" {
		return e.waf.NewTransaction()
	}
	return e.waf.(experimental.WAFWithOptions).NewTransactionWithOptions(experimental.Options{ID: id, Context: ctx})
}

type ruleChunk struct {
	file   string
	text   string
	inline bool
}

// compile builds the WAF; engine picks the @rx operator of these rules
// (internal/rx reads it from the root file system).
func compile(chunks []ruleChunk, engine rx.Engine, budgets *rx.Budgets) (coraza.WAF, error) {
	cfg := coraza.NewWAFConfig().WithRootFS(rx.WithBudgets(rootFS{}, engine, budgets))
	for _, c := range chunks {
		if c.file != "" {
			cfg = cfg.WithDirectivesFromFile(c.file)
		} else {
			cfg = cfg.WithDirectives(c.text)
		}
	}
	return coraza.NewWAF(cfg)
}

// locate pins a compile error to a file and line by compiling growing
// prefixes. It only runs when loading already failed, so its cost (a few CRS
// compilations) is paid on the error path alone. It compiles with Coraza's
// @rx: the RE2 operator reports Coraza's own errors, so both fail alike.
func locate(chunks []ruleChunk, cause error) error {
	if _, err := compile(chunks[:1], rx.EngineGo, nil); err != nil {
		// The generated base failed: a bug in Bulwark or a bad mime type.
		return fmt.Errorf("%w: built-in CRS setup: %w", ErrRules, err)
	}
	for i := 1; i < len(chunks); i++ {
		if _, err := compile(chunks[:i+1], rx.EngineGo, nil); err == nil {
			continue
		}
		stmts := statements(chunks[i].text)
		// Smallest statement count whose prefix fails.
		n := sort.Search(len(stmts), func(k int) bool {
			prefix := append(append([]ruleChunk{}, chunks[:i]...), ruleChunk{text: joinStatements(stmts[:k+1])})
			_, err := compile(prefix, rx.EngineGo, nil)
			return err != nil
		})
		line := 0
		if n < len(stmts) {
			line = stmts[n].line
		}
		return &RuleError{File: chunks[i].file, Line: line, Err: cause}
	}
	return fmt.Errorf("%w: %w", ErrRules, cause)
}

type statement struct {
	line int
	text string
}

// statements splits SecLang into directives, joining backslash continuations,
// and remembers the line each starts on.
func statements(text string) []statement {
	var out []statement
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if cur.Len() == 0 {
			if t := strings.TrimSpace(l); t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			start = n
		}
		if strings.HasSuffix(strings.TrimRight(l, " \t"), "\\") {
			cur.WriteString(l)
			cur.WriteByte('\n')
			continue
		}
		cur.WriteString(l)
		out = append(out, statement{line: start, text: cur.String()})
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, statement{line: start, text: cur.String()})
	}
	return out
}

func joinStatements(s []statement) string {
	var b strings.Builder
	for _, st := range s {
		b.WriteString(st.text)
		b.WriteByte('\n')
	}
	return b.String()
}

func expandRuleFiles(patterns []string, allowEmpty bool) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	for i, p := range patterns {
		matches := []string{p}
		if strings.ContainsAny(p, "*?[") {
			m, err := filepath.Glob(p)
			if err != nil {
				return nil, fmt.Errorf("%w: waf.rules_files[%d]: %q: %w", ErrInvalidConfig, i, p, err)
			}
			if len(m) == 0 && !allowEmpty {
				return nil, fmt.Errorf("%w: waf.rules_files[%d]: %q matches no file (set waf.allow_empty_globs to allow it)", ErrInvalidConfig, i, p)
			}
			sort.Strings(m)
			matches = m
		}
		for _, f := range matches {
			abs, err := filepath.Abs(f)
			if err != nil {
				return nil, fmt.Errorf("%w: waf.rules_files[%d]: %w", ErrInvalidConfig, i, err)
			}
			if seen[abs] {
				continue
			}
			st, err := os.Stat(abs)
			if err != nil {
				return nil, &RuleError{File: abs, Err: err}
			}
			if st.IsDir() {
				return nil, &RuleError{File: abs, Err: errors.New("is a directory; use a glob such as dir/*.conf")}
			}
			seen[abs] = true
			files = append(files, abs)
		}
	}
	return files, nil
}

// rootFS serves CRS's embedded files by their @-names and everything else
// from the OS, so user rule files can Include their own files and data files.
type rootFS struct{}

func isEmbedded(name string) bool { return strings.Contains(name, "@") }

func (rootFS) Open(name string) (fs.File, error) {
	if isEmbedded(name) {
		return coreruleset.FS.Open(name[strings.Index(name, "@"):])
	}
	return os.Open(name)
}

func (r rootFS) ReadFile(name string) ([]byte, error) {
	if isEmbedded(name) {
		return fs.ReadFile(coreruleset.FS, name[strings.Index(name, "@"):])
	}
	return os.ReadFile(name)
}

func (r rootFS) Glob(pattern string) ([]string, error) {
	if isEmbedded(pattern) {
		return fs.Glob(coreruleset.FS, pattern[strings.Index(pattern, "@"):])
	}
	return filepath.Glob(pattern)
}

// Match is one rule that matched in a transaction.
type Match struct {
	ID       int    `json:"id"`
	Message  string `json:"msg,omitempty"`
	Data     string `json:"data,omitempty"`
	Severity string `json:"severity,omitempty"`
	Phase    int    `json:"phase"`
	// Logged is false for rules marked nolog (CRS bookkeeping rules).
	Logged bool     `json:"-"`
	Tags   []string `json:"-"`
	// matched is Coraza's record, kept for ErrorLog, which is only
	// formatted when asked for.
	matched types.MatchedRule
}

// MatchedData is the expanded logdata of every variable the rule matched.
// Data is one of them, the last Coraza visited, and Coraza walks
// collections (ARGS, headers) in map order: which one differs from run to
// run. `extproc learn label` reads them all.
func (m Match) MatchedData() []string {
	if m.matched == nil {
		return nil
	}
	mds := m.matched.MatchedDatas()
	out := make([]string, 0, len(mds))
	for _, md := range mds {
		out = append(out, md.Data())
	}
	return out
}

// MatchedVar is one value a rule matched: its collection (ARGS_NAMES,
// REQUEST_COOKIES), its key there, and the value.
type MatchedVar struct {
	Collection, Key, Value string
}

// Vars lists what the rule matched; nil when its record is gone.
func (m Match) Vars() []MatchedVar {
	if m.matched == nil {
		return nil
	}
	mds := m.matched.MatchedDatas()
	out := make([]MatchedVar, len(mds))
	for i, md := range mds {
		out[i] = MatchedVar{Collection: md.Variable().Name(), Key: md.Key(), Value: md.Value()}
	}
	return out
}

// ErrorLog is Coraza's error-log line for the match: what go-ftw's log
// regexes are written against.
func (m Match) ErrorLog() string {
	if m.matched == nil {
		return ""
	}
	return m.matched.ErrorLog()
}

// Verdict is what CRS concluded about a transaction so far.
type Verdict struct {
	Interrupted bool
	// Status is the HTTP status the rule asked for (0 if none).
	Status int
	// RuleID is the rule that interrupted.
	RuleID int
	Action string
	// InboundScore and OutboundScore are CRS's blocking anomaly scores.
	InboundScore  int
	OutboundScore int
	Matches       []Match
}

// Logged returns the matched rules that are not nolog, in match order.
func (v Verdict) Logged() []Match {
	var out []Match
	for _, m := range v.Matches {
		if m.Logged {
			out = append(out, m)
		}
	}
	return out
}

// LoggedIDs returns the ids of Logged rules, at most max of them (0 = all).
func (v Verdict) LoggedIDs(max int) []int {
	var ids []int
	for _, m := range v.Matches {
		if m.Logged && (max == 0 || len(ids) < max) {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

type loggable interface{ Log() bool }

// ReadVerdict collects the scores and matched rules of tx.
func ReadVerdict(tx types.Transaction) Verdict {
	var r VerdictReader
	return r.Read(tx)
}

// VerdictReader reads the verdicts of one transaction as its phases run.
// Coraza only appends to a transaction's matched rules, so each Read
// converts only the rules matched since the previous one, and the verdicts
// it returns share one backing array: an earlier verdict's Matches are a
// prefix of a later one's, capped so that appending to one never writes
// into another. The zero value is ready to use; it serves one transaction.
type VerdictReader struct {
	matches []Match
	// last is the last matched rule converted, to notice a reader used on
	// a different transaction (it then starts over).
	last types.MatchedRule
}

// Read collects the scores and matched rules of tx so far.
func (r *VerdictReader) Read(tx types.Transaction) Verdict {
	var v Verdict
	if it := tx.Interruption(); it != nil {
		v.Interrupted = true
		v.Status = it.Status
		v.RuleID = it.RuleID
		v.Action = it.Action
	}
	if st, ok := tx.(plugintypes.TransactionState); ok {
		txv := st.Variables().TX()
		v.InboundScore = firstInt(txv.Get("blocking_inbound_anomaly_score"))
		v.OutboundScore = firstInt(txv.Get("blocking_outbound_anomaly_score"))
	}
	mrs := tx.MatchedRules()
	n := len(r.matches)
	if n > len(mrs) || (n > 0 && mrs[n-1] != r.last) {
		r.matches, n = nil, 0
	}
	if len(mrs) > n {
		if r.matches == nil {
			// Room for what the later phases usually add.
			r.matches = make([]Match, 0, len(mrs)+len(mrs)/2+8)
		}
		for _, mr := range mrs[n:] {
			r.matches = append(r.matches, newMatch(mr))
		}
		r.last = mrs[len(mrs)-1]
	}
	if len(r.matches) > 0 {
		v.Matches = r.matches[:len(r.matches):len(r.matches)]
	}
	return v
}

func newMatch(mr types.MatchedRule) Match {
	rule := mr.Rule()
	m := Match{ID: rule.ID(), Message: mr.Message(), Data: mr.Data(), Phase: int(rule.Phase()), Logged: true, Tags: rule.Tags(), matched: mr}
	if rule.Severity() >= 0 {
		m.Severity = rule.Severity().String()
	}
	if l, ok := mr.(loggable); ok {
		m.Logged = l.Log()
	}
	return m
}

func firstInt(vals []string) int {
	if len(vals) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(vals[0])
	return n
}
