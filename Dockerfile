# The bot image. Build stage: every dependency from the lockfile, TypeScript compiled to dist/ (npm run build).
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY adapters ./adapters
# The build also validates content/ and stores it parsed (dist/content-cache.json): a start then skips the YAML parser.
COPY content ./content
RUN npm run build

# Run stage: production dependencies, the compiled bot, and what it reads at run time (content/, drizzle/).
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY adapters/slack/manifest.yaml ./adapters/slack/manifest.yaml
COPY content ./content
COPY drizzle ./drizzle
# Exports, charts and (without DATABASE_URL) PGlite live under the data directory: it must belong to the runtime user.
ENV BACKCARE_DATA_DIR=/app/.backcare
RUN mkdir -p /app/.backcare && chown node:node /app/.backcare
USER node
# node itself is the container's main process (no npm or shell in between), so `docker stop`'s SIGTERM reaches
# the bot and it drains gracefully instead of being killed after the grace period.
CMD ["node", "dist/src/main.js"]
