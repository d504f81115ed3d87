// The secret policy: every published value and every short value is refused for each secret variable,
// by name; what `kontext-relay secret` prints is accepted; viewer tokens are checked one by one.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import {
  EVENTS_SECRET_MIN_BYTES,
  KNOWN_DEFAULT_SECRETS,
  SECRET_MIN_CHARS,
} from '../../src/config/secret-policy.js';
import { ConfigError } from '../../src/errors.js';
import { GENERATED_SECRETS, generateSecret } from '../../src/tokens/generate-secret.js';

const PLAIN = [
  'WEBHOOK_SECRET',
  'WEBHOOK_SECRET_PREVIOUS',
  'DASHBOARD_TOKEN',
  'DASHBOARD_VIEWER_TOKEN',
  'METRICS_TOKEN',
] as const;
const EVENTS = ['EVENTS_WEBHOOK_SECRET', 'EVENTS_WEBHOOK_SECRET_PREVIOUS'] as const;

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('secret policy', () => {
  it.each([...PLAIN, ...EVENTS])('%s: every known default is refused, naming the variable', (name) => {
    expect(KNOWN_DEFAULT_SECRETS.length).toBeGreaterThan(0);
    for (const value of KNOWN_DEFAULT_SECRETS) {
      const msg = refusal({ [name]: value });
      expect(msg.split('\n').find((l) => l.includes(`${name} is a published example value`))).toBeTruthy();
    }
  });

  it('refuses a known default whatever its case or surrounding space', () => {
    const v = KNOWN_DEFAULT_SECRETS[0]!;
    expect(refusal({ WEBHOOK_SECRET: ` ${v.toUpperCase()} ` })).toMatch(/WEBHOOK_SECRET is a published/);
  });

  it.each(PLAIN)('%s: a value shorter than the minimum is refused', (name) => {
    const short = 'x'.repeat(SECRET_MIN_CHARS - 1);
    expect(refusal({ [name]: short })).toContain(`${name} must be at least ${SECRET_MIN_CHARS} characters`);
    expect(() => loadConfig({ [name]: 'x'.repeat(SECRET_MIN_CHARS) })).not.toThrow();
  });

  it.each(EVENTS)('%s: needs whsec_ and at least the minimum of key bytes', (name) => {
    const short = `whsec_${Buffer.alloc(EVENTS_SECRET_MIN_BYTES - 1, 7).toString('base64')}`;
    expect(refusal({ [name]: short })).toContain(
      `${name} must encode at least ${EVENTS_SECRET_MIN_BYTES} bytes`,
    );
    expect(refusal({ [name]: 'x'.repeat(64) })).toContain(`${name} must start with whsec_`);
    const ok = `whsec_${Buffer.alloc(EVENTS_SECRET_MIN_BYTES, 7).toString('base64')}`;
    expect(() => loadConfig({ [name]: ok })).not.toThrow();
  });

  it('checks each comma-separated viewer token, and refuses one equal to the operator token', () => {
    const good = generateSecret('DASHBOARD_VIEWER_TOKEN');
    expect(refusal({ DASHBOARD_VIEWER_TOKEN: `${good},short` })).toMatch(
      /DASHBOARD_VIEWER_TOKEN must be at least/,
    );
    const both = loadConfig({
      DASHBOARD_VIEWER_TOKEN: `${good}, ${generateSecret('DASHBOARD_VIEWER_TOKEN')}`,
    });
    expect(both.DASHBOARD_VIEWER_TOKEN).toHaveLength(2);
    expect(refusal({ DASHBOARD_TOKEN: good, DASHBOARD_VIEWER_TOKEN: good })).toMatch(
      /DASHBOARD_VIEWER_TOKEN must not repeat DASHBOARD_TOKEN/,
    );
  });

  it('accepts every value `kontext-relay secret` generates, each one different', () => {
    const env = Object.fromEntries(GENERATED_SECRETS.map((n) => [n, generateSecret(n)]));
    const c = loadConfig(env);
    expect(c.WEBHOOK_SECRET).toBe(env.WEBHOOK_SECRET);
    expect(c.EVENTS_WEBHOOK_SECRET).toMatch(/^whsec_/);
    expect(new Set(Object.values(env)).size).toBe(GENERATED_SECRETS.length);
  });
});

describe('the CLI', () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ...env },
    });

  it('`secret` prints NAME=value lines the config accepts; `serve` refuses a known default in one line', () => {
    const printed = cli(['secret']);
    expect(printed.status).toBe(0);
    const env = Object.fromEntries(
      printed.stdout
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(Object.keys(env).sort()).toEqual([...GENERATED_SECRETS].sort());
    expect(() => loadConfig(env)).not.toThrow();

    const refused = cli(['serve', '--role', 'webhook'], { WEBHOOK_SECRET: KNOWN_DEFAULT_SECRETS[0]! });
    expect(refused.status).toBe(78);
    expect(
      refused.stderr.split('\n').filter((l) => l.includes('WEBHOOK_SECRET is a published')),
    ).toHaveLength(1);
  });
});
