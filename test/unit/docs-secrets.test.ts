// No secret value shown in our docs can run a service: every value the README, docs/, the compose file
// or the Dockerfile gives a secret variable is refused by the config, and every long one is listed in
// KNOWN_DEFAULT_SECRETS (so adding a doc example without listing it fails here). The compose file will
// not start without the required secrets.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { KNOWN_DEFAULT_SECRETS, POLICED_SECRETS, SECRET_MIN_CHARS } from '../../src/config/secret-policy.js';

const DOCS = [
  'README.md',
  'BENCHMARKS.md',
  'docker-compose.yml',
  'Dockerfile',
  'src/simulator/README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
].filter((f) => existsSync(f));

const NAMES = POLICED_SECRETS.join('|');
/** `NAME=value`, `NAME: value`, `NAME: ${NAME:-default}`. */
const ASSIGNMENT = new RegExp(
  `\\b(${NAMES})\\b["'\`]?\\s*[=:]\\s*(\\$\\{[^}]*\\}|"[^"]*"|'[^']*'|[^\\s|'"\`]+)`,
  'g',
);
/** A row of the README's configuration table: | `NAME` | default | meaning | */
const TABLE_ROW = new RegExp(`^\\|\\s*\`(${NAMES})\`\\s*\\|\\s*([^|]*)\\|`, 'gm');
const WHSEC = /whsec_[A-Za-z0-9+/=]{8,}/g;

/** A value that is a placeholder or a shell expansion rather than a literal secret. */
function isPlaceholder(v: string): boolean {
  return v === '' || /^(…|\.\.\.|<.*>|\$\(.*\)|\$[A-Z_]+|—.*|-.*)$/.test(v);
}

/** The "## Configuration" section, whose table's second column is each variable's default. */
function configurationSection(text: string): string {
  const start = text.indexOf('\n## Configuration\n');
  if (start === -1) return '';
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end === -1 ? undefined : end);
}

function documentedValues(): { file: string; name: string; value: string }[] {
  const out: { file: string; name: string; value: string }[] = [];
  for (const file of DOCS) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(ASSIGNMENT)) {
      let value = m[2]!.replace(/^["']|["']$/g, '');
      const expansion = /^\$\{[A-Z_]+(:?[-?])?(.*)\}$/.exec(value);
      if (expansion) value = expansion[1]?.endsWith('-') ? (expansion[2] ?? '') : '';
      if (!isPlaceholder(value)) out.push({ file, name: m[1]!, value });
    }
    for (const m of configurationSection(text).matchAll(TABLE_ROW)) {
      const value = m[2]!.trim().replace(/^`|`$/g, '');
      if (!isPlaceholder(value)) out.push({ file, name: m[1]!, value });
    }
    for (const m of text.matchAll(WHSEC)) out.push({ file, name: 'EVENTS_WEBHOOK_SECRET', value: m[0] });
  }
  return out;
}

describe('secrets in the docs', () => {
  it('finds the files it checks, and the configuration table', () => {
    expect(DOCS).toContain('README.md');
    expect(DOCS).toContain('docker-compose.yml');
    const rows = [...configurationSection(readFileSync('README.md', 'utf8')).matchAll(TABLE_ROW)];
    expect(rows.map((m) => m[1])).toEqual(expect.arrayContaining([...POLICED_SECRETS]));
  });

  it('every secret value the docs show is refused, and every long one is a listed known default', () => {
    const found = documentedValues();
    for (const { file, name, value } of found) {
      if (value.length >= SECRET_MIN_CHARS)
        expect(KNOWN_DEFAULT_SECRETS, `${name}=${value} in ${file} is listed`).toContain(value);
      expect(() => loadConfig({ [name]: value }), `${name}=${value} in ${file} is refused`).toThrow(name);
    }
  });

  it('the scan would catch a new example value', () => {
    const sample = 'WEBHOOK_SECRET=an-example-value-someone-adds-to-the-readme-later';
    const m = [...sample.matchAll(ASSIGNMENT)];
    expect(m[0]?.[2]).toBe('an-example-value-someone-adds-to-the-readme-later');
    expect(KNOWN_DEFAULT_SECRETS).not.toContain(m[0]?.[2]);
  });

  it('docker-compose.yml requires WEBHOOK_SECRET and DASHBOARD_TOKEN (VAR:? expansion) and defaults no secret', () => {
    const compose = readFileSync('docker-compose.yml', 'utf8');
    for (const name of ['WEBHOOK_SECRET', 'DASHBOARD_TOKEN'])
      expect(compose).toMatch(new RegExp(`\\b${name}: \\$\\{${name}:\\?[^}]+\\}`));
    for (const name of POLICED_SECRETS) {
      const defaults = [...compose.matchAll(new RegExp(`\\$\\{${name}:-([^}]*)\\}`, 'g'))].map((m) => m[1]);
      for (const d of defaults) expect(d, `${name} has no compose default`).toBe('');
    }
  });
});
