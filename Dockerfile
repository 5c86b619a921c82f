# wxposter: one binary, every role (producer, worker, sim, dev) as a subcommand.
#   docker build -t wxposter .
#   docker run --rm wxposter producer      (configuration: WXPOSTER_* variables, see docs/deploy.md)
# The binary links libjpeg-turbo through cgo (the fast JPEG encoder), so both
# stages are Debian 12 with the same libjpeg62-turbo.

FROM golang:1.26-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libjpeg62-turbo-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags='-s -w' -o /out/wxposter ./cmd/wxposter

FROM debian:bookworm-slim
# Fonts the renderer needs (Noto Sans CJK for text, Noto Color Emoji),
# libjpeg-turbo for the encoder, CA certificates for WeChat and S3 over HTTPS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates libjpeg62-turbo fonts-noto-cjk fonts-noto-color-emoji \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin wxposter
COPY --from=build /out/wxposter /usr/local/bin/wxposter
COPY examples/templates /usr/share/wxposter/templates
USER 10001:10001
# The producer must listen beyond loopback inside a container.
ENV WXPOSTER_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["wxposter"]
CMD ["producer"]
