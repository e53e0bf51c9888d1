package waf

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantKey string
	}{
		{"default", func(*Config) {}, ""},
		{"engine", func(c *Config) { c.Engine = "on" }, "waf.engine"},
		{"paranoia", func(c *Config) { c.ParanoiaLevel = 5 }, "waf.paranoia_level"},
		{"detection below blocking", func(c *Config) { c.ParanoiaLevel = 2; c.DetectionParanoiaLevel = 1 }, "waf.detection_paranoia_level"},
		{"threshold", func(c *Config) { c.InboundAnomalyThreshold = 0 }, "waf.inbound_anomaly_threshold"},
		{"body limit", func(c *Config) { c.RequestBodyLimit = 0 }, "waf.request_body_limit"},
		{"limit action", func(c *Config) { c.RequestBodyLimitAction = "drop" }, "waf.request_body_limit_action"},
		{"mime", func(c *Config) { c.ResponseBodyMimeTypes = []string{"text/html x"} }, "waf.response_body_mime_types[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultConfig()
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantKey == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.wantKey+":") {
				t.Fatalf("Validate() = %v, want ErrInvalidConfig naming %s", err, tt.wantKey)
			}
		})
	}
}

func TestBadRuleFileNamesFileAndLine(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	c.RulesFiles = []string{"testdata/good.conf", "testdata/bad.conf"}
	_, err := New(c, slog.New(slog.DiscardHandler))
	var re *RuleError
	if !errors.As(err, &re) || !errors.Is(err, ErrRules) {
		t.Fatalf("New() = %v, want *RuleError", err)
	}
	if !strings.HasSuffix(re.File, "testdata/bad.conf") || re.Line != 4 {
		t.Fatalf("error at %s:%d, want testdata/bad.conf:4 (%v)", re.File, re.Line, err)
	}
}

func TestMissingRuleFile(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	c.RulesFiles = []string{"testdata/nope.conf"}
	_, err := New(c, nil)
	var re *RuleError
	if !errors.As(err, &re) || !strings.Contains(re.File, "nope.conf") {
		t.Fatalf("New() = %v, want *RuleError for nope.conf", err)
	}
}
