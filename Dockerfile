# Builds the `orchestore` server. Used by compose.yaml.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# Only the server: the migration crate's own command line stays out of the image.
RUN cargo build --release --locked -p orchestore-server --bin orchestore

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/orchestore --create-home orchestore
COPY --from=build /src/target/release/orchestore /usr/local/bin/orchestore
USER orchestore
WORKDIR /var/lib/orchestore
ENV ORCHESTORE__SERVER__HOST=0.0.0.0
EXPOSE 8080
ENTRYPOINT ["orchestore"]
CMD ["serve"]
