// The error vocabulary shared by every layer: one base class with a stable `code`, and a subclass
// per kind of failure. HTTP status and retry decisions are read from these, never from messages.

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `inputs.referenceImages.2` (empty for the whole task). */
  readonly path: string;
  /** Short name of the rule broken, e.g. `max`, `enum`, `unknown_key`, `size_pair`. */
  readonly rule: string;
  readonly message: string;
}

export class RelayError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Input that breaks the task contract. Never retried. */
export class ValidationError extends RelayError {
  readonly issues: readonly FieldIssue[];
  constructor(issues: readonly FieldIssue[], prefix = 'invalid task') {
    super('VALIDATION_FAILED', `${prefix}: ${issues.map(formatIssue).join('; ')}`);
    this.issues = issues;
  }
}

export function formatIssue(issue: FieldIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

/** A batch with invalid entries, listing every bad entry by its index (and source line when known). */
export class BatchValidationError extends RelayError {
  readonly entries: readonly { index: number; line?: number; issues: readonly FieldIssue[] }[];
  constructor(entries: BatchValidationError['entries']) {
    const shown = entries
      .slice(0, 20)
      .map(
        (e) => `  #${e.index}${e.line ? ` (line ${e.line})` : ''}: ${e.issues.map(formatIssue).join('; ')}`,
      );
    const more = entries.length > 20 ? `\n  … and ${entries.length - 20} more` : '';
    super(
      'BATCH_VALIDATION_FAILED',
      `${entries.length} invalid task(s) in batch:\n${shown.join('\n')}${more}`,
    );
    this.entries = entries;
  }
}

export type ProviderErrorCategory =
  | 'validation'
  | 'auth'
  | 'quota'
  | 'rateLimit'
  | 'safety'
  | 'provider'
  | 'timeout'
  | 'notFound'
  | 'serverError'
  | 'connection'
  | 'conflict'
  | 'unknown';

/** A failure reported by (or while talking to) the provider. */
export class ProviderError extends RelayError {
  readonly providerCode: string;
  readonly category: ProviderErrorCategory;
  readonly retryable: boolean;
  readonly httpStatus: number | undefined;
  readonly parameter: string | readonly string[] | undefined;
  constructor(init: {
    providerCode: string;
    category: ProviderErrorCategory;
    message: string;
    retryable: boolean;
    httpStatus?: number | undefined;
    parameter?: string | readonly string[] | undefined;
    cause?: unknown;
  }) {
    super(`PROVIDER_${init.category.toUpperCase()}`, `${init.providerCode}: ${init.message}`, {
      cause: init.cause,
    });
    this.providerCode = init.providerCode;
    this.category = init.category;
    this.retryable = init.retryable;
    this.httpStatus = init.httpStatus;
    this.parameter = init.parameter;
  }
}

/** A request refused at an HTTP edge: carries its own status, as octokit's webhook errors do. */
export class HttpRequestError extends RelayError {
  readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(code, message);
    this.status = status;
  }
}

/** A webhook call we refuse. */
export class WebhookError extends HttpRequestError {}

/** Refused or failed fetch/decode of a result's bytes (SSRF guard, size limit, not an image). */
export class OutputFetchError extends RelayError {
  readonly retryable: boolean;
  constructor(code: string, message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(code, message, options);
    this.retryable = retryable;
  }
}

/**
 * Output bytes that fail a completeness check (cut short, bad CRC, size fields that disagree with the
 * length, wrong dimensions). Retryable: a re-fetch may bring the whole file; such bytes are never stored.
 */
export class OutputCorruptError extends OutputFetchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('OUTPUT_CORRUPT', message, true, options);
  }
}

export class StorageError extends RelayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORAGE_FAILED', message, options);
  }
}

export class ConfigError extends RelayError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

export class NotFoundError extends RelayError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} not found`);
  }
}
