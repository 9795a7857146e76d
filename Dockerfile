# syntax=docker/dockerfile:1
# The Keywatch console's image. Build from the repository root:
#   docker build -t keywatch .
# Run (a password is required on any address but loopback, see below):
#   docker run -d -p 3000:3000 -v keywatch-data:/data \
#     -e KEYWATCH_ADMIN_PASSWORD_HASH='$argon2id$...' keywatch
#
# Listening on 0.0.0.0 inside the container makes the console reachable by
# whoever reaches the published port, so Keywatch refuses to start there
# until an admin password is set: pass its argon2 hash in
# KEYWATCH_ADMIN_PASSWORD_HASH, or set it once in the data volume with
#   docker run --rm -it -v keywatch-data:/data keywatch user set-password
#
# Browsers may reach it as localhost or by IP address; any other name it is
# reached by must be listed (DNS-rebinding defence), e.g.
#   -e KEYWATCH_ALLOWED_HOSTS=keywatch.example.internal
#
# AWS: the default credential chain. Pass AWS_* environment variables, or
# mount ~/.aws read-only at /home/keywatch/.aws and set AWS_PROFILE; with no
# credentials at all the console runs on its built-in sandbox
# (KEYWATCH_AWS=sandbox forces it).

ARG RUST_VERSION=1.95
ARG DEBIAN=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN} AS builder
# cmake and a C compiler for aws-lc-sys; npm for binaryen's wasm-opt, as
# scripts/setup.sh installs it (Debian's binaryen is older than the wasm
# features Rust now emits by default). Debian packages are not pinned: the
# base image's tag pins the release, and its security updates are wanted.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake gcc g++ make pkg-config nodejs npm \
    && rm -rf /var/lib/apt/lists/* \
    && npm install -g --no-fund --no-audit binaryen@132.0.0 \
    && rustup target add wasm32-unknown-unknown
# cargo-leptos finds wasm-bindgen and wasm-opt on PATH before it would
# download anything; wasm-bindgen's CLI must be exactly the version of the
# wasm-bindgen crate in Cargo.lock, so it is read from there.
RUN cargo install --locked cargo-leptos --version 0.3.11
WORKDIR /src
COPY Cargo.lock ./
RUN version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)" \
    && cargo install --locked wasm-bindgen-cli --version "$version"
COPY . .
# The server binary (release) and the site (wasm-release profile: LTO,
# opt-level z, wasm-opt) in one go; copied out of the cache mounts before
# the layer ends.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo leptos build --release \
    && mkdir -p /out \
    && cp target/release/keywatch /out/keywatch \
    && cp -r target/site /out/site

# debian-slim rather than distroless: the HEALTHCHECK needs an HTTP client
# (curl), and the console needs CA certificates for AWS's TLS endpoints.
FROM debian:${DEBIAN}-slim
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 keywatch \
    && useradd --system --uid 10001 --gid keywatch --home-dir /home/keywatch --create-home keywatch \
    && mkdir -p /data \
    && chown keywatch:keywatch /data
COPY --from=builder /out/keywatch /usr/local/bin/keywatch
COPY --from=builder /out/site /usr/share/keywatch/site
# Numeric, so runtimes that check for non-root (runAsNonRoot) can tell.
USER 10001:10001
# The database, the sandbox's state and the console's settings live here.
VOLUME ["/data"]
ENV KEYWATCH_LISTEN=0.0.0.0:3000 \
    KEYWATCH_DATA_DIR=/data \
    LEPTOS_SITE_ROOT=/usr/share/keywatch/site \
    KEYWATCH_LOG_FORMAT=json \
    RUST_LOG=info
EXPOSE 3000
# /healthz answers 503 when the database does not (200 "degraded" while AWS
# throttles a poller: restarting would not help).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:3000/healthz"]
# Exec form: keywatch is PID 1 and gets `docker stop`'s SIGTERM; it stops
# accepting, finishes in-flight requests (4 s at most) and the pollers'
# rounds (5 s at most), inside Docker's 10 s before SIGKILL.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/keywatch"]
CMD ["serve"]
