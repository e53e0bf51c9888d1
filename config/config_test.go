package config

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func noEnv(string) (string, bool) { return "", false }

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadPrecedence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(Config) bool
	}{
		{"defaults", nil, nil, func(c Config) bool {
			return c.GRPCAddr == ":50051" && c.AdminAddr == ":9090" && c.FailMode == "closed" && c.WAF.ParanoiaLevel == 1
		}},
		{"file", []string{"--config", "testdata/full.yaml"}, nil, func(c Config) bool {
			return c.GRPCAddr == ":6000" && c.FailMode == "open" && c.ShutdownTimeout == 3*time.Second &&
				c.UpstreamHeaders.Enabled && c.WAF.Engine == "DetectionOnly" && c.WAF.ParanoiaLevel == 2 &&
				len(c.WAF.RulesFiles) == 1 && c.WAF.InboundAnomalyThreshold == 5
		}},
		{"env over file", []string{"--config", "testdata/full.yaml"}, map[string]string{"BULWARK_WAF_PARANOIA_LEVEL": "3", "BULWARK_FAIL_MODE": "closed"},
			func(c Config) bool {
				return c.WAF.ParanoiaLevel == 3 && c.FailMode == "closed" && c.GRPCAddr == ":6000"
			}},
		{"flag over env", []string{"--waf-paranoia-level", "4"}, map[string]string{"BULWARK_WAF_PARANOIA_LEVEL": "3"},
			func(c Config) bool { return c.WAF.ParanoiaLevel == 4 }},
		{"config from env", nil, map[string]string{"BULWARK_CONFIG": "testdata/full.yaml"}, func(c Config) bool { return c.GRPCAddr == ":6000" }},
		{"list flag", []string{"--waf-rules-files", "a.conf, b/*.conf"}, nil, func(c Config) bool {
			return len(c.WAF.RulesFiles) == 2 && c.WAF.RulesFiles[1] == "b/*.conf"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := Load(Source{Args: tt.args, Env: env(tt.env)}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(l.Config) {
				t.Fatalf("unexpected config %+v", l.Config)
			}
		})
	}
}

func TestLoadErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown yaml key with line", []string{"--config", "testdata/typo.yaml"}, nil, "typo.yaml:4: unknown key waf.paranoia_levle"},
		{"missing file", []string{"--config", "testdata/none.yaml"}, nil, "none.yaml"},
		{"bad env value", nil, map[string]string{"BULWARK_TRUSTED_HOPS": "two"}, "trusted_hops (from BULWARK_TRUSTED_HOPS)"},
		{"bad flag value", []string{"--shutdown-timeout", "soon"}, nil, "shutdown_timeout (from --shutdown-timeout)"},
		{"invalid fail mode", []string{"--fail-mode", "maybe"}, nil, "fail_mode:"},
		{"invalid waf", []string{"--waf-paranoia-level", "7"}, nil, "waf.paranoia_level:"},
		{"invalid status", []string{"--block-status", "100"}, nil, "block.status:"},
		{"bad address", []string{"--grpc-addr", "50051"}, nil, "grpc_addr:"},
		{"bad body mode", []string{"--assumed-request-body-mode", "CHUNKED"}, nil, "assumed_request_body_mode:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(Source{Args: tt.args, Env: env(tt.env)}, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to mention %q", err, tt.want)
			}
			if tt.name != "bad address" && !errors.Is(err, ErrInvalid) && !strings.Contains(err.Error(), "waf") {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestHelpDocumentsEverySetting(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	_, err := Load(Source{Args: []string{"--help"}, Env: noEnv}, &b)
	if !errors.Is(err, ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	for _, s := range Settings() {
		if !strings.Contains(b.String(), "--"+s.Flag()) || !strings.Contains(b.String(), s.Env()) {
			t.Fatalf("--help does not document %s", s.Key)
		}
	}
}

// The README's settings table is generated (`make settings-doc`); this keeps
// it from drifting from the code.
func TestReadmeListsEverySetting(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), Markdown()) {
		t.Fatal("README.md's settings table is out of date: paste the output of `make settings-doc`")
	}
}

// Every setting round-trips through its flag, so none is documented but dead.
func TestEverySettingIsSettable(t *testing.T) {
	t.Parallel()
	for _, s := range Settings() {
		c := Default()
		if err := s.Set(&c, s.Get(&c)); err != nil {
			t.Errorf("%s: setting its own default: %v", s.Key, err)
		}
	}
}
