#!/usr/bin/env node
// The kontext-relay command line: thin commands over the library modules.
import './demo-preflight.js'; // first: it may refuse before anything else loads
import { Command } from 'commander';
import { flushTracing, stopTracing } from '../tracing/start-tracing.js';
import { traceCommands } from './cli-tracing.js';
import { registerAudit } from './commands/audit.js';
import { registerBudget } from './commands/budget.js';
import { registerControl } from './commands/control.js';
import { registerDemo } from './commands/demo.js';
import { registerEnqueue } from './commands/enqueue.js';
import { registerEvents } from './commands/events.js';
import { registerPlan } from './commands/plan.js';
import { registerSecret } from './commands/secret.js';
import { registerServe } from './commands/serve.js';
import { registerSimulator } from './commands/simulator.js';
import { registerStatus } from './commands/status.js';
import { registerTail } from './commands/tail.js';
import { registerTenant } from './commands/tenant.js';
import { registerWait } from './commands/wait.js';
import { reportError } from './explain-error.js';

const program = new Command('kontext-relay')
  .description('Queue-driven image generation with Runware imageInference (FLUX.1 Kontext [pro])')
  .showHelpAfterError();

traceCommands(program);
registerDemo(program);
registerServe(program);
registerEnqueue(program);
registerStatus(program);
registerSimulator(program);
registerControl(program);
registerTail(program);
registerBudget(program);
registerSecret(program);
registerAudit(program);
registerPlan(program);
registerEvents(program);
registerWait(program);
registerTenant(program);

program.parseAsync(process.argv).then(
  // A command that returns has done its work: export its spans (serve and demo keep running and tracing).
  () => flushTracing(),
  async (e: unknown) => {
    // One line (and a hint when the user can fix it) instead of a stack: see explain-error.ts.
    const code = reportError(e);
    await stopTracing().catch(() => undefined);
    process.exit(code);
  },
);
