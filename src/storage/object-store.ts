// The one place that knows the bucket: put/head/get/copy/presign/list/delete over one S3Client.
// Every SDK failure leaves as a StorageError carrying the SDK error as its cause; "not found" on head is null.
import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Config } from '../config/load-config.js';
import { StorageError } from '../errors.js';
import { decodeMetadata, encodeMetadata } from './object-metadata.js';
import { createS3Client } from './s3-client.js';
import { SignedPut } from './signed-put.js';

/** The metadata name under which put() records the SHA-256 of the body (hex). */
export const SHA256_METADATA = 'sha256';
/** S3 refuses presigned URLs valid for longer than seven days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export interface StoredObject {
  bucket: string;
  key: string;
  size: number;
  sha256: string;
  contentType: string;
}

export interface ObjectHead {
  size: number;
  contentType: string | undefined;
  metadata: Record<string, string>;
}

export class ObjectStore {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly writer: SignedPut;

  constructor(client: S3Client, bucket: string) {
    this.client = client;
    this.bucket = bucket;
    this.writer = new SignedPut(client);
  }

  /** A store that owns its client: call destroy() when done. */
  static fromConfig(cfg: Config): ObjectStore {
    return new ObjectStore(createS3Client(cfg), cfg.S3_BUCKET);
  }

  /** Create the bucket unless it exists; safe to call from many processes at once. */
  async ensureBucket(): Promise<void> {
    if (await this.bucketExists()) return;
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      if (errorName(err) === 'BucketAlreadyOwnedByYou') return;
      // Some servers (s3rver) answer BucketAlreadyExists to the owner too, e.g. after a concurrent create.
      if (errorName(err) === 'BucketAlreadyExists' && (await this.bucketExists())) return;
      throw wrap(err, `create bucket ${this.bucket}`);
    }
  }

  async put(
    key: string,
    body: Buffer,
    opts: { contentType: string; metadata?: Record<string, string> },
  ): Promise<StoredObject> {
    const sha256 = createHash('sha256').update(body).digest('hex');
    const metadata = encodeMetadata({ ...opts.metadata, [SHA256_METADATA]: sha256 });
    // Signed with the SDK's signer, sent over a keep-alive pool: the SDK's per-request stack cost more
    // CPU than the rest of storing an output (signed-put.ts).
    await this.writer.put({
      bucket: this.bucket,
      key,
      body,
      sha256,
      contentType: opts.contentType,
      metadata,
    });
    return { bucket: this.bucket, key, size: body.length, sha256, contentType: opts.contentType };
  }

  async head(key: string): Promise<ObjectHead | null> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: r.ContentLength ?? 0, contentType: r.ContentType, metadata: decodeMetadata(r.Metadata) };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw wrap(err, `head ${key}`);
    }
  }

  async get(key: string): Promise<Buffer> {
    const r = await attempt(`get ${key}`, () =>
      this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })),
    );
    if (!r.Body) throw new StorageError(`get ${key}: response has no body`);
    try {
      return Buffer.from(await r.Body.transformToByteArray());
    } catch (err) {
      throw wrap(err, `get ${key}`);
    }
  }

  /** Rewrite content type and metadata in place (a copy onto itself), e.g. after a provider's presigned PUT. */
  async replaceMetadata(
    key: string,
    opts: { contentType: string; metadata: Record<string, string> },
  ): Promise<void> {
    await attempt(`replace metadata of ${key}`, () =>
      this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: key,
          CopySource: `${this.bucket}/${encodeKeyPath(key)}`,
          MetadataDirective: 'REPLACE',
          ContentType: opts.contentType,
          Metadata: encodeMetadata(opts.metadata),
        }),
      ),
    );
  }

  /**
   * A URL the provider can PUT the output to. Content-Type is deliberately not signed: the provider's
   * PUT content type is unconfirmed (shared contract §7), and a signed one would refuse a mismatch.
   */
  async presignPut(key: string, expiresInSec: number): Promise<string> {
    return this.presign(
      `presign PUT ${key}`,
      new PutObjectCommand({ Bucket: this.bucket, Key: key }),
      expiresInSec,
    );
  }

  /** A URL to download the object; contentType overrides the stored one in the response. */
  async presignGet(key: string, expiresInSec: number, opts: { contentType?: string } = {}): Promise<string> {
    const cmd = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ...(opts.contentType ? { ResponseContentType: opts.contentType } : {}),
    });
    return this.presign(`presign GET ${key}`, cmd, expiresInSec);
  }

  /**
   * Every object under the prefix, across all pages, in key order. Pages by marker (ListObjects v1):
   * s3rver's v2 continuation tokens use DES, which OpenSSL 3 refuses, so v2 paging fails there.
   */
  async list(prefix: string, opts: { pageSize?: number } = {}): Promise<{ key: string; size: number }[]> {
    const out: { key: string; size: number }[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await attempt(`list ${prefix}`, () =>
        this.client.send(
          new ListObjectsCommand({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(opts.pageSize ? { MaxKeys: opts.pageSize } : {}),
            ...(marker !== undefined ? { Marker: marker } : {}),
          }),
        ),
      );
      const contents = page.Contents ?? [];
      for (const o of contents) if (o.Key !== undefined) out.push({ key: o.Key, size: o.Size ?? 0 });
      const last = contents.at(-1)?.Key;
      // Without a delimiter S3 omits NextMarker; the last key of the page is the marker then.
      const next = page.NextMarker ?? last;
      if (!page.IsTruncated || next === undefined || next === marker) return out;
      marker = next;
    }
  }

  /** Deleting a missing key succeeds, as in S3. */
  async delete(key: string): Promise<void> {
    await attempt(`delete ${key}`, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })),
    );
  }

  /** Close the client's sockets. Only for stores that own their client (fromConfig). */
  destroy(): void {
    this.client.destroy();
    void this.writer.close();
  }

  private async bucketExists(): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw wrap(err, `head bucket ${this.bucket}`);
    }
  }

  private async presign(
    what: string,
    command: PutObjectCommand | GetObjectCommand,
    expiresInSec: number,
  ): Promise<string> {
    if (!Number.isInteger(expiresInSec) || expiresInSec < 1 || expiresInSec > MAX_PRESIGN_SECONDS) {
      throw new StorageError(`${what}: expiry must be 1..${MAX_PRESIGN_SECONDS} s, got ${expiresInSec}`);
    }
    try {
      return await getSignedUrl(this.client, command, { expiresIn: expiresInSec });
    } catch (err) {
      throw wrap(err, what);
    }
  }
}

/** Run one SDK call, naming the operation in the StorageError that replaces any failure. */
async function attempt<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw wrap(err, what);
  }
}

function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

function isNotFound(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  const name = errorName(err);
  return status === 404 || name === 'NotFound' || name === 'NoSuchKey' || name === 'NoSuchBucket';
}

function wrap(err: unknown, what: string): StorageError {
  if (err instanceof StorageError) return err;
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new StorageError(`${what} failed: ${detail}`, { cause: err });
}

/** CopySource is a URL path: each segment is encoded, the slashes between them are not. */
function encodeKeyPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
