import { describe, expect, it } from 'vitest';
import { RelayError } from '../../src/errors.js';
import { outputKey, parseOutputKey } from '../../src/storage/key-layout.js';
import { decodeMetadata, encodeMetadata } from '../../src/storage/object-metadata.js';

const UUID = '9f1c3a52-2b7e-4c0e-8f3a-1d2e3f4a5b6c';

describe('output key layout', () => {
  it('puts each slot of a task under the task folder with the format extension', () => {
    expect(outputKey('outputs/', UUID, 0, 'JPG')).toBe(`outputs/${UUID}/0.jpg`);
    expect(outputKey('outputs/', UUID, 3, 'PNG')).toBe(`outputs/${UUID}/3.png`);
    expect(outputKey('', UUID, 12, 'WEBP')).toBe(`${UUID}/12.webp`);
  });

  it('parses back exactly what it builds', () => {
    for (const format of ['JPG', 'PNG', 'WEBP'] as const) {
      const key = outputKey('a/b/', UUID, 7, format);
      expect(parseOutputKey('a/b/', key)).toEqual({ taskUUID: UUID, slot: 7, ext: format.toLowerCase() });
    }
  });

  it('refuses a taskUUID that would escape or split its folder, and a slot that is not a whole number', () => {
    for (const bad of ['', '../x', 'a/b', 'a.b', 'a b']) {
      expect(() => outputKey('o/', bad, 0, 'JPG')).toThrow(RelayError);
    }
    for (const slot of [-1, 1.5, Number.NaN]) {
      expect(() => outputKey('o/', UUID, slot, 'JPG')).toThrow(/slot/);
    }
  });

  it('parses keys outside the layout to null', () => {
    const cases = [
      `other/${UUID}/0.jpg`,
      `outputs/${UUID}/0.gif`,
      `outputs/${UUID}/01.jpg`,
      `outputs/${UUID}/-1.jpg`,
      `outputs/${UUID}/0.jpg.tmp`,
      `outputs/${UUID}/x/0.jpg`,
      `outputs/${UUID}.jpg`,
      'outputs/',
    ];
    for (const key of cases) expect(parseOutputKey('outputs/', key)).toBeNull();
  });
});

describe('object metadata encoding', () => {
  it('leaves printable ASCII as it is and lower-cases names as S3 does', () => {
    expect(encodeMetadata({ ImageUUID: 'abc-1', seed: '42' })).toEqual({ imageuuid: 'abc-1', seed: '42' });
  });

  it('encodes values headers cannot carry and decodes them back unchanged', () => {
    const values = ['café ☕', 'line\nbreak', ' edge ', '=?UTF-8?B?aGk=?=', ''];
    for (const v of values) {
      const enc = encodeMetadata({ v });
      expect(enc.v).toMatch(/^[\x20-\x7e]*$/);
      expect(decodeMetadata(enc)).toEqual({ v });
    }
  });

  it('refuses names that are not header tokens', () => {
    for (const name of ['with space', 'ünï', '', 'colon:']) {
      expect(() => encodeMetadata({ [name]: 'v' })).toThrow(/metadata name/);
    }
  });
});
