// The error body every 4xx/5xx carries, and the conversion from zod issues to field-named
// issues (`requests[3].params.temperature`), so clients always learn which field was wrong and why.
import { z } from 'zod';
import { named } from './registry.js';

export const ApiIssueSchema = z.object({ field: z.string(), reason: z.string() });
export type ApiIssue = z.infer<typeof ApiIssueSchema>;

export const ErrorBodySchema = named(
  z.object({
    error: z.object({
      type: z.string().describe('invalid_request, unauthorized, forbidden, not_found, conflict, payload_too_large, stale_lease, internal'),
      message: z.string(),
      field: z.string().nullable().describe('the first offending field, if any'),
      issues: z.array(ApiIssueSchema),
    }),
  }),
  'Error',
);
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** Formats a zod path as `a.b[3].c`; an empty path names the whole body. */
export function formatPath(path: ReadonlyArray<PropertyKey>, prefix = ''): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || 'body';
}

/** Turns a zod error into field-named issues; unknown keys get one issue per key. */
export function zodIssues(error: z.ZodError, prefix = ''): ApiIssue[] {
  const issues: ApiIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({ field: formatPath([...issue.path, key], prefix), reason: 'unknown field' });
      }
    } else {
      issues.push({ field: formatPath(issue.path, prefix), reason: issue.message });
    }
  }
  return issues;
}

/** Builds the error body; the message repeats the first issue so a plain log line is useful. */
export function errorBody(type: string, message: string, issues: ApiIssue[] = []): ErrorBody {
  const first = issues[0];
  const full = first ? `${message}: ${first.field}: ${first.reason}` : message;
  return { error: { type, message: full, field: first?.field ?? null, issues } };
}
