// The events module's errors, in the shared vocabulary (RelayError with a stable code). Errors that an
// HTTP route raises are HttpRequestErrors: they carry their own status (http/error-to-http.ts).
import { HttpRequestError, RelayError } from '../errors.js';

/** waitForTask / waitForBatch gave up before the task or batch ended. */
export class EventWaitTimeoutError extends RelayError {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super('EVENT_WAIT_TIMEOUT', `${what} did not end within ${timeoutMs} ms`);
  }
}

/** A bad or unauthorised request for the events stream. */
export class EventStreamRequestError extends HttpRequestError {}

/** An incoming event webhook whose signature, id or timestamp does not verify. */
export class EventWebhookVerificationError extends RelayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EVENT_WEBHOOK_INVALID', message, options);
  }
}

/** A budget that is not a finite, non-negative amount of USD. */
export class BudgetInputError extends RelayError {
  constructor(message: string) {
    super('BUDGET_INVALID', message);
  }
}
