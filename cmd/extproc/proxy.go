package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	procv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/bulwark-waf/bulwark/cmd/extproc/app"
	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/filter"
	"github.com/bulwark-waf/bulwark/internal/envoysim"
	"github.com/bulwark-waf/bulwark/internal/proxy"
)

// runProxy plays Envoy's ext_proc filter in front of an upstream, for
// trials and HTTP test tools. Production goes through Envoy.
func runProxy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "HTTP/1.1 and h2c listen address")
	upstream := fs.String("upstream", "", "upstream base URL, e.g. http://127.0.0.1:9000 (required)")
	extProcAddr := fs.String("ext-proc-addr", "", "a running Bulwark's gRPC address; empty runs the ext_proc server in-process with the same config")
	reqMode := fs.String("processing-mode", "BUFFERED", "request_body_mode: NONE, STREAMED, BUFFERED, BUFFERED_PARTIAL or FULL_DUPLEX_STREAMED")
	respMode := fs.String("response-processing-mode", "BUFFERED", "response_body_mode, as --processing-mode")
	msgTimeout := fs.Duration("message-timeout", 2*time.Second, "Envoy's message_timeout")
	maxMsgTimeout := fs.Duration("max-message-timeout", 10*time.Second, "Envoy's max_message_timeout (honours Bulwark's slow-body override)")
	failOpen := fs.Bool("failure-mode-allow", false, "Envoy's failure_mode_allow")
	bufferLimit := fs.Int("buffer-limit", 1<<20, "Envoy's per-connection buffer limit for BUFFERED bodies")
	settings := config.AddFlags(fs, nil)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: extproc proxy --upstream URL [--listen ADDR] [--processing-mode MODE] [--ext-proc-addr ADDR] [server flags]
Plays Envoy's ext_proc filter in front of URL for trials and test tools; production goes through Envoy.
Each response carries Bulwark's dynamic metadata as JSON in `+proxy.MetadataHeader+`.`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	up, err := url.Parse(*upstream)
	if err != nil || *upstream == "" {
		fs.Usage()
		return errors.New("proxy: --upstream is required")
	}
	modes := map[string]procv3.ProcessingMode_BodySendMode{}
	for name, v := range procv3.ProcessingMode_BodySendMode_value {
		modes[name] = procv3.ProcessingMode_BodySendMode(v)
	}
	rm, ok1 := modes[strings.ToUpper(*reqMode)]
	sm, ok2 := modes[strings.ToUpper(*respMode)]
	if !ok1 || !ok2 {
		return fmt.Errorf("proxy: unknown processing mode %q or %q", *reqMode, *respMode)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	var client extprocv3.ExternalProcessorClient
	if *extProcAddr != "" {
		conn, err := grpc.NewClient(*extProcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return fmt.Errorf("proxy: --ext-proc-addr: %w", err)
		}
		defer conn.Close()
		client = extprocv3.NewExternalProcessorClient(conn)
	} else {
		loaded, err := settings.Load()
		if err != nil {
			return err
		}
		rt, err := app.Build(loaded.Config, app.Deps{Logger: logger})
		if err != nil {
			return err
		}
		audit, closer, err := app.OpenAudit(loaded.Config.AuditLog)
		if err != nil {
			return err
		}
		if closer != nil {
			defer closer.Close()
		}
		srv, err := filter.NewServer(app.FilterOptions(rt, logger, audit, filter.NewMetrics(nil)))
		if err != nil {
			return err
		}
		c, stop, err := envoysim.Loopback(srv, grpc.MaxRecvMsgSize(loaded.Config.GRPCMaxMessageBytes))
		if err != nil {
			return err
		}
		defer stop()
		client = c
	}
	trailer := procv3.ProcessingMode_SKIP
	if rm == procv3.ProcessingMode_FULL_DUPLEX_STREAMED {
		trailer = procv3.ProcessingMode_SEND
	}
	p, err := proxy.New(proxy.Options{
		Upstream: up, Client: client, Logger: logger,
		Filter: envoysim.Filter{
			Mode: &procv3.ProcessingMode{RequestHeaderMode: procv3.ProcessingMode_SEND, ResponseHeaderMode: procv3.ProcessingMode_SEND,
				RequestBodyMode: rm, ResponseBodyMode: sm, RequestTrailerMode: trailer, ResponseTrailerMode: procv3.ProcessingMode_SKIP},
			MessageTimeout: *msgTimeout, MaxMessageTimeout: *maxMsgTimeout, FailureModeAllow: *failOpen, AllowModeOverride: true,
			BufferLimit: *bufferLimit,
		},
	})
	if err != nil {
		return err
	}
	return serveHTTP(ctx, *listen, p, stdout, fmt.Sprintf("bulwark proxy on http://%%s -> %s (request body mode %s; for trials, production goes through Envoy)", up, rm))
}

// serveHTTP serves h with HTTP/1.1 and h2c on addr until ctx ends.
func serveHTTP(ctx context.Context, addr string, h http.Handler, stdout io.Writer, banner string) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: h, Protocols: &protos, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, banner+"\n", lis.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-errc:
		return err
	}
}

// runEcho is a small upstream for trials: it answers every request with a
// JSON description of what it received.
func runEcho(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:9000", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		headers := map[string]string{}
		for k := range r.Header {
			headers[strings.ToLower(k)] = r.Header.Get(k)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "uri": r.RequestURI, "host": r.Host, "headers": headers, "body": string(body)})
	})
	return serveHTTP(ctx, *listen, h, stdout, "echo upstream on http://%s")
}
