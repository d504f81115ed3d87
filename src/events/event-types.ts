// The completion events' schema lives in contract/relay-events.ts, shared by the writers (the Lua
// fragment in tasks/lua/append-event.ts, the audit trail) and the readers; re-exported here so existing
// imports keep working.
export * from '../contract/relay-events.js';
