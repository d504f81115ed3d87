// Thumbnails of stored outputs: resized once with sharp to WEBP and kept in a byte-bounded LRU keyed by
// the object key (outputs are immutable per key). Concurrent requests for one key share one render.
import sharp from 'sharp';

export const THUMB_WIDTH = 256;
export const THUMB_QUALITY = 72;
export const THUMB_CACHE_BYTES = 32 * 1024 * 1024;
export const THUMB_CONTENT_TYPE = 'image/webp';

export class ThumbnailCache {
  private readonly entries = new Map<string, Buffer>();
  private readonly pending = new Map<string, Promise<Buffer>>();
  private bytes = 0;

  constructor(private readonly maxBytes = THUMB_CACHE_BYTES) {}

  /** The thumbnail of `key`, rendering it from `load()` on a miss. */
  async get(key: string, load: () => Promise<Buffer>): Promise<Buffer> {
    const hit = this.entries.get(key);
    if (hit) {
      // Re-insert to mark it most recently used (Map keeps insertion order).
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const render = load()
      .then((original) => renderThumbnail(original))
      .then((thumb) => {
        this.remember(key, thumb);
        return thumb;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, render);
    return render;
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  private remember(key: string, thumb: Buffer): void {
    if (thumb.length > this.maxBytes) return;
    this.entries.set(key, thumb);
    this.bytes += thumb.length;
    for (const [oldest, buf] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= buf.length;
    }
  }
}

export async function renderThumbnail(original: Buffer): Promise<Buffer> {
  return sharp(original)
    .resize({ width: THUMB_WIDTH, withoutEnlargement: true })
    .webp({ quality: THUMB_QUALITY })
    .toBuffer();
}
