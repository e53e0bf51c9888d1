package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// versionVar is the variable every build path must set: `extproc version`
// prints it and bulwark_build_info carries it.
const versionVar = "github.com/bulwark-waf/bulwark/cmd/extproc/app.Version"

// TestEveryBuildStampsTheVersion: the Makefile, the Dockerfile and
// GoReleaser all stamp the same variable, with the tag where there is one,
// and a binary built that way reports it.
func TestEveryBuildStampsTheVersion(t *testing.T) {
	t.Parallel()
	for file, want := range map[string]string{
		"Makefile":         "-X " + versionVar + "=$(VERSION)",
		"Dockerfile":       "-X " + versionVar + "=${VERSION}",
		".goreleaser.yaml": "-X " + versionVar + "={{ .Tag }}",
	} {
		b, err := os.ReadFile(filepath.Join("..", "..", file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s does not stamp the version with %q", file, want)
		}
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mk), "VERSION   ?= $(shell git describe --tags") {
		t.Error("the Makefile's VERSION no longer comes from git describe --tags: a build at a tag would not report it")
	}

	const tag = "v9.8.7-rc.1"
	bin := filepath.Join(t.TempDir(), "extproc")
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is not on PATH: %v", err)
	}
	// Only the link differs from the test build, so the compiled packages
	// come from the build cache.
	build := exec.Command(gobin, "build", "-ldflags", "-X "+versionVar+"="+tag, "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("extproc version: %v", err)
	}
	if first, _, _ := strings.Cut(string(out), "\n"); first != "bulwark "+tag {
		t.Errorf("extproc version printed %q, want %q", first, "bulwark "+tag)
	}
}
