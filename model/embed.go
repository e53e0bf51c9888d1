package model

import (
	_ "embed"
	"fmt"
	"sync"
)

// defaultModel is produced by `make train` and committed, so a plain
// `go build` ships a working model.
//
//go:embed bulwark.model.gz
var defaultModel []byte

var loadDefault = sync.OnceValues(func() (*Model, error) {
	m, err := Parse(defaultModel)
	if err != nil {
		return nil, fmt.Errorf("embedded model: %w", err)
	}
	return m, nil
})

// Default returns the model embedded in the binary. It is parsed once and
// shared, which is fine because a Model is immutable.
func Default() (*Model, error) { return loadDefault() }
