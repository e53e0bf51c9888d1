package waf

import (
	"context"
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

func TestInspect(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	c.RulesFiles = []string{"testdata/*.conf.ok", "testdata/good.conf"}
	e, err := New(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	form := [][2]string{{"host", "shop.example"}, {"content-type", "application/x-www-form-urlencoded"}, {"user-agent", "Mozilla/5.0"}, {"accept", "*/*"}}
	tests := []struct {
		name     string
		req      Request
		blocked  bool
		wantRule int
		minScore int
	}{
		{"clean get", Request{Method: "GET", URI: "/search?q=red+shoes", Headers: form}, false, 0, 0},
		{"sqli query", Request{Method: "GET", URI: "/search?q=1'+OR+'1'='1", Headers: form}, true, 949110, 5},
		{"xss form", Request{Method: "POST", URI: "/comment", Headers: form, Body: []byte("text=<script>alert(1)</script>")}, true, 949110, 5},
		{"custom rule", Request{Method: "GET", URI: "/forbidden/x", Headers: form}, true, 100010, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := e.Inspect(context.Background(), &tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if v.Interrupted != tt.blocked || (tt.blocked && v.RuleID != tt.wantRule) || v.InboundScore < tt.minScore {
				t.Fatalf("verdict = %+v, want blocked=%v by %d with score >= %d", v, tt.blocked, tt.wantRule, tt.minScore)
			}
		})
	}
}
