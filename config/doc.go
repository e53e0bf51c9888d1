// Package config owns Bulwark's settings: one typed struct with defaults,
// filled from an optional YAML file, then environment variables, then
// command-line flags, and validated with errors that name the offending key.
// The same loader serves start-up, --validate and every reload.
package config
