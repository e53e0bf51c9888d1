package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"sync"
	"sync/atomic"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/internal/collect"
	"github.com/bulwark-waf/bulwark/internal/tlsfiles"
	"github.com/bulwark-waf/bulwark/waf"
)

// Version is set at build time with -ldflags "-X ...app.Version=v1.2.3".
var Version = "dev"

// App is one running Bulwark.
type App struct {
	src      config.Source
	logger   *slog.Logger
	audit    *slog.Logger
	auditOut io.Closer

	reg     *prometheus.Registry
	metrics *filter.Metrics
	reloads *prometheus.CounterVec
	lastOK  prometheus.Gauge
	lastTS  prometheus.Gauge

	srv      *filter.Server
	grpc     *grpc.Server
	health   *health.Server
	admin    *http.Server
	grpcLis  net.Listener
	adminLis net.Listener

	// memory and the core's metrics outlive reloads: a reload must not
	// forget recent attackers.
	memory      *inspect.Memory
	coreMetrics *inspect.Metrics
	// collect is the sample store, nil unless some policy collects.
	collect *collect.Store
	// tls is nil without grpc.tls_*; its files are reloaded on change.
	tls *tlsfiles.Server

	mu       sync.Mutex // serialises reloads
	cfg      config.Config
	path     string
	watched  []string
	ready    atomic.Bool
	draining atomic.Bool
}

// New loads the config from src, compiles the WAF and opens both listeners.
// Any error (bad setting, bad rule file, port in use) is returned before
// anything serves.
func New(src config.Source, logger *slog.Logger) (*App, error) {
	loaded, err := config.Load(src, io.Discard)
	if err != nil {
		return nil, err
	}
	return NewFromConfig(src, loaded, logger)
}

// NewFromConfig is New for a config already loaded from src.
func NewFromConfig(src config.Source, loaded config.Loaded, logger *slog.Logger) (*App, error) {
	cfg := loaded.Config
	a := &App{src: src, logger: logger, cfg: cfg, path: loaded.Path, reg: prometheus.NewRegistry()}
	audit, closer, err := OpenAudit(cfg.AuditLog)
	if err != nil {
		return nil, err
	}
	a.audit, a.auditOut = audit, closer
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.metrics = filter.NewMetrics(a.reg)
	a.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bulwark_reloads_total", Help: "Config and rule reloads by result."}, []string{"result"})
	a.lastOK = prometheus.NewGauge(prometheus.GaugeOpts{Name: "bulwark_config_last_reload_successful", Help: "1 if the last reload succeeded, 0 if the old config is still running because the new one failed."})
	a.lastTS = prometheus.NewGauge(prometheus.GaugeOpts{Name: "bulwark_config_last_reload_success_timestamp_seconds", Help: "Time of the last successful load."})
	info := prometheus.NewGauge(prometheus.GaugeOpts{Name: "bulwark_build_info", Help: "Build information.", ConstLabels: prometheus.Labels{"version": Version, "crs_version": waf.CRSVersion}})
	info.Set(1)
	a.reg.MustRegister(a.reloads, a.lastOK, a.lastTS, info)

	a.memory = inspect.NewMemory(cfg.ClientMemory.Size, cfg.ClientMemory.Window)
	a.coreMetrics = inspect.NewMetrics(a.reg)
	if collects(cfg) {
		if a.collect, err = collect.Open(collectConfig(cfg.Learn), a.reg); err != nil {
			a.closeAudit()
			return nil, err
		}
		logger.Info("sampling traffic for learning", "dir", cfg.Learn.Dir, "rate", cfg.Learn.SampleRate, "max_bytes", cfg.Learn.MaxBytes)
	}
	rt, err := Build(cfg, a.deps())
	if err != nil {
		a.closeAudit()
		return nil, err
	}
	eng := rt.Engine
	logger.Info("inspection configured", "ml_enabled", cfg.ML.Enabled, "ml_mode", string(rt.Policies.Default.Mode),
		"ml_threshold", rt.Policies.Default.MLThreshold, "model", rt.ModelSource, "fail_mode", cfg.FailMode,
		"paranoia_level", cfg.WAF.ParanoiaLevel, "custom_rule_files", len(eng.RuleFiles()), "policies", len(rt.Policies.Routes))
	a.srv, err = filter.NewServer(FilterOptions(rt, a.logger, a.audit, a.metrics))
	if err != nil {
		a.closeAudit()
		return nil, err
	}
	a.lastOK.Set(1)
	a.lastTS.SetToCurrentTime()

	gopts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(cfg.GRPCMaxMessageBytes),
		grpc.MaxConcurrentStreams(uint32(cfg.GRPCMaxConcurrentStreams)),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: cfg.GRPC.MaxConnectionIdle, MaxConnectionAge: cfg.GRPC.MaxConnectionAge,
			MaxConnectionAgeGrace: cfg.GRPC.MaxConnectionAgeGrace, Time: cfg.GRPC.KeepaliveTime, Timeout: cfg.GRPC.KeepaliveTimeout,
		}),
	}
	if files := tlsFiles(cfg); files.Enabled() {
		if a.tls, err = tlsfiles.New(files); err != nil {
			a.closeAudit()
			return nil, fmt.Errorf("grpc.tls_cert_file: %w", err)
		}
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(a.tls.Config())))
		logger.Info("ext_proc listener uses TLS", "cert", files.Cert, "mutual", files.ClientCA != "")
	}
	a.grpc = grpc.NewServer(gopts...)
	a.watched = a.watchList(a.path, cfg.Model.Path, eng)
	extprocv3.RegisterExternalProcessorServer(a.grpc, a.srv)
	a.health = health.NewServer()
	healthpb.RegisterHealthServer(a.grpc, a.health)

	if a.grpcLis, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
		a.closeAudit()
		return nil, fmt.Errorf("grpc_addr: %w", err)
	}
	if a.adminLis, err = net.Listen("tcp", cfg.AdminAddr); err != nil {
		_ = a.grpcLis.Close()
		a.closeAudit()
		return nil, fmt.Errorf("admin_addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !a.ready.Load() || a.draining.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	mux.Handle("/metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg}))
	if cfg.Admin.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	a.admin = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: cfg.Admin.ReadTimeout,
		WriteTimeout: cfg.Admin.WriteTimeout, IdleTimeout: cfg.Admin.IdleTimeout}
	return a, nil
}

// GRPCAddr and AdminAddr are the bound addresses (useful with port 0).
func (a *App) GRPCAddr() string  { return a.grpcLis.Addr().String() }
func (a *App) AdminAddr() string { return a.adminLis.Addr().String() }

// Registry exposes the metrics registry to tests.
func (a *App) Registry() *prometheus.Registry { return a.reg }

func (a *App) deps() Deps {
	return Deps{Logger: a.logger, Memory: a.memory, Metrics: a.coreMetrics, Collect: a.collect}
}

// collects reports whether the default policy or any route samples
// traffic; the store is opened once, at start.
func collects(cfg config.Config) bool {
	if cfg.Learn.Collect {
		return true
	}
	for _, p := range cfg.Policies {
		if p.Collect != nil && *p.Collect {
			return true
		}
	}
	return false
}

func collectConfig(l config.Learn) collect.Config {
	return collect.Config{Dir: l.Dir, Rate: l.SampleRate, MaxBytes: l.MaxBytes, FileBytes: l.FileBytes,
		RedactHeaders: l.RedactHeaders, RedactFields: l.RedactFields}
}

// Run serves until ctx is cancelled, then drains: /readyz and gRPC health
// turn NOT_SERVING, no new streams are accepted, and open streams get
// shutdown_timeout to finish before they are cut.
func (a *App) Run(ctx context.Context) error {
	defer a.closeAudit()
	errc := make(chan error, 2)
	go func() { errc <- a.grpc.Serve(a.grpcLis) }()
	go func() {
		if err := a.admin.Serve(a.adminLis); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
			return
		}
		errc <- nil
	}()
	a.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	a.health.SetServingStatus(extprocv3.ExternalProcessor_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	a.ready.Store(true)
	a.logger.Info("bulwark serving", "version", Version, "crs_version", waf.CRSVersion, "grpc_addr", a.GRPCAddr(), "admin_addr", a.AdminAddr(), "config", a.path)

	watchCtx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		a.watch(watchCtx)
	}()

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		a.logger.Error("server stopped", "error", runErr)
	}
	stopWatch()
	<-watchDone
	a.shutdown()
	return runErr
}

func (a *App) shutdown() {
	a.draining.Store(true)
	a.health.Shutdown()
	a.mu.Lock()
	timeout := a.cfg.ShutdownTimeout
	a.mu.Unlock()
	a.logger.Info("draining", "timeout", timeout.String())
	done := make(chan struct{})
	go func() {
		a.grpc.GracefulStop()
		close(done)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		a.logger.Warn("drain timeout; cutting open streams")
		a.grpc.Stop()
		<-done
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.admin.Shutdown(ctx)
	if err := a.collect.Close(ctx); err != nil {
		a.logger.Error("closing the sample store", "error", err)
	}
	a.logger.Info("stopped")
}

// Reload re-reads the config and rules. On any error the running config is
// kept, the error is logged and counted, and returned.
func (a *App) Reload(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	start := time.Now()
	loaded, err := config.Load(a.src, io.Discard)
	if err == nil {
		var rt *Runtime
		if rt, err = Build(loaded.Config, a.deps()); err == nil {
			if loaded.Config.GRPCAddr != a.cfg.GRPCAddr || loaded.Config.AdminAddr != a.cfg.AdminAddr ||
				loaded.Config.GRPCMaxMessageBytes != a.cfg.GRPCMaxMessageBytes || loaded.Config.AuditLog != a.cfg.AuditLog ||
				loaded.Config.GRPC != a.cfg.GRPC || loaded.Config.Admin != a.cfg.Admin {
				a.logger.Warn("listen addresses, gRPC and admin settings and audit_log change only on restart (TLS files are reloaded in place)")
			}
			err = a.srv.Update(FilterOptions(rt, a.logger, a.audit, a.metrics))
			if err == nil {
				a.cfg = loaded.Config
				a.path = loaded.Path
				a.watched = a.watchList(a.path, loaded.Config.Model.Path, rt.Engine)
			}
		}
	}
	if err != nil {
		a.reloads.WithLabelValues("error").Inc()
		a.lastOK.Set(0)
		a.logger.ErrorContext(ctx, "reload failed; keeping the running config", "error", err)
		return err
	}
	if a.tls != nil {
		if terr := a.tls.Reload(); terr != nil {
			a.reloads.WithLabelValues("error").Inc()
			a.lastOK.Set(0)
			a.logger.ErrorContext(ctx, "TLS files failed to reload; keeping the running certificate", "error", terr)
			return terr
		}
	}
	a.reloads.WithLabelValues("success").Inc()
	a.lastOK.Set(1)
	a.lastTS.SetToCurrentTime()
	a.logger.InfoContext(ctx, "reloaded", "duration", time.Since(start), "config", a.path)
	return nil
}

func (a *App) watchList(path, modelPath string, eng *waf.Engine) []string {
	var out []string
	for _, p := range []string{path, modelPath} {
		if p != "" {
			out = append(out, p)
		}
	}
	if a.tls != nil {
		out = append(out, a.tls.Paths()...)
	}
	return append(out, eng.RuleFiles()...)
}

func tlsFiles(cfg config.Config) tlsfiles.Files {
	return tlsfiles.Files{Cert: cfg.GRPC.TLSCertFile, Key: cfg.GRPC.TLSKeyFile, ClientCA: cfg.GRPC.TLSClientCAFile}
}

// OpenAudit opens the audit_log destination: stdout, stderr, off or a file.
func OpenAudit(dest string) (*slog.Logger, io.Closer, error) {
	var w io.Writer
	var c io.Closer
	switch dest {
	case "off":
		return slog.New(slog.DiscardHandler), nil, nil
	case "stdout":
		w = os.Stdout
	case "stderr":
		w = os.Stderr
	default:
		f, err := os.OpenFile(dest, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return nil, nil, fmt.Errorf("audit_log: %w", err)
		}
		w, c = f, f
	}
	return slog.New(slog.NewJSONHandler(w, nil)).With("log", "audit"), c, nil
}

func (a *App) closeAudit() {
	if a.auditOut != nil {
		_ = a.auditOut.Close()
	}
}
