// The runtime gate: `npm start`, `npm test` and `npm run bench` run scripts/check-node.mjs first, and
// scripts/use-node.sh puts Node >= 22 first on PATH.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const CHECK = 'scripts/check-node.mjs';

/** Pretend to be another Node version before the check runs (process.version is read-only otherwise). */
function asVersion(version: string): string {
  const v = version.slice(1);
  return `data:text/javascript,Object.defineProperty(process,"version",{value:"${version}"});Object.defineProperty(process,"versions",{value:{...process.versions,node:"${v}"}})`;
}

describe('check-node', () => {
  it('refuses Node 20 in one line that names the required version', () => {
    const r = spawnSync(process.execPath, ['--import', asVersion('v20.20.2'), CHECK], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('needs Node.js >= 22');
    expect(r.stderr).toContain('v20.20.2');
    expect(r.stderr).toContain('source scripts/use-node.sh');
  });

  it('accepts Node 22 and the running Node', () => {
    expect(spawnSync(process.execPath, ['--import', asVersion('v22.0.0'), CHECK]).status).toBe(0);
    expect(spawnSync(process.execPath, [CHECK]).status).toBe(0);
  });

  it('the suite itself runs on Node >= 22', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22);
  });
});

describe('use-node.sh', () => {
  it('leaves a Node >= 22 on PATH as it is', () => {
    const out = execFileSync('bash', ['-c', 'source scripts/use-node.sh 2>/dev/null; command -v node'], {
      encoding: 'utf8',
    });
    expect(out.trim()).toBe(execFileSync('bash', ['-c', 'command -v node'], { encoding: 'utf8' }).trim());
  });
});
