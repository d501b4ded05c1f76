# syntax=docker/dockerfile:1
# tollgate, for running `tollgate reconcile` in a cluster (assets/deploy/).
# docker build -t ghcr.io/acme/tollgate:0.1.0 .   (BuildKit, the default builder)
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The registry and the build output live in BuildKit caches from one build to the next: a
# change to tollgate's own code rebuilds tollgate, not its ~400 dependencies. The binary
# is built without line tables and stripped (171 MB with them, 29 MB stripped).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=symbols \
    cargo build --release --locked --bin tollgate \
 && cp target/release/tollgate /usr/local/bin/tollgate

FROM debian:bookworm-slim
# kubectl renders kustomize environments (it bundles kustomize).
ARG KUBECTL_VERSION=v1.33.0
ARG TARGETARCH=amd64
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && curl -fsSLo /usr/local/bin/kubectl "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl" \
 && curl -fsSLo /tmp/kubectl.sha256 "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl.sha256" \
 && echo "$(cat /tmp/kubectl.sha256)  /usr/local/bin/kubectl" | sha256sum --check \
 && chmod +x /usr/local/bin/kubectl \
 && apt-get purge -y curl && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* /tmp/kubectl.sha256
COPY --from=build /usr/local/bin/tollgate /usr/local/bin/tollgate
USER 65532:65532
ENTRYPOINT ["tollgate"]
