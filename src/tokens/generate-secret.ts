// Fresh secrets in the formats each variable takes: 32 random bytes, base64url (43 characters) for the
// webhook secret and the tokens; a Standard Webhooks `whsec_` + base64 of 32 bytes for event signing.
import { randomBytes } from 'node:crypto';

const SECRET_BYTES = 32;

export const GENERATED_SECRETS = [
  'WEBHOOK_SECRET',
  'DASHBOARD_TOKEN',
  'DASHBOARD_VIEWER_TOKEN',
  'METRICS_TOKEN',
  'EVENTS_WEBHOOK_SECRET',
] as const;
export type GeneratedSecretName = (typeof GENERATED_SECRETS)[number];

export function generateSecret(name: GeneratedSecretName): string {
  const bytes = randomBytes(SECRET_BYTES);
  return name === 'EVENTS_WEBHOOK_SECRET' ? `whsec_${bytes.toString('base64')}` : bytes.toString('base64url');
}
