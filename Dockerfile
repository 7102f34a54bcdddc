# The bot image: dependencies from the lockfile, TypeScript run by tsx (no separate build step).
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json drizzle.config.ts ./
COPY src ./src
COPY adapters ./adapters
COPY content ./content
COPY drizzle ./drizzle
# Exports, charts and (without DATABASE_URL) PGlite live under the data directory: it must belong to the runtime user.
ENV BACKCARE_DATA_DIR=/app/.backcare
RUN mkdir -p /app/.backcare && chown node:node /app/.backcare
USER node
CMD ["npm", "start", "--silent"]
