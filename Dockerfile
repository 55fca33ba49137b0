# syntax=docker/dockerfile:1
# Nereid's image: Node.js 20 (Debian slim), the compiled server, production dependencies only,
# onnxruntime binaries for this platform only, a non-root user. docs/deployment.md says how to
# build and run it and what was verified.
#
#   docker build -t nereid:0.1.0 .
#   docker run --rm -p 8000-8002:8000-8002 -v "$PWD/model_repository:/models:ro" nereid:0.1.0 --model-repository=/models
ARG NODE_IMAGE=node:20-bookworm-slim

# 1. Compile the TypeScript (tsc is a dev dependency).
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# onnxruntime-node's install step would download CUDA libraries from outside the npm registry.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# 2. Production dependencies only, with other platforms' onnxruntime binaries pruned.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY deploy/docker/prune-onnxruntime.sh ./
RUN sh prune-onnxruntime.sh node_modules/onnxruntime-node/bin && rm prune-onnxruntime.sh

# 3. The image: what runs, and nothing else.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
RUN groupadd --system --gid 10001 nereid \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin nereid
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json LICENSE ./
COPY model_repository ./model_repository
USER 10001:10001
# HTTP, gRPC, metrics.
EXPOSE 8000 8001 8002
# Ready once every model is loaded (Triton's /v2/health/ready); Node's fetch, no curl needed.
# Assumes the default HTTP port; Kubernetes uses its own probes (deploy/helm).
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8000/v2/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/main.js"]
CMD ["--model-repository=/app/model_repository"]
