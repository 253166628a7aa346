# syntax=docker/dockerfile:1
# The sysctl-extender's production image, as deploy/scheduler-config/deployment.yaml runs it:
#
#   docker build -t ghcr.io/sysctl-extender/sysctl-extender:0.1.0 .
#
# The build stage installs every dependency and compiles the TypeScript; the final stage holds
# only dist/, the production dependencies and package.json (its "type": "module" makes node
# load dist/*.js as ES modules): no sources, tests or compiler. test/deploy/image.test.ts
# checks this file against the Deployment (entrypoint, working directory, user, version).
# Pin the base image by digest (node:24-bookworm-slim@sha256:...) for reproducible builds.

FROM node:24-bookworm-slim AS build
WORKDIR /src
# Dependencies first: a change to src/ alone reuses this layer. No dependency has an install
# script, so none is run.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="sysctl-extender" \
      org.opencontainers.image.description="kube-scheduler extender that places pods by sysctl profile and team ownership" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Numeric, so that the kubelet can enforce runAsNonRoot without looking the name up; the pod's
# securityContext (runAsUser and runAsGroup 65532) says the same. The files stay root's and
# are only read: the process writes nothing, so a read-only root filesystem is fine.
USER 65532:65532
# Exec form: node is PID 1 and gets the kubelet's SIGTERM itself (it finishes the requests in
# flight, then exits). Kubernetes args, and `docker run IMAGE ...` arguments, are the flags.
ENTRYPOINT ["node", "dist/main.js"]
