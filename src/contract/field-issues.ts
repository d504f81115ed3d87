// Turns zod issues into our FieldIssue list: one readable message per field, naming path and rule.
import type { z } from 'zod';
import type { FieldIssue } from '../errors.js';

export function toFieldIssues(
  error: z.ZodError,
  pathPrefix: readonly (string | number)[] = [],
): FieldIssue[] {
  const seen = new Set<string>();
  const out: FieldIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        push(out, seen, [...pathPrefix, ...issue.path, key], 'unknown_key', `unknown field "${key}"`);
      }
      continue;
    }
    push(out, seen, [...pathPrefix, ...issue.path], ruleOf(issue), issue.message);
  }
  return out;
}

function push(
  out: FieldIssue[],
  seen: Set<string>,
  path: readonly PropertyKey[],
  rule: string,
  message: string,
) {
  const p = path.map(String).join('.');
  if (seen.has(p)) return; // one message per field: the first rule broken is the one to fix first
  seen.add(p);
  out.push({ path: p, rule, message });
}

function ruleOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_small':
      return 'min';
    case 'too_big':
      return 'max';
    case 'invalid_type':
      return 'type';
    case 'invalid_value':
      return 'enum';
    case 'invalid_format':
      return 'format';
    case 'custom':
      return (issue.params?.rule as string | undefined) ?? 'custom';
    default:
      return issue.code;
  }
}
