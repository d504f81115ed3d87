// The one owner of events-stream appends in Lua: every script that emits an event includes this
// fragment and calls appendEvent(…). The field layout comes from contract/relay-events.ts, the same
// schema the readers parse with, and the stream is always trimmed (approximately) to maxLen, which
// callers pass as EVENTS_STREAM_MAX_LEN.
import { EVENT_STREAM_FIELDS } from '../../contract/relay-events.js';

const params = EVENT_STREAM_FIELDS.map((f) => `ev_${f}`);

/** Defines `appendEvent(stream, maxLen, type, taskUUID, batchId, at, data)` (ids '' when none). */
export const APPEND_EVENT = `
local function appendEvent(stream, maxLen, ${params.join(', ')})
  return redis.call('XADD', stream, 'MAXLEN', '~', maxLen, '*', ${EVENT_STREAM_FIELDS.map((f) => `'${f}', ev_${f}`).join(', ')})
end`;
