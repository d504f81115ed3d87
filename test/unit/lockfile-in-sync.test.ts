// `npm install` on a fresh clone leaves package-lock.json unchanged (checked by hand: clone, install,
// `git status` clean). What makes npm rewrite the lock is a root entry that no longer matches
// package.json; this keeps the two in step without a network install in the suite.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as Record<string, unknown>;
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
  name: string;
  version: string;
  lockfileVersion: number;
  packages: Record<string, Record<string, unknown> & { version?: string }>;
};

describe('package-lock.json', () => {
  it('its root entry matches package.json', () => {
    const root = lock.packages['']!;
    expect(lock.name).toBe(pkg.name);
    expect(lock.version).toBe(pkg.version);
    expect(lock.lockfileVersion).toBe(3);
    for (const field of ['name', 'version', 'license', 'bin', 'engines', 'dependencies', 'devDependencies'])
      expect(root[field], field).toEqual(pkg[field]);
    for (const field of ['optionalDependencies', 'peerDependencies'])
      expect(root[field], field).toEqual(pkg[field]);
  });

  it('locks every direct dependency at a version', () => {
    const direct = {
      ...(pkg.dependencies as Record<string, string>),
      ...(pkg.devDependencies as Record<string, string>),
    };
    for (const name of Object.keys(direct))
      expect(lock.packages[`node_modules/${name}`]?.version, name).toBeTruthy();
  });
});
