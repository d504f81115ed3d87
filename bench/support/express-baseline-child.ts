// Child process: the webhook benchmark's baseline — an express 5 app answering a JSON POST after one
// Redis round trip, the least a webhook receiver that persists anything can do. Prints
// `baseline ready <port>`; exits on SIGTERM. Env: REDIS_URL.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';

const redis = new Redis(process.env.REDIS_URL ?? '');
const app = express();
app.disable('x-powered-by');
app.post('/webhooks/runware/:taskUUID', express.json(), async (req, res) => {
  const item = (req.body as { data?: { imageUUID?: string }[] }).data?.[0];
  await redis.hset(`baseline:${req.params.taskUUID}`, item?.imageUUID ?? '', Date.now());
  res.json({ ok: true });
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
