# syntax=docker/dockerfile:1.7
#
# Bulwark's container image: one static binary with the OWASP CRS and the
# default model compiled in (both are go:embed'ed by their Go packages, so
# the image needs no rule or model files of its own), on distroless/static
# running as nonroot. Build with `make image`.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# Dependencies first, so a source change does not re-download modules.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
# CGO off: distroless/static has no libc. -trimpath keeps build paths out of
# panics and makes builds reproducible across machines.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w -X github.com/bulwark-waf/bulwark/cmd/extproc/app.Version=${VERSION}" -o /out/extproc ./cmd/extproc

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="bulwark" \
      org.opencontainers.image.description="WAF for Envoy and Istio: ext_proc server running OWASP CRS and an ML model" \
      org.opencontainers.image.source="https://github.com/bulwark-waf/bulwark" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/extproc /usr/local/bin/extproc
# 65532 is distroless's nonroot user; numeric so runAsNonRoot can verify it.
USER 65532:65532
# ext_proc gRPC (and grpc.health.v1), then admin HTTP (/healthz, /readyz, /metrics).
EXPOSE 50051 9090
# distroless has no shell or curl, so the binary checks its own /readyz.
# Kubernetes ignores HEALTHCHECK and probes the admin port directly (see
# k8s/base/deployment.yaml); docker and compose use this.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/extproc", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/extproc"]
