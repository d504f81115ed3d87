// Every generated image, kept as (shared base, imageUUID) so thousands of results cost bytes, not
// megabytes; the exact bytes are reassembled on demand. `ttl` only limits serving over HTTP.
import { assembleImage, type ImageSpec } from './render-image.js';

interface StoredImage {
  base: Buffer;
  spec: ImageSpec;
  /** ms since epoch after which GET /image answers 404; undefined keeps it forever. */
  expiresAt: number | undefined;
}

export class ImageStore {
  private readonly images = new Map<string, StoredImage>();

  constructor(private readonly clock: () => number) {}

  add(imageUUID: string, base: Buffer, spec: ImageSpec, ttlSeconds: number | undefined): void {
    const expiresAt = ttlSeconds === undefined ? undefined : this.clock() + ttlSeconds * 1000;
    this.images.set(imageUUID, { base, spec, expiresAt });
  }

  /** The exact bytes generated, whether or not the ttl has passed. */
  bytes(imageUUID: string): Buffer | undefined {
    const img = this.images.get(imageUUID);
    return img && assembleImage(img.base, img.spec, imageUUID);
  }

  /** What GET /image serves: nothing once the ttl has passed, unless `honourTtl` is false. */
  serve(imageUUID: string, honourTtl = true): { bytes: Buffer; spec: ImageSpec } | undefined {
    const img = this.images.get(imageUUID);
    if (!img) return undefined;
    if (honourTtl && img.expiresAt !== undefined && this.clock() >= img.expiresAt) return undefined;
    return { bytes: assembleImage(img.base, img.spec, imageUUID), spec: img.spec };
  }
}
