// Who is calling: the Bearer header or a leading {"taskType":"authentication","apiKey"} element
// (shared contract §1.1). The leading element, when present, wins and is removed from the tasks.
import { type ProviderErrorBody, providerError } from './provider-errors.js';

export type AuthResult = { ok: true; tasks: unknown[] } | { ok: false; error: ProviderErrorBody };

const BEARER = /^Bearer\s+(.+)$/i;

export function authenticate(
  tasks: unknown[],
  authorization: string | undefined,
  expectedKey: string | undefined,
): AuthResult {
  const first = tasks[0] as { taskType?: unknown; apiKey?: unknown } | undefined;
  const leading = first && typeof first === 'object' && first.taskType === 'authentication';
  const key = leading ? first.apiKey : authorization?.match(BEARER)?.[1]?.trim();
  const rest = leading ? tasks.slice(1) : tasks;
  if (key === undefined || key === '') {
    return {
      ok: false,
      error: providerError('missingApiKey', 'An API key is required: send Authorization: Bearer <key>.', {
        parameter: 'apiKey',
        taskType: 'authentication',
      }),
    };
  }
  if (typeof key !== 'string' || (expectedKey !== undefined && key !== expectedKey)) {
    return {
      ok: false,
      error: providerError('invalidApiKey', 'Invalid API key. Get one at https://my.runware.ai/keys.', {
        parameter: 'apiKey',
        taskType: 'authentication',
      }),
    };
  }
  return { ok: true, tasks: rest };
}
