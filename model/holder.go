package model

import (
	"fmt"
	"sync/atomic"
)

// Holder keeps the model in use and swaps it atomically on reload. A model
// that fails to load (bad file, schema mismatch) leaves the old one in
// place, so a bad deploy never turns scoring off.
type Holder struct {
	cur atomic.Pointer[Model]
}

// NewHolder starts with m.
func NewHolder(m *Model) *Holder {
	h := &Holder{}
	h.cur.Store(m)
	return h
}

// Model returns the current model.
func (h *Holder) Model() *Model { return h.cur.Load() }

// Reload loads path ("" means the embedded default) and swaps it in only
// if it loads cleanly.
func (h *Holder) Reload(path string) error {
	var (
		m   *Model
		err error
	)
	if path == "" {
		m, err = Default()
	} else {
		m, err = Load(path)
	}
	if err != nil {
		return fmt.Errorf("reload kept the previous model: %w", err)
	}
	h.cur.Store(m)
	return nil
}
