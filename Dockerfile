# kube-rbac-extauthz: Node.js runs the TypeScript sources directly (type stripping), so the image
# is the sources, the protos and the production dependencies on a distroless Node.js 24.
#
#   docker build -t ghcr.io/example/kube-rbac-extauthz:0.1.0 .
#
# Base images are pinned: the build stage by its exact version tag, the runtime stage by digest
# (distroless publishes no version tags; update the digest with e.g. `crane digest
# gcr.io/distroless/nodejs24-debian12:nonroot`, or let Renovate do it).

# --- build: production dependencies only, from the lockfile ---------------------------------
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: no runtime dependency needs one.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime: no shell, no package manager, uid 65532 -----------------------------------------
FROM gcr.io/distroless/nodejs24-debian12:nonroot@sha256:14d42e2511532589a7c7e01a753667a74fcc96266e137e8125006b87b0c32d0a
WORKDIR /app
ENV NODE_ENV=production
# Owned by root, read-only to the service: it cannot change its own code.
COPY --from=build /app/node_modules ./node_modules
# package.json: "type": "module" makes Node read src/*.ts as ES modules.
COPY package.json ./
COPY proto ./proto
COPY src ./src
USER 65532:65532
# grpc (Check, health, reflection), http (the HTTP mode, when --http-address is set), metrics.
EXPOSE 9000 8080 9090
# Distroless Node.js images keep node at /nodejs/bin/node. Arguments are the flags:
#   docker run IMAGE --kubeconfig=/kubeconfig --log-level=debug
ENTRYPOINT ["/nodejs/bin/node", "src/main.ts"]
