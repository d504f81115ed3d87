// Builds the one S3Client the relay uses. Checksums are computed only when an operation requires them,
// because s3rver and several MinIO-compatible servers corrupt the aws-chunked bodies the SDK sends otherwise.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config/load-config.js';

/** Enough pooled sockets for a busy worker; the SDK default (50) queues uploads under load. */
export const S3_MAX_SOCKETS = 256;
/** Fail fast when the endpoint is down rather than hanging a job. */
export const S3_CONNECT_TIMEOUT_MS = 5_000;
/** Socket idle limit: a stalled transfer is an error, a long but moving one is not. */
export const S3_SOCKET_IDLE_TIMEOUT_MS = 120_000;

export type S3ClientConfig = Pick<
  Config,
  'S3_ENDPOINT' | 'S3_REGION' | 'S3_FORCE_PATH_STYLE' | 'AWS_ACCESS_KEY_ID' | 'AWS_SECRET_ACCESS_KEY'
>;

export function createS3Client(cfg: S3ClientConfig): S3Client {
  const agentOptions = { keepAlive: true, maxSockets: S3_MAX_SOCKETS };
  return new S3Client({
    region: cfg.S3_REGION,
    forcePathStyle: cfg.S3_FORCE_PATH_STYLE,
    ...(cfg.S3_ENDPOINT ? { endpoint: cfg.S3_ENDPOINT } : {}),
    // Without explicit keys the SDK's default chain (env, profile, instance role) applies.
    ...(cfg.AWS_ACCESS_KEY_ID && cfg.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: cfg.AWS_ACCESS_KEY_ID,
            secretAccessKey: cfg.AWS_SECRET_ACCESS_KEY,
          },
        }
      : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Options, not an instance: the SDK builds its NodeHttpHandler from them, so we need not import
    // @smithy/node-http-handler, which is not a direct dependency.
    requestHandler: {
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
      connectionTimeout: S3_CONNECT_TIMEOUT_MS,
      socketTimeout: S3_SOCKET_IDLE_TIMEOUT_MS,
    },
  });
}
