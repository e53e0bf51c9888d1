package main

import (
	"flag"

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

// shorthands are the tools' short flags for the settings they change most.
// Each one, when given, overrides the config's value.
type shorthands struct {
	fs       *flag.FlagSet
	model    *string
	paranoia *int
	mode     *string
	orPoints *int
}

func addShorthands(fs *flag.FlagSet) *shorthands {
	return &shorthands{
		fs:       fs,
		model:    fs.String("model", "", "shorthand for --model-path"),
		paranoia: fs.Int("paranoia", 0, "shorthand for --waf-paranoia-level"),
		mode:     fs.String("mode", "", "shorthand for --ml-mode: crs, ml, and, or, gated, confirm"),
		orPoints: fs.Int("or-points", 0, "shorthand for --ml-or-points"),
	}
}

// apply writes the shorthands that were given into c.
func (s *shorthands) apply(c *config.Config) {
	s.fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "model":
			c.Model.Path = *s.model
		case "paranoia":
			c.WAF.ParanoiaLevel = *s.paranoia
		case "mode":
			c.ML.Mode = *s.mode
		case "or-points":
			c.ML.ORPoints = *s.orPoints
		}
	})
}
