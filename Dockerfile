# kontext-relay service image: `serve --role worker|webhook|all`, or `simulator`.
FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build

FROM node:26-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund && npm rebuild sharp
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8787
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve", "--role", "all"]
