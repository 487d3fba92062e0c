# The worker image of kubernetesLatentWorker pods (and of any worker Deployment): only
# @yardmaster/worker and @yardmaster/protocol with their runtime dependencies, plus the
# tools builds commonly need (git, ssh, curl). Build from the repository root:
#   docker build -f deploy/docker/worker.Dockerfile -t REGISTRY/yardmaster-worker:0.1.0 .
# The master sets YARDMASTER_MASTER, YARDMASTER_WORKER_NAME, YARDMASTER_WORKER_PASSWORD and
# YARDMASTER_WORKER_BASEDIR (/workspace, an emptyDir) in each pod. Runs as uid 10001.
# Add your toolchains in an image FROM this one. Not built in CI: no Docker engine there.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/worker/package.json packages/worker/
COPY packages/protocol ./packages/protocol
COPY packages/worker ./packages/worker
# Only the worker's workspace (and the protocol it links): none of the master's dependencies.
RUN npm ci --ignore-scripts --workspace @yardmaster/worker --workspace @yardmaster/protocol --include-workspace-root=false \
 && npm install --no-save --ignore-scripts typescript@~5.9.3 @types/node@^20.19.0 \
 && npx tsc -b packages/worker \
 && (npm rebuild msgpackr-extract || true) \
 && npm prune --omit=dev --workspace @yardmaster/worker \
 && rm -rf packages/*/src

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git openssh-client curl tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 yardmaster \
 && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/yardmaster yardmaster \
 && mkdir -p /workspace && chown 10001:10001 /workspace
WORKDIR /opt/yardmaster
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/packages/protocol ./packages/protocol
COPY --from=build /src/packages/worker ./packages/worker
ENV NODE_ENV=production \
    HOME=/home/yardmaster \
    YARDMASTER_WORKER_BASEDIR=/workspace
USER 10001:10001
WORKDIR /workspace
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/opt/yardmaster/packages/worker/bin/yardmaster-worker.js"]
