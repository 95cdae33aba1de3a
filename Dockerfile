# syntax=docker/dockerfile:1
# logway container image: build with the full toolchain, run with production deps only.
#   docker build -t logway .
#   docker run -p 5000:5000 -e KAFKA_BROKERS=... -e INFLUX_URL=... -e DATABASE_URL=... logway

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
ENV NODE_ENV=production \
    PORT=5000
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# SQL migrations are applied by the server at start-up
COPY --from=build --chown=node:node /app/migrations ./migrations
USER node
EXPOSE 5000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||5000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/bin/server.js"]
