// POST /v1 from raw text to status and body: parse losslessly, authenticate, maybe inject a submit
// fault, then answer every task on its own (shared contract §1). Nothing is accepted on a 4xx/5xx.
import { type ProviderTask, parseLossless } from '../contract/index.js';
import type { SimulatedAccount } from './account.js';
import { authenticate } from './auth.js';
import type { Faults } from './faults.js';
import type { Journal } from './journal.js';
import { errorEnvelope, type ProviderErrorBody, providerError, writeJson } from './provider-errors.js';
import type { SimulatorStats } from './stats.js';
import type { TaskRun, TaskRunner } from './task-runner.js';
import type { TaskStore } from './task-store.js';
import { validateImageTask } from './validate-task.js';

export interface SubmitDeps {
  faults: Faults;
  stats: SimulatorStats;
  tasks: TaskStore;
  runner: TaskRunner;
  account: SimulatedAccount;
  apiKey: string | undefined;
  flatReferenceImagesAllowed: boolean;
  /** Where accepted tasks are written, when the simulator keeps its state on disk. */
  journal: Journal | undefined;
  /** Longest the ack may wait for the first webhook of a task with this many items. */
  ackHoldMs: (numberResults: number) => number;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** What one task contributes to the response, once it is ready. */
type Slot = Promise<{ ok: boolean; data: unknown[]; errors: ProviderErrorBody[] }>;

export async function handleSubmit(
  deps: SubmitDeps,
  text: string,
  authorization: string | undefined,
): Promise<HttpAnswer> {
  deps.stats.requests++;
  let parsed: unknown;
  try {
    parsed = parseLossless(text);
  } catch {
    return badBody('The request body is not valid JSON.');
  }
  if (!Array.isArray(parsed)) return badBody('The request body must be a JSON array of tasks.');
  const auth = authenticate(parsed, authorization, deps.apiKey);
  if (!auth.ok) return { status: 401, body: writeJson(errorEnvelope(auth.error)) };
  if (auth.tasks.length === 0) return badBody('The request holds no task.');
  if (auth.tasks.every((t) => (t as { taskType?: unknown } | null)?.taskType === 'getResponse'))
    deps.stats.pollRequests++;
  const fault = deps.faults.rollSubmit();
  if (fault) {
    deps.stats.submitFaults++;
    return { status: fault.status, body: writeJson(errorEnvelope(providerError(fault.code, fault.message))) };
  }
  const seen = new Set<string>();
  const slots = auth.tasks.map((raw) => answerTask(deps, raw, seen));
  const answers = await Promise.all(slots);
  const data = answers.flatMap((a) => a.data);
  const errors = answers.flatMap((a) => a.errors);
  const anyOk = answers.some((a) => a.ok);
  const status = anyOk || errors.length === 0 ? 200 : 400;
  return { status, body: writeJson(errors.length ? { data, errors } : { data }) };
}

function answerTask(deps: SubmitDeps, raw: unknown, seen: Set<string>): Slot {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    return rejected(deps, providerError('invalidRequestBody', 'Each task must be a JSON object.'));
  }
  const task = raw as Record<string, unknown>;
  const taskUUID = typeof task.taskUUID === 'string' ? task.taskUUID : undefined;
  const where = taskUUID ? { taskUUID } : {};
  if (task.taskType === 'getResponse') return poll(deps, taskUUID);
  if (task.taskType === 'accountManagement') return accountDetails(deps, task, taskUUID);
  if (task.taskType !== 'imageInference') {
    return rejected(
      deps,
      providerError('unsupportedTaskType', `Unsupported taskType '${String(task.taskType)}'.`, {
        parameter: 'taskType',
        ...where,
      }),
    );
  }
  const check = validateImageTask(task, deps.flatReferenceImagesAllowed);
  if (!check.ok) return rejected(deps, check.error);
  const earlier = deps.tasks.get(check.task.taskUUID);
  if (earlier || seen.has(check.task.taskUUID)) {
    const deliveryMethod = earlier?.deliveryMethod ?? deliveryOf(check.task);
    return rejected(
      deps,
      providerError(
        'conflictTaskUUID',
        `A task with taskUUID '${check.task.taskUUID}' was already submitted.`,
        {
          parameter: 'taskUUID',
          taskUUID: check.task.taskUUID,
          taskType: 'imageInference',
          context: { taskType: 'imageInference', taskUUID: check.task.taskUUID, deliveryMethod },
        },
      ),
    );
  }
  seen.add(check.task.taskUUID);
  return accept(deps, check.task);
}

async function accept(deps: SubmitDeps, task: ProviderTask): Slot {
  const delivery = deliveryOf(task);
  const record = deps.tasks.create(task.taskUUID, delivery, task.numberResults ?? 1);
  deps.journal?.append({ kind: 'task', task, deliveryMethod: delivery });
  deps.stats.tasksAccepted++;
  const holdAck = task.webhookURL !== undefined && deps.faults.roll('webhookBeforeAck');
  const run = deps.runner.start(task, record);
  if (delivery === 'async') {
    if (holdAck) await firstWebhookOrTimeout(run, deps.ackHoldMs(record.items.length));
    return { ok: true, data: [{ taskType: 'imageInference', taskUUID: task.taskUUID }], errors: [] };
  }
  await run.completed;
  const view = deps.tasks.pollView(task.taskUUID);
  const data = view.data.map(({ status: _status, ...item }) => item);
  return { ok: true, data, errors: view.errors.map(({ status: _status, ...e }) => e) };
}

async function poll(deps: SubmitDeps, taskUUID: string | undefined): Slot {
  if (taskUUID === undefined) {
    deps.stats.tasksRejected++;
    const error = providerError('missingTaskUUID', 'getResponse needs the taskUUID of the task to read.', {
      parameter: 'taskUUID',
      taskType: 'getResponse',
    });
    return { ok: false, data: [], errors: [error] };
  }
  deps.stats.polls++;
  return { ok: true, ...deps.tasks.pollView(taskUUID) };
}

/** `accountManagement` with `operation: "getDetails"`: the balance and usage (shared contract §11). */
async function accountDetails(
  deps: SubmitDeps,
  task: Record<string, unknown>,
  taskUUID: string | undefined,
): Slot {
  if (task.operation !== 'getDetails') {
    return rejected(
      deps,
      providerError('unsupportedOperation', `Unsupported operation '${String(task.operation)}'.`, {
        parameter: 'operation',
        taskType: 'accountManagement',
      }),
    );
  }
  const details = deps.account.details();
  return {
    ok: true,
    data: [
      {
        taskType: 'accountManagement',
        operation: 'getDetails',
        ...(taskUUID ? { taskUUID } : {}),
        ...details,
      },
    ],
    errors: [],
  };
}

async function rejected(deps: SubmitDeps, error: ProviderErrorBody): Slot {
  deps.stats.tasksRejected++;
  return { ok: false, data: [], errors: [error] };
}

/** Webhook or async delivery both mean an immediate ack (shared contract §4). */
function deliveryOf(task: ProviderTask): 'sync' | 'async' {
  return task.deliveryMethod === 'async' || task.webhookURL !== undefined ? 'async' : 'sync';
}

function firstWebhookOrTimeout(run: TaskRun, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([run.firstWebhook, cap]).finally(() => clearTimeout(timer));
}

function badBody(message: string): HttpAnswer {
  return { status: 400, body: writeJson(errorEnvelope(providerError('invalidRequestBody', message))) };
}
