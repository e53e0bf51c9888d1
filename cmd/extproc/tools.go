package main

import (
	"github.com/bulwark-waf/bulwark/cmd/extproc/app"
	"github.com/bulwark-waf/bulwark/config"
)

// toolRuntime builds what the server would build from the same --config,
// environment and flags, after edit applies the tool's own shorthands, so
// check, eval and modes see the server's rules, policies and model.
func toolRuntime(f *config.Flags, edit func(*config.Config)) (*app.Runtime, error) {
	loaded, err := f.Load()
	if err != nil {
		return nil, err
	}
	cfg := loaded.Config
	if edit != nil {
		edit(&cfg)
	}
	return app.Build(cfg, app.Deps{})
}
