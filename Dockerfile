# Escalator worker and HTTP shim: one image, TypeScript run by tsx (no compile step).
#   docker build -t escalator .
#   docker run escalator                          # worker (default)
#   docker run escalator client/shim/main.ts      # HTTP shim
# Configuration is environment only (worker/config.ts, client/shim/config.ts); see docker-compose.yml.

ARG NODE_VERSION=20.20.2

# ---- base: Node plus the npm that understands package.json "allowScripts" (npm >= 11.19, as in .ci/run),
# and a C/C++ toolchain for native dependencies without a prebuilt binary for this platform (node-gyp
# fallback). Build stages only: none of it reaches the runtime image.
FROM node:${NODE_VERSION}-bookworm-slim AS base
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/* \
 && npm install --global npm@11.19.1 && npm cache clean --force
WORKDIR /app
COPY package.json package-lock.json ./

# ---- deps: production dependencies only (tsx is one: the image runs TypeScript directly).
FROM base AS deps
RUN npm ci --omit=dev --ignore-scripts=false --strict-allow-scripts && npm cache clean --force

# ---- runtime
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    ESCALATOR_OUTCOMES_FILE=/var/lib/escalator/outcomes.sqlite
WORKDIR /app
# Everything under /app stays root-owned: the node user can read the code but not change it.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY client ./client
# The example policy, so the image starts on its own; deployments mount theirs and set ESCALATOR_POLICY_FILE
# (docker-compose.yml: /etc/escalator/policies). No tokens file is baked in: the shim needs one mounted.
COPY policies ./policies
# The audit volume's mount point, writable by node; then fail the build, not the first start, if a native
# module or tsx is unusable.
RUN mkdir -p /var/lib/escalator && chown node:node /var/lib/escalator \
 && node -e "require('@swc/core'); require('@temporalio/core-bridge'); new (require('better-sqlite3'))(':memory:').close()" \
 && node --import tsx -e "import('./worker/config.ts').then((m) => m.workerConfigFrom({})).then(() => import('./client/shim/config.ts'))"

USER node
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["worker/main.ts"]
