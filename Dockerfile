# Linkflow image: worker, API and sandbox (see docker-compose.yml for how each is started).
# TypeScript runs with tsx (no build step), which is a devDependency, so all dependencies are
# installed with a plain `npm ci`.
FROM node:20-slim

WORKDIR /app

# Dependencies first, so source edits do not re-run npm ci.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm cache clean --force

# Sources listed explicitly (no .dockerignore needed: the host's node_modules and .data stay out).
COPY tsconfig.json config.ts logger.ts ./
COPY app ./app
COPY contract ./contract
COPY workflows ./workflows
COPY activities ./activities
COPY providers ./providers
COPY store ./store
COPY domain ./domain
COPY worker ./worker
COPY api ./api
COPY sandbox ./sandbox
COPY scripts ./scripts

# Writable data directory for the non-root user; everything else stays root-owned and read-only.
RUN mkdir -p /app/.data && chown node:node /app/.data
ENV NODE_ENV=production
USER node

EXPOSE 3000 4010
# tsx as a loader in the one process, not its CLI: the CLI relays SIGTERM to a child it SIGKILLs
# when that child is busy for more than a few ms, cutting the graceful stop short.
CMD ["node", "--import", "tsx", "api/main.ts"]
