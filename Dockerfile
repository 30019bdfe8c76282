# syntax=docker/dockerfile:1
# Switchboard's container image: `switchboard serve` listening on 0.0.0.0:8080 as a non-root user.
# Build: docker build -t switchboard .   Run one node: docker run -p 8080:8080 -v switchboard-data:/data switchboard
# Fleet: see compose.yaml and the README's "Running a fleet".

FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles itself where no prebuilt binary fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# The web pages render the README and its screenshots (docs/).
COPY tsconfig.json tsconfig.build.json README.md ./
COPY src src
COPY web web
COPY docs docs
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    SWITCHBOARD_HOST=0.0.0.0 \
    SWITCHBOARD_PORT=8080 \
    SWITCHBOARD_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
# The data directory: the SQLite database, local blobs and the generated admin token (none of
# which a fleet on PostgreSQL and S3 keeps there). The image's own user owns it.
RUN mkdir /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.SWITCHBOARD_PORT}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `docker run IMAGE` serves; `docker run IMAGE admin-token rotate` (or any other command) runs the CLI.
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["serve"]
