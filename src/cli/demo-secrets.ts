// Secrets for `npm start` on loopback: generated once and kept under DATA_DIR (mode 0600), so a restart
// keeps the webhook tokens already handed to the provider valid. Never used when the variable is set.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateSecret } from '../tokens/generate-secret.js';

export function persistedWebhookSecret(dataDir: string): string {
  const file = resolve(dataDir, 'webhook-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = generateSecret('WEBHOOK_SECRET');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
