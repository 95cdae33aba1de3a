# syntax=docker/dockerfile:1
# logway container image: build with the full toolchain, run with production deps only.
#   docker build -t logway:0.1.0 .     (the tag deploy/kubernetes runs: package.json's version)
#   docker run -p 5000:5000 -e API_KEYS=... -e SESSION_SECRET=... -e KAFKA_BROKERS=... -e INFLUX_URL=... -e DATABASE_URL=... logway
# NODE_ENV=production below: the container refuses to start without real API_KEYS and
# SESSION_SECRET (README "Production configuration"); docker-compose.yml runs it in development.

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
# The node image's "node" user, by number: Kubernetes' runAsNonRoot can only verify a numeric
# user (deploy/kubernetes/deployment.yaml runs it as 1000 with a read-only root filesystem).
USER 1000:1000
EXPOSE 5000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||5000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/bin/server.js"]
