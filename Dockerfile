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
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY api ./api
COPY sandbox ./sandbox
COPY scripts ./scripts

# Writable data directory for the non-root user; everything else stays root-owned and read-only.
RUN mkdir -p /app/.data && chown node:node /app/.data
ENV NODE_ENV=production
USER node

EXPOSE 3000 4010
CMD ["npx", "tsx", "api/main.ts"]
