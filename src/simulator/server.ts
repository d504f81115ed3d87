// The HTTP surface: the provider endpoint (POST /v1), image hosting (GET /image/:file) and the
// /__sim admin routes for tests in other processes. Bodies are read as raw text, never express.json().
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { CONTENT_TYPES, FILE_EXTENSIONS } from '../contract/index.js';
import type { Faults } from './faults.js';
import type { GeneratedResult } from './generated-result.js';
import type { ImageStore } from './image-store.js';
import { faultRatesSchema, type Latency, latencySchema } from './options.js';
import { errorEnvelope, providerError, writeJson } from './provider-errors.js';
import { serveImage } from './serve-image.js';
import type { SimulatorStats } from './stats.js';
import { handleSubmit, type SubmitDeps } from './submit.js';

/** Reference images may come inline as data URIs, so requests can be large. */
export const MAX_BODY_BYTES = '64mb';
const IMAGE_FILE = /^([0-9a-f-]{36})\.([a-z]+)$/i;

export interface ServerDeps {
  submit: SubmitDeps;
  images: ImageStore;
  stats: () => SimulatorStats;
  /** The live counters, for faults the HTTP layer injects. */
  counters: SimulatorStats;
  results: () => GeneratedResult[];
  faults: Faults;
  setLatency: (l: Latency) => void;
  idle: () => Promise<void>;
}

const adminBodySchema = faultRatesSchema.extend({ latency: latencySchema.optional() });
const failItemsSchema = z.array(
  z.strictObject({
    taskUUID: z.string().min(1),
    index: z.number().int().min(0).optional(),
    code: z.string().min(1).optional(),
  }),
);

export function createApp(deps: ServerDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const rawText = express.text({ type: () => true, limit: MAX_BODY_BYTES });

  app.post('/v1', rawText, async (req, res) => {
    const text = typeof req.body === 'string' ? req.body : '';
    const answer = await handleSubmit(deps.submit, text, req.get('authorization'));
    res.status(answer.status).type('application/json').send(answer.body);
  });

  app.get('/image/:file', (req, res) => {
    const [, uuid = '', ext = ''] = IMAGE_FILE.exec(req.params.file) ?? [];
    const found = deps.images.serve(uuid);
    if (!found || FILE_EXTENSIONS[found.spec.format] !== ext.toLowerCase()) {
      res.status(404).type('text/plain').send('image not found or expired');
      return;
    }
    serveImage(res, found.bytes, found.spec.format, deps.faults, deps.counters);
  });

  app.get('/__sim/stats', (_req, res) => {
    res.json(deps.stats());
  });
  app.get('/__sim/results', (_req, res) => {
    res.json(deps.results());
  });
  app.get('/__sim/images/:imageUUID', (req, res) => {
    const found = deps.images.serve(req.params.imageUUID, false);
    if (!found) {
      res.status(404).type('text/plain').send('no such image');
      return;
    }
    res.type(CONTENT_TYPES[found.spec.format]).send(found.bytes);
  });
  app.post('/__sim/faults', rawText, (req, res) => {
    const parsed = adminBodySchema.safeParse(safeJson(typeof req.body === 'string' ? req.body : ''));
    if (!parsed.success) {
      res.status(400).json({ error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
      return;
    }
    const { latency, ...rates } = parsed.data;
    deps.faults.set(rates);
    if (latency) deps.setLatency(latency);
    res.json({ faults: deps.faults.current() });
  });
  app.post('/__sim/fail-items', rawText, (req, res) => {
    const parsed = failItemsSchema.safeParse(safeJson(typeof req.body === 'string' ? req.body : ''));
    if (!parsed.success) {
      res.status(400).json({ error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
      return;
    }
    deps.faults.failItems(parsed.data);
    res.json({ ok: true });
  });
  app.post('/__sim/idle', async (_req, res) => {
    await deps.idle();
    res.json({ idle: true });
  });

  app.use((_req: Request, res: Response) => {
    res
      .status(404)
      .type('application/json')
      .send(writeJson(errorEnvelope(providerError('notFound', 'No such route.'))));
  });
  // Express's own handler would print the stack; answer in the provider's shape instead.
  app.use((err: { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof err.status === 'number' && err.status >= 400 ? err.status : 500;
    const code = status < 500 ? 'invalidRequestBody' : 'serverError';
    res
      .status(status)
      .type('application/json')
      .send(writeJson(errorEnvelope(providerError(code, String(err)))));
  });
  return app;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text || '{}');
  } catch {
    return undefined;
  }
}
