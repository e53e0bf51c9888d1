package rx

import (
	"fmt"
	"io/fs"
)

// Engine selects the @rx implementation for one WAF.
type Engine string

const (
	// EngineRE2 is Bulwark's operator: RE2 behind a literal prefilter, with
	// Coraza's operator as the exact fallback.
	EngineRE2 Engine = "re2"
	// EngineGo is Coraza's upstream operator (Go regexp) unchanged.
	EngineGo Engine = "go"
)

// Engines lists the accepted values, default first.
var Engines = []Engine{EngineRE2, EngineGo}

// Valid reports whether e is one of Engines.
func (e Engine) Valid() bool {
	return e == EngineRE2 || e == EngineGo
}

// ParseEngine turns a setting value into an Engine.
func ParseEngine(s string) (Engine, error) {
	e := Engine(s)
	if !e.Valid() {
		return "", fmt.Errorf("rx engine %q is not one of re2, go", s)
	}
	return e, nil
}

// engineTagged is implemented only by taggedFS: the operator factory reads
// the engine (and the WAF's work budgets) from the root file system Coraza
// hands it, which is the one per-WAF value that reaches an operator factory.
type engineTagged interface {
	rxEngine() Engine
	rxBudgets() *Budgets
}

// WithEngine wraps the root file system passed to coraza's WithRootFS so
// that the rules compiled from it use engine e for @rx. The wrapper serves
// the same files: Open, ReadFile and Glob go to fsys.
func WithEngine(fsys fs.FS, e Engine) fs.FS {
	return taggedFS{fsys: fsys, engine: e}
}

// WithBudgets is WithEngine whose RE2 operators also charge each
// transaction's budget in b.
func WithBudgets(fsys fs.FS, e Engine, b *Budgets) fs.FS {
	return taggedFS{fsys: fsys, engine: e, budgets: b}
}

type taggedFS struct {
	fsys    fs.FS
	engine  Engine
	budgets *Budgets
}

func (t taggedFS) rxEngine() Engine    { return t.engine }
func (t taggedFS) rxBudgets() *Budgets { return t.budgets }

func (t taggedFS) Open(name string) (fs.File, error) { return t.fsys.Open(name) }

func (t taggedFS) ReadFile(name string) ([]byte, error) { return fs.ReadFile(t.fsys, name) }

func (t taggedFS) Glob(pattern string) ([]string, error) { return fs.Glob(t.fsys, pattern) }

func budgetsOf(root fs.FS) *Budgets {
	if t, ok := root.(engineTagged); ok {
		return t.rxBudgets()
	}
	return nil
}

func engineOf(root fs.FS) Engine {
	if t, ok := root.(engineTagged); ok {
		return t.rxEngine()
	}
	return EngineGo
}
