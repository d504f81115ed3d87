// The signed PUT (the SDK's SigV4 signer over an undici pool) against the run's real S3-protocol server:
// keys that need encoding arrive under their exact names, and a refusal is a typed error that is not
// retried. (s3rver checks the access key but not V4 signatures; the signature is the SDK's own signer's.)
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageError } from '../../src/errors.js';
import { ObjectStore } from '../../src/storage/object-store.js';
import { createS3Client } from '../../src/storage/s3-client.js';
import { objectUrl, PutRefused, SignedPut } from '../../src/storage/signed-put.js';
import { testS3Endpoint, uniqueId } from '../helpers/env.js';

const bucket = `signed-${uniqueId()}`;
let store: ObjectStore;

function client(accessKeyId = 'S3RVER') {
  return createS3Client({
    S3_ENDPOINT: testS3Endpoint(),
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: true,
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  });
}
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  store = new ObjectStore(client(), bucket);
  await store.ensureBucket();
});
afterAll(() => store.destroy());

describe('signed PUT on a real S3-protocol server', () => {
  it.each([
    'plain/0.png',
    'with space/and+plus/0.png',
    "odd!'()*chars/0.png",
    'ünïcödé/日本/0.png',
    'tilde~dash-under_dot./0.png',
  ])('key %j is stored under its exact name, byte for byte', async (name) => {
    const key = `${uniqueId('k')}/${name}`;
    const body = randomBytes(20_000);
    await store.put(key, body, { contentType: 'image/png', metadata: { slot: '0' } });
    expect((await store.get(key)).equals(body)).toBe(true);
    expect((await store.list(key.split('/')[0]!)).map((o) => o.key)).toEqual([key]);
  });

  it('an unknown access key is refused as a StorageError, and not retried', async () => {
    const bad = new SignedPut(client('NOT-A-KEY'));
    const body = randomBytes(100);
    const err = await bad
      .put({
        bucket,
        key: 'refused/0.png',
        body,
        sha256: sha256(body),
        contentType: 'image/png',
        metadata: {},
      })
      .catch((e: unknown) => e);
    await bad.close();
    expect(err).toBeInstanceOf(PutRefused);
    expect((err as PutRefused).retryable).toBe(false);
    expect((err as StorageError).message).toMatch(/HTTP 403/);
    expect(await store.head('refused/0.png')).toBeNull();
  });
});

describe('objectUrl', () => {
  const base = new URL('https://s3.eu-west-1.amazonaws.com');
  it('uses the virtual-hosted style for DNS-safe buckets unless path style is forced', () => {
    expect(objectUrl(base, false, 'my-bucket', 'a b/0.png').href).toBe(
      'https://my-bucket.s3.eu-west-1.amazonaws.com/a%20b/0.png',
    );
    expect(objectUrl(base, true, 'my-bucket', 'a/0.png').href).toBe(
      'https://s3.eu-west-1.amazonaws.com/my-bucket/a/0.png',
    );
  });
  it('falls back to path style for bucket names with dots', () => {
    expect(objectUrl(base, false, 'my.bucket', 'k').href).toBe(
      'https://s3.eu-west-1.amazonaws.com/my.bucket/k',
    );
  });
  it('keeps an endpoint path prefix', () => {
    expect(objectUrl(new URL('http://127.0.0.1:9000/s3/'), true, 'b', "it's").href).toBe(
      'http://127.0.0.1:9000/s3/b/it%27s',
    );
  });
});
