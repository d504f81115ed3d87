// Tracing for the command line: each command that does relay work starts it from the OTEL_* variables
// (config/tracing-config.ts) with its role as `kr.role` — serve's --role, `demo`, else `cli` — and the
// CLI exports what it buffered before it exits (stopTracing on every exit path). Off: nothing at all.
import type { Command } from 'commander';
import { loadTracingConfig } from '../config/tracing-config.js';
import { startTracing } from '../tracing/start-tracing.js';

/** Commands that touch no task: the simulator stands in for the provider and is not traced. */
const UNTRACED = new Set(['simulator']);

export function roleOf(command: Command): string {
  const name = command.name();
  if (name === 'serve') return String(command.opts().role ?? 'all');
  return name === 'demo' ? 'demo' : 'cli';
}

export function traceCommands(program: Command): void {
  program.hook('preAction', (_program, action) => {
    if (UNTRACED.has(action.name())) return;
    startTracing(loadTracingConfig(), roleOf(action));
  });
}
