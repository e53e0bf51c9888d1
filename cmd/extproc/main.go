// Command extproc is Bulwark: an Envoy external processor that runs the OWASP
// Core Rule Set through Coraza, plus a LightGBM attack model.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/bulwark-waf/bulwark/cmd/extproc/app"
	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/waf"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type subcommand func(ctx context.Context, args []string, stdout, stderr io.Writer) error

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	subs := map[string]subcommand{
		"version":     runVersion,
		"serve":       runServe,
		"check":       runCheck,
		"eval":        runEval,
		"features":    runFeatures,
		"learn":       runLearn,
		"settings":    runSettings,
		"modes":       runModes,
		"healthcheck": runHealthcheck,
		"proxy":       runProxy,
		"echo":        runEcho,
	}
	cmd := runServe
	if len(args) > 0 {
		if f, ok := subs[args[0]]; ok {
			cmd, args = f, args[1:]
		} else if !strings.HasPrefix(args[0], "-") {
			names := slices.Sorted(maps.Keys(subs))
			fmt.Fprintf(stderr, "extproc: unknown subcommand %q; the subcommands are: %s\n(run 'extproc --help' for the server's settings)\n", args[0], strings.Join(names, ", "))
			return 2
		}
	}
	if err := cmd(ctx, args, stdout, stderr); err != nil {
		if errors.Is(err, config.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "extproc: %v\n", err)
		return 1
	}
	return 0
}

func runVersion(_ context.Context, _ []string, stdout, _ io.Writer) error {
	_, err := fmt.Fprintf(stdout, "bulwark %s\nOWASP CRS %s\n", app.Version, waf.CRSVersion)
	return err
}

// runHealthcheck asks a running Bulwark's /readyz; the container image's
// HEALTHCHECK uses it because distroless has no shell or curl.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:9090/readyz", "readiness URL of the admin server")
	timeout := fs.Duration("timeout", 2*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", *url, resp.Status)
	}
	_, err = fmt.Fprintln(stdout, "ready")
	return err
}

// runSettings prints the table of every setting, as in the README.
func runSettings(_ context.Context, _ []string, stdout, _ io.Writer) error {
	_, err := io.WriteString(stdout, config.Markdown())
	return err
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	src := config.Source{Args: args}
	loaded, err := config.Load(src, stderr)
	if err != nil {
		return err
	}
	logger := newLogger(stderr, loaded.Config)
	if loaded.ValidateOnly {
		// The same constructor start and reload use, so whatever start
		// would refuse is refused here.
		if _, err := app.Build(loaded.Config, app.Deps{}); err != nil {
			return err
		}
		_, err := fmt.Fprintln(stdout, "config and rules are valid")
		return err
	}
	a, err := app.NewFromConfig(src, loaded, logger)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				logger.Info("SIGHUP: reloading")
				_ = a.Reload(ctx)
			}
		}
	}()
	return a.Run(ctx)
}

func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
