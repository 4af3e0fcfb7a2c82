# The sagaflow worker and starter, as static binaries on an empty base image.
# docker-compose.yml builds it; the image runs the worker, and
# /usr/local/bin/sagaflow-starter is the command-line client.
#
# deploy/deploy_test.go runs each `go build` line below as it is written (keep
# them one line each) and checks that the binary is static and runs --help;
# it also checks that the builder's Go version is go.mod's go line.

FROM golang:1.26.8-bookworm AS build
# Build with exactly this Go: a go.mod that asks for a newer one fails here
# instead of downloading a toolchain.
ENV GOTOOLCHAIN=local
WORKDIR /src
COPY go.mod go.sum ./
# The saga engine is a module of its own that go.mod replaces with ./saga.
COPY saga/go.mod saga/go.sum ./saga/
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/sagaflow-worker ./worker
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/sagaflow-starter ./starter

# scratch: nothing but the binaries, the CA certificates (TLS to Temporal
# Cloud or a database) and a non-root user id.
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/sagaflow-worker /out/sagaflow-starter /usr/local/bin/
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/sagaflow-worker"]
