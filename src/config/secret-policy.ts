// Which values a secret may not have: anything printed in our README, compose file or docs (a stack
// started as documented must not run on a secret anyone can read), and anything too short to guess-proof.
// test/unit/docs-secrets.test.ts scans the docs and fails when a documented value is missing here.

/** At least 32 characters: `openssl rand -hex 16`, or the 43 that `kontext-relay secret` prints. */
export const SECRET_MIN_CHARS = 32;
/** Standard Webhooks secrets are 24 to 64 random bytes after `whsec_`. */
export const EVENTS_SECRET_MIN_BYTES = 24;

/** Every secret-like value that appears (or appeared) in the repository's documentation. */
export const KNOWN_DEFAULT_SECRETS: readonly string[] = Object.freeze([
  // docker-compose.yml's former defaults
  'change-me-to-a-long-random-secret',
  'change-me-dashboard-token',
  // the Standard Webhooks specification's example secret, copied into many receivers' docs
  'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
]);

/** The variables this policy applies to. */
export const POLICED_SECRETS = [
  'WEBHOOK_SECRET',
  'WEBHOOK_SECRET_PREVIOUS',
  'DASHBOARD_TOKEN',
  'DASHBOARD_VIEWER_TOKEN',
  'METRICS_TOKEN',
  'EVENTS_WEBHOOK_SECRET',
  'EVENTS_WEBHOOK_SECRET_PREVIOUS',
] as const;

const KNOWN = new Set(KNOWN_DEFAULT_SECRETS.map((s) => s.toLowerCase()));

/** Why `value` may not be a shared secret or token, or undefined when it may. */
export function secretProblem(value: string): string | undefined {
  if (KNOWN.has(value.trim().toLowerCase()))
    return 'is a published example value (README / docker-compose.yml): generate one with `kontext-relay secret`';
  if (value.length < SECRET_MIN_CHARS)
    return `must be at least ${SECRET_MIN_CHARS} characters: generate one with \`kontext-relay secret\``;
  return undefined;
}

/** The same for a Standard Webhooks `whsec_…` secret: known values, prefix, and decoded key length. */
export function eventsSecretProblem(value: string): string | undefined {
  if (KNOWN.has(value.trim().toLowerCase()))
    return 'is a published example value (README / docker-compose.yml): generate one with `kontext-relay secret`';
  if (!value.startsWith('whsec_')) return 'must start with whsec_ (a Standard Webhooks secret)';
  const key = value.slice('whsec_'.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) return 'must be whsec_ followed by base64';
  if (Buffer.from(key, 'base64').length < EVENTS_SECRET_MIN_BYTES)
    return `must encode at least ${EVENTS_SECRET_MIN_BYTES} bytes after whsec_: generate one with \`kontext-relay secret\``;
  return undefined;
}

/** Why --callback (and EVENTS_WEBHOOK_URL) are refused without EVENTS_WEBHOOK_SECRET. */
export const CALLBACK_NEEDS_SECRET =
  '--callback needs EVENTS_WEBHOOK_SECRET: completion events are signed with it, and without it the service never calls a callback URL (make one with: kontext-relay secret EVENTS_WEBHOOK_SECRET)';
export const EVENTS_URL_NEEDS_SECRET =
  'EVENTS_WEBHOOK_URL is set but EVENTS_WEBHOOK_SECRET is not: completion events are signed with it, and none would be sent (make one with: kontext-relay secret EVENTS_WEBHOOK_SECRET)';
