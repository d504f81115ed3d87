// The hot write path: one PUT per stored output, signed with the AWS SDK's own SigV4 signer and sent over
// an undici keep-alive pool, instead of through the S3 client's per-request middleware stack. The body's
// SHA-256 (already computed for the object's metadata) is the signed payload hash, so S3 verifies every
// byte it stores against it. Everything else (head, get, list, presign, copy) stays on the SDK client.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { Agent, request } from 'undici';
import { StorageError } from '../errors.js';

/** Transient failures (network, 5xx, throttling) are tried again this many times in all. */
export const PUT_ATTEMPTS = 3;
/** Wait before the second attempt; doubled for each further one. */
export const PUT_RETRY_BASE_MS = 100;
/** Pooled keep-alive connections per S3 origin. */
export const PUT_CONNECTIONS = 64;
/** A PUT that moves no bytes for this long fails (a long but moving transfer does not). */
export const PUT_IDLE_TIMEOUT_MS = 120_000;

export interface PutTarget {
  bucket: string;
  key: string;
  body: Buffer;
  /** Hex SHA-256 of `body`: the signed payload hash. */
  sha256: string;
  contentType: string;
  /** Already encoded for S3 (object-metadata.ts): sent as `x-amz-meta-*`. */
  metadata: Record<string, string>;
}

/** S3 answered the PUT with an error status. */
export class PutRefused extends StorageError {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** The Hash/HMAC shape the SDK's signer takes, over node:crypto. */
class NodeSha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.h.digest();
  }
  reset(): void {
    throw new Error('not resettable');
  }
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(d: SourceData): string | Uint8Array {
  if (typeof d === 'string') return d;
  if (d instanceof ArrayBuffer) return new Uint8Array(d);
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

export class SignedPut {
  private readonly signer: SignatureV4;
  private readonly dispatcher: Agent;
  private readonly origin: Promise<{ base: URL; pathStyle: boolean }>;

  constructor(client: S3Client) {
    const cfg = client.config;
    this.signer = new SignatureV4({
      service: 's3',
      region: cfg.region,
      credentials: cfg.credentials,
      sha256: NodeSha256,
      uriEscapePath: false, // S3 signs the path as sent
      applyChecksum: false,
    });
    this.dispatcher = new Agent({ connections: PUT_CONNECTIONS, bodyTimeout: PUT_IDLE_TIMEOUT_MS });
    this.origin = resolveOrigin(client);
  }

  async put(t: PutTarget): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(t);
      } catch (e) {
        // Network failures and answers marked retryable are tried again; a refusal (403, 400) is not.
        const retryable = !(e instanceof StorageError) || (e instanceof PutRefused && e.retryable);
        if (!retryable || attempt >= PUT_ATTEMPTS) throw wrap(e, t.key);
        await new Promise((r) => setTimeout(r, PUT_RETRY_BASE_MS * 2 ** (attempt - 1)));
      }
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async once(t: PutTarget): Promise<void> {
    const { base, pathStyle } = await this.origin;
    const url = objectUrl(base, pathStyle, t.bucket, t.key);
    const headers: Record<string, string> = {
      host: url.host,
      'content-type': t.contentType,
      'content-length': String(t.body.length),
      'x-amz-content-sha256': t.sha256,
    };
    for (const [name, value] of Object.entries(t.metadata)) headers[`x-amz-meta-${name}`] = value;
    const signed = await this.signer.sign({
      method: 'PUT',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers,
    });
    const res = await request(url, {
      method: 'PUT',
      headers: signed.headers,
      body: t.body,
      dispatcher: this.dispatcher,
    });
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) return;
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP ${res.statusCode}`;
    const retryable = res.statusCode >= 500 || res.statusCode === 429 || code === 'SlowDown';
    throw new PutRefused(`put ${t.key} failed: ${code} (HTTP ${res.statusCode})`, retryable);
  }
}

/** The endpoint the client itself would use; AWS when none is configured. */
async function resolveOrigin(client: S3Client): Promise<{ base: URL; pathStyle: boolean }> {
  const cfg = client.config;
  const pathStyle = cfg.forcePathStyle === true;
  if (cfg.endpoint) {
    const ep = await cfg.endpoint();
    const port = ep.port ? `:${ep.port}` : '';
    return { base: new URL(`${ep.protocol}//${ep.hostname}${port}${ep.path ?? ''}`), pathStyle };
  }
  const region = await cfg.region();
  return { base: new URL(`https://s3.${region}.amazonaws.com`), pathStyle };
}

/**
 * Path style (`host/bucket/key`) when asked for or when the bucket is not a DNS label (dots break TLS
 * on virtual hosts), as the SDK does; virtual-hosted style (`bucket.host/key`) otherwise.
 */
export function objectUrl(base: URL, pathStyle: boolean, bucket: string, key: string): URL {
  const path = key.split('/').map(encodeS3).join('/');
  const prefix = base.pathname.replace(/\/$/, '');
  if (pathStyle || !/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket)) {
    return new URL(`${base.protocol}//${base.host}${prefix}/${bucket}/${path}`);
  }
  return new URL(`${base.protocol}//${bucket}.${base.host}${prefix}/${path}`);
}

/** RFC 3986 unreserved characters stay; everything else is percent-encoded, as S3's canonical URI wants. */
function encodeS3(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function wrap(e: unknown, key: string): StorageError {
  if (e instanceof StorageError) return e;
  const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new StorageError(`put ${key} failed: ${detail}`, { cause: e });
}
