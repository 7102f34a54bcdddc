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
USER node
CMD ["npm", "start", "--silent"]
