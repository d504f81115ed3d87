// ObjectStore against the run's real embedded S3 server (s3rver): one bucket for this file, one prefix per test.
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { StorageError } from '../../src/errors.js';
import { ObjectStore } from '../../src/storage/object-store.js';
import { createS3Client } from '../../src/storage/s3-client.js';
import { testS3Endpoint, uniqueId } from '../helpers/env.js';

const bucket = `storage-${uniqueId()}`;
let store: ObjectStore;

function client() {
  return createS3Client({
    S3_ENDPOINT: testS3Endpoint(),
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: true,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  });
}

const sha256 = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  store = new ObjectStore(client(), bucket);
  await store.ensureBucket();
});

afterAll(async () => {
  for (const o of await store.list('')) await store.delete(o.key);
  store.destroy();
});

describe('ObjectStore on a real S3-protocol server', () => {
  it('creating the bucket again, even from another client at the same time, succeeds', async () => {
    const other = new ObjectStore(client(), bucket);
    await Promise.all([store.ensureBucket(), other.ensureBucket(), store.ensureBucket()]);
    other.destroy();
  });

  it('put stores the bytes exactly and reports their sha256, which head and get agree with', async () => {
    const key = `${uniqueId('p')}/0.jpg`;
    const body = randomBytes(300_000);
    const stored = await store.put(key, body, { contentType: 'image/jpeg', metadata: { imageuuid: 'abc' } });
    expect(stored).toEqual({
      bucket,
      key,
      size: body.length,
      sha256: sha256(body),
      contentType: 'image/jpeg',
    });

    const head = await store.head(key);
    expect(head).toEqual({
      size: body.length,
      contentType: 'image/jpeg',
      metadata: { imageuuid: 'abc', sha256: sha256(body) },
    });
    const back = await store.get(key);
    expect(sha256(back)).toBe(sha256(body));
    expect(back.equals(body)).toBe(true);
  });

  it('metadata values that are not plain ASCII survive the round trip', async () => {
    const key = `${uniqueId('m')}/0.png`;
    const metadata = { prompt: 'un café ☕ « Kontext »', padded: '  spaced  ', 'Mixed-Case': 'ok' };
    await store.put(key, Buffer.from('x'), { contentType: 'image/png', metadata });
    const head = await store.head(key);
    expect(head?.metadata).toMatchObject({
      prompt: metadata.prompt,
      padded: '  spaced  ',
      'mixed-case': 'ok',
    });
  });

  it('a metadata name that is not a header token is refused with a StorageError', async () => {
    await expect(
      store.put(`${uniqueId('bad')}/0.png`, Buffer.from('x'), {
        contentType: 'image/png',
        metadata: { 'no spaces': 'v' },
      }),
    ).rejects.toBeInstanceOf(StorageError);
  });

  it('head of a missing key is null, get of a missing key is a StorageError with the SDK cause', async () => {
    const key = `${uniqueId('none')}/0.jpg`;
    expect(await store.head(key)).toBeNull();
    const err = await store.get(key).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('STORAGE_FAILED');
    expect((err as StorageError).cause).toBeInstanceOf(Error);
  });

  it('a presigned PUT accepts a content type that was not signed, and replaceMetadata then rewrites it', async () => {
    const key = `${uniqueId('u')}/0.jpg`;
    const body = randomBytes(50_000);
    const url = await store.presignPut(key, 300);
    expect(url).not.toMatch(/content-type/i);
    const res = await request(url, { method: 'PUT', body, headers: { 'content-type': 'image/jpeg' } });
    await res.body.dump();
    expect(res.statusCode).toBe(200);

    expect(await store.head(key)).toMatchObject({ size: body.length, contentType: 'image/jpeg' });

    await store.replaceMetadata(key, {
      contentType: 'image/webp',
      metadata: { sha256: sha256(body), imageuuid: 'é-1' },
    });
    expect(await store.head(key)).toEqual({
      size: body.length,
      contentType: 'image/webp',
      metadata: { sha256: sha256(body), imageuuid: 'é-1' },
    });
    expect((await store.get(key)).equals(body)).toBe(true);
  });

  it('replaceMetadata works on keys that need URL encoding', async () => {
    // s3rver decodes the copy source with decodeURI, so '+' and '%' would not survive there; S3 itself is fine.
    const key = `${uniqueId('enc')}/a b/é/0.png`;
    await store.put(key, Buffer.from('png'), { contentType: 'application/octet-stream' });
    await store.replaceMetadata(key, { contentType: 'image/png', metadata: { slot: '0' } });
    expect(await store.head(key)).toMatchObject({ contentType: 'image/png', metadata: { slot: '0' } });
  });

  it('a presigned GET downloads the bytes, with the content type override when asked', async () => {
    const key = `${uniqueId('g')}/0.png`;
    const body = randomBytes(10_000);
    await store.put(key, body, { contentType: 'application/octet-stream' });
    const res = await request(await store.presignGet(key, 60, { contentType: 'image/png' }));
    const got = Buffer.from(await res.body.arrayBuffer());
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(got.equals(body)).toBe(true);
  });

  it('presigning with an expiry S3 would refuse is a StorageError', async () => {
    await expect(store.presignGet('k', 0)).rejects.toBeInstanceOf(StorageError);
    await expect(store.presignPut('k', 8 * 24 * 3600)).rejects.toBeInstanceOf(StorageError);
  });

  it('list returns every key under the prefix across several pages, and nothing outside it', async () => {
    const prefix = `${uniqueId('l')}/`;
    const keys = Array.from({ length: 7 }, (_, i) => `${prefix}${i}.jpg`);
    await Promise.all(keys.map((k, i) => store.put(k, Buffer.alloc(i + 1), { contentType: 'image/jpeg' })));
    await store.put(`${prefix.slice(0, -1)}x/0.jpg`, Buffer.from('other'), { contentType: 'image/jpeg' });

    const listed = await store.list(prefix, { pageSize: 2 });
    expect(listed).toEqual(keys.map((key, i) => ({ key, size: i + 1 })));
  });

  it('delete removes the object and deleting it again succeeds', async () => {
    const key = `${uniqueId('d')}/0.jpg`;
    await store.put(key, Buffer.from('bye'), { contentType: 'image/jpeg' });
    await store.delete(key);
    expect(await store.head(key)).toBeNull();
    await store.delete(key);
  });

  it('fromConfig targets the configured endpoint and bucket', async () => {
    const cfg = loadConfig({
      S3_ENDPOINT: testS3Endpoint(),
      S3_BUCKET: `cfg-${uniqueId()}`,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    });
    const fromCfg = ObjectStore.fromConfig(cfg);
    try {
      expect(fromCfg.bucket).toBe(cfg.S3_BUCKET);
      await fromCfg.ensureBucket();
      await fromCfg.put('k/0.jpg', Buffer.from('x'), { contentType: 'image/jpeg' });
      expect(await fromCfg.list('k/')).toEqual([{ key: 'k/0.jpg', size: 1 }]);
      await fromCfg.delete('k/0.jpg');
    } finally {
      fromCfg.destroy();
    }
  });

  it('an unreachable endpoint fails with a StorageError rather than hanging', async () => {
    const dead = new ObjectStore(
      createS3Client({
        S3_ENDPOINT: 'http://127.0.0.1:1',
        S3_REGION: 'us-east-1',
        S3_FORCE_PATH_STYLE: true,
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'y',
      }),
      bucket,
    );
    try {
      await expect(dead.put('k', Buffer.from('x'), { contentType: 'text/plain' })).rejects.toBeInstanceOf(
        StorageError,
      );
    } finally {
      dead.destroy();
    }
  });
});
