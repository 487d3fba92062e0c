# The master image: `yardmaster start` (the CLI is the entrypoint). Build from the
# repository root:
#   docker build -f deploy/docker/master.Dockerfile -t REGISTRY/yardmaster-master:0.1.0 .
# Runs as uid 10001 (non-root); /var/lib/yardmaster is the basedir, /etc/yardmaster the
# config (deploy/kubernetes mounts both). Not built in CI: no Docker engine there.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/worker/package.json packages/worker/
COPY packages/testkit/package.json packages/testkit/
COPY packages/www/package.json packages/www/
COPY packages/master/package.json packages/master/
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3 msgpackr-extract
COPY packages ./packages
RUN npm run build \
 && npm prune --omit=dev \
 && rm -rf packages/*/src packages/testkit

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 yardmaster \
 && useradd --uid 10001 --gid 10001 --home-dir /var/lib/yardmaster --no-create-home yardmaster \
 && mkdir -p /var/lib/yardmaster /etc/yardmaster \
 && chown 10001:10001 /var/lib/yardmaster
WORKDIR /opt/yardmaster
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/packages ./packages
ENV NODE_ENV=production \
    YARDMASTER_BASEDIR=/var/lib/yardmaster \
    YARDMASTER_CONFIG=/etc/yardmaster/master.config.ts \
    YARDMASTER_WEB_HOST=0.0.0.0 \
    YARDMASTER_WORKER_HOST=0.0.0.0
USER 10001:10001
EXPOSE 8010 9989
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/opt/yardmaster/packages/master/bin/yardmaster.js"]
CMD ["start"]
