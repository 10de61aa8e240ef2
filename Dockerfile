# Multi-stage build: install production dependencies with npm ci, bundle the operator into one minified ES module
# (scripts/image/bundle.ts: rolldown erases the types and keeps only the code that is reached; about 23 MiB less RSS at
# start than the sources as JavaScript; ADR 0017, "Memory diet"), then run on a slim Node 24 image as non-root.
# @kubernetes/client-node and undici stay in node_modules (loaded only for --kubeconfig, or a proxy-url). NODE_OPTIONS
# holds scripts/image/nodeFlags.ts's V8 flags (a 1 MiB young generation: about 20 MiB less RSS; --expose-gc, for one
# full GC once the initial lists are in; ADR 0017); the entrypoint passes its IMAGE_NODE_ARGS (--optimize-for-size, not
# allowed in NODE_OPTIONS: about 65 MiB less RSS at ready and 170 MiB less at peak with 10,000 Machines; ADR 0017,
# "Memory diet").
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim AS app
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/image/bundle.ts ./scripts/image/
COPY src ./src
RUN node scripts/image/bundle.ts src/runtime/main.ts out/main.js

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
ENV NODE_OPTIONS="--max-semi-space-size=1 --expose-gc"
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=app /app/out/main.js /app/out/main.js.map ./
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node", "--optimize-for-size", "main.js"]
CMD ["run", "--leader-elect"]
