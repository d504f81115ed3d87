// Stored outputs for the browser, without making the bucket public: streamed through this server
// (default) or a 302 to a short-lived presigned GET; `?thumb=1` answers a WEBP thumbnail. The object
// key comes from the task's stored-output record, never from the request.
import type { Request, Response, Router } from 'express';
import type { StoredOutput } from '../tasks/types.js';
import type { DashboardContext } from './dashboard-context.js';
import { THUMB_CONTENT_TYPE, type ThumbnailCache } from './thumbnail-cache.js';

/** Lifetime of a presigned GET handed to the browser. */
export const PRESIGN_SECONDS = 300;
/** Outputs never change once stored under a key, so the browser may keep them a while. */
const CACHE_CONTROL = 'private, max-age=3600';
const TASK_UUID = /^[A-Za-z0-9-]{1,64}$/;
const SLOT = /^(0|[1-9][0-9]{0,5})$/;

export interface MediaOptions {
  /** true (default): stream through this server; false: redirect to a presigned URL. */
  imageProxy: boolean;
  thumbnails: ThumbnailCache;
}

export function mountMediaRoutes(router: Router, ctx: DashboardContext, opts: MediaOptions): void {
  router.get('/media/:taskUUID/:slot', async (req: Request, res: Response) => {
    const out = await findOutput(ctx, String(req.params.taskUUID), String(req.params.slot));
    if (!out) {
      res.status(404).type('text/plain').send('no such output');
      return;
    }
    res.set('x-content-type-options', 'nosniff');
    if (req.query.thumb === '1') {
      const thumb = await opts.thumbnails.get(out.key, () => ctx.store.get(out.key));
      res.set({ 'content-type': THUMB_CONTENT_TYPE, 'cache-control': CACHE_CONTROL }).send(thumb);
      return;
    }
    if (!opts.imageProxy) {
      res.redirect(302, await ctx.store.presignGet(out.key, PRESIGN_SECONDS));
      return;
    }
    const body = await ctx.store.get(out.key);
    res
      .set({
        'content-type': out.contentType.startsWith('image/') ? out.contentType : 'application/octet-stream',
        'cache-control': CACHE_CONTROL,
        etag: `"${out.sha256}"`,
      })
      .send(body);
  });
}

async function findOutput(
  ctx: DashboardContext,
  taskUUID: string,
  slot: string,
): Promise<StoredOutput | undefined> {
  if (!TASK_UUID.test(taskUUID) || !SLOT.test(slot)) return undefined;
  const outputs = await ctx.tasks.storedOutputs(taskUUID);
  return outputs.find((o) => o.slot === Number(slot));
}
