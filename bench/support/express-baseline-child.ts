// Child process: the webhook benchmark's baseline — an express 5 app answering a JSON POST after one
// Redis round trip, the least a webhook receiver that persists anything can do. Its ack time is kept in
// a prom-client histogram measured as the relay's is (route handler to answer, same buckets) and
// served on GET /metrics. Prints `baseline ready <port>`; exits on SIGTERM. Env: REDIS_URL.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import { Histogram, Registry } from 'prom-client';
import { WEBHOOK_ACK_BUCKETS_S } from '../../src/metrics/relay-metrics.js';

const redis = new Redis(process.env.REDIS_URL ?? '');
const registry = new Registry();
const ack = new Histogram({
  name: 'baseline_ack_latency_seconds',
  help: 'Time to answer a webhook, route handler to answer',
  buckets: WEBHOOK_ACK_BUCKETS_S,
  registers: [registry],
});
const app = express();
app.disable('x-powered-by');
app.post('/webhooks/runware/:taskUUID', express.json(), async (req, res) => {
  const started = performance.now();
  const item = (req.body as { data?: { imageUUID?: string }[] }).data?.[0];
  await redis.hset(`baseline:${req.params.taskUUID}`, item?.imageUUID ?? '', Date.now());
  res.json({ ok: true });
  ack.observe((performance.now() - started) / 1000);
});
app.get('/metrics', async (_req, res) => {
  res.set('content-type', registry.contentType).send(await registry.metrics());
});
const server = app.listen(0, '127.0.0.1', () => {
  console.log(`baseline ready ${(server.address() as AddressInfo).port}`);
});
const stop = () => {
  server.close(() => {
    redis.disconnect();
    process.exit(0);
  });
  server.closeAllConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
